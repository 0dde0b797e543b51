#include "passes/split_width.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <stdexcept>

#include "ir/rewrite.h"
#include "support/debug.h"

namespace raspc {

namespace {

// Disjointness is checked by enumeration, up to this many value combinations.
constexpr size_t kMaxDisjointCheck = 200000;

/// Whether selectors a and b of `g` can never select the same (query, key) pair.
class DisjointCheck {
public:
    DisjointCheck(const Graph& g, const std::vector<ValueSet>& sets) : g_(g), sets_(sets) {}

    bool disjoint(NodeId a, NodeId b) {
        keys_.clear();
        queries_.clear();
        collect(a);
        collect(b);
        size_t product = 1;
        for (NodeId id : keys_) product *= size(id);
        for (NodeId id : queries_) product *= size(id);
        if (product == 0 || product > kMaxDisjointCheck) return false;

        std::vector<NodeId> all = keys_;
        all.insert(all.end(), queries_.begin(), queries_.end());
        std::vector<size_t> idx(all.size(), 0);
        for (size_t done = 0; done < product; ++done) {
            for (size_t i = 0; i < all.size(); ++i) {
                const Value& v = sets_[static_cast<size_t>(all[i])].values[idx[i]];
                (i < keys_.size() ? keyValue_ : queryValue_)[all[i]] = v;
            }
            if (holds(a) && holds(b)) return false;
            for (size_t i = 0; i < all.size(); ++i) {
                if (++idx[i] < size(all[i])) break;
                idx[i] = 0;
            }
        }
        return true;
    }

private:
    size_t size(NodeId id) const {
        const ValueSet& s = sets_[static_cast<size_t>(id)];
        return s.bounded ? s.values.size() : 0;
    }

    void collect(NodeId sel) {
        const Node& n = g_[sel];
        if (n.kind != OpKind::Select) {
            for (NodeId op : n.operands) collect(op);
            return;
        }
        auto add = [](std::vector<NodeId>& to, NodeId id) {
            if (std::find(to.begin(), to.end(), id) == to.end()) to.push_back(id);
        };
        add(keys_, n.operands[0]);
        add(queries_, n.operands[1]);
    }

    bool holds(NodeId sel) {
        const Node& n = g_[sel];
        switch (n.kind) {
            case OpKind::Select:
                try {
                    return compare(n.cmp, keyValue_[n.operands[0]], queryValue_[n.operands[1]]);
                } catch (const std::domain_error&) {
                    return false;
                }
            case OpKind::SelectAnd:
                return holds(n.operands[0]) && holds(n.operands[1]);
            case OpKind::SelectOr:
                return holds(n.operands[0]) || holds(n.operands[1]);
            case OpKind::SelectNot:
                return !holds(n.operands[0]);
            default:
                throw InternalError("DisjointCheck: not a selector");
        }
    }

