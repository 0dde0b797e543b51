// Dead-code elimination: keeps only what the outputs need.
#pragma once

#include <vector>

#include "ir/graph.h"

namespace raspc {

/// A graph holding exactly the nodes `outputs` depend on, in the same order; `outputs` are
/// renumbered to match. The library prelude and unused definitions disappear here.
Graph eliminateDeadCode(const Graph& g, std::vector<NodeId>& outputs);

}  // namespace raspc
