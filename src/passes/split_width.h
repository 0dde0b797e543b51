// Splits selector_width and length into the head that reads 1/(w+1) and the map decoding w.
#pragma once

#include <vector>

#include "ir/graph.h"
#include "passes/value_sets.h"

namespace raspc {

/// Rewrites every SelectorWidth(sel) as Map(decode, WidthInverse(sel)) and Length as the
/// width of a select-everything selector, so the decoding map is an ordinary map that later
/// maps can fuse with (DESIGN.md: a map after an attention joins that layer's MLP). Lowering
/// requires this pass: it compiles WidthInverse and has no rule for SelectorWidth or Length.
///
/// The width of `A or B` where A and B can never both select a key (checked over the operands'
/// possible values) is width(A) + width(B): two heads side by side instead of one head over
/// a tuple of keys that an MLP must build first. Sort's tie-break selector is such an `or`.
/// With `splitOrders`, so is `select(k, k, <)` (or <=, >, >=) where k, a map of two s-ops x
/// and y, orders as the pair (x, y) does: `select(x, x, <) or (select(x, x, ==) and
/// select(y, y, <))`, which needs no one-hot of k (tracr's `tokens + indices / 5` sort keys).
Graph splitWidths(const Graph& g, std::vector<NodeId>& outputs, const Domain& domain,
                  bool splitOrders);

}  // namespace raspc
