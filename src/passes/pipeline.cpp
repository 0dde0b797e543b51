#include "passes/pipeline.h"

#include <cstdlib>

#include "ir/verifier.h"
#include "passes/cse.h"
#include "passes/dead_code.h"
#include "passes/first_share.h"
#include "passes/fold_sources.h"
#include "passes/split_width.h"

namespace raspc {

namespace {

bool verifying() {
#ifndef NDEBUG
    return true;
#else
    static const bool on = std::getenv("RASPC_VERIFY") != nullptr;
    return on;
#endif
}

void check(const Graph& g, std::string_view stage) {
    if (verifying()) verifyGraph(g, stage);
}

}  // namespace

Graph optimize(const Graph& input, std::vector<NodeId>& outputs, const PassOptions& options) {
    check(input, "elaboration");

    // Dead code first, at every level: it changes nothing the model computes, and the
    // library prelude would otherwise be analysed by every later step.
    Graph g = eliminateDeadCode(input, outputs);
    check(g, "dead_code");

    // Merging before splitting widths lets two equal selector_widths share one head.
    if (options.optLevel > 0) {
        // Before CSE, which then merges the test it adds with one the program has.
        g = rewriteFirstShares(g, outputs, options.domain);
        check(g, "first_share");
        g = eliminateCommonSubexpressions(g, outputs, options.domain);
        check(g, "cse");
        // Maps that read one s-op through others become maps of it alone; the maps they
        // read through are then dead.
        g = foldSingleSourceMaps(g, outputs, options.domain);
        check(g, "fold_sources");
        g = eliminateDeadCode(g, outputs);
        check(g, "dead_code");
    }

    // Required by lowering: selector_width and length become a head plus a decoding map,
    // which lowering may fuse with the maps that read it.
    g = splitWidths(g, outputs, options.domain, options.optLevel > 0);
    check(g, "split_width");
    if (options.optLevel > 0) {
        // An order comparison split in two may leave its map unread.
        g = eliminateDeadCode(g, outputs);
        check(g, "dead_code");
    }
    return g;
}

}  // namespace raspc
