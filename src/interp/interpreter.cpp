// The reference interpreter: evaluates the nodes an output needs, once each, in graph order.
#include "interp/interpreter.h"

#include <cstdint>
#include <stdexcept>
#include <string>

namespace raspc {

namespace {

/// Which keys each query selects: an n x n matrix, row-major by query position.
struct Selection {
    size_t n = 0;
    std::vector<uint8_t> bits;

    bool at(size_t q, size_t k) const { return bits[q * n + k] != 0; }
};

/// An atom as an error message shows it: strings quoted, so "1" and 1 differ.
std::string quoted(const Value& v) {
    return v.isString() ? "\"" + v.asString() + "\"" : toDisplay(v);
}

class Evaluator {
public:
    Evaluator(const Graph& g, std::span<const Value> input)
        : g_(g), input_(input), n_(input.size()), sops_(g.nodes.size()), sels_(g.nodes.size()) {}

    /// Evaluates every node `roots` depend on, in increasing id order (the graph is
    /// topological, so operands are always ready before their users).
    void evaluateFor(std::span<const NodeId> roots) {
        std::vector<uint8_t> needed(g_.nodes.size(), 0);
        std::vector<NodeId> stack;
        for (NodeId r : roots) {
            checkId(r);
            if (!needed[idx(r)]) stack.push_back(r);
            needed[idx(r)] = 1;
        }
        while (!stack.empty()) {
            NodeId id = stack.back();
            stack.pop_back();
            for (NodeId op : g_[id].operands) {
                if (op < 0 || op >= id) {
                    throw InternalError("interpret: node " + std::to_string(id) + " has operand " +
                                        std::to_string(op) + " that does not precede it");
                }
                if (!needed[idx(op)]) {
                    needed[idx(op)] = 1;
                    stack.push_back(op);
                }
            }
        }
        for (size_t i = 0; i < needed.size(); ++i) {
            if (needed[i]) evaluate(static_cast<NodeId>(i));
        }
    }

    std::vector<Value>& sop(NodeId id) { return sops_[idx(id)]; }
    const Selection& selection(NodeId id) const { return sels_[idx(id)]; }

private:
    static size_t idx(NodeId id) { return static_cast<size_t>(id); }

    void checkId(NodeId id) const {
        if (id < 0 || idx(id) >= g_.nodes.size()) {
            throw InternalError("interpret: no node " + std::to_string(id));
        }
    }

    const std::vector<Value>& sopOperand(const Node& node, size_t i) const {
        NodeId op = node.operands.at(i);
        if (g_[op].isSelector()) {
            throw InternalError("interpret: " + std::string(toString(node.kind)) +
                                " expects an s-op as operand " + std::to_string(i));
        }
        return sops_[idx(op)];
    }

    const Selection& selectorOperand(const Node& node, size_t i) const {
        NodeId op = node.operands.at(i);
        if (!g_[op].isSelector()) {
            throw InternalError("interpret: " + std::string(toString(node.kind)) +
                                " expects a selector as operand " + std::to_string(i));
        }
        return sels_[idx(op)];
    }

    void expectOperands(const Node& node, size_t count, bool atLeast = false) const {
        size_t have = node.operands.size();
        if (atLeast ? have < count : have != count) {
            throw InternalError("interpret: " + std::string(toString(node.kind)) + " with " +
                                std::to_string(have) + " operands");
        }
    }

    /// How an error names an operand: its program name, else what it is.
    std::string operandName(const Node& node, size_t i) const {
        const Node& op = g_[node.operands[i]];
        if (!op.name.empty()) return op.name;
        if (op.kind == OpKind::Tokens || op.kind == OpKind::Indices || op.kind == OpKind::Length) {
            return std::string(toString(op.kind));
        }
        return node.operands.size() == 1 ? "value" : "operand " + std::to_string(i + 1);
    }

    /// Under a causal mask a query never sees later keys.
    bool visible(size_t q, size_t k) const { return !g_.causal || k <= q; }

    void evaluate(NodeId id) {
        const Node& node = g_[id];
        if (node.isSelector()) {
            sels_[idx(id)] = evaluateSelector(node);
            return;
        }
        std::vector<Value> out = evaluateSop(node);
        checkOneType(node, out);
        sops_[idx(id)] = std::move(out);
    }

