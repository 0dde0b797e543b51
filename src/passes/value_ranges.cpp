// Value sets for long inputs (maximum lengths in the thousands to millions), where value_sets'
// per-position tables would cost time and memory quadratic in the length. Every position is
// treated alike: an s-op gets one set for all positions, and whole numbers derived from
// positions (indices, sums and differences of them, positions found by lookups) get a range
// instead of a set. Maps of such numbers are understood only when they are one operator of
// the language (+, -, * by a constant, comparisons): an opaque function of a million values
// could not be tabulated anyway.
#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include "passes/value_set_support.h"
#include "passes/value_sets.h"

namespace raspc {

namespace {

using namespace value_set_support;

/// Every value of an enumerable map; unbounded when the operands are too many combinations.
ValueSet enumeratedMap(const Node& n, const std::vector<ValueSet>& sets, std::string& raises) {
    std::vector<const std::vector<Value>*> in;
    size_t product = 1;
    for (NodeId op : n.operands) {
        in.push_back(&sets[static_cast<size_t>(op)].values);
        product *= std::max<size_t>(in.back()->size(), 1);
        if (in.back()->empty()) return fromSet({});
    }
    if (product > kMaxProduct) return unbounded();
    Set out;
    bool small = forEachCombination(in, [&](const std::vector<Value>& args) {
        applyMap(n, args, out, raises);
        return out.size() <= kMaxSetSize;
    });
    return small ? fromSet(out) : unbounded();
}

/// True for `indices`, or `indices` plus or minus a constant: no two positions share a value.
bool distinctPerPosition(const Graph& g, NodeId id) {
    const Node& n = g[id];
    if (n.kind == OpKind::Indices) return true;
    if (n.op != MapOp::Add && n.op != MapOp::Sub) return false;
    int sops = 0;
    for (const MapArg& a : n.opArgs) {
        if (a.slot >= 0) {
            ++sops;
            if (!distinctPerPosition(g, n.operands[static_cast<size_t>(a.slot)])) return false;
        } else if (!a.atom.isNumber()) {
            return false;
        }
    }
    // indices - c, c + indices; not c - indices twice over, which still is distinct, but rare.
    return sops == 1;
}

/// The values an aggregate may give: those of its values, or its default.
ValueSet aggregateSet(const Graph& g, const Node& n, const ValueSet& vals, int maxLen) {
    const Value& d = n.constant;
    // A mean over an equality with distinct keys selects one key at most: a move.
    const Node& sel = g[n.operands[0]];
    bool picksOne =
        sel.kind == OpKind::Select && sel.cmp == Cmp::Eq && distinctPerPosition(g, sel.operands[0]);
    bool numbers = vals.rangeKnown && d.isNumber();
    if (n.reduction == Reduction::Sum) {
        if (!numbers) return unbounded();
        return range(std::min({0.0, maxLen * vals.lo, d.toDouble()}),
                     std::max({0.0, maxLen * vals.hi, d.toDouble()}), vals.integral && whole(d));
    }
    bool averages = n.reduction == Reduction::Mean && n.encoding != Encoding::Categorical &&
                    !picksOne && (!vals.bounded || vals.values.size() > 1) &&
                    (!vals.bounded || vals.allNumbers());
    if (vals.bounded && !averages) {
        Set s(vals.values.begin(), vals.values.end());
        s.insert(d);
        return fromSet(s);
    }
    if (!numbers) return unbounded();
    return range(std::min(vals.lo, d.toDouble()), std::max(vals.hi, d.toDouble()),
                 !averages && vals.integral && whole(d));
}

}  // namespace

std::vector<ValueSet> inferWholeSequenceSets(const Graph& g, const Domain& d) {
    std::vector<ValueSet> sets(g.nodes.size());
    const double n = d.maxLen;
    for (size_t id = 0; id < g.nodes.size(); ++id) {
        const Node& node = g.nodes[id];
        ValueSet& out = sets[id];
        switch (node.kind) {
            case OpKind::Tokens:
                out = fromSet(Set(d.vocab.begin(), d.vocab.end()));
                break;
            case OpKind::Indices:
                out = range(0.0, n - 1.0, true);
                break;
            case OpKind::Length:
                out = range(1.0, n, true);
                break;
            case OpKind::Constant:
                out = fromSet(Set{node.constant});
                break;
            case OpKind::Map:
            case OpKind::SequenceMap: {
                bool enumerable =
                    std::all_of(node.operands.begin(), node.operands.end(),
                                [&](NodeId op) { return sets[static_cast<size_t>(op)].bounded; });
                out = enumerable ? enumeratedMap(node, sets, out.raises) : unbounded();
                if (!out.bounded && node.op != MapOp::Opaque) {
                    std::string why = out.raises;
                    out = structuralMap(node, sets);
                    out.raises = why;
                }
                break;
            }
            case OpKind::Aggregate:
                out = aggregateSet(g, node, sets[static_cast<size_t>(node.operands[1])], d.maxLen);
                break;
            case OpKind::SelectorWidth:
                out = range(0.0, n, true);
                break;
            case OpKind::WidthInverse:
                out = range(1.0 / (n + 1.0), 1.0, false);
                break;
            default:
                break;  // selectors
        }
    }
    return sets;
}

}  // namespace raspc
