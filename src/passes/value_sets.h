// Value-set inference: every value each s-op can take, from the alphabet and maximum length.
#pragma once

#include <span>
#include <vector>

#include "ir/graph.h"

namespace raspc {

/// The values one s-op may hold. An over-approximation: operands are treated as independent.
/// When the set would grow past a cap it is dropped (`bounded` false) and only the numeric
/// range, if known, is kept; consumers that need the set then reject the program.
struct ValueSet {
    std::vector<Value> values;  // sorted by TableLess, no duplicates
    bool bounded = true;
    bool rangeKnown = true;  // lo/hi are valid (numbers only)
    double lo = 0.0;
    double hi = 0.0;
    /// Aggregates: some query surely selects two or more keys whose values may differ while
    /// the values are not numbers (or are annotated categorical), so no one value is right.
    bool averagesDistinct = false;
    /// Every value is a whole number (ints or bools); with `rangeKnown`, enough to decode an
    /// unbounded set by rounding.
    bool integral = false;
    /// Maps: why the function raised for some operand values it may be given (empty if never).
    /// Inputs that reach such values make the interpreter fail.
    std::string raises;

    bool allNumbers() const;
};

/// The settings value sets are inferred from.
struct Domain {
    std::vector<Value> vocab;
    int maxLen = 0;
    bool causal = false;  // queries see only keys at or before them
};

/// Above this maximum length, value sets are inferred for all positions at once
/// (inferWholeSequenceSets): per-position tables would grow with the square of the length.
constexpr int kLongInputLength = 2048;

/// Value sets of every s-op node of `g` (selector nodes get an empty set).
std::vector<ValueSet> inferValueSets(const Graph& g, const Domain& domain);

/// Value sets for long inputs: one set per s-op for every position, and a range (no set) for
/// whole numbers derived from positions. Maps of numbers too many to enumerate are understood
/// through their operator (Node::op) only.
std::vector<ValueSet> inferWholeSequenceSets(const Graph& g, const Domain& domain);

/// Means of every multiset of 1..maxLen elements of `values` (all numbers), plus nothing else.
/// Unbounded if more than `cap` distinct means exist.
ValueSet meanValues(const std::vector<Value>& values, int maxLen, size_t cap);

/// Selectors that aggregates and widths read and that may select a key after the query: a
/// program using them means something else once compiled causally. Exact for selectors over
/// positions alone; any other selector may look ahead unless a position-only conjunct forbids
/// it.
std::vector<NodeId> selectorsLookingAhead(const Graph& g, const Domain& domain);

/// Sums of every multiset of 0..maxLen elements of `values` (all numbers).
ValueSet sumValues(const std::vector<Value>& values, int maxLen, size_t cap);

}  // namespace raspc
