// Lowering: value encodings, earliest-layer scheduling, residual slots and the weights of every
// head and MLP block. The scheme is DESIGN.md's "Compiling: the scheme"; the notes here say how
// each piece stays exact.
#include "backend/lower.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "passes/pipeline.h"
#include "passes/value_sets.h"
#include "support/debug.h"

namespace raspc {

namespace {

// Residual dimensions every model has. `kOne` is 1 at real positions and 0 at BOS, so every
// constant term vanishes at BOS; `kBos` is 1 at BOS only.
constexpr int kOne = 0;
constexpr int kBos = 1;

// exp(-kHardGap) underflows to zero in float32 (its smallest subnormal is e^-103.28), so keys
// that score kHardGap below the best get no weight at all.
const double kHardGap = -std::log(static_cast<double>(std::numeric_limits<float>::denorm_min())) + 4.0;

// How far below zero an MLP unit's pre-activation is pushed at BOS, so it stays silent there.
constexpr double kBosSilence = 1.0;

// Numbers computed from numerical s-ops with at most this many values are kept categorical.
constexpr size_t kSmallCategorical = 8;

// Fusing maps stops at this many combined operand values, or this many maps deep.
constexpr size_t kMaxFusedRows = 4096;
constexpr int kMaxFuseDepth = 4;

// Largest number of operand combinations an MLP lookup table may have.
constexpr size_t kMaxTableRows = 20000;

struct Term {
    int dim;
    double coeff;
};

/// Values closer than this (relative) are the same number up to double rounding noise, as
/// 0.6 - 0.4 and 0.2 are.
constexpr double kNoise = 1e-9;
// A threshold a model must see across needs its two sides this far apart (relative to the
// largest magnitude involved): float32 keeps about 7 digits, and sums lose a few more.
constexpr double kFloat32Resolution = 1e-5;

bool nearlyEqual(double a, double b) {
    return std::abs(a - b) <= kNoise * std::max({1.0, std::abs(a), std::abs(b)});
}

/// A linear read of the residual stream: sum of coeff * x[dim].
using Form = std::vector<Term>;

// Zero terms are left out: a read with weight 0 is no read, and would keep a dimension alive.
Form scaled(const Form& f, double a) {
    Form out;
    for (const Term& t : f) {
        if (t.coeff * a != 0.0) out.push_back({t.dim, t.coeff * a});
    }
    return out;
}

void addTo(Form& acc, const Form& f, double a = 1.0) {
    for (const Term& t : f) {
        if (t.coeff * a != 0.0) acc.push_back({t.dim, t.coeff * a});
    }
}

/// Where an s-op lives and how to read it.
struct Repr {
    bool numerical = false;
    std::vector<Value> values;  // categorical: the value each column indicates
    std::vector<Form> cols;     // categorical: one indicator per value; numerical: cols[0]
    ValueSet set;               // numerical: the values it may take
    int ready = 0;              // sublayer that makes it readable: 0 embedding, 2l+1 / 2l+2
    bool isConstant = false;
    bool materialized = false;  // has a slot of its own, written by a head or an MLP

    Form numberForm() const {
        if (numerical) return cols[0];
        Form f;
        for (size_t i = 0; i < values.size(); ++i) addTo(f, cols[i], values[i].toDouble());
        return f;
    }
    bool allNumbers() const {
        if (numerical) return true;
        return std::all_of(values.begin(), values.end(), [](const Value& v) { return v.isNumber(); });
    }
};

/// A chain of maps over leaf s-ops: either leaf number `leaf`, or `node`'s function of `kids`.
struct FusedExpr {
    int leaf = -1;
    const Node* node = nullptr;
    std::vector<FusedExpr> kids;
};

Value evaluate(const FusedExpr& e, std::span<const Value> leaves) {
    if (e.leaf >= 0) return leaves[static_cast<size_t>(e.leaf)];
    std::vector<Value> args;
    for (const FusedExpr& k : e.kids) args.push_back(evaluate(k, leaves));
    return e.node->fn(args);
}

struct Entry {
    int row;
    int col;
    double value;
};

struct HeadPlan {
    int layer = 0;
    std::string label;
    int dk = 0;
    int dv = 0;
    std::vector<Entry> q, k, v, o;
};

/// One hidden unit: relu(in) is added to the residual through `out`.
struct Unit {
    Form in;
    Form out;  // Term.dim is the residual dimension written, Term.coeff the weight
    std::optional<double> atBos;  // what `in` reads at BOS; default: silent there
};

struct BlockPlan {
    int layer = 0;
    std::string label;
    std::vector<Unit> units;
};

std::string describe(const Node& n) {
    std::ostringstream out;
    out << (n.name.empty() ? std::string(toString(n.kind)) : n.name);
    if (n.loc.line > 0) out << " (" << n.loc.file << ":" << n.loc.line << ")";
    return out.str();
}

/// The atom type an output shows: the most general among its values (a default of 0 among
/// strings does not make the strings ints).
std::string valueTypeOf(const std::vector<Value>& values) {
    auto any = [&](auto pred) { return std::any_of(values.begin(), values.end(), pred); };
    if (any([](const Value& v) { return v.isString(); })) return "str";
    if (any([](const Value& v) { return v.isFloat(); })) return "float";
    if (!values.empty() && !any([](const Value& v) { return !v.isBool(); })) return "bool";
    return "int";
}

int headLayer(int ready) { return (ready + 1) / 2; }
int mlpLayer(int ready) { return ready / 2; }

/// Calls fn on every combination of one value per domain.
void forEachCombo(const std::vector<std::vector<Value>>& domains,
                  const std::function<void(const std::vector<Value>&)>& fn) {
    std::vector<size_t> idx(domains.size(), 0);
    std::vector<Value> args(domains.size());
    for (const auto& d : domains) {
        if (d.empty()) return;
    }
    while (true) {
        for (size_t i = 0; i < domains.size(); ++i) args[i] = domains[i][idx[i]];
        fn(args);
        size_t i = 0;
        for (; i < domains.size(); ++i) {
            if (++idx[i] < domains[i].size()) break;
            idx[i] = 0;
        }
        if (i == domains.size()) return;
    }
}

/// The coefficients (a_0..a_k-1, b) if f(x) = sum a_i x_i + b on every combination.
std::optional<std::vector<double>> affineFit(const MapFn& fn,
                                             const std::vector<std::vector<Value>>& domains) {
    auto call = [&](const std::vector<Value>& args) -> std::optional<double> {
        try {
            Value r = fn(args);
            if (!r.isNumber()) return std::nullopt;
            return r.toDouble();
        } catch (const std::domain_error&) {
            return std::nullopt;
        }
    };
    std::vector<Value> base;
    for (const auto& d : domains) {
        if (d.empty()) return std::nullopt;
        base.push_back(d.front());
    }
    auto b0 = call(base);
    if (!b0) return std::nullopt;
    std::vector<double> coeffs;
    for (size_t i = 0; i < domains.size(); ++i) {
        if (domains[i].size() < 2) {
            coeffs.push_back(0.0);
            continue;
        }
        std::vector<Value> probe = base;
        probe[i] = domains[i].back();
        auto y = call(probe);
        if (!y) return std::nullopt;
        coeffs.push_back((*y - *b0) / (domains[i].back().toDouble() - base[i].toDouble()));
    }
    double offset = *b0;
    for (size_t i = 0; i < domains.size(); ++i) offset -= coeffs[i] * base[i].toDouble();

    bool affine = true;
    forEachCombo(domains, [&](const std::vector<Value>& args) {
        if (!affine) return;
        auto y = call(args);
        if (!y) return;  // values fn rejects never occur on accepted inputs
        double predicted = offset;
        for (size_t i = 0; i < args.size(); ++i) predicted += coeffs[i] * args[i].toDouble();
        if (std::abs(predicted - *y) > 1e-9 * std::max(1.0, std::abs(*y))) affine = false;
    });
    if (!affine) return std::nullopt;
    coeffs.push_back(offset);
    return coeffs;
}

class Lowering {
public:
    Lowering(const Graph& g, const CompileOptions& options)
        : g_(g), options_(options),
          sets_(inferValueSets(g, Domain{options.vocab, options.maxLen, g.causal})),
          reprs_(g.nodes.size()), selectOperand_(g.nodes.size(), false) {
        for (const Node& n : g.nodes) {
            if (n.kind != OpKind::Select) continue;
            for (NodeId op : n.operands) selectOperand_[static_cast<size_t>(op)] = true;
        }
    }

