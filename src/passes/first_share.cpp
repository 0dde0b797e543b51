#include "passes/first_share.h"

#include <optional>
#include <string>

#include "ir/rewrite.h"
#include "support/debug.h"

namespace raspc {

namespace {

/// Whether `id` is select(indices, 0, ==): every query selects the key at index 0.
bool selectsFirst(const Graph& g, NodeId id) {
    const Node& n = g[id];
    if (n.kind != OpKind::Select || n.cmp != Cmp::Eq) return false;
    const Node& keys = g[n.operands[0]];
    const Node& query = g[n.operands[1]];
    return keys.kind == OpKind::Indices && query.kind == OpKind::Constant &&
           query.constant.isNumber() && query.constant.toDouble() == 0.0;
}

/// The value of `id` at index i, when it is built from indices and constants by maps alone.
std::optional<Value> atIndex(const Graph& g, NodeId id, int i) {
    const Node& n = g[id];
    switch (n.kind) {
        case OpKind::Indices:
            return Value(i);
        case OpKind::Constant:
            return n.constant;
        case OpKind::Map:
        case OpKind::SequenceMap: {
            if (!n.fn) return std::nullopt;
            std::vector<Value> args;
            for (NodeId op : n.operands) {
                std::optional<Value> v = atIndex(g, op, i);
                if (!v) return std::nullopt;
                args.push_back(*v);
            }
            return n.fn(args);
        }
        default:
            return std::nullopt;
    }
}

/// v at index 0, when `id` is a function of indices that is 1 there and 0 at every other
/// index below maxLen (as indicator(indices == 0) is).
std::optional<Value> firstIndicator(const Graph& g, NodeId id, int maxLen) {
    try {
        const std::optional<Value> first = atIndex(g, id, 0);
        if (!first || first->isString() || first->toDouble() != 1.0) return std::nullopt;
        for (int i = 1; i < maxLen; ++i) {
            const std::optional<Value> v = atIndex(g, id, i);
            if (!v || v->isString() || v->toDouble() != 0.0) return std::nullopt;
        }
        return first;
    } catch (const std::exception&) {
        return std::nullopt;  // a map that raises somewhere
    }
}

}  // namespace

Graph rewriteFirstShares(const Graph& g, std::vector<NodeId>& outputs, const Domain& domain) {
    GraphRewriter rw(g);
    int rewritten = 0;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
        const NodeId id = static_cast<NodeId>(i);
        const Node& n = g[id];
        if (n.kind != OpKind::Aggregate || n.reduction != Reduction::Mean ||
            n.encoding == Encoding::Categorical || domain.maxLen < 1) {
            rw.copy(id);
            continue;
        }
        const Node& sel = g[n.operands[0]];
        std::optional<Value> first = firstIndicator(g, n.operands[1], domain.maxLen);
        if (sel.kind != OpKind::SelectOr || !first) {
            rw.copy(id);
            continue;
        }
        NodeId other = -1, atFirst = -1;
        for (int k = 0; k < 2; ++k) {
            if (selectsFirst(g, sel.operands[static_cast<size_t>(k)])) {
                atFirst = sel.operands[static_cast<size_t>(k)];
                other = sel.operands[static_cast<size_t>(1 - k)];
            }
        }
        if (atFirst < 0) {
            rw.copy(id);
            continue;
        }

        Node width;
        width.kind = OpKind::SelectorWidth;
        width.operands = {rw.mapped(other)};
        width.loc = n.loc;
        Node both;
        both.kind = OpKind::SelectAnd;
        both.operands = {rw.mapped(other), rw.mapped(atFirst)};
        both.loc = sel.loc;
        Node one;
        one.kind = OpKind::Constant;
        one.constant = Value(1);
        one.loc = n.loc;
        Node included;  // 1 where `other` selects position 0 itself, else 0
        included.kind = OpKind::Aggregate;
        included.operands = {rw.add(both), rw.add(one)};
        included.constant = Value(0);
        included.loc = n.loc;
        Node share;
        share.kind = OpKind::SequenceMap;
        share.operands = {rw.add(width), rw.add(included)};
        share.loc = n.loc;
        share.name = n.name;
        share.encoding = n.encoding;
        share.fnText = "1 / (width + 1 - first_selected)";
        // The interpreter's mean: one key gives its value itself, several their float mean.
        share.fn = [one = *first](std::span<const Value> a) {
            const double keys = a[0].toDouble() + 1.0 - a[1].toDouble();
            return keys == 1.0 ? one : Value(1.0 / keys);
        };
        rw.map(id, rw.add(share));
        ++rewritten;
        debugLine("first_share", "share of position 0 at " + n.loc.file + ":" +
                                     std::to_string(n.loc.line) +
                                     " is a width and a test of position 0");
    }
    debugLine("first_share", "rewrote " + std::to_string(rewritten) + " shares");
    return rw.finish(outputs);
}

}  // namespace raspc
