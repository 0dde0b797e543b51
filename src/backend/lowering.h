// Lowering internals shared by the files of the back end (lower.cpp, lower_maps.cpp,
// lower_heads.cpp, lower_slots.cpp): the plan of a model before it becomes weights, and the
// Lowering class that builds it. Not part of the back end's interface: include lower.h.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "backend/lower.h"
#include "passes/pipeline.h"
#include "passes/value_sets.h"
#include "support/debug.h"

namespace raspc::lowering {

// Residual dimensions every model has. `kOne` is 1 at real positions and 0 at BOS, so every
// constant term vanishes at BOS; `kBos` is 1 at BOS only.
constexpr int kOne = 0;
constexpr int kBos = 1;

// exp(-kHardGap) underflows to zero in float32 (its smallest subnormal is e^-103.28), so keys
// that score kHardGap below the best get no weight at all.
inline const double kHardGap =
    -std::log(static_cast<double>(std::numeric_limits<float>::denorm_min())) + 4.0;

// How far below zero an MLP unit's pre-activation is pushed at BOS, so it stays silent there.
constexpr double kBosSilence = 1.0;

// Numbers computed from numerical s-ops with at most this many values are kept categorical.
constexpr size_t kSmallCategorical = 8;

// Fusing maps stops at this many combined operand values, or this many maps deep.
constexpr size_t kMaxFusedRows = 8192;
// ... or this many when the fused map is a choice between numbers (see fuse()).
constexpr size_t kMaxFusedChoiceRows = 64;
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

inline bool nearlyEqual(double a, double b) {
    return std::abs(a - b) <= kNoise * std::max({1.0, std::abs(a), std::abs(b)});
}

/// A linear read of the residual stream: sum of coeff * x[dim].
using Form = std::vector<Term>;

// Zero terms are left out: a read with weight 0 is no read, and would keep a dimension alive.
inline Form scaled(const Form& f, double a) {
    Form out;
    for (const Term& t : f) {
        if (t.coeff * a != 0.0) out.push_back({t.dim, t.coeff * a});
    }
    return out;
}

inline void addTo(Form& acc, const Form& f, double a = 1.0) {
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
    /// A categorical s-op that only the readout reads, carried as one number: cols[0] is the
    /// index of its value in `values` (numerical stays false; nothing but the readout may read
    /// it, as no one-hot exists).
    bool coded = false;
    /// Numerical s-ops that are a linear function of the index (in long programs): their
    /// square as a linear read too (of the index's powers), which lookups keyed on them need.
    std::optional<Form> square;

    /// What a head (ready 2l + 1) or an MLP block (ready 2l + 2) writes into dimensions of its
    /// own; the caller adds the columns.
    static Repr written(int ready, const ValueSet& set, bool numerical) {
        Repr r;
        r.materialized = true;
        r.numerical = numerical;
        r.ready = ready;
        r.set = set;
        return r;
    }

    Form numberForm() const {
        if (numerical) return cols[0];
        Form f;
        for (size_t i = 0; i < values.size(); ++i) addTo(f, cols[i], values[i].toDouble());
        return f;
    }
    /// The smallest and largest number it holds: its range if numerical (which must be
    /// known), else its values' (which must all be numbers).
    std::pair<double, double> numberRange() const {
        if (numerical) return {set.lo, set.hi};
        double lo = values.front().toDouble(), hi = lo;
        for (const Value& v : values) {
            lo = std::min(lo, v.toDouble());
            hi = std::max(hi, v.toDouble());
        }
        return {lo, hi};
    }
    bool allNumbers() const {
        if (numerical) return true;
        return std::all_of(values.begin(), values.end(),
                           [](const Value& v) { return v.isNumber(); });
    }
};

/// A chain of maps over leaf s-ops: either leaf number `leaf`, or `node`'s function of `kids`.
struct FusedExpr {
    int leaf = -1;
    const Node* node = nullptr;
    std::vector<FusedExpr> kids;
};

inline Value evaluate(const FusedExpr& e, std::span<const Value> leaves) {
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
    bool hard = false;  // see rt::Head::hard
    rt::HeadMask mask = rt::HeadMask::None;
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

inline std::string describe(const Node& n) {
    std::ostringstream out;
    out << (n.name.empty() ? std::string(toString(n.kind)) : n.name);
    if (n.loc.line > 0) out << " (" << n.loc.file << ":" << n.loc.line << ")";
    return out.str();
}

/// The atom type an output shows: the most general among its values (a default of 0 among
/// strings does not make the strings ints).
inline std::string valueTypeOf(const std::vector<Value>& values) {
    auto any = [&](auto pred) { return std::any_of(values.begin(), values.end(), pred); };
    if (any([](const Value& v) { return v.isString(); })) return "str";
    if (any([](const Value& v) { return v.isFloat(); })) return "float";
    if (!values.empty() && !any([](const Value& v) { return !v.isBool(); })) return "bool";
    return "int";
}

/// Which of `values` are strings, when they mix strings with other values (else empty): a
/// decoded sequence holding both is refused, as the interpreter refuses it.
inline std::vector<bool> textEntries(const std::vector<Value>& values) {
    std::vector<bool> text;
    for (const Value& v : values) text.push_back(v.isString());
    const bool mixed = std::find(text.begin(), text.end(), true) != text.end() &&
                       std::find(text.begin(), text.end(), false) != text.end();
    return mixed ? text : std::vector<bool>{};
}

inline int headLayer(int ready) {
    return (ready + 1) / 2;
}
inline int mlpLayer(int ready) {
    return ready / 2;
}

/// Calls fn on every combination of one value per domain.
inline void forEachCombo(const std::vector<std::vector<Value>>& domains,
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
inline std::optional<std::vector<double>> affineFit(
    const MapFn& fn, const std::vector<std::vector<Value>>& domains) {
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
    /// `positionEquality`: compile equality selects with a side that is a function of the
    /// position as quadratic scores over position-table columns (see equalityBlock).
    Lowering(const Graph& g, const CompileOptions& options, bool positionEquality = false)
        : g_(g),
          options_(options),
          positionEquality_(positionEquality),
          sets_(inferValueSets(g, Domain{options.vocab, options.maxLen, g.causal})),
          reprs_(g.nodes.size()),
          selectOperand_(g.nodes.size(), false),
          outputOnly_(g.nodes.size(), false) {
        for (NodeId out : options.outputs) outputOnly_[static_cast<size_t>(out)] = true;
        for (const Node& n : g.nodes) {
            for (NodeId op : n.operands) {
                outputOnly_[static_cast<size_t>(op)] = false;
                if (n.kind == OpKind::Select) selectOperand_[static_cast<size_t>(op)] = true;
            }
        }
    }

    rt::Model run(CompileReport* report);

private:
    /// Long programs (maximum length above kLongInputLength) keep the index as a number (with
    /// its square beside it), compile every select as a 2-D lookup head, and run in float64.
    bool longInputs() const { return options_.maxLen > kLongInputLength; }
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
    std::optional<Fused> fuse(const Node& n, const ValueSet& outSet);
    /// fuse() for one target: every s-op the result reads is ready by `ready`, in a table of
    /// at most maxRows rows.
    std::optional<Fused> fuseAt(const Node& n, int ready, size_t maxRows);
    /// "'n' computed from 'a', 'b'", for RASPC_DEBUG=fuse.
    std::string describeFusion(const Node& n, const Fused& fused);

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
    /// True when `n` is an output that no other s-op reads (by value, as comparedBySelect).
    bool readOnlyAsOutput(const Node& n) const {
        for (size_t id = 0; id < g_.nodes.size(); ++id) {
            if (&g_.nodes[id] == &n) return outputOnly_[id];
        }
        return false;
    }
    Repr lowerAggregate(NodeId id);
    /// Adds to the average check, in `layer`'s MLP, how far `oneHot` (columns of the one-hot a
    /// head of `n` wrote in that layer) is from a clean one-hot.
    void checkAverage(const Node& n, int layer, const std::vector<Form>& oneHot);
    Repr lowerSum(NodeId id);
    Repr lowerWidthInverse(NodeId id);
    Repr lowerLookup(NodeId id);
    Repr comparisonMlp(const Node& n, const std::vector<const Repr*>& ops, int layer,
                       const ValueSet& outSet);
    /// MLP units of `n` whose inputs and outputs add whole numbers up to `largest` in size
    /// must add them exactly: refuses `n` past what float64 keeps exact, and asks for float64
    /// past float32's exact whole numbers (2^24). `what` says what the units do ("compares
    /// whole numbers"); `advice` how to stay within the limit.
    void requireExactWhole(const Node& n, double largest, const std::string& what,
                           const std::string& advice);
    /// Whether `x if c else y` with a categorical c gives numbers: then condMlp gates each
    /// branch, rather than a table over every combination of values.
    bool multiplexes(const Node& n, const std::vector<const Repr*>& ops, const MapPlan& plan) const;
    Repr condMlp(const Node& n, const std::vector<const Repr*>& ops, int layer,
                 const ValueSet& outSet);
    /// A map of whole numbers too many to tabulate, compiled from its operator instead: the
    /// coefficients (one per operand, then the offset) of +, -, negation or * by a constant.
    std::optional<std::vector<double>> structuralAffine(const Node& n,
                                                        const std::vector<const Repr*>& ops) const;
    /// `withSquare`: a numerical result also writes its square (Repr::square), for
    /// equalityBlock.
    Repr mapMlp(const Node& n, const std::vector<const Repr*>& ops, int layer, bool numericalOut,
                const ValueSet& outSet, bool withSquare = false);
    /// True when position columns are in use and `n` (by value, as comparedBySelect) gives
    /// whole numbers that only `select(.., .., ==)` reads, each against a function of the
    /// position: then one number and its square serve those selects (equalityBlock), no
    /// one-hot.
    bool comparedOnlyWithPositions(const Node& n, const ValueSet& outSet) const;
    Repr tupleOf(const std::vector<NodeId>& members, const Node& site);

    struct Block {
        std::vector<Form> q;  // per key column, the query's score row
        std::vector<Form> k;  // per key column, the key's indicator
        int ready = 0;
    };
    /// A selector as a head computes it: a position mask for a conjunct comparing indices with
    /// indices by <=, <, >= or >, and scored blocks for the rest.
    struct Scoring {
        std::vector<Block> blocks;
        rt::HeadMask mask = rt::HeadMask::None;
        int ready() const {
            int r = 0;
            for (const Block& b : blocks) r = std::max(r, b.ready);
            return r;
        }
    };
    /// `tieRange`: the range of the tie-break the head will add (0 for none), which sets the
    /// head's scale and so bounds what an equalityBlock may compare.
    Scoring selectorScoring(NodeId selector, double tieRange = 0.0);
    /// `select(keys, queries, ==)` with a side that is a function of the position, as a block
    /// scoring 1 - (key code - query code)^2 from a position table's code and square columns
    /// (and the other side's one-hot): nullopt where the one-hot comparison must be used.
    std::optional<Block> equalityBlock(NodeId select, double tieRange);
    /// The value of a categorical s-op of the embedding at every position, if it is a
    /// function of the position alone (indices, maps of indices).
    std::optional<std::vector<Value>> positionalValues(const Repr& r) const;
    /// A linear read giving `perPosition[p]` at every position p (0 at BOS): the index's
    /// column (and its square's) where affine (quadratic) in p, else a column of its own.
    Form positionForm(const std::vector<double>& perPosition);
    int positionColumn(const std::vector<double>& perPosition);
    /// A tie-break added to every selected key's score: `form` reads values in [0, range]
    /// whose distinct values are at least 1 apart; the selected key with the largest wins.
    struct TieBreak {
        Form form;
        double range = 0.0;
    };
    HeadPlan buildHead(const Scoring& scoring, bool bosLikeSelected, int layer,
                       const std::string& label, const std::optional<TieBreak>& tie = {});

    [[noreturn]] void fail(const Node& n, const std::string& message) const {
        throw UserError(n.loc, message);
    }

    const Graph& g_;
    const CompileOptions& options_;
    const bool positionEquality_;
    std::vector<ValueSet> sets_;
    std::vector<std::optional<Repr>> reprs_;
    std::vector<bool> selectOperand_;  // per node: a select reads it as keys or queries
    std::vector<bool> outputOnly_;     // per node: an output nothing else reads
    std::map<NodeId, Repr> shadows_;   // planned maps not (yet) lowered; no columns
    std::map<NodeId, Repr> categoricalCopies_;
    std::map<std::vector<NodeId>, Repr> tuples_;
    std::vector<double> bos_;
    std::vector<int> tokenDims_, indexDims_;
    std::vector<int> indexPowerDims_;  // long programs: the index and its square
    /// Short programs: numeric columns of the position table (a dimension and its value at
    /// each position), for equalityBlock and tie-breaks on the index.
    std::vector<std::pair<int, std::vector<double>>> positionColumns_;
    std::string float64Reason_;        // why the model needs float64 ("" if it does not)
    /// The dimension where categorical aggregates that may average different values add how
    /// far their one-hot is from clean (-1 until one needs it), and those aggregates.
    int averageCheckDim_ = -1;
    std::vector<std::string> averageChecks_;
    std::vector<HeadPlan> heads_;
    std::vector<BlockPlan> blocks_;
};

}  // namespace raspc::lowering