    Selection evaluateSelector(const Node& node) {
        Selection s;
        s.n = n_;
        s.bits.assign(n_ * n_, 0);
        switch (node.kind) {
            case OpKind::Select: {
                expectOperands(node, 2);
                const auto& keys = sopOperand(node, 0);
                const auto& queries = sopOperand(node, 1);
                for (size_t q = 0; q < n_; ++q) {
                    for (size_t k = 0; k < n_; ++k) {
                        if (visible(q, k)) s.bits[q * n_ + k] = selects(node, keys, queries, q, k);
                    }
                }
                break;
            }
            case OpKind::SelectAnd:
            case OpKind::SelectOr: {
                expectOperands(node, 2);
                const Selection& a = selectorOperand(node, 0);
                const Selection& b = selectorOperand(node, 1);
                bool isAnd = node.kind == OpKind::SelectAnd;
                for (size_t i = 0; i < s.bits.size(); ++i) {
                    s.bits[i] = isAnd ? (a.bits[i] & b.bits[i]) : (a.bits[i] | b.bits[i]);
                }
                break;
            }
            case OpKind::SelectNot: {
                expectOperands(node, 1);
                const Selection& a = selectorOperand(node, 0);
                for (size_t q = 0; q < n_; ++q) {
                    for (size_t k = 0; k < n_; ++k) {
                        // The mask applies to the complement too: "not" never unveils the future.
                        s.bits[q * n_ + k] = visible(q, k) && !a.at(q, k);
                    }
                }
                break;
            }
            default:
                throw InternalError("interpret: not a selector kind");
        }
        return s;
    }

    uint8_t selects(const Node& node, const std::vector<Value>& keys,
                    const std::vector<Value>& queries, size_t q, size_t k) const {
        try {
            return compare(node.cmp, keys[k], queries[q]) ? 1 : 0;
        } catch (const std::domain_error& e) {
            throw UserError(node.loc, std::string(e.what()) + " at query " + std::to_string(q) +
                                          ", key " + std::to_string(k) +
                                          " (key = " + quoted(keys[k]) +
                                          ", query = " + quoted(queries[q]) + ")");
        }
    }

    std::vector<Value> evaluateSop(const Node& node) {
        std::vector<Value> out;
        out.reserve(n_);
        switch (node.kind) {
            case OpKind::Tokens:
                out.assign(input_.begin(), input_.end());
                break;
            case OpKind::Indices:
                for (size_t i = 0; i < n_; ++i) out.emplace_back(static_cast<int64_t>(i));
                break;
            case OpKind::Length:
                for (size_t i = 0; i < n_; ++i) {
                    out.emplace_back(static_cast<int64_t>(g_.causal ? i + 1 : n_));
                }
                break;
            case OpKind::Constant:
                out.assign(n_, node.constant);
                break;
            case OpKind::Map:
                expectOperands(node, 1);
                applyFn(node, out);
                break;
            case OpKind::SequenceMap:
                expectOperands(node, 1, /*atLeast=*/true);
                applyFn(node, out);
                break;
            case OpKind::Aggregate: {
                expectOperands(node, 2);
                const Selection& s = selectorOperand(node, 0);
                const auto& values = sopOperand(node, 1);
                std::vector<size_t> chosen;
                for (size_t q = 0; q < n_; ++q) {
                    chosen.clear();
                    for (size_t k = 0; k < n_; ++k) {
                        if (s.at(q, k)) chosen.push_back(k);
                    }
                    out.push_back(chosen.empty() ? node.constant : reduce(node, values, chosen, q));
                }
                break;
            }
            case OpKind::SelectorWidth:
            case OpKind::WidthInverse: {
                expectOperands(node, 1);
                const Selection& s = selectorOperand(node, 0);
                for (size_t q = 0; q < n_; ++q) {
                    int64_t width = 0;
                    for (size_t k = 0; k < n_; ++k) width += s.at(q, k) ? 1 : 0;
                    // WidthInverse (made by split_width) is what a head reads: 1 / (w + 1).
                    if (node.kind == OpKind::WidthInverse) {
                        out.emplace_back(1.0 / static_cast<double>(width + 1));
                    } else {
                        out.emplace_back(width);
                    }
                }
                break;
            }
            default:
                throw InternalError("interpret: not an s-op kind");
        }
        return out;
    }

    void applyFn(const Node& node, std::vector<Value>& out) const {
        if (!node.fn) throw InternalError("interpret: map without a function");
        size_t arity = node.operands.size();
        std::vector<const std::vector<Value>*> args;
        for (size_t i = 0; i < arity; ++i) args.push_back(&sopOperand(node, i));
        std::vector<Value> atoms(arity);
        for (size_t q = 0; q < n_; ++q) {
            for (size_t i = 0; i < arity; ++i) atoms[i] = (*args[i])[q];
            try {
                out.push_back(node.fn(std::span<const Value>(atoms)));
            } catch (const std::domain_error& e) {
                std::string operands;
                for (size_t i = 0; i < arity; ++i) {
                    if (i > 0) operands += ", ";
                    operands += operandName(node, i) + " = " + quoted(atoms[i]);
                }
                throw UserError(node.loc, std::string(e.what()) + " at position " +
                                              std::to_string(q) + " (" + operands + ")");
            }
        }
    }

