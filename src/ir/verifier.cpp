#include "ir/verifier.h"

#include <string>

namespace raspc {

void verifyGraph(const Graph& g, std::string_view stage) {
    for (size_t id = 0; id < g.nodes.size(); ++id) {
        const Node& n = g.nodes[id];
        auto bad = [&](const std::string& what) {
            throw InternalError("IR verifier after " + std::string(stage) + ": node %" +
                                std::to_string(id) + " (" + std::string(toString(n.kind)) +
                                "): " + what);
        };
        for (NodeId op : n.operands) {
            if (op < 0 || static_cast<size_t>(op) >= id)
                bad("operand %" + std::to_string(op) + " does not come before it");
        }
        auto operands = [&](size_t count) {
            if (n.operands.size() != count) bad("expects " + std::to_string(count) + " operands");
        };
        auto selector = [&](size_t i, bool want) {
            if (g[n.operands[i]].isSelector() != want) {
                bad("operand " + std::to_string(i) +
                    (want ? " must be a selector" : " must be an s-op"));
            }
        };
        switch (n.kind) {
            case OpKind::Tokens:
            case OpKind::Indices:
            case OpKind::Length:
            case OpKind::Constant:
                operands(0);
                break;
            case OpKind::Map:
                operands(1);
                selector(0, false);
                if (!n.fn) bad("map without a function");
                break;
            case OpKind::SequenceMap:
                if (n.operands.size() < 2) bad("expects two or more operands");
                for (size_t i = 0; i < n.operands.size(); ++i) selector(i, false);
                if (!n.fn) bad("map without a function");
                break;
            case OpKind::Select:
            case OpKind::SelectAnd:
            case OpKind::SelectOr:
                operands(2);
                selector(0, n.kind != OpKind::Select);
                selector(1, n.kind != OpKind::Select);
                break;
            case OpKind::SelectNot:
                operands(1);
                selector(0, true);
                break;
            case OpKind::Aggregate:
                operands(2);
                selector(0, true);
                selector(1, false);
                break;
            case OpKind::SelectorWidth:
            case OpKind::WidthInverse:
                operands(1);
                selector(0, true);
                break;
        }
    }
}

}  // namespace raspc