    rt::Model run(CompileReport* report);

private:
    std::vector<int> reuseSlots(int layers);
    void reportPlacements(CompileReport& report, int layers) const;
    int newDim(double atBos = 0.0) {
        bos_.push_back(atBos);
        return static_cast<int>(bos_.size() - 1);
    }

    double atBos(const Form& f) const {
        double s = 0.0;
        for (const Term& t : f) s += t.coeff * bos_[static_cast<size_t>(t.dim)];
        return s;
    }

    /// Writes `f` as column `col` of a read matrix, with the BOS row chosen so that the column
    /// reads exactly `bosValue` at the BOS position. This keeps BOS's own residual, which
    /// attention writes defaults into, from leaking into any read.
    void emitColumn(std::vector<Entry>& m, int col, const Form& f, double bosValue) const {
        for (const Term& t : f) m.push_back({t.dim, col, t.coeff});
        m.push_back({kBos, col, bosValue - atBos(f)});
    }

    const Repr& repr(NodeId id);
    const Repr& categorical(NodeId id);
    Repr lowerNode(NodeId id);
    Repr lowerMap(NodeId id);

    enum class MapRoute { AffineFold, RelabelFold, Mlp };
    struct MapPlan {
        MapRoute route = MapRoute::Mlp;
        bool numericalOut = false;
        std::vector<double> affine;  // AffineFold: a coefficient per operand, then the offset
    };
    /// How a map compiles, decided from its operands' representations alone.
    MapPlan planMap(const Node& n, const std::vector<const Repr*>& ops,
                    const ValueSet& outSet) const;

    /// A map rewritten to read the operands of the maps it reads (see fuse()).
    struct Fused {
        Node node;
        std::vector<NodeId> leaves;
    };
    std::optional<Fused> fuse(const Node& n);

    /// What `id` will look like once lowered (encoding, values, readiness), without lowering
    /// maps: fusion decides from these whether a map needs a slot of its own at all.
    const Repr& shadow(NodeId id);

    /// True when some select compares `n` (by value: the node itself, not a fused copy).
    bool comparedBySelect(const Node& n) const {
        for (size_t id = 0; id < g_.nodes.size(); ++id) {
            if (&g_.nodes[id] != &n) continue;
            return selectOperand_[id];
        }
        return false;
    }
    Repr lowerAggregate(NodeId id);
    Repr lowerSum(NodeId id);
    Repr lowerWidthInverse(NodeId id);
    Repr mapMlp(const Node& n, const std::vector<const Repr*>& ops, int layer, bool numericalOut,
                const ValueSet& outSet);
    Repr tupleOf(const std::vector<NodeId>& members, const Node& site);

    struct Block {
        std::vector<Form> q;  // per key column, the query's score row
        std::vector<Form> k;  // per key column, the key's indicator
        int ready = 0;
    };
    std::vector<Block> selectorBlocks(NodeId selector);
    /// A tie-break added to every selected key's score: `form` reads values in [0, range]
    /// whose distinct values are at least 1 apart; the selected key with the largest wins.
    struct TieBreak {
        Form form;
        double range = 0.0;
    };
    HeadPlan buildHead(const std::vector<Block>& blocks, bool bosLikeSelected, int layer,
                       const std::string& label, const std::optional<TieBreak>& tie = {});

    [[noreturn]] void fail(const Node& n, const std::string& message) const {
        throw UserError(n.loc, message);
    }

