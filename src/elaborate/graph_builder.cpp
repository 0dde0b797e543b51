// Node construction for the elaborator; the one place that decides Map versus SequenceMap
// and how atoms mixed with s-ops are captured.
#include "elaborate/graph_builder.h"

#include <algorithm>
#include <stdexcept>

namespace raspc::elab {

NodeId GraphBuilder::add(OpKind kind, std::vector<NodeId> operands, const SourceLoc& loc) {
    Node n;
    n.kind = kind;
    n.operands = std::move(operands);
    n.loc = loc;
    return graph_.add(std::move(n));
}

NodeId GraphBuilder::primitive(OpKind kind) {
    std::optional<NodeId>* slot = kind == OpKind::Tokens    ? &tokens_
                                  : kind == OpKind::Indices ? &indices_
                                  : kind == OpKind::Length  ? &length_
                                                            : nullptr;
    if (slot == nullptr) throw InternalError("GraphBuilder::primitive: not a primitive kind");
    if (!*slot) *slot = add(kind, {}, SourceLoc{});
    return **slot;
}

NodeId GraphBuilder::constant(const Value& v, const SourceLoc& loc) {
    // Compare storage, not Python equality: 1, 1.0 and True must stay distinct constants.
    for (const auto& [value, id] : constants_) {
        if (value.storage() == v.storage()) return id;
    }
    NodeId id = add(OpKind::Constant, {}, loc);
    graph_[id].constant = v;
    constants_.emplace_back(v, id);
    return id;
}

NodeId GraphBuilder::sopOperand(const CtValue& v, const SourceLoc& loc, const std::string& what) {
    if (v.isSop()) return v.sop();
    if (v.isAtom()) return constant(v.atom(), loc);
    fail(loc, what + " must be an s-op or an atom, not " + describe(v));
}

CtValue GraphBuilder::elementwise(const std::vector<CtValue>& operands, AtomFn f,
                                  const std::string& text, const SourceLoc& loc, MapOp op) {
    // Each operand becomes either a slot of the node's inputs or a captured atom; an s-op used
    // twice (t == t) takes one slot, so that it stays a Map of one input.
    using Arg = MapArg;
    std::vector<Arg> args;
    std::vector<NodeId> inputs;
    for (const CtValue& v : operands) {
        if (v.isAtom()) {
            args.push_back({-1, v.atom()});
        } else if (v.isSop()) {
            auto it = std::find(inputs.begin(), inputs.end(), v.sop());
            if (it == inputs.end()) it = inputs.insert(inputs.end(), v.sop());
            args.push_back({static_cast<int>(it - inputs.begin()), Value()});
        } else {
            fail(loc, "expected an s-op or an atom here, not " + describe(v));
        }
    }

    if (inputs.empty()) {
        std::vector<Value> atoms;
        for (const Arg& a : args) atoms.push_back(a.atom);
        try {
            return CtValue(f(atoms));
        } catch (const std::domain_error& e) {
            fail(loc, e.what());
        }
    }

    NodeId id = add(inputs.size() == 1 ? OpKind::Map : OpKind::SequenceMap, inputs, loc);
    graph_[id].fnText = text;
    graph_[id].op = op;
    graph_[id].opArgs = args;
    graph_[id].fn = [args = std::move(args), f = std::move(f)](std::span<const Value> in) {
        std::vector<Value> atoms;
        atoms.reserve(args.size());
        for (const Arg& a : args)
            atoms.push_back(a.slot >= 0 ? in[static_cast<size_t>(a.slot)] : a.atom);
        return f(atoms);
    };
    return SopRef{id};
}

NodeId GraphBuilder::select(NodeId keys, NodeId queries, Cmp cmp, const SourceLoc& loc) {
    NodeId id = add(OpKind::Select, {keys, queries}, loc);
    graph_[id].cmp = cmp;
    return id;
}

NodeId GraphBuilder::selectorOp(OpKind kind, std::vector<NodeId> operands, const SourceLoc& loc) {
    return add(kind, std::move(operands), loc);
}

NodeId GraphBuilder::aggregate(NodeId selector, NodeId values, Value fallback, Reduction reduction,
                               const SourceLoc& loc) {
    NodeId id = add(OpKind::Aggregate, {selector, values}, loc);
    graph_[id].constant = std::move(fallback);
    graph_[id].reduction = reduction;
    return id;
}

NodeId GraphBuilder::selectorWidth(NodeId selector, const SourceLoc& loc) {
    return add(OpKind::SelectorWidth, {selector}, loc);
}

}  // namespace raspc::elab
