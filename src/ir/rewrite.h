// Building a new graph from an old one, node by node: what every graph pass does.
#pragma once

#include <vector>

#include "ir/graph.h"

namespace raspc {

/// Copies nodes of `from` into a new graph with their operands remapped. Operands must be
/// mapped before the nodes that use them (nodes are visited in topological order).
class GraphRewriter {
public:
    explicit GraphRewriter(const Graph& from);

    /// Copies old node `id` (operands remapped) and maps it to the copy.
    NodeId copy(NodeId id);
    /// Adds a new node whose operands are already new ids.
    NodeId add(Node n) { return to_.add(std::move(n)); }
    /// Makes old node `id` stand for new node `to`.
    void map(NodeId id, NodeId to) { map_[static_cast<size_t>(id)] = to; }
    /// The new id of old node `id`, or -1 if it has none.
    NodeId mapped(NodeId id) const { return map_[static_cast<size_t>(id)]; }
    const Graph& from() const { return from_; }
    Graph& to() { return to_; }

    /// The new graph; `outputs`, the named s-ops and the last s-op are remapped (names whose
    /// node is gone are dropped).
    Graph finish(std::vector<NodeId>& outputs);

private:
    const Graph& from_;
    Graph to_;
    std::vector<NodeId> map_;
};

}  // namespace raspc