    const Graph& g_;
    const CompileOptions& options_;
    std::vector<ValueSet> sets_;
    std::vector<std::optional<Repr>> reprs_;
    std::vector<bool> selectOperand_;  // per node: a select reads it as keys or queries
    std::map<NodeId, Repr> shadows_;   // planned maps not (yet) lowered; no columns
    std::map<NodeId, Repr> categoricalCopies_;
    std::map<std::vector<NodeId>, Repr> tuples_;
    std::vector<double> bos_;
    std::vector<int> tokenDims_, indexDims_;
    std::vector<HeadPlan> heads_;
    std::vector<BlockPlan> blocks_;
};

const Repr& Lowering::repr(NodeId id) {
    auto& slot = reprs_[static_cast<size_t>(id)];
    if (!slot) slot = lowerNode(id);
    return *slot;
}

Repr Lowering::lowerNode(NodeId id) {
    const Node& n = g_[id];
    Repr r;
    switch (n.kind) {
    case OpKind::Tokens:
        for (size_t i = 0; i < options_.vocab.size(); ++i) {
            r.values.push_back(options_.vocab[i]);
            r.cols.push_back({{tokenDims_[i], 1.0}});
        }
        return r;
    case OpKind::Indices:
        for (int i = 0; i < options_.maxLen; ++i) {
            r.values.push_back(Value(i));
            r.cols.push_back({{indexDims_[static_cast<size_t>(i)], 1.0}});
        }
        return r;
    case OpKind::Constant:
        r.values.push_back(n.constant);
        r.cols.push_back({{kOne, 1.0}});
        r.isConstant = true;
        return r;
    case OpKind::WidthInverse:
        return lowerWidthInverse(id);
    case OpKind::Length:
    case OpKind::SelectorWidth:
        throw InternalError("lowering needs split_width to have run");
    case OpKind::Map:
    case OpKind::SequenceMap:
        return lowerMap(id);
    case OpKind::Aggregate:
        return lowerAggregate(id);
    default:
        throw InternalError("lowerNode called on a selector");
    }
}

/// A categorical view of an s-op: numerical s-ops get a discretising MLP into a one-hot slot.
const Repr& Lowering::categorical(NodeId id) {
    const Repr& r = repr(id);
    if (!r.numerical) return r;
    auto it = categoricalCopies_.find(id);
    if (it != categoricalCopies_.end()) return it->second;
    const Node& n = g_[id];
    if (!r.set.bounded) {
        fail(n, "'" + describe(n) +
                    "' is numerical with too many possible values to compare by value; "
                    "annotate it categorical(...) or simplify it");
    }
    Node identity = n;
    identity.kind = OpKind::Map;
    identity.fn = [](std::span<const Value> args) { return args[0]; };
    Repr copy = mapMlp(identity, {&r}, mlpLayer(r.ready), false, r.set);
    return categoricalCopies_.emplace(id, std::move(copy)).first->second;
}

Lowering::MapPlan Lowering::planMap(const Node& n, const std::vector<const Repr*>& ops,
                                    const ValueSet& outSet) const {
    MapPlan plan;
    bool anyNumerical = std::any_of(ops.begin(), ops.end(), [](const Repr* r) { return r->numerical; });

    // A linear function of numbers needs no layer: whoever reads it reads the sum directly.
    bool numbersIn = std::all_of(ops.begin(), ops.end(), [](const Repr* r) {
        return r->allNumbers() && (!r->numerical || r->set.bounded);
    });
    if (options_.optLevel > 0 && anyNumerical && numbersIn && n.encoding != Encoding::Categorical) {
        std::vector<std::vector<Value>> domains;
        for (const Repr* r : ops) domains.push_back(r->numerical ? r->set.values : r->values);
        if (auto fit = affineFit(n.fn, domains)) {
            plan.route = MapRoute::AffineFold;
            plan.numericalOut = true;
            plan.affine = std::move(*fit);
            return plan;
        }
    }

    // Numbers computed from a numerical s-op stay numerical unless few (a comparison's
    // booleans, say): a small one-hot is cheaper for whatever reads it next.
    // A select compares one-hots, so an s-op it reads is better categorical from the start.
    plan.numericalOut = n.encoding == Encoding::Numerical ||
                        (n.encoding == Encoding::Inferred && anyNumerical &&
                         (!outSet.bounded ||
                          (outSet.allNumbers() && outSet.values.size() > kSmallCategorical &&
                           !comparedBySelect(n))));
    if (!plan.numericalOut && !outSet.bounded) {
        fail(n, "'" + describe(n) + "' has too many possible values for a categorical encoding; "
                "annotate it numerical(...)");
    }

    // A function of one categorical s-op (constants aside) is a relabelling of its one-hot
    // columns: also free.
    size_t varying = 0;
    bool varyingNumerical = false;
    for (const Repr* r : ops) {
        if (r->isConstant) continue;
        ++varying;
        varyingNumerical = varyingNumerical || r->numerical;
    }
    plan.route = options_.optLevel > 0 && varying <= 1 && !varyingNumerical ? MapRoute::RelabelFold
                                                                           : MapRoute::Mlp;
    return plan;
}

/// Inlines operands that are maps needing an MLP of their own, so that one MLP computes the
/// whole chain (and a map of a selector_width joins the MLP that decodes the width). Only when
/// it makes the map ready in an earlier layer and its table stays small.
std::optional<Lowering::Fused> Lowering::fuse(const Node& n) {
    using Expr = FusedExpr;
    Fused out;
    int directReady = 0;
    std::function<Expr(NodeId, int)> build = [&](NodeId id, int depth) -> Expr {
        const Node& m = g_[id];
        bool isMap = m.kind == OpKind::Map || m.kind == OpKind::SequenceMap;
        if (isMap && depth < kMaxFuseDepth) {
            std::vector<const Repr*> ops;
            for (NodeId op : m.operands) ops.push_back(&shadow(op));
            if (planMap(m, ops, sets_[static_cast<size_t>(id)]).route == MapRoute::Mlp) {
                Expr e;
                e.node = &m;
                for (NodeId op : m.operands) e.kids.push_back(build(op, depth + 1));
                return e;
            }
        }
        Expr e;
        auto it = std::find(out.leaves.begin(), out.leaves.end(), id);
        e.leaf = static_cast<int>(it - out.leaves.begin());
        if (it == out.leaves.end()) out.leaves.push_back(id);
        return e;
    };
    Expr root;
    root.node = &n;
    for (NodeId op : n.operands) {
        directReady = std::max(directReady, shadow(op).ready);
        root.kids.push_back(build(op, 0));
    }

    size_t rows = 1;
    int leafReady = 0;
    for (NodeId leaf : out.leaves) {
        const Repr& r = shadow(leaf);
        leafReady = std::max(leafReady, r.ready);
        if (r.isConstant) continue;
        if (r.numerical && !r.set.bounded) return std::nullopt;
        rows *= std::max<size_t>(r.numerical ? r.set.values.size() : r.values.size(), 1);
        if (rows > kMaxFusedRows) return std::nullopt;
    }
    if (mlpLayer(leafReady) >= mlpLayer(directReady)) return std::nullopt;

    out.node = n;
    out.node.kind = out.leaves.size() == 1 ? OpKind::Map : OpKind::SequenceMap;
    out.node.operands = out.leaves;
    out.node.fn = [root](std::span<const Value> args) { return evaluate(root, args); };
    debugLine("fuse", "'" + describe(n) + "' computed from " + std::to_string(out.leaves.size()) +
                          " earlier s-ops in layer " + std::to_string(mlpLayer(leafReady)) +
                          " instead of " + std::to_string(mlpLayer(directReady)));
    return out;
}

const Repr& Lowering::shadow(NodeId id) {
    if (const auto& r = reprs_[static_cast<size_t>(id)]) return *r;
    if (auto it = shadows_.find(id); it != shadows_.end()) return it->second;
    const Node& m = g_[id];
    if (m.kind != OpKind::Map && m.kind != OpKind::SequenceMap) return repr(id);
    std::vector<const Repr*> ops;
    int ready = 0;
    for (NodeId op : m.operands) {
        ops.push_back(&shadow(op));
        ready = std::max(ready, ops.back()->ready);
    }
    const ValueSet& set = sets_[static_cast<size_t>(id)];
    MapPlan plan = planMap(m, ops, set);
    Repr r;
    r.numerical = plan.numericalOut;
    r.set = set;
    if (!r.numerical) r.values = set.values;
    r.ready = plan.route == MapRoute::Mlp ? 2 * mlpLayer(ready) + 2 : ready;
    return shadows_.emplace(id, std::move(r)).first->second;
}

Repr Lowering::lowerMap(NodeId id) {
    const ValueSet& outSet = sets_[static_cast<size_t>(id)];
    std::optional<Fused> fused;
    const Node* n = &g_[id];
    std::vector<const Repr*> ops;
    for (NodeId op : n->operands) ops.push_back(&shadow(op));
    MapPlan plan = planMap(*n, ops, outSet);
    if (plan.route == MapRoute::Mlp && options_.optLevel > 0) {
        fused = fuse(*n);
        if (fused) n = &fused->node;
    }
    // Only now are the operands lowered: a map that fusion read through gets no slot.
    ops.clear();
    for (NodeId op : n->operands) ops.push_back(&repr(op));
    plan = planMap(*n, ops, outSet);
    int ready = 0;
    for (const Repr* r : ops) ready = std::max(ready, r->ready);

    switch (plan.route) {
    case MapRoute::AffineFold: {
        Repr r;
        r.numerical = true;
        r.set = outSet;
        r.ready = ready;
        if (!outSet.bounded) {
            // The range of a linear form follows from its operands' ranges.
            bool known = true, integral = std::abs(plan.affine.back() - std::round(plan.affine.back())) == 0;
            double lo = plan.affine.back(), hi = plan.affine.back();
            for (size_t i = 0; i < ops.size(); ++i) {
                double c = plan.affine[i];
                if (c == 0.0) continue;
                const ValueSet& in = ops[i]->numerical ? ops[i]->set : ValueSet{};
                double a, b;
                bool wholeIn;
                if (ops[i]->numerical) {
                    known = known && in.rangeKnown;
                    a = in.lo;
                    b = in.hi;
                    wholeIn = in.integral;
                } else {
                    a = b = ops[i]->values.front().toDouble();
                    wholeIn = true;
                    for (const Value& v : ops[i]->values) {
                        a = std::min(a, v.toDouble());
                        b = std::max(b, v.toDouble());
                        wholeIn = wholeIn && (v.isInt() || v.isBool());
                    }
                }
                lo += std::min(c * a, c * b);
                hi += std::max(c * a, c * b);
                integral = integral && wholeIn && c == std::round(c);
            }
            r.set.rangeKnown = known;
            r.set.lo = lo;
            r.set.hi = hi;
            r.set.integral = known && integral;
        }
        Form f = {{kOne, plan.affine.back()}};
        for (size_t i = 0; i < ops.size(); ++i) {
            if (plan.affine[i] != 0.0) addTo(f, ops[i]->numberForm(), plan.affine[i]);
        }
        r.cols.push_back(std::move(f));
        return r;
    }
    case MapRoute::RelabelFold: {
        Repr r;
        r.numerical = plan.numericalOut;
        r.ready = ready;
        r.set = outSet;
        std::vector<Value> args;
        const Repr* var = nullptr;
        size_t varIndex = 0;
        for (size_t i = 0; i < ops.size(); ++i) {
            args.push_back(ops[i]->values.front());
            if (!ops[i]->isConstant) {
                var = ops[i];
                varIndex = i;
            }
        }
        size_t count = var ? var->values.size() : 1;
        std::map<Value, size_t, TableLess> column;
        if (!plan.numericalOut) {
            for (const Value& v : outSet.values) {
                column.emplace(v, r.values.size());
                r.values.push_back(v);
                r.cols.emplace_back();
            }
        } else {
            r.cols.emplace_back();
        }
        for (size_t i = 0; i < count; ++i) {
            if (var) args[varIndex] = var->values[i];
            Form in = var ? var->cols[i] : Form{{kOne, 1.0}};
            Value y;
            try {
                y = n->fn(args);
            } catch (const std::domain_error&) {
                continue;
            }
            if (plan.numericalOut) {
                addTo(r.cols[0], in, y.toDouble());
            } else if (auto it = column.find(y); it != column.end()) {
                addTo(r.cols[it->second], in);
            }
        }
        return r;
    }
    case MapRoute::Mlp:
        break;
    }
    return mapMlp(*n, ops, mlpLayer(ready), plan.numericalOut, outSet);
}

/// An MLP computing n.fn of `ops` into a fresh slot. Categorical operands gate one group of
/// units per combination of their values; at most one numerical operand is read through
/// ramp steps placed between neighbouring values where the function changes.
Repr Lowering::mapMlp(const Node& n, const std::vector<const Repr*>& ops, int layer,
                      bool numericalOut, const ValueSet& outSet) {
    std::vector<size_t> cats, nums;
    for (size_t i = 0; i < ops.size(); ++i) {
        if (ops[i]->isConstant) continue;
        (ops[i]->numerical ? nums : cats).push_back(i);
    }
    // Numerical operands are read through one number z = sum of lambda_i x_i, with the lambdas
    // spreading the operands apart so that every combination of their values has its own z
    // (the last operand varies slowest). A function of them is then a function of z alone.
    struct Point {
        double z;
        std::vector<Value> xs;  // one value per numerical operand
    };
    std::vector<Point> points = {{0.0, {}}};
    Form z;
    double span = 0.0, gap = std::numeric_limits<double>::infinity();
    for (size_t k : nums) {
        const ValueSet& set = ops[k]->set;
        if (!set.bounded || set.values.empty()) {
            fail(n, "'" + describe(n) + "' reads a numerical s-op with too many possible "
                    "values to tabulate; round() that s-op first, or lower max_len");
        }
        // Gaps that are only rounding noise do not count: such values are one number.
        double ownGap = std::numeric_limits<double>::infinity();
        for (size_t i = 0; i + 1 < set.values.size(); ++i) {
            double a = set.values[i].toDouble(), b = set.values[i + 1].toDouble();
            if (!nearlyEqual(a, b)) ownGap = std::min(ownGap, b - a);
        }
        double lambda = 1.0;
        if (!points.front().xs.empty() && std::isfinite(ownGap)) lambda = (span + gap) / ownGap;
        if (!std::isfinite(ownGap)) ownGap = gap;
        addTo(z, ops[k]->cols[0], lambda);
        std::vector<Point> next;
        for (const Point& p : points) {
            for (const Value& v : set.values) {
                Point q = p;
                q.z += lambda * v.toDouble();
                q.xs.push_back(v);
                next.push_back(std::move(q));
            }
            if (next.size() > kMaxTableRows) {
                fail(n, "'" + describe(n) + "' needs a lookup table of more than " +
                            std::to_string(kMaxTableRows) + " rows");
            }
        }
        points = std::move(next);
        span = span + lambda * (set.hi - set.lo);
        gap = std::min(gap, lambda * ownGap);
    }
    std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) { return a.z < b.z; });
    double zMax = 0.0;
    for (const Point& p : points) zMax = std::max(zMax, std::abs(p.z));
    const bool numericalIn = !nums.empty();