    const Graph& g_;
    const std::vector<ValueSet>& sets_;
    std::vector<NodeId> keys_, queries_;
    std::map<NodeId, Value> keyValue_, queryValue_;
};

/// Selectors whose widths add up to the width of `sel`: the disjoint branches of an `or`.
void widthTerms(const Graph& g, NodeId sel, DisjointCheck& check, std::vector<NodeId>& out) {
    const Node& n = g[sel];
    if (n.kind == OpKind::SelectOr && check.disjoint(n.operands[0], n.operands[1])) {
        widthTerms(g, n.operands[0], check, out);
        widthTerms(g, n.operands[1], check, out);
        return;
    }
    out.push_back(sel);
}

/// `c` flipped (a < b as b > a).
Cmp flipped(Cmp c) {
    switch (c) {
        case Cmp::Lt:
            return Cmp::Gt;
        case Cmp::Le:
            return Cmp::Ge;
        case Cmp::Gt:
            return Cmp::Lt;
        case Cmp::Ge:
            return Cmp::Le;
        default:
            return c;
    }
}

/// The strict form of an order comparison (< for <=).
Cmp strictOf(Cmp c) {
    return c == Cmp::Lt || c == Cmp::Le ? Cmp::Lt : Cmp::Gt;
}

/// An order comparison of two s-ops' values, the first deciding unless it ties:
/// first `firstCmp` (strict), or first equal and second `secondCmp`.
struct PairOrder {
    NodeId first = -1, second = -1;
    Cmp firstCmp = Cmp::Lt, secondCmp = Cmp::Lt;
};

/// The pair order that `select(k, k, cmp)` is, when `sel` is such an order comparison and k
/// a map of two s-ops whose order is that of the pair (`tokens + indices / 5`, whose fraction
/// only breaks ties of whole tokens). Checked over every two pairs of the s-ops' values.
std::optional<PairOrder> pairOrder(const Graph& g, const std::vector<ValueSet>& sets, NodeId sel) {
    const Node& n = g[sel];
    if (n.kind != OpKind::Select || n.cmp == Cmp::Eq || n.cmp == Cmp::Ne ||
        n.operands[0] != n.operands[1]) {
        return std::nullopt;
    }
    const Node& k = g[n.operands[0]];
    if (k.kind != OpKind::SequenceMap || k.operands.size() != 2 || !k.fn ||
        k.operands[0] == k.operands[1]) {
        return std::nullopt;
    }
    const ValueSet& a = sets[static_cast<size_t>(k.operands[0])];
    const ValueSet& b = sets[static_cast<size_t>(k.operands[1])];
    if (!a.bounded || !b.bounded || a.values.empty() || b.values.empty()) return std::nullopt;
    const size_t pairs = a.values.size() * b.values.size();
    if (pairs * pairs > kMaxDisjointCheck) return std::nullopt;

    // k's values once, a's value major.
    std::vector<Value> keyOf;
    try {
        for (const Value& av : a.values)
            for (const Value& bv : b.values) keyOf.push_back(k.fn(std::vector<Value>{av, bv}));
    } catch (const std::exception&) {
        return std::nullopt;  // values the map refuses: leave the select alone
    }
    auto holds = [&](const PairOrder& o, bool aFirst) {
        try {
            for (size_t i = 0; i < keyOf.size(); ++i)
                for (size_t j = 0; j < keyOf.size(); ++j) {
                    const Value* key[2] = {&a.values[i / b.values.size()],
                                           &b.values[i % b.values.size()]};
                    const Value* query[2] = {&a.values[j / b.values.size()],
                                             &b.values[j % b.values.size()]};
                    const int f = aFirst ? 0 : 1;
                    const bool lex = compare(o.firstCmp, *key[f], *query[f]) ||
                                     (compare(Cmp::Eq, *key[f], *query[f]) &&
                                      compare(o.secondCmp, *key[1 - f], *query[1 - f]));
                    if (compare(n.cmp, keyOf[i], keyOf[j]) != lex) return false;
                }
        } catch (const std::exception&) {
            return false;  // values a comparison refuses
        }
        return true;
    };
    // Either s-op may come first, and each may order either way.
    for (bool aFirst : {true, false})
        for (Cmp firstCmp : {strictOf(n.cmp), flipped(strictOf(n.cmp))})
            for (Cmp secondCmp : {n.cmp, flipped(n.cmp)}) {
                PairOrder o;
                o.first = aFirst ? k.operands[0] : k.operands[1];
                o.second = aFirst ? k.operands[1] : k.operands[0];
                o.firstCmp = firstCmp;
                o.secondCmp = secondCmp;
                if (holds(o, aFirst)) return o;
            }
    return std::nullopt;
}

/// What `select(id, id, cmp)` compares, looking through maps that are strictly monotone over
/// their operand's values: `select(indices / 5, indices / 5, <)` is `select(indices, indices,
/// <)`, which a head takes as a position mask. `cmp` is flipped through a decreasing map.
NodeId orderSource(const Graph& g, const std::vector<ValueSet>& sets, NodeId id, Cmp& cmp) {
    for (;;) {
        const Node& n = g[id];
        if (n.kind != OpKind::Map || n.operands.size() != 1 || !n.fn) return id;
        const ValueSet& from = sets[static_cast<size_t>(n.operands[0])];
        if (!from.bounded || from.values.size() < 2 || !from.allNumbers()) return id;
        std::vector<Value> image;
        try {
            for (const Value& v : from.values) image.push_back(n.fn(std::vector<Value>{v}));
            // The set's values are in increasing order (numbers by value).
            bool increasing = true, decreasing = true;
            for (size_t i = 1; i < image.size(); ++i) {
                if (!compare(Cmp::Lt, from.values[i - 1], from.values[i])) return id;
                increasing = increasing && compare(Cmp::Lt, image[i - 1], image[i]);
                decreasing = decreasing && compare(Cmp::Gt, image[i - 1], image[i]);
            }
            if (!increasing && !decreasing) return id;
            if (decreasing) cmp = flipped(cmp);
        } catch (const std::exception&) {
            return id;
        }
        id = n.operands[0];
    }
}

}  // namespace

Graph splitWidths(const Graph& g, std::vector<NodeId>& outputs, const Domain& domain,
                  bool splitOrders) {
    std::vector<ValueSet> sets = inferValueSets(g, domain);
    DisjointCheck check(g, sets);
    GraphRewriter rw(g);
    std::optional<NodeId> selectAll;
    int split = 0;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
        const NodeId id = static_cast<NodeId>(i);
        const Node& n = g[id];
        if (n.kind != OpKind::SelectorWidth && n.kind != OpKind::Length) {
            rw.copy(id);
            continue;
        }
        std::vector<NodeId> terms;
        if (n.kind == OpKind::SelectorWidth) {
            std::vector<NodeId> old;
            widthTerms(g, n.operands[0], check, old);
            for (NodeId t : old) {
                const auto order = splitOrders ? pairOrder(g, sets, t) : std::nullopt;
                if (!order) {
                    terms.push_back(rw.mapped(t));
                    continue;
                }
                // select(first, first, <) or (select(first, first, ==) and
                // select(second, second, <)): disjoint, so two widths.
                const Node& cmpNode = g[t];
                auto select = [&](NodeId operand, Cmp cmp) {
                    Node s;
                    s.kind = OpKind::Select;
                    s.operands = {rw.mapped(operand), rw.mapped(operand)};
                    s.cmp = cmp;
                    s.loc = cmpNode.loc;
                    return rw.add(s);
                };
                Cmp firstCmp = order->firstCmp, secondCmp = order->secondCmp;
                const NodeId first = orderSource(g, sets, order->first, firstCmp);
                const NodeId second = orderSource(g, sets, order->second, secondCmp);
                terms.push_back(select(first, firstCmp));
                Node both;
                both.kind = OpKind::SelectAnd;
                both.operands = {select(first, Cmp::Eq), select(second, secondCmp)};
                both.loc = cmpNode.loc;
                terms.push_back(rw.add(both));
                debugLine("split_width", "comparison at " + cmpNode.loc.file + ":" +
                                             std::to_string(cmpNode.loc.line) +
                                             " orders by two s-ops: two widths");
            }
        } else {
            if (!selectAll) {
                Node zero;
                zero.kind = OpKind::Constant;
                zero.constant = Value(0);
                zero.loc = n.loc;
                NodeId c = rw.add(zero);
                Node all;
                all.kind = OpKind::Select;
                all.operands = {c, c};
                all.cmp = Cmp::Eq;
                all.loc = n.loc;
                selectAll = rw.add(all);
            }
            terms.push_back(*selectAll);
        }
        Node decode;
        for (NodeId term : terms) {
            Node inverse;
            inverse.kind = OpKind::WidthInverse;
            inverse.operands = {term};
            inverse.loc = n.loc;
            decode.operands.push_back(rw.add(inverse));
        }
        decode.kind = terms.size() == 1 ? OpKind::Map : OpKind::SequenceMap;
        decode.loc = n.loc;
        decode.name = n.name.empty() ? std::string(toString(n.kind)) : n.name;
        decode.encoding = n.encoding;
        decode.fnText = terms.size() == 1 ? "round(1 / w - 1)" : "sum of round(1 / w_i - 1)";
        decode.fn = [](std::span<const Value> a) {
            int64_t width = 0;
            for (const Value& y : a) width += std::llround(1.0 / y.toDouble() - 1.0);
            return Value(width);
        };
        rw.map(id, rw.add(decode));
        ++split;
        if (terms.size() > 1) {
            debugLine("split_width", "width at " + n.loc.file + ":" + std::to_string(n.loc.line) +
                                         " is a sum of " + std::to_string(terms.size()) +
                                         " disjoint widths");
        }
    }
    debugLine("split_width", "split " + std::to_string(split) + " widths");
    return rw.finish(outputs);
}

}  // namespace raspc
