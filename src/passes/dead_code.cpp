#include "passes/dead_code.h"

#include "ir/rewrite.h"
#include "support/debug.h"

namespace raspc {

Graph eliminateDeadCode(const Graph& g, std::vector<NodeId>& outputs) {
    std::vector<bool> live(g.nodes.size(), false);
    for (NodeId out : outputs) live[static_cast<size_t>(out)] = true;
    // Users come after their operands, so one backward sweep marks everything needed.
    for (size_t id = g.nodes.size(); id-- > 0;) {
        if (!live[id]) continue;
        for (NodeId op : g.nodes[id].operands) live[static_cast<size_t>(op)] = true;
    }
    GraphRewriter rw(g);
    size_t removed = 0;
    for (size_t id = 0; id < g.nodes.size(); ++id) {
        if (live[id])
            rw.copy(static_cast<NodeId>(id));
        else
            ++removed;
    }
    debugLine("dead_code", "removed " + std::to_string(removed) + " of " +
                               std::to_string(g.nodes.size()) + " nodes");
    return rw.finish(outputs);
}

}  // namespace raspc
