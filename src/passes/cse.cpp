#include "passes/cse.h"

#include <map>
#include <sstream>
#include <stdexcept>

#include "ir/rewrite.h"
#include "support/debug.h"

namespace raspc {

namespace {

// Maps whose operands have more value combinations than this are compared by identity only.
constexpr size_t kMaxCompared = 4096;

void atom(std::ostream& out, const Value& v) {
    out << atomTypeName(atomType(v)) << ":" << toDisplay(v) << ";";
}

/// The map's results on every combination of operand values, as text; empty if too many.
std::string table(const Node& n, const std::vector<const ValueSet*>& sets) {
    size_t product = 1;
    for (const ValueSet* s : sets) {
        if (!s->bounded) return {};
        product *= std::max<size_t>(s->values.size(), 1);
        if (product > kMaxCompared) return {};
    }
    std::ostringstream out;
    std::vector<size_t> idx(sets.size(), 0);
    std::vector<Value> args(sets.size());
    for (size_t done = 0; done < product; ++done) {
        bool empty = false;
        for (size_t i = 0; i < sets.size(); ++i) {
            if (sets[i]->values.empty())
                empty = true;
            else
                args[i] = sets[i]->values[idx[i]];
        }
        if (!empty) {
            try {
                atom(out, n.fn(args));
            } catch (const std::domain_error&) {
                out << "error;";
            }
        }
        for (size_t i = 0; i < sets.size(); ++i) {
            if (++idx[i] < sets[i]->values.size()) break;
            idx[i] = 0;
        }
    }
    return out.str();
}

}  // namespace

Graph eliminateCommonSubexpressions(const Graph& g, std::vector<NodeId>& outputs,
                                    const Domain& domain) {
    std::vector<ValueSet> sets = inferValueSets(g, domain);
    GraphRewriter rw(g);
    std::map<std::string, NodeId> seen;
    int merged = 0;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
        const NodeId id = static_cast<NodeId>(i);
        const Node& n = g[id];
        std::ostringstream key;
        key << toString(n.kind) << "|" << static_cast<int>(n.encoding) << "|";
        for (NodeId op : n.operands) key << rw.mapped(op) << ",";
        key << "|";
        switch (n.kind) {
            case OpKind::Constant:
                atom(key, n.constant);
                break;
            case OpKind::Select:
                key << toString(n.cmp);
                break;
            case OpKind::Aggregate:
                key << toString(n.reduction) << "|";
                atom(key, n.constant);
                break;
            case OpKind::Map:
            case OpKind::SequenceMap: {
                std::vector<const ValueSet*> in;
                for (NodeId op : n.operands) in.push_back(&sets[static_cast<size_t>(op)]);
                std::string t = table(n, in);
                if (t.empty()) {
                    rw.copy(id);  // cannot compare: keep it
                    continue;
                }
                key << t;
                break;
            }
            default:
                break;
        }
        auto [it, fresh] = seen.emplace(key.str(), -1);
        if (!fresh) {
            rw.map(id, it->second);
            // The name a program gave either copy stays findable through `named`.
            if (rw.to()[it->second].name.empty()) rw.to()[it->second].name = n.name;
            debugLine("cse", "merged %" + std::to_string(id) + " (" + n.loc.file + ":" +
                                 std::to_string(n.loc.line) + ") into %" +
                                 std::to_string(it->second));
            ++merged;
            continue;
        }
        it->second = rw.copy(id);
    }
    debugLine("cse", "merged " + std::to_string(merged) + " nodes");
    return rw.finish(outputs);
}

}  // namespace raspc
