#include "passes/fold_sources.h"

#include <memory>

#include "ir/rewrite.h"
#include "support/debug.h"

namespace raspc {

namespace {

// A folded function is a tree over the source; shared subchains are copied into it, so a
// chain that would grow past this many nodes stays as it is.
constexpr size_t kMaxChainNodes = 256;
// Numbers with at most this many values stay one-hots in lowering (kSmallCategorical there).
constexpr size_t kFewValues = 8;

/// A map chain as a tree: the source itself, a constant, or a function of sub-chains.
struct Chain {
    enum Kind { Source, Constant, Apply } kind = Source;
    Value constant;
    MapFn fn;
    std::vector<std::shared_ptr<const Chain>> kids;

    Value eval(const Value& source) const {
        switch (kind) {
            case Source:
                return source;
            case Constant:
                return constant;
            case Apply:
                break;
        }
        std::vector<Value> args;
        args.reserve(kids.size());
        for (const auto& k : kids) args.push_back(k->eval(source));
        return fn(args);
    }
};

/// Whether lowering will surely keep `n` as a one-hot (so a map of it is a relabelling).
bool oneHot(const Node& n, const ValueSet& set) {
    if (!set.bounded || n.isSelector()) return false;
    if (n.kind == OpKind::Tokens || n.kind == OpKind::Indices) return true;
    if (n.encoding != Encoding::Inferred) return n.encoding == Encoding::Categorical;
    return !set.allNumbers() || set.values.size() <= kFewValues;
}

}  // namespace

Graph foldSingleSourceMaps(const Graph& g, std::vector<NodeId>& outputs, const Domain& domain) {
    std::vector<ValueSet> sets = inferValueSets(g, domain);
    const size_t count = g.nodes.size();
    // Per node: the one s-op it derives from through maps (itself for anything else; -1 for
    // constants), its chain over that s-op, and the chain's size.
    std::vector<NodeId> source(count, -1);
    std::vector<std::shared_ptr<const Chain>> chain(count);
    std::vector<size_t> size(count, 1);

    GraphRewriter rw(g);
    int folded = 0;
    for (size_t i = 0; i < count; ++i) {
        const NodeId id = static_cast<NodeId>(i);
        const Node& n = g[id];
        auto leaf = std::make_shared<Chain>();
        if (n.kind == OpKind::Constant) {
            leaf->kind = Chain::Constant;
            leaf->constant = n.constant;
            chain[i] = leaf;
            rw.copy(id);
            continue;
        }
        source[i] = id;
        chain[i] = leaf;
        if (n.kind != OpKind::Map && n.kind != OpKind::SequenceMap) {
            rw.copy(id);
            continue;
        }

        NodeId common = -1;
        bool single = true;
        size_t total = 1;
        for (NodeId op : n.operands) {
            NodeId s = source[static_cast<size_t>(op)];
            total += size[static_cast<size_t>(op)];
            if (s < 0) continue;
            single = single && (common < 0 || common == s);
            common = s;
        }
        // Only sources that will be one-hots, whose maps are relabellings: the input's own
        // s-ops, and s-ops of few or non-numeric values (or annotated categorical). A chain
        // over numbers is left to lowering, which fuses it with the encodings in view.
        bool foldable = single && common >= 0 && total <= kMaxChainNodes &&
                        oneHot(g[common], sets[static_cast<size_t>(common)]);
        if (!foldable) {
            rw.copy(id);
            continue;
        }
        auto apply = std::make_shared<Chain>();
        apply->kind = Chain::Apply;
        apply->fn = n.fn;
        for (NodeId op : n.operands) apply->kids.push_back(chain[static_cast<size_t>(op)]);
        source[i] = common;
        chain[i] = apply;
        size[i] = total;

        if (n.operands.size() == 1 && n.operands[0] == common) {
            rw.copy(id);  // already a map of its source
            continue;
        }
        Node m = n;
        m.kind = OpKind::Map;
        m.operands = {rw.mapped(common)};
        m.op = MapOp::Opaque;
        m.opArgs.clear();
        std::shared_ptr<const Chain> c = apply;
        m.fn = [c](std::span<const Value> in) { return c->eval(in[0]); };
        rw.map(id, rw.add(std::move(m)));
        debugLine("fold_sources", "%" + std::to_string(id) + " (" + n.loc.file + ":" +
                                      std::to_string(n.loc.line) + ") is now a map of %" +
                                      std::to_string(common) + " alone");
        ++folded;
    }
    debugLine("fold_sources", "folded " + std::to_string(folded) + " maps");
    return rw.finish(outputs);
}

}  // namespace raspc
