// Helpers for interpreter tests: a small graph builder and input/output conversions.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"

namespace raspc::test {

/// Builds graphs by hand, one primitive per call, the way the elaborator would.
struct Builder {
    Graph g;
    NodeId tokens = add(OpKind::Tokens, {});
    NodeId indices = add(OpKind::Indices, {});
    NodeId length = add(OpKind::Length, {});

    NodeId add(OpKind kind, std::vector<NodeId> operands) {
        Node n;
        n.kind = kind;
        n.operands = std::move(operands);
        return g.add(std::move(n));
    }

    NodeId constant(Value v) {
        NodeId id = add(OpKind::Constant, {});
        g[id].constant = std::move(v);
        return id;
    }

    NodeId map(NodeId x, std::function<Value(const Value&)> f) {
        NodeId id = add(OpKind::Map, {x});
        g[id].fn = [f](std::span<const Value> a) { return f(a[0]); };
        return id;
    }

    NodeId map2(NodeId x, NodeId y, std::function<Value(const Value&, const Value&)> f) {
        NodeId id = add(OpKind::SequenceMap, {x, y});
        g[id].fn = [f](std::span<const Value> a) { return f(a[0], a[1]); };
        return id;
    }

    NodeId select(NodeId keys, NodeId queries, Cmp cmp) {
        NodeId id = add(OpKind::Select, {keys, queries});
        g[id].cmp = cmp;
        return id;
    }

    NodeId land(NodeId a, NodeId b) { return add(OpKind::SelectAnd, {a, b}); }
    NodeId lor(NodeId a, NodeId b) { return add(OpKind::SelectOr, {a, b}); }
    NodeId lnot(NodeId a) { return add(OpKind::SelectNot, {a}); }
    NodeId width(NodeId sel) { return add(OpKind::SelectorWidth, {sel}); }

    NodeId aggregate(NodeId sel, NodeId values, Value dflt = Value(0),
                     Reduction r = Reduction::Mean) {
        NodeId id = add(OpKind::Aggregate, {sel, values});
        g[id].constant = std::move(dflt);
        g[id].reduction = r;
        return id;
    }
};

/// A string input: one string token per character.
inline std::vector<Value> chars(std::string_view s) {
    std::vector<Value> v;
    for (char c : s) v.emplace_back(std::string(1, c));
    return v;
}

/// Values joined by spaces, each as the REPL shows an atom.
inline std::string show(const std::vector<Value>& vs) {
    std::string out;
    for (size_t i = 0; i < vs.size(); ++i) {
        if (i > 0) out += ' ';
        out += toDisplay(vs[i]);
    }
    return out;
}

}  // namespace raspc::test
