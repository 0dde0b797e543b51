// Prints the s-op graph one node a line, operands by id, names and locations as comments.
#include "ir/printer.h"

#include <ostream>
#include <sstream>
#include <vector>

#include "support/text.h"

namespace raspc {
namespace {

/// An atom as a literal: strings quoted and escaped, everything else as the REPL shows it.
std::string literal(const Value& v) { return v.isString() ? quoted(v.asString()) : toDisplay(v); }

std::string ref(NodeId id) {
    // Appended piece by piece: "%" + to_string trips a false g++ 12 -Wrestrict.
    std::string out = "%";
    out += std::to_string(id);
    return out;
}

std::string operandList(const Node& n) {
    std::string out;
    for (size_t i = 0; i < n.operands.size(); ++i) out += (i ? ", " : "") + ref(n.operands[i]);
    return out;
}

}  // namespace

std::string printNode(const Graph& g, NodeId id) {
    const Node& n = g[id];
    std::ostringstream line;
    line << ref(id) << " = " << toString(n.kind);
    if (!n.operands.empty()) line << " " << operandList(n);

    switch (n.kind) {
        case OpKind::Constant:
            line << " " << literal(n.constant);
            break;
        case OpKind::Map:
        case OpKind::SequenceMap:
            if (!n.fnText.empty()) line << " {" << n.fnText << "}";
            break;
        case OpKind::Select:
            line << " " << toString(n.cmp);
            break;
        case OpKind::Aggregate:
            if (n.reduction != Reduction::Mean) line << " " << toString(n.reduction);
            line << " default " << literal(n.constant);
            break;
        default:
            break;
    }
    if (n.encoding == Encoding::Numerical) line << " numerical";
    if (n.encoding == Encoding::Categorical) line << " categorical";

    if (!n.name.empty() || n.loc.line > 0) {
        line << "  # " << n.name;
        if (n.loc.line > 0) {
            line << (n.name.empty() ? "(" : " (") << n.loc.file << ":" << n.loc.line << ")";
        }
    }
    return line.str();
}

void printGraph(std::ostream& out, const Graph& g, std::span<const NodeId> roots) {
    std::vector<bool> shown(g.nodes.size(), roots.empty());
    for (NodeId r : roots) shown[static_cast<size_t>(r)] = true;
    // Nodes are topological, so one backward sweep finds everything the roots need.
    for (size_t i = g.nodes.size(); i-- > 0;) {
        if (!shown[i]) continue;
        for (NodeId op : g.nodes[i].operands) shown[static_cast<size_t>(op)] = true;
    }
    for (size_t i = 0; i < g.nodes.size(); ++i) {
        if (shown[i]) out << printNode(g, static_cast<NodeId>(i)) << "\n";
    }
    for (NodeId r : roots) {
        out << "output " << ref(r);
        if (!g[r].name.empty()) out << "  # " << g[r].name;
        out << "\n";
    }
}

}  // namespace raspc
