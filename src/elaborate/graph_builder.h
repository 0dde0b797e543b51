// Adds the nodes of an elaborated program to its graph: shared primitives and constants,
// elementwise maps with their atoms captured, selects, aggregates.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "elaborate/values.h"
#include "ir/graph.h"

namespace raspc::elab {

class GraphBuilder {
public:
    /// A function over atoms, applied at each position (or once, at compile time).
    using AtomFn = std::function<Value(std::span<const Value>)>;

    Graph& graph() { return graph_; }
    Node& operator[](NodeId id) { return graph_[id]; }

    /// Tokens, Indices or Length: one node of each, made when a program first reads it.
    NodeId primitive(OpKind kind);

    /// A Constant node holding `v`; one per distinct atom (its type included).
    NodeId constant(const Value& v, const SourceLoc& loc);

    /// `v` where an s-op is required: an s-op as it is, an atom lifted to a constant node.
    /// Anything else is an error at `loc` saying that `what` must be an s-op or an atom.
    NodeId sopOperand(const CtValue& v, const SourceLoc& loc, const std::string& what);

    /// Applies `f` position by position to operands that are atoms or s-ops. With atoms only,
    /// `f` runs now and its result is an atom (an error it raises is reported at `loc`).
    /// Otherwise the result is a Map node (one distinct s-op among the operands) or a
    /// SequenceMap node (several), with the atoms captured in its function and `text` as
    /// the function's printed form. `op` names the operator `f` is, if it is one.
    CtValue elementwise(const std::vector<CtValue>& operands, AtomFn f, const std::string& text,
                        const SourceLoc& loc, MapOp op = MapOp::Opaque);

    NodeId select(NodeId keys, NodeId queries, Cmp cmp, const SourceLoc& loc);
    /// SelectAnd, SelectOr (two selectors) or SelectNot (one).
    NodeId selectorOp(OpKind kind, std::vector<NodeId> operands, const SourceLoc& loc);
    NodeId aggregate(NodeId selector, NodeId values, Value fallback, Reduction reduction,
                     const SourceLoc& loc);
    NodeId selectorWidth(NodeId selector, const SourceLoc& loc);

private:
    NodeId add(OpKind kind, std::vector<NodeId> operands, const SourceLoc& loc);

    Graph graph_;
    std::optional<NodeId> tokens_, indices_, length_;
    std::vector<std::pair<Value, NodeId>> constants_;
};

}  // namespace raspc::elab
