// Folding chains of maps over one s-op into a single map of that s-op.
#pragma once

#include <vector>

#include "ir/graph.h"
#include "passes/value_sets.h"

namespace raspc {

/// Rewrites every map whose operands all derive, through maps and constants only, from one
/// s-op that lowering keeps as a one-hot (tokens, indices of a short program, few or
/// non-numeric values) into one map of that s-op. `tokens - tokens % 100` reads tokens
/// twice through two maps: as a map of tokens alone it relabels the token one-hot (no layer),
/// where a map of two operands would need an MLP over every pair of their values. Maps left
/// unread become dead code.
Graph foldSingleSourceMaps(const Graph& g, std::vector<NodeId>& outputs, const Domain& domain);

}  // namespace raspc