    Repr out;
    out.materialized = true;
    out.numerical = numericalOut;
    out.ready = 2 * layer + 2;
    out.set = outSet;
    std::map<Value, int, TableLess> dimOf;
    if (numericalOut) {
        int d = newDim();
        out.cols.push_back({{d, 1.0}});
    } else {
        for (const Value& v : outSet.values) {
            int d = newDim();
            dimOf.emplace(v, d);
            out.values.push_back(v);
            out.cols.push_back({{d, 1.0}});
        }
    }
    // Combinations whose result lies outside the inferred set never occur together (value
    // sets are per position: length 2 never meets index 5), so they write nothing.
    auto encode = [&](const std::optional<Value>& y) -> Form {
        if (!y) return {};
        if (numericalOut) return {{out.cols[0][0].dim, y->toDouble()}};
        auto it = dimOf.find(*y);
        if (it == dimOf.end()) return {};
        return {{it->second, 1.0}};
    };

    size_t rows = points.size();
    for (size_t c : cats) rows *= ops[c]->values.size();
    if (rows > kMaxTableRows) {
        fail(n, "'" + describe(n) + "' needs a lookup table of " + std::to_string(rows) +
                    " rows; raspc allows " + std::to_string(kMaxTableRows));
    }

    BlockPlan block;
    block.layer = layer;
    block.label = "map " + describe(n);
    std::vector<Value> args(ops.size());
    for (size_t i = 0; i < ops.size(); ++i) {
        if (ops[i]->isConstant) args[i] = ops[i]->values.front();
    }
    auto call = [&]() -> std::optional<Value> {
        try {
            return n.fn(args);
        } catch (const std::domain_error&) {
            return std::nullopt;
        }
    };

    // The range of z bounds how hard a closed gate must push.
    const double xMax = zMax;

    std::vector<size_t> idx(cats.size(), 0);
    while (true) {
        // gate = sum of the combination's indicators - (k - 1): 1 when it matches, <= 0 if not.
        Form gate = {{kOne, 1.0 - static_cast<double>(cats.size())}};
        if (cats.empty()) gate = {{kOne, 1.0}};
        for (size_t j = 0; j < cats.size(); ++j) {
            args[cats[j]] = ops[cats[j]]->values[idx[j]];
            addTo(gate, ops[cats[j]]->cols[idx[j]]);
        }

        auto callAt = [&](const Point& p) {
            for (size_t k = 0; k < nums.size(); ++k) args[nums[k]] = p.xs[k];
            return call();
        };
        if (!numericalIn) {
            block.units.push_back({gate, encode(call())});
        } else {
            std::optional<Value> prev = callAt(points.front());
            block.units.push_back({gate, encode(prev)});
            for (size_t i = 1; i < points.size(); ++i) {
                std::optional<Value> cur = callAt(points[i]);
                if (!cur) continue;
                if (prev && sameTableEntry(*cur, *prev)) continue;
                // A ramp from 0 to 1 between the previous point and this one, leaving a
                // quarter of the gap on each side for float32 error.
                double lo = points[i - 1].z, hi = points[i].z;
                if (hi - lo < kFloat32Resolution * std::max(1.0, zMax)) {
                    fail(n, "'" + describe(n) + "' gives different results for numerical "
                            "inputs too close together to tell apart in float32 (z = " +
                            toDisplay(Value(lo)) + " and " + toDisplay(Value(hi)) +
                            "); compare with a margin, or round() the input first");
                }
                double a = lo + (hi - lo) / 4, b = hi - (hi - lo) / 4;
                double slope = 1.0 / (b - a);
                double closed = cats.empty() ? 0.0 : slope * (xMax + std::abs(a)) + 2.0;
                Form delta = encode(cur);
                addTo(delta, encode(prev), -1.0);
                for (auto [edge, sign] : {std::pair{a, 1.0}, std::pair{b, -1.0}}) {
                    Form in = scaled(z, slope);
                    in.push_back({kOne, -slope * edge - closed});
                    addTo(in, gate, closed);
                    block.units.push_back({in, scaled(delta, sign)});
                }
                prev = cur;
            }
        }

        size_t j = 0;
        for (; j < cats.size(); ++j) {
            if (++idx[j] < ops[cats[j]]->values.size()) break;
            idx[j] = 0;
        }
        if (j == cats.size()) break;
    }
    blocks_.push_back(std::move(block));
    return out;
}

/// A one-hot over the combinations of several categorical s-ops, for selectors that compare
/// tuples (a disjunction over two keys, say). Computed by one MLP.
Repr Lowering::tupleOf(const std::vector<NodeId>& members, const Node& site) {
    auto it = tuples_.find(members);
    if (it != tuples_.end()) return it->second;
    std::vector<const Repr*> ops;
    int ready = 0;
    size_t rows = 1;
    for (NodeId m : members) {
        ops.push_back(&categorical(m));
        ready = std::max(ready, ops.back()->ready);
        rows *= ops.back()->values.size();
    }
    if (rows > kMaxTableRows) {
        fail(site, "this selector compares " + std::to_string(members.size()) +
                       " s-ops jointly over " + std::to_string(rows) +
                       " combinations; raspc allows " + std::to_string(kMaxTableRows));
    }
    int layer = mlpLayer(ready);
    Repr out;
    out.ready = 2 * layer + 2;
    BlockPlan block;
    block.layer = layer;
    block.label = "tuple for selector (" + site.loc.file + ":" + std::to_string(site.loc.line) + ")";
    std::vector<size_t> idx(ops.size(), 0);
    int combo = 0;
    while (true) {
        Form gate = {{kOne, 1.0 - static_cast<double>(ops.size())}};
        for (size_t j = 0; j < ops.size(); ++j) addTo(gate, ops[j]->cols[idx[j]]);
        int d = newDim();
        out.values.push_back(Value(combo++));
        out.cols.push_back({{d, 1.0}});
        block.units.push_back({gate, {{d, 1.0}}});
        size_t j = 0;
        for (; j < ops.size(); ++j) {
            if (++idx[j] < ops[j]->values.size()) break;
            idx[j] = 0;
        }
        if (j == ops.size()) break;
    }
    blocks_.push_back(std::move(block));
    return tuples_.emplace(members, out).first->second;
}

