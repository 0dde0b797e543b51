// The share of the first position: the RASP paper's selector width without a beginning-of-
// sequence token, as a width and a test instead of an `or` over positions.
#pragma once

#include <vector>

#include "ir/graph.h"
#include "passes/value_sets.h"

namespace raspc {

/// Rewrites `aggregate(sel or select(indices, 0, ==), v)`, where v is 1 at index 0 and 0
/// elsewhere, as a map of selector_width(sel) and f = aggregate(sel and select(indices, 0,
/// ==), 1, 0): position 0 is selected at every query, so the mean is 1 / (width + 1 - f), the
/// share of position 0 among the selected keys. The width and f are two heads of one layer and
/// the map joins that layer's MLP, where the `or` of a comparison of tokens with one of
/// positions needs a tuple of both, which an MLP must build a layer earlier.
Graph rewriteFirstShares(const Graph& g, std::vector<NodeId>& outputs, const Domain& domain);

}  // namespace raspc
