// Splits selector_width and length into the head that reads 1/(w+1) and the map decoding w.
#pragma once

#include <vector>

#include "ir/graph.h"

namespace raspc {

/// Rewrites every SelectorWidth(sel) as Map(decode, WidthInverse(sel)) and Length as the
/// width of a select-everything selector, so the decoding map is an ordinary map that later
/// maps can fuse with (DESIGN.md: a map after an attention joins that layer's MLP). Lowering
/// requires this pass: it compiles WidthInverse and has no rule for SelectorWidth or Length.
Graph splitWidths(const Graph& g, std::vector<NodeId>& outputs);

}  // namespace raspc