/// Splits a selector into blocks whose scores add up: a conjunction at the top becomes one
/// block per conjunct; each block compares one key s-op (or tuple) with one query s-op (or
/// tuple) through its predicate matrix. A key is selected when every block scores 1.
std::vector<Lowering::Block> Lowering::selectorBlocks(NodeId selector) {
    std::vector<NodeId> conjuncts;
    std::function<void(NodeId)> split = [&](NodeId s) {
        if (g_[s].kind == OpKind::SelectAnd) {
            split(g_[s].operands[0]);
            split(g_[s].operands[1]);
        } else {
            conjuncts.push_back(s);
        }
    };
    split(selector);

    std::vector<Block> blocks;
    for (NodeId c : conjuncts) {
        std::vector<NodeId> keys, queries;
        std::function<void(NodeId)> collect = [&](NodeId s) {
            const Node& n = g_[s];
            if (n.kind == OpKind::Select) {
                NodeId k = n.operands[0], q = n.operands[1];
                if (g_[k].kind != OpKind::Constant &&
                    std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
                if (g_[q].kind != OpKind::Constant &&
                    std::find(queries.begin(), queries.end(), q) == queries.end()) queries.push_back(q);
                return;
            }
            for (NodeId op : n.operands) collect(op);
        };
        collect(c);

        // Each side is one categorical s-op, a constant, or a tuple of several.
        auto side = [&](const std::vector<NodeId>& members) -> Repr {
            if (members.empty()) {
                Repr r;
                r.values.push_back(Value(0));
                r.cols.push_back({{kOne, 1.0}});
                return r;
            }
            if (members.size() == 1) return categorical(members[0]);
            return tupleOf(members, g_[c]);
        };
        Repr keyRepr = side(keys);
        Repr queryRepr = side(queries);

        // The values of each member for every column of a side.
        auto assignments = [&](const std::vector<NodeId>& members, const Repr& r) {
            std::vector<std::map<NodeId, Value>> out(r.values.size());
            if (members.size() == 1) {
                for (size_t i = 0; i < r.values.size(); ++i) out[i][members[0]] = r.values[i];
                return out;
            }
            std::vector<size_t> idx(members.size(), 0);
            for (size_t row = 0; row < r.values.size(); ++row) {
                for (size_t j = 0; j < members.size(); ++j) {
                    out[row][members[j]] = categorical(members[j]).values[idx[j]];
                }
                for (size_t j = 0; j < members.size(); ++j) {
                    if (++idx[j] < categorical(members[j]).values.size()) break;
                    idx[j] = 0;
                }
            }
            return out;
        };
        auto keyVals = assignments(keys, keyRepr);
        auto queryVals = assignments(queries, queryRepr);

        std::function<bool(NodeId, const std::map<NodeId, Value>&, const std::map<NodeId, Value>&)>
            holds = [&](NodeId s, const auto& kv, const auto& qv) -> bool {
            const Node& n = g_[s];
            switch (n.kind) {
            case OpKind::Select: {
                NodeId k = n.operands[0], q = n.operands[1];
                const Value& kval = g_[k].kind == OpKind::Constant ? g_[k].constant : kv.at(k);
                const Value& qval = g_[q].kind == OpKind::Constant ? g_[q].constant : qv.at(q);
                try {
                    return compare(n.cmp, kval, qval);
                } catch (const std::domain_error& e) {
                    throw UserError(n.loc, std::string("select cannot compare ") +
                                               toDisplay(kval) + " with " + toDisplay(qval) +
                                               ": " + e.what());
                }
            }
            case OpKind::SelectAnd: return holds(n.operands[0], kv, qv) && holds(n.operands[1], kv, qv);
            case OpKind::SelectOr: return holds(n.operands[0], kv, qv) || holds(n.operands[1], kv, qv);
            case OpKind::SelectNot: return !holds(n.operands[0], kv, qv);
            default: throw InternalError("selector operand is not a selector");
            }
        };

        Block b;
        b.ready = std::max(keyRepr.ready, queryRepr.ready);
        for (size_t kc = 0; kc < keyRepr.values.size(); ++kc) {
            Form q;
            for (size_t qc = 0; qc < queryRepr.values.size(); ++qc) {
                if (holds(c, keyVals[kc], queryVals[qc])) addTo(q, queryRepr.cols[qc]);
            }
            if (q.empty()) continue;  // a key value no query selects needs no dimension
            b.q.push_back(std::move(q));
            b.k.push_back(keyRepr.cols[kc]);
        }
        blocks.push_back(std::move(b));
    }
    return blocks;
}

/// A head whose real keys score `scale` per satisfied block. The BOS key scores half a block
/// less than a full match, so it wins exactly when nothing is selected (or the same as a full
/// match, for selector_width). The BOS query attends to BOS alone.
HeadPlan Lowering::buildHead(const std::vector<Block>& blocks, bool bosLikeSelected, int layer,
                             const std::string& label, const std::optional<TieBreak>& tie) {
    // Selected keys, BOS and unselected keys score at least half a block apart; a tie-break
    // spreads selected keys over kHardGap * range, so a block must outweigh that too.
    const double range = tie ? tie->range : 0.0;
    const double scale = 2.0 * kHardGap * (range + 1.0);
    HeadPlan h;
    h.layer = layer;
    h.label = label;
    int col = 0;
    for (const Block& b : blocks) {
        for (size_t j = 0; j < b.q.size(); ++j, ++col) {
            emitColumn(h.q, col, scaled(b.q[j], scale), 0.0);
            emitColumn(h.k, col, b.k[j], 0.0);
        }
    }
    double full = static_cast<double>(blocks.size());
    double bosScore = bosLikeSelected ? full : full - 0.5;
    emitColumn(h.q, col, {{kOne, scale * bosScore}}, scale);
    emitColumn(h.k, col, {{kBos, 1.0}}, 1.0);
    ++col;
    if (tie) {
        emitColumn(h.q, col, {{kOne, kHardGap}}, 0.0);
        emitColumn(h.k, col, tie->form, 0.0);
        ++col;
    }
    h.dk = col;
    return h;
}

Repr Lowering::lowerAggregate(NodeId id) {
    const Node& n = g_[id];
    if (n.reduction == Reduction::Sum) return lowerSum(id);
    const Repr& vals = repr(n.operands[1]);
    const ValueSet& outSet = sets_[static_cast<size_t>(id)];

    // Every reduction but the mean picks one key (or keys holding equal values): a tie-break
    // on the index or on the value's rank makes that key the single best.
    std::optional<TieBreak> tie;
    int tieReady = 0;
    int positions = options_.maxLen;
    switch (n.reduction) {
    case Reduction::Latest:
    case Reduction::Earliest: {
        bool latest = n.reduction == Reduction::Latest;
        TieBreak t;
        t.range = positions - 1;
        for (int i = 0; i < positions; ++i) {
            double rank = latest ? i : positions - 1 - i;
            if (rank != 0.0) t.form.push_back({indexDims_[static_cast<size_t>(i)], rank});
        }
        tie = std::move(t);
        break;
    }
    case Reduction::Max:
    case Reduction::Min: {
        const Repr& ranked = categorical(n.operands[1]);
        tieReady = ranked.ready;
        bool max = n.reduction == Reduction::Max;
        std::vector<size_t> order(ranked.values.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            return ranked.values[a] < ranked.values[b];
        });
        TieBreak t;
        t.range = std::max<double>(0.0, static_cast<double>(order.size()) - 1.0);
        for (size_t r = 0; r < order.size(); ++r) {
            double rank = max ? static_cast<double>(r) : t.range - static_cast<double>(r);
            addTo(t.form, ranked.cols[order[r]], rank);
        }
        tie = std::move(t);
        break;
    }
    default:
        break;
    }

    // A mean that may average several keys must be numerical; a move may stay categorical.
    std::function<bool(NodeId)> atMostOne = [&](NodeId s) {
        const Node& sn = g_[s];
        if (sn.kind == OpKind::Select) {
            return sn.cmp == Cmp::Eq && g_[sn.operands[0]].kind == OpKind::Indices;
        }
        if (sn.kind == OpKind::SelectAnd) return atMostOne(sn.operands[0]) || atMostOne(sn.operands[1]);
        return false;
    };
    bool picksOne = tie.has_value() || atMostOne(n.operands[0]);
    const bool numerical = n.encoding == Encoding::Numerical ||
                           (n.encoding == Encoding::Inferred && vals.allNumbers() &&
                            n.constant.isNumber() && (vals.numerical || !picksOne));
    // A categorical move of a numerical s-op moves its one-hot view instead.
    const Repr& moved = !numerical && vals.numerical ? categorical(n.operands[1]) : vals;
    if (numerical && !(vals.allNumbers() && n.constant.isNumber())) {
        fail(n, "'" + describe(n) + "' is numerical but its values or default are not numbers");
    }
    if (!numerical && !outSet.bounded) {
        fail(n, "'" + describe(n) + "' has too many possible values for a categorical encoding");
    }
    if (!numerical && outSet.averagesDistinct) {
        fail(n, "this aggregate can select several keys holding different values, and "
                "averaging them has no exact categorical result; make the selector pick one key "
                "(e.g. add `and select(indices, indices, ==)`-style conditions), use a reduction "
                "such as \"latest\" or \"max\", or aggregate numbers");
    }

    std::vector<Block> blocks = selectorBlocks(n.operands[0]);
    int ready = std::max(moved.ready, tieReady);
    for (const Block& b : blocks) ready = std::max(ready, b.ready);
    int layer = headLayer(ready);
    HeadPlan h = buildHead(blocks, false, layer, "aggregate " + describe(n), tie);

    Repr out;
    out.materialized = true;
    out.numerical = numerical;
    out.ready = 2 * layer + 1;
    out.set = outSet;
    if (numerical) {
        int d = newDim(n.constant.toDouble());
        emitColumn(h.v, 0, vals.numberForm(), n.constant.toDouble());
        h.o.push_back({0, d, 1.0});
        h.dv = 1;
        out.cols.push_back({{d, 1.0}});
    } else {
        int col = 0;
        for (const Value& v : outSet.values) {
            bool isDefault = sameTableEntry(v, n.constant);
            int d = newDim(isDefault ? 1.0 : 0.0);
            Form f;
            for (size_t i = 0; i < moved.values.size(); ++i) {
                if (sameTableEntry(moved.values[i], v)) addTo(f, moved.cols[i]);
            }
            emitColumn(h.v, col, f, isDefault ? 1.0 : 0.0);
            h.o.push_back({col, d, 1.0});
            out.values.push_back(v);
            out.cols.push_back({{d, 1.0}});
            ++col;
        }
        h.dv = col;
    }
    heads_.push_back(std::move(h));
    return out;
}

