#include "passes/split_width.h"

#include <cmath>

#include "ir/rewrite.h"
#include "support/debug.h"

namespace raspc {

Graph splitWidths(const Graph& g, std::vector<NodeId>& outputs) {
    GraphRewriter rw(g);
    std::optional<NodeId> selectAll;
    int split = 0;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
        const NodeId id = static_cast<NodeId>(i);
        const Node& n = g[id];
        if (n.kind != OpKind::SelectorWidth && n.kind != OpKind::Length) {
            rw.copy(id);
            continue;
        }
        NodeId selector;
        if (n.kind == OpKind::SelectorWidth) {
            selector = rw.mapped(n.operands[0]);
        } else {
            if (!selectAll) {
                Node zero;
                zero.kind = OpKind::Constant;
                zero.constant = Value(0);
                zero.loc = n.loc;
                NodeId c = rw.add(zero);
                Node all;
                all.kind = OpKind::Select;
                all.operands = {c, c};
                all.cmp = Cmp::Eq;
                all.loc = n.loc;
                selectAll = rw.add(all);
            }
            selector = *selectAll;
        }
        Node inverse;
        inverse.kind = OpKind::WidthInverse;
        inverse.operands = {selector};
        inverse.loc = n.loc;
        NodeId inv = rw.add(inverse);

        Node decode;
        decode.kind = OpKind::Map;
        decode.operands = {inv};
        decode.loc = n.loc;
        decode.name = n.name.empty() ? std::string(toString(n.kind)) : n.name;
        decode.encoding = n.encoding;
        decode.fnText = "round(1 / w - 1)";
        decode.fn = [](std::span<const Value> a) {
            return Value(static_cast<int64_t>(std::llround(1.0 / a[0].toDouble() - 1.0)));
        };
        rw.map(id, rw.add(decode));
        ++split;
    }
    debugLine("split_width", "split " + std::to_string(split) + " widths");
    return rw.finish(outputs);
}

}  // namespace raspc
