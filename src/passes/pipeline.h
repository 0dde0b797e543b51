// The middle end: the graph passes, in order, that run before lowering.
#pragma once

#include <vector>

#include "ir/graph.h"
#include "passes/value_sets.h"

namespace raspc {

struct PassOptions {
    int optLevel = 1;  // 0: only what lowering requires
    Domain domain;
};

/// Runs the passes over `g` and renumbers `outputs` to match the result. The IR verifier runs
/// after every pass in debug builds, or when RASPC_VERIFY is set.
Graph optimize(const Graph& g, std::vector<NodeId>& outputs, const PassOptions& options);

}  // namespace raspc