/// Adds units that write delta * clamp((x - from) / (to - from), 0, 1): a ramp that is 0 up to
/// `from` and 1 from `to` on (from < to), or the mirror image (from > to).
void addRamp(BlockPlan& block, const Form& x, double from, double to, const Form& delta) {
    double slope = 1.0 / (to - from);
    for (auto [edge, sign] : {std::pair{from, 1.0}, std::pair{to, -1.0}}) {
        Form in = scaled(x, slope);
        in.push_back({kOne, -slope * edge});
        block.units.push_back({in, scaled(delta, sign)});
    }
}

/// A sum over the selection: a head that weighs BOS like a selected key reads both
/// m = sum/(w+1) (BOS holds 0) and y = 1/(w+1); the MLP of the same layer rebuilds
/// sum = m (w+1) = m + sum over j < w of m, each term m [y < t_j] made exact by a gate whose
/// closing slope outweighs any |m|.
Repr Lowering::lowerSum(NodeId id) {
    const Node& n = g_[id];
    const Repr& vals = repr(n.operands[1]);
    const ValueSet& outSet = sets_[static_cast<size_t>(id)];
    if (!vals.allNumbers() || !n.constant.isNumber()) {
        fail(n, "'" + describe(n) + "' sums values that are not numbers");
    }
    double bound = 0.0;
    if (vals.numerical) {
        if (!vals.set.rangeKnown) fail(n, "'" + describe(n) + "' sums values of unknown range");
        bound = std::max(std::abs(vals.set.lo), std::abs(vals.set.hi));
    } else {
        for (const Value& v : vals.values) bound = std::max(bound, std::abs(v.toDouble()));
    }
    bound += 1.0;

    std::vector<Block> blocks = selectorBlocks(n.operands[0]);
    int ready = vals.ready;
    for (const Block& b : blocks) ready = std::max(ready, b.ready);
    int layer = headLayer(ready);
    HeadPlan h = buildHead(blocks, true, layer, "aggregate(sum) " + describe(n));
    int meanDim = newDim(0.0);
    int inverseDim = newDim(1.0);
    emitColumn(h.v, 0, vals.numberForm(), 0.0);
    emitColumn(h.v, 1, {{kBos, 1.0}}, 1.0);
    h.o.push_back({0, meanDim, 1.0});
    h.o.push_back({1, inverseDim, 1.0});
    h.dv = 2;
    heads_.push_back(std::move(h));

    BlockPlan block;
    block.layer = layer;
    block.label = "sum " + describe(n);
    int outDim = newDim();
    Form m = {{meanDim, 1.0}};
    Form y = {{inverseDim, 1.0}};
    // m itself, as relu(m) - relu(-m).
    block.units.push_back({m, {{outDim, 1.0}}});
    block.units.push_back({scaled(m, -1.0), {{outDim, -1.0}}});
    for (int j = 0; j < options_.maxLen; ++j) {
        // y = 1/(w+1) lies below t exactly when w > j.
        double above = 1.0 / (j + 1), below = 1.0 / (j + 2);
        double t = (above + below) / 2;
        double gate = 2.0 * bound / ((above - below) / 2);
        // (m + bound) [y < t] - bound [y < t]: the first factor is never negative.
        Form in = m;
        in.push_back({kOne, bound + gate * t});
        addTo(in, y, -gate);
        block.units.push_back({in, {{outDim, 1.0}}});
        Form off = scaled(y, -gate);
        off.push_back({kOne, gate * t});
        block.units.push_back({off, {{outDim, -1.0}}});
        addRamp(block, y, below + (above - below) / 4, above - (above - below) / 4,
                {{outDim, bound}});
        // The ramp above adds bound where y > t; subtracting bound everywhere leaves
        // -bound exactly where y < t.
        block.units.push_back({{{kOne, 1.0}}, {{outDim, -bound}}});
    }
    if (n.constant.toDouble() != 0.0) {
        // Nothing selected (y = 1): the default instead of 0.
        addRamp(block, y, 0.5 + 0.125, 1.0 - 0.125, {{outDim, n.constant.toDouble()}});
    }
    blocks_.push_back(std::move(block));

    Repr out;
    out.materialized = true;
    out.numerical = true;
    out.ready = 2 * layer + 2;
    out.set = outSet;
    out.cols.push_back({{outDim, 1.0}});
    return out;
}

