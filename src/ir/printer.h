// The s-op graph as text, one line per node, for `raspc compile --emit=ir` and debug dumps.
#pragma once

#include <iosfwd>
#include <span>
#include <string>

#include "ir/graph.h"

namespace raspc {

/// One node: `%12 = aggregate %9, %11 default 0  # reverse (reverse.rasp:7)`. Operands are
/// node ids; the comment holds the program's name for the node and where it was made.
std::string printNode(const Graph& g, NodeId id);

/// Every node of `g` in id order, or, when `roots` is not empty, only the nodes the roots need
/// (ids kept as they are), followed by one `output %N` line per root.
void printGraph(std::ostream& out, const Graph& g, std::span<const NodeId> roots = {});

}  // namespace raspc
