// Common-subexpression elimination: identical s-ops and selectors built separately become one.
#pragma once

#include <vector>

#include "ir/graph.h"
#include "passes/value_sets.h"

namespace raspc {

/// Merges nodes that compute the same thing: same kind, same (merged) operands and
/// parameters; for maps, the same result on every combination of the operands' possible
/// values, so `tokens == "a"` written twice, or as `"a" == tokens`, is computed once.
Graph eliminateCommonSubexpressions(const Graph& g, std::vector<NodeId>& outputs,
                                    const Domain& domain);

}  // namespace raspc