    /// Combines the values at the selected keys `chosen` (never empty) for query `q`.
    Value reduce(const Node& node, const std::vector<Value>& values,
                 const std::vector<size_t>& chosen, size_t q) const {
        switch (node.reduction) {
            case Reduction::Mean:
                return mean(node, values, chosen, q);
            case Reduction::Sum:
                return sum(node, values, chosen, q, "sum");
            case Reduction::Latest:
                return values[chosen.back()];
            case Reduction::Earliest:
                return values[chosen.front()];
            case Reduction::Max:
            case Reduction::Min: {
                // Like Python's max/min: the first extreme value wins a tie (1 before 1.0).
                bool isMax = node.reduction == Reduction::Max;
                const Value* best = &values[chosen.front()];
                for (size_t i = 1; i < chosen.size(); ++i) {
                    const Value& v = values[chosen[i]];
                    try {
                        if ((isMax ? pyGt(v, *best) : pyLt(v, *best)).asBool()) best = &v;
                    } catch (const std::domain_error& e) {
                        throw UserError(node.loc, std::string(e.what()) + " in aggregate " +
                                                      (isMax ? "max" : "min") + " at position " +
                                                      std::to_string(q));
                    }
                }
                return *best;
            }
        }
        throw InternalError("interpret: unknown reduction");
    }

    /// RASP's mean: one selected value is passed through with its type; several numbers
    /// average to a float (the REPL computes sum * 1.0 / count, so even [2, 2] gives 2.0);
    /// several non-numbers are accepted only when all equal, as a move of that value.
    Value mean(const Node& node, const std::vector<Value>& values,
               const std::vector<size_t>& chosen, size_t q) const {
        if (chosen.size() == 1) return values[chosen.front()];
        bool numbers = true;
        bool allEqual = true;
        const Value& first = values[chosen.front()];
        for (size_t k : chosen) {
            numbers = numbers && values[k].isNumber();
            allEqual = allEqual && values[k] == first;
        }
        if (numbers) {
            Value total = sum(node, values, chosen, q, "mean");
            return Value(total.toDouble() / static_cast<double>(chosen.size()));
        }
        if (allEqual) return first;

        std::string shown;
        const size_t kShow = 4;
        for (size_t i = 0; i < chosen.size() && i < kShow; ++i) {
            if (i > 0) shown += ", ";
            shown += quoted(values[chosen[i]]);
        }
        if (chosen.size() > kShow) shown += ", ...";
        throw UserError(node.loc, "aggregate averages " + std::to_string(chosen.size()) +
                                      " different non-numeric values at position " +
                                      std::to_string(q) + " (" + shown + "); a mean needs numbers");
    }

    /// Python's sum(): starts from the int 0 and adds left to right, so bools sum to an int
    /// and one float makes the rest float.
    Value sum(const Node& node, const std::vector<Value>& values, const std::vector<size_t>& chosen,
              size_t q, const char* what) const {
        Value total(int64_t{0});
        for (size_t k : chosen) {
            if (!values[k].isNumber()) {
                throw UserError(node.loc, std::string("aggregate ") + what +
                                              " of a non-number at position " + std::to_string(q) +
                                              " (" + quoted(values[k]) + ")");
            }
            try {
                total = pyAdd(total, values[k]);
            } catch (const std::domain_error& e) {
                throw UserError(node.loc, std::string(e.what()) + " in aggregate " + what +
                                              " at position " + std::to_string(q));
            }
        }
        return total;
    }

    /// The REPL rejects a sequence that mixes strings with numbers or bools (ints, floats and
    /// bools mix freely); so does the interpreter, at the node that produced it.
    void checkOneType(const Node& node, const std::vector<Value>& out) const {
        for (size_t i = 1; i < out.size(); ++i) {
            if (out[i].isString() != out[0].isString()) {
                throw UserError(node.loc, "s-op mixes strings with other values: " +
                                              quoted(out[0]) + " at position 0, " + quoted(out[i]) +
                                              " at position " + std::to_string(i));
            }
        }
    }

    const Graph& g_;
    std::span<const Value> input_;
    size_t n_;
    std::vector<std::vector<Value>> sops_;
    std::vector<Selection> sels_;
};

}  // namespace

std::vector<std::vector<Value>> interpret(const Graph& g, std::span<const Value> input,
                                          std::span<const NodeId> wanted) {
    Evaluator ev(g, input);
    ev.evaluateFor(wanted);
    std::vector<std::vector<Value>> result;
    result.reserve(wanted.size());
    for (NodeId id : wanted) {
        if (g[id].isSelector()) {
            throw InternalError("interpret: node " + std::to_string(id) +
                                " is a selector, not an s-op");
        }
        result.push_back(ev.sop(id));
    }
    return result;
}

std::vector<std::vector<bool>> interpretSelector(const Graph& g, std::span<const Value> input,
                                                 NodeId selector) {
    Evaluator ev(g, input);
    ev.evaluateFor(std::span<const NodeId>(&selector, 1));
    if (!g[selector].isSelector()) {
        throw InternalError("interpretSelector: node " + std::to_string(selector) +
                            " is not a selector");
    }
    const Selection& s = ev.selection(selector);
    std::vector<std::vector<bool>> rows(s.n, std::vector<bool>(s.n));
    for (size_t q = 0; q < s.n; ++q) {
        for (size_t k = 0; k < s.n; ++k) rows[q][k] = s.at(q, k);
    }
    return rows;
}

}  // namespace raspc
