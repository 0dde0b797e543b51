#include "ir/rewrite.h"

namespace raspc {

GraphRewriter::GraphRewriter(const Graph& from) : from_(from), map_(from.nodes.size(), -1) {
    to_.tokenType = from.tokenType;
    to_.vocab = from.vocab;
    to_.maxLen = from.maxLen;
    to_.exampleInput = from.exampleInput;
    to_.causal = from.causal;
}

NodeId GraphRewriter::copy(NodeId id) {
    Node n = from_[id];
    for (NodeId& op : n.operands) {
        op = mapped(op);
        if (op < 0) throw InternalError("GraphRewriter: operand copied after its user");
    }
    NodeId to = to_.add(std::move(n));
    map(id, to);
    return to;
}

Graph GraphRewriter::finish(std::vector<NodeId>& outputs) {
    for (NodeId& out : outputs) {
        out = mapped(out);
        if (out < 0) throw InternalError("GraphRewriter: an output was dropped");
    }
    for (const auto& [name, id] : from_.named) {
        if (mapped(id) >= 0) to_.named.emplace_back(name, mapped(id));
    }
    if (from_.lastSop && mapped(*from_.lastSop) >= 0) to_.lastSop = mapped(*from_.lastSop);
    return std::move(to_);
}

}  // namespace raspc
