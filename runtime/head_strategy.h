// Which attention strategy each head of a causal model allows, read from its weights.
#pragma once

#include <string_view>
#include <vector>

#include "runtime/model.h"

namespace raspc::rt {

/// How the incremental decoder answers one head's query.
enum class HeadStrategy {
    /// Score every cached key: O(n) a step. Right for any head.
    Scan,
    /// A dynamic convex hull of the 2-D keys (Head::hard, dk == 2): O(log n) a step.
    Hull,
    /// The key is the same vector at every real position, so all real keys score alike: a
    /// running sum of their values and a count, plus BOS's own key and value. O(1) a step.
    RunningSum,
};

/// "scan", "hull" or "running sum", for reports.
std::string_view strategyName(HeadStrategy s);

/// For each residual dimension: true when it holds the same value at every real position
/// (BOS may differ). That is so when no layer ever writes it (every head's wo column and every
/// MLP's w2 column is zero there), the position table and the position powers are zero in it
/// (at real positions), and every real token's embedding row holds the same value in it.
std::vector<bool> constantDimensions(const Model& m);

/// The cheapest strategy each head of a causal model allows, per layer and head: RunningSum
/// when its wk reads only constant dimensions, else Hull for a hard head with 2-D keys, else
/// Scan. Both structures hold a prefix of the positions, so only heads whose mask leaves the
/// newest query a prefix (none, key <= query, key < query) get them; under key >= query or
/// key > query the causal mask leaves at most the query's own key besides BOS, and the scan
/// of those is O(1) anyway.
std::vector<std::vector<HeadStrategy>> chooseStrategies(const Model& m);

}  // namespace raspc::rt