/// WidthInverse: a head that weighs BOS like a selected key reads 1/(w+1) from BOS's flag.
/// The map decoding w (split_width) usually joins the same layer's MLP.
Repr Lowering::lowerWidthInverse(NodeId id) {
    const Node& n = g_[id];
    std::vector<Block> blocks = selectorBlocks(n.operands[0]);
    int ready = 0;
    for (const Block& b : blocks) ready = std::max(ready, b.ready);
    int layer = headLayer(ready);
    HeadPlan h = buildHead(blocks, true, layer, "selector_width " + describe(n));
    int inverse = newDim(1.0);
    emitColumn(h.v, 0, {{kBos, 1.0}}, 1.0);
    h.o.push_back({0, inverse, 1.0});
    h.dv = 1;
    heads_.push_back(std::move(h));

    Repr y;
    y.materialized = true;
    y.numerical = true;
    y.ready = 2 * layer + 1;
    y.cols.push_back({{inverse, 1.0}});
    y.set = sets_[static_cast<size_t>(id)];
    if (!y.set.bounded) throw InternalError("width values are always bounded");
    return y;
}

rt::Model Lowering::run(CompileReport* report) {
    // Fixed dimensions: one, BOS flag, token one-hot, position one-hot.
    newDim();          // kOne
    newDim(1.0);       // kBos
    for (size_t i = 0; i < options_.vocab.size(); ++i) tokenDims_.push_back(newDim());
    for (int i = 0; i < options_.maxLen; ++i) indexDims_.push_back(newDim());

    std::vector<const Repr*> outs;
    for (NodeId id : options_.outputs) {
        if (g_[id].isSelector()) fail(g_[id], "a selector cannot be an output; aggregate it first");
        outs.push_back(&repr(id));
    }

    int layers = 0;
    for (const HeadPlan& h : heads_) layers = std::max(layers, h.layer + 1);
    for (const BlockPlan& b : blocks_) layers = std::max(layers, b.layer + 1);

    // Weights are built on virtual dimensions, one per value of every slot; `phys` maps them
    // onto the residual stream, where a dead slot's dimensions are reused.
    std::vector<int> phys(bos_.size());
    for (size_t i = 0; i < phys.size(); ++i) phys[i] = static_cast<int>(i);
    if (options_.optLevel > 0) phys = reuseSlots(layers);
    int physWidth = 0;
    for (int p : phys) physWidth = std::max(physWidth, p + 1);
    auto remap = [&](std::vector<Entry>& entries, bool rows) {
        for (Entry& e : entries) (rows ? e.row : e.col) = phys[static_cast<size_t>(rows ? e.row : e.col)];
    };

    rt::Model m;
    const int d = physWidth;
    m.width = d;
    m.maxLen = options_.maxLen;
    for (const Value& v : options_.vocab) m.vocab.push_back(toDisplay(v));
    static const char* const kTokenTypes[] = {"str", "int", "float", "bool"};
    m.tokenType = kTokenTypes[static_cast<int>(g_.tokenType)];
    m.causal = g_.causal;
    m.version = RASPC_VERSION;
    m.source = options_.sourceName;

    m.tokenEmbedding = rt::Matrix(static_cast<int>(options_.vocab.size()) + 1, d);
    for (size_t i = 0; i < options_.vocab.size(); ++i) {
        m.tokenEmbedding.at(static_cast<int>(i), kOne) = 1.0f;
        int dim = phys[static_cast<size_t>(tokenDims_[i])];
        if (dim >= 0) m.tokenEmbedding.at(static_cast<int>(i), dim) = 1.0f;
    }
    m.tokenEmbedding.at(static_cast<int>(options_.vocab.size()), kBos) = 1.0f;
    m.positionEmbedding = rt::Matrix(options_.maxLen + 1, d);
    for (int p = 0; p < options_.maxLen; ++p) {
        int dim = phys[static_cast<size_t>(indexDims_[static_cast<size_t>(p)])];
        if (dim >= 0) m.positionEmbedding.at(p + 1, dim) = 1.0f;
    }

    // Sums in double, rounds once: large opposite terms (gates, BOS fixes) cancel exactly.
    auto dense = [&](const std::vector<Entry>& entries, int rows, int cols) {
        std::vector<double> acc(static_cast<size_t>(rows) * static_cast<size_t>(cols), 0.0);
        for (const Entry& e : entries) acc[static_cast<size_t>(e.row) * cols + e.col] += e.value;
        rt::Matrix mat(rows, cols);
        for (size_t i = 0; i < acc.size(); ++i) mat.data[i] = static_cast<float>(acc[i]);
        return mat;
    };

    m.layers.resize(static_cast<size_t>(layers));
    for (const HeadPlan& h : heads_) {
        rt::Head head;
        head.label = h.label;
        HeadPlan ph = h;
        remap(ph.q, true);
        remap(ph.k, true);
        remap(ph.v, true);
        remap(ph.o, false);
        head.wq = dense(ph.q, d, h.dk);
        head.wk = dense(ph.k, d, h.dk);
        head.wv = dense(ph.v, d, h.dv);
        head.wo = dense(ph.o, h.dv, d);
        m.layers[static_cast<size_t>(h.layer)].heads.push_back(std::move(head));
        if (report) report->heads.push_back({h.layer, h.label, h.dk, h.dv});
    }
    for (int l = 0; l < layers; ++l) {
        std::vector<Entry> w1, w2;
        int hidden = 0;
        rt::Mlp& mlp = m.layers[static_cast<size_t>(l)].mlp;
        for (const BlockPlan& b : blocks_) {
            if (b.layer != l) continue;
            for (const Unit& u : b.units) {
                emitColumn(w1, hidden, u.in, u.atBos.value_or(-kBosSilence));
                for (const Term& t : u.out) w2.push_back({hidden, t.dim, t.coeff});
                ++hidden;
            }
            mlp.labels.push_back(b.label);
            if (report) report->blocks.push_back({l, b.label, static_cast<int>(b.units.size())});
        }
        remap(w1, true);
        remap(w2, false);
        mlp.w1 = dense(w1, d, hidden);
        mlp.w2 = dense(w2, hidden, d);
    }

    for (size_t i = 0; i < outs.size(); ++i) {
        const Repr& r = *outs[i];
        const Node& n = g_[options_.outputs[i]];
        rt::Output o;
        o.name = options_.outputNames.at(i);
        if (r.numerical) {
            o.kind = rt::OutputKind::Numerical;
            if (!r.set.bounded && r.set.rangeKnown && r.set.integral) {
                // Too many values for a table, but all whole: decoded by rounding.
                o.readout = rt::Matrix(d, 1);
                for (const Term& t : r.cols[0]) {
                    o.readout.at(phys[static_cast<size_t>(t.dim)], 0) += static_cast<float>(t.coeff);
                }
                o.tolerance = 0.25;
                o.valueType = "int";
                if (std::max(std::abs(r.set.lo), std::abs(r.set.hi)) > (1 << 22)) {
                    fail(n, "output '" + o.name + "' ranges over whole numbers too large for "
                            "float32 to keep exact");
                }
                m.outputs.push_back(std::move(o));
                continue;
            }
            if (!r.set.bounded || r.set.values.empty()) {
                fail(n, "output '" + o.name + "' is numerical with too many possible values "
                        "to decode exactly; round() it, or lower max_len or the alphabet");
            }
            o.readout = rt::Matrix(d, 1);
            for (const Term& t : r.cols[0]) {
                o.readout.at(phys[static_cast<size_t>(t.dim)], 0) += static_cast<float>(t.coeff);
            }
            // Values equal up to rounding noise share one entry (the interpreter may print
            // either; they are one number).
            for (const Value& v : r.set.values) {
                if (!o.numbers.empty() && nearlyEqual(o.numbers.back(), v.toDouble())) continue;
                o.table.push_back(toDisplay(v));
                o.numbers.push_back(v.toDouble());
            }
            double gap = std::numeric_limits<double>::infinity();
            double magnitude = 1.0;
            for (size_t j = 0; j + 1 < o.numbers.size(); ++j) {
                gap = std::min(gap, o.numbers[j + 1] - o.numbers[j]);
                magnitude = std::max({magnitude, std::abs(o.numbers[j]), std::abs(o.numbers[j + 1])});
            }
            if (std::isfinite(gap) && gap < kFloat32Resolution * magnitude) {
                fail(n, "output '" + o.name + "' takes values too close together to decode in "
                        "float32 (" + std::to_string(gap) + " apart); round() it, or output a "
                        "coarser s-op");
            }
            o.tolerance = std::isfinite(gap) ? gap * 0.45 : 0.5;
            o.valueType = valueTypeOf(r.set.values);
        } else {
            o.kind = rt::OutputKind::Categorical;
            o.readout = rt::Matrix(d, static_cast<int>(r.values.size()));
            for (size_t j = 0; j < r.values.size(); ++j) {
                for (const Term& t : r.cols[j]) {
                    o.readout.at(phys[static_cast<size_t>(t.dim)], static_cast<int>(j)) +=
                        static_cast<float>(t.coeff);
                }
                o.table.push_back(toDisplay(r.values[j]));
            }
            o.valueType = valueTypeOf(r.values);
        }
        m.outputs.push_back(std::move(o));
    }

    if (report) {
        report->layers = layers;
        report->width = d;
        report->virtualWidth = static_cast<int>(bos_.size());
        reportPlacements(*report, layers);
        for (auto& p : report->placements) {
            std::vector<int> dims;
            for (int dim : p.dims) {
                if (phys[static_cast<size_t>(dim)] >= 0) dims.push_back(phys[static_cast<size_t>(dim)]);
            }
            p.dims = std::move(dims);
        }
    }
    return m;
}

