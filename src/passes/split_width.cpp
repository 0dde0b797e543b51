#include "passes/split_width.h"

#include <algorithm>
#include <cmath>
#include <map>
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

}  // namespace

Graph splitWidths(const Graph& g, std::vector<NodeId>& outputs, const Domain& domain) {
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
            for (NodeId t : old) terms.push_back(rw.mapped(t));
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
