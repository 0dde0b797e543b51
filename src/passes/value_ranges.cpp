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

#include "passes/value_sets.h"

namespace raspc {

namespace {

constexpr size_t kMaxSetSize = 20000;
constexpr size_t kMaxProduct = 2'000'000;

using Set = std::set<Value, TableLess>;

bool whole(const Value& v) {
    return v.isInt() || v.isBool();
}

ValueSet ofSet(const Set& s) {
    ValueSet vs;
    vs.values.assign(s.begin(), s.end());
    vs.rangeKnown = vs.allNumbers() && !vs.values.empty();
    if (vs.rangeKnown) {
        vs.lo = vs.values.front().toDouble();
        vs.hi = vs.values.back().toDouble();
    }
    vs.integral = !s.empty() && std::all_of(s.begin(), s.end(), whole);
    return vs;
}

ValueSet range(double lo, double hi, bool integral) {
    ValueSet vs;
    vs.bounded = false;
    vs.rangeKnown = true;
    vs.lo = lo;
    vs.hi = hi;
    vs.integral = integral;
    return vs;
}

ValueSet unknown() {
    ValueSet vs;
    vs.bounded = false;
    vs.rangeKnown = false;
    return vs;
}

/// The set or range of one argument of a structural map.
struct Operand {
    bool known = false;  // a number range
    double lo = 0.0, hi = 0.0;
    bool integral = false;
};

Operand operandOf(const MapArg& a, const std::vector<ValueSet>& sets, const Node& n) {
    Operand o;
    if (a.slot < 0) {
        if (!a.atom.isNumber()) return o;
        o.known = true;
        o.lo = o.hi = a.atom.toDouble();
        o.integral = whole(a.atom);
        return o;
    }
    const ValueSet& s = sets[static_cast<size_t>(n.operands[static_cast<size_t>(a.slot)])];
    if (!s.rangeKnown || (s.bounded && !s.allNumbers())) return o;
    o.known = true;
    o.lo = s.lo;
    o.hi = s.hi;
    o.integral = s.integral;
    return o;
}

/// A map of numbers too many to enumerate, from its operator.
ValueSet structuralMap(const Node& n, const std::vector<ValueSet>& sets) {
    std::vector<Operand> args;
    for (const MapArg& a : n.opArgs) args.push_back(operandOf(a, sets, n));
    for (size_t i = 0; i < args.size(); ++i) {
        // A condition is any value; only the chosen numbers matter.
        if (!args[i].known && !(n.op == MapOp::Cond && i == 0)) return unknown();
    }
    switch (n.op) {
        case MapOp::Add:
            return range(args[0].lo + args[1].lo, args[0].hi + args[1].hi,
                         args[0].integral && args[1].integral);
        case MapOp::Sub:
            return range(args[0].lo - args[1].hi, args[0].hi - args[1].lo,
                         args[0].integral && args[1].integral);
        case MapOp::Neg:
            return range(-args[0].hi, -args[0].lo, args[0].integral);
        case MapOp::Mul: {
            double c[] = {args[0].lo * args[1].lo, args[0].lo * args[1].hi,
                          args[0].hi * args[1].lo, args[0].hi * args[1].hi};
            return range(*std::min_element(c, c + 4), *std::max_element(c, c + 4),
                         args[0].integral && args[1].integral);
        }
        case MapOp::Eq:
        case MapOp::Ne:
        case MapOp::Lt:
        case MapOp::Le:
        case MapOp::Gt:
        case MapOp::Ge:
            return ofSet(Set{Value(false), Value(true)});
        case MapOp::Cond:
            return range(std::min(args[1].lo, args[2].lo), std::max(args[1].hi, args[2].hi),
                         args[1].integral && args[2].integral);
        case MapOp::Opaque:
            break;
    }
    return unknown();
}

/// Every value of an enumerable map; unknown when the operands are too many combinations.
ValueSet enumeratedMap(const Node& n, const std::vector<ValueSet>& sets, std::string& raises) {
    std::vector<const std::vector<Value>*> in;
    size_t product = 1;
    for (NodeId op : n.operands) {
        in.push_back(&sets[static_cast<size_t>(op)].values);
        product *= std::max<size_t>(in.back()->size(), 1);
        if (in.back()->empty()) return ofSet({});
    }
    if (product > kMaxProduct) return unknown();
    Set out;
    std::vector<size_t> idx(in.size(), 0);
    std::vector<Value> args(in.size());
    while (true) {
        for (size_t k = 0; k < in.size(); ++k) args[k] = (*in[k])[idx[k]];
        try {
            out.insert(n.fn(args));
        } catch (const std::domain_error& e) {
            if (raises.empty()) {
                raises = e.what();
                raises += " (at operand values";
                for (const Value& a : args) raises += " " + toDisplay(a);
                raises += ")";
            }
        }
        if (out.size() > kMaxSetSize) return unknown();
        size_t k = 0;
        for (; k < in.size(); ++k) {
            if (++idx[k] < in[k]->size()) break;
            idx[k] = 0;
        }
        if (k == in.size()) break;
    }
    return ofSet(out);
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
    bool picksOne = sel.kind == OpKind::Select && sel.cmp == Cmp::Eq &&
                    distinctPerPosition(g, sel.operands[0]);
    bool numbers = vals.rangeKnown && d.isNumber();
    if (n.reduction == Reduction::Sum) {
        if (!numbers) return unknown();
        return range(std::min({0.0, maxLen * vals.lo, d.toDouble()}),
                     std::max({0.0, maxLen * vals.hi, d.toDouble()}),
                     vals.integral && whole(d));
    }
    bool averages = n.reduction == Reduction::Mean && n.encoding != Encoding::Categorical &&
                    !picksOne &&
                    (!vals.bounded || vals.values.size() > 1) && (!vals.bounded || vals.allNumbers());
    if (vals.bounded && !averages) {
        Set s(vals.values.begin(), vals.values.end());
        s.insert(d);
        return ofSet(s);
    }
    if (!numbers) return unknown();
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
                out = ofSet(Set(d.vocab.begin(), d.vocab.end()));
                break;
            case OpKind::Indices:
                out = range(0.0, n - 1.0, true);
                break;
            case OpKind::Length:
                out = range(1.0, n, true);
                break;
            case OpKind::Constant:
                out = ofSet(Set{node.constant});
                break;
            case OpKind::Map:
            case OpKind::SequenceMap: {
                bool enumerable = std::all_of(node.operands.begin(), node.operands.end(),
                                              [&](NodeId op) { return sets[static_cast<size_t>(op)].bounded; });
                out = enumerable ? enumeratedMap(node, sets, out.raises) : unknown();
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
