// What the two value-set inferences share (value_sets.cpp per position, value_ranges.cpp for
// long inputs): the caps, building a ValueSet, enumerating a map's operand combinations, and
// the range of a map read from its operator. Internal to src/passes.
#pragma once

#include <cstddef>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "passes/value_sets.h"

namespace raspc::value_set_support {

/// Sets larger than this are not enumerated: the compiler cannot build tables for them anyway.
constexpr size_t kMaxSetSize = 20000;
/// Largest operand product a map may enumerate at once (at one position, or for all).
constexpr size_t kMaxProduct = 2'000'000;

using Set = std::set<Value, TableLess>;

/// A whole number: an int or a bool.
bool whole(const Value& v);

/// The values of `s`, with their range when all are numbers and `integral` when all are whole.
ValueSet fromSet(const Set& s);

/// Too many values to list, between lo and hi.
ValueSet range(double lo, double hi, bool integral);

/// Too many values to list, of unknown range.
ValueSet unbounded();

/// Calls visit(args) for every combination of one value from each operand (containers of
/// Value; the first operand varies fastest) until visit returns false. Nothing when an operand
/// is empty. Returns false when visit stopped it.
template <typename Container, typename Visit>
bool forEachCombination(const std::vector<const Container*>& operands, Visit visit) {
    std::vector<typename Container::const_iterator> at;
    for (const Container* c : operands) {
        if (c->empty()) return true;
        at.push_back(c->begin());
    }
    std::vector<Value> args(operands.size());
    while (true) {
        for (size_t k = 0; k < operands.size(); ++k) args[k] = *at[k];
        if (!visit(args)) return false;
        size_t k = 0;
        for (; k < operands.size(); ++k) {
            if (++at[k] != operands[k]->end()) break;
            at[k] = operands[k]->begin();
        }
        if (k == operands.size()) return true;
    }
}

/// Adds n.fn(args) to `out`. When the function raises, the interpreter fails on inputs that
/// reach these values: the first reason (with the values) goes to `raises`, for a warning.
void applyMap(const Node& n, const std::vector<Value>& args, Set& out, std::string& raises);

/// A map of numbers too many to enumerate, from its operator (+, -, * and comparisons, and
/// `x if c else y`): a range from its operands' ranges in `sets` (indexed by node), or
/// unbounded() when the operator or an operand's range is unknown.
ValueSet structuralMap(const Node& n, const std::vector<ValueSet>& sets);

}  // namespace raspc::value_set_support
