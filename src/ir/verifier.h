// The IR verifier: checks a graph's structural invariants between passes.
#pragma once

#include <string_view>

#include "ir/graph.h"

namespace raspc {

/// Throws InternalError naming `stage` and the node when the graph breaks an invariant:
/// operands before users, operand kinds (selector or s-op) and counts per node kind, a function
/// on every map.
void verifyGraph(const Graph& g, std::string_view stage);

}  // namespace raspc