/// Maps every virtual dimension to a residual dimension, reusing the dimensions of slots no
/// one reads any more (greedy interval colouring in order of writing). A reused dimension is
/// first erased by two MLP units (relu(x) and relu(-x), written back negated), in the first
/// MLP after its last read, BOS included, so the next occupant starts from zero everywhere.
std::vector<int> Lowering::reuseSlots(int layers) {
    const size_t count = bos_.size();
    constexpr int kNever = -1;
    const int kForever = 2 * layers + 3;  // read by an output
    std::vector<int> written(count, kNever), lastRead(count, kNever);
    for (int d : tokenDims_) written[static_cast<size_t>(d)] = 0;
    for (int d : indexDims_) written[static_cast<size_t>(d)] = 0;
    auto read = [&](int dim, int at) {
        int& r = lastRead[static_cast<size_t>(dim)];
        r = std::max(r, at);
    };
    for (const HeadPlan& h : heads_) {
        for (const auto* m : {&h.q, &h.k, &h.v}) {
            for (const Entry& e : *m) {
                if (e.value != 0.0) read(e.row, 2 * h.layer + 1);
            }
        }
        for (const Entry& e : h.o) written[static_cast<size_t>(e.col)] = 2 * h.layer + 1;
    }
    for (const BlockPlan& b : blocks_) {
        for (const Unit& u : b.units) {
            for (const Term& t : u.in) read(t.dim, 2 * b.layer + 2);
            for (const Term& t : u.out) written[static_cast<size_t>(t.dim)] = 2 * b.layer + 2;
        }
    }
    for (NodeId id : options_.outputs) {
        for (const Form& f : reprs_[static_cast<size_t>(id)]->cols) {
            for (const Term& t : f) read(t.dim, kForever);
        }
    }

    std::vector<int> order;
    for (size_t v = 2; v < count; ++v) {
        if (written[v] != kNever) order.push_back(static_cast<int>(v));
    }
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        return written[static_cast<size_t>(a)] < written[static_cast<size_t>(b)];
    });

    std::vector<int> phys(count);
    phys[kOne] = kOne;
    phys[kBos] = kBos;
    struct Occupied {
        int dim;       // residual dimension
        int occupant;  // virtual dimension living there
        int freeAt;    // sublayer of the MLP that erases it (kForever: never)
    };
    std::vector<Occupied> slots;
    std::map<int, BlockPlan> erasers;  // per layer
    int next = 2;
    for (int v : order) {
        const size_t vi = static_cast<size_t>(v);
        // A token or position no one reads needs no dimension at all.
        if (written[vi] == 0 && lastRead[vi] == kNever) {
            phys[vi] = -1;
            continue;
        }
        auto free = std::find_if(slots.begin(), slots.end(), [&](const Occupied& o) {
            return o.freeAt < written[vi];
        });
        if (free == slots.end()) {
            phys[vi] = next;
            slots.push_back({next++, v, 0});
            free = slots.end() - 1;
        } else {
            // Erase the previous occupant where it was last needed.
            int u = free->occupant;
            int eraseLayer = (free->freeAt - 2) / 2;
            BlockPlan& eraser = erasers[eraseLayer];
            double b = bos_[static_cast<size_t>(u)];
            eraser.units.push_back({{{u, 1.0}}, {{u, -1.0}}, b});
            eraser.units.push_back({{{u, -1.0}}, {{u, 1.0}}, -b});
            phys[vi] = free->dim;
            free->occupant = v;
        }
        // Free once read for the last time, and never in the sublayer that writes it.
        int last = std::max(lastRead[vi], written[vi] + 1);
        int eraseLayer = (last - 1) / 2;
        free->freeAt = lastRead[vi] >= kForever || eraseLayer >= layers ? kForever
                                                                       : 2 * eraseLayer + 2;
    }
    for (auto& [layer, eraser] : erasers) {
        eraser.layer = layer;
        eraser.label = "free dead slots";
        blocks_.push_back(std::move(eraser));
    }
    return phys;
}

void Lowering::reportPlacements(CompileReport& report, int layers) const {
    // The s-op operands of a node, looking through selectors to what they compare.
    std::function<void(NodeId, std::vector<NodeId>&)> sopOperands = [&](NodeId id,
                                                                       std::vector<NodeId>& out) {
        for (NodeId op : g_[id].operands) {
            if (g_[op].isSelector()) {
                sopOperands(op, out);
            } else if (std::find(out.begin(), out.end(), op) == out.end()) {
                out.push_back(op);
            }
        }
    };
    std::map<NodeId, size_t> index;
    for (size_t id = 0; id < reprs_.size(); ++id) {
        const auto& r = reprs_[id];
        if (!r) continue;
        const Node& n = g_[static_cast<NodeId>(id)];
        CompileReport::Placement p;
        p.node = static_cast<NodeId>(id);
        p.name = n.name.empty() ? std::string(toString(n.kind)) : n.name;
        p.kind = std::string(toString(n.kind));
        p.loc = n.loc;
        if (r->isConstant) {
            p.where = "constant";
        } else if (n.kind == OpKind::Tokens || n.kind == OpKind::Indices) {
            p.where = "embedding";
        } else if (!r->materialized) {
            p.where = "folded";
        } else {
            p.where = r->ready % 2 == 1 ? "attention" : "mlp";
        }
        p.layer = r->ready == 0 ? 0 : (r->ready - 1) / 2;
        if (r->materialized || p.where == "embedding") {
            for (const Form& f : r->cols) {
                for (const Term& t : f) p.dims.push_back(t.dim);
            }
        }
        sopOperands(p.node, p.operands);
        index[p.node] = report.placements.size();
        report.placements.push_back(std::move(p));
    }
    // Last reads, users before operands: a folded s-op is read wherever its readers are.
    for (NodeId out : options_.outputs) report.placements[index.at(out)].lastRead = layers - 1;
    for (auto it = report.placements.rbegin(); it != report.placements.rend(); ++it) {
        int readAt = it->where == "folded" ? it->lastRead : it->layer;
        for (NodeId op : it->operands) {
            auto found = index.find(op);
            if (found == index.end()) continue;
            int& last = report.placements[found->second].lastRead;
            last = std::max(last, readAt);
        }
    }
}

}  // namespace

PassOptions passOptions(const Graph& g, const CompileOptions& options) {
    PassOptions passes;
    passes.optLevel = options.optLevel;
    passes.domain = Domain{options.vocab, options.maxLen, g.causal};
    return passes;
}

rt::Model lower(const Graph& program, const CompileOptions& options, CompileReport* report) {
    if (options.vocab.empty()) {
        throw UserError("the program has no alphabet: add `vocab ...;` or pass --vocab");
    }
    if (options.maxLen <= 0) {
        throw UserError("the program has no maximum length: add `max_len N;` or pass --max-len");
    }
    CompileOptions lowered = options;
    Graph g = optimize(program, lowered.outputs, passOptions(program, options));
    Lowering lowering(g, lowered);
    return lowering.run(report);
}

}  // namespace raspc
