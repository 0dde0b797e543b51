// Lowering of maps: encodings, folds into readers, fusion of chains, and lookup-table MLPs.
#include "backend/lowering.h"

namespace raspc::lowering {

/// A categorical view of an s-op: numerical s-ops get a discretising MLP into a one-hot slot.
/// For a numerical map chain (balance = opens - closes) that MLP reads what the chain reads
/// when that makes it ready a layer earlier; the chain's own slots are then never made.
const Repr& Lowering::categorical(NodeId id) {
    if (!shadow(id).numerical && !repr(id).numerical) return repr(id);
    auto it = categoricalCopies_.find(id);
    if (it != categoricalCopies_.end()) return it->second;
    const Node& n = g_[id];
    const ValueSet& set = shadow(id).set;
    if (!set.bounded) {
        fail(n, "'" + describe(n) +
                    "' is numerical with too many possible values to compare by value; "
                    "annotate it categorical(...) or simplify it");
    }
    if (options_.optLevel > 0 && (n.kind == OpKind::Map || n.kind == OpKind::SequenceMap)) {
        if (std::optional<Fused> fused = fuse(n, set)) {
            debugLine("fuse", "one-hot of " + describeFusion(n, *fused));
            std::vector<const Repr*> ops;
            int ready = 0;
            for (NodeId leaf : fused->leaves) {
                ops.push_back(&repr(leaf));
                ready = std::max(ready, ops.back()->ready);
            }
            Repr copy = mapMlp(fused->node, ops, mlpLayer(ready), false, set);
            return categoricalCopies_.emplace(id, std::move(copy)).first->second;
        }
    }
    const Repr& r = repr(id);
    Node identity = n;
    identity.kind = OpKind::Map;
    identity.fn = [](std::span<const Value> args) { return args[0]; };
    Repr copy = mapMlp(identity, {&r}, mlpLayer(r.ready), false, r.set);
    return categoricalCopies_.emplace(id, std::move(copy)).first->second;
}

Lowering::MapPlan Lowering::planMap(const Node& n, const std::vector<const Repr*>& ops,
                                    const ValueSet& outSet) const {
    MapPlan plan;
    bool anyNumerical =
        std::any_of(ops.begin(), ops.end(), [](const Repr* r) { return r->numerical; });

    // Whole numbers too many to tabulate (positions of long programs) are understood from
    // the operator alone; linear ones are folds like any other.
    if (auto fit = structuralAffine(n, ops)) {
        plan.route = MapRoute::AffineFold;
        plan.numericalOut = true;
        plan.affine = std::move(*fit);
        return plan;
    }

    // A linear function of numbers needs no layer: whoever reads it reads the sum directly.
    bool numbersIn = std::all_of(ops.begin(), ops.end(), [](const Repr* r) {
        return r->allNumbers() && (!r->numerical || r->set.bounded);
    });
    // Of one-hots too, when several vary and the result has too many values to stay a
    // one-hot: a table over their combinations would cost an MLP.
    size_t varyingOps = std::count_if(ops.begin(), ops.end(), [](const Repr* r) {
        return !r->isConstant;
    });
    bool manyOut = !outSet.bounded || (outSet.values.size() > kSmallCategorical &&
                                       n.encoding == Encoding::Inferred && !comparedBySelect(n));
    if (options_.optLevel > 0 && (anyNumerical || (varyingOps > 1 && manyOut)) && numbersIn &&
        n.encoding != Encoding::Categorical) {
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
    // booleans, say): a small one-hot is cheaper for whatever reads it next. Nothing reads an
    // output but the readout, for which one number is narrower than any one-hot.
    // A select compares one-hots, so an s-op it reads is better categorical from the start.
    plan.numericalOut =
        n.encoding == Encoding::Numerical ||
        (n.encoding == Encoding::Inferred && anyNumerical &&
         (!outSet.bounded ||
          (outSet.allNumbers() && !comparedBySelect(n) &&
           (outSet.values.size() > kSmallCategorical || readOnlyAsOutput(n))) ||
          comparedOnlyWithPositions(n, outSet)));
    if (!plan.numericalOut && !outSet.bounded) {
        fail(n, "'" + describe(n) +
                    "' has too many possible values for a categorical encoding; if they are "
                    "numbers annotate it numerical(...), otherwise lower max_len or the alphabet");
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

/// Inlines the maps (and folds) a map reads, so that one MLP computes the whole chain from
/// s-ops ready earlier (and a map of a selector_width joins the MLP that decodes the width).
/// Tries the earliest MLP layer first: every s-op of the chain that is not ready before that
/// layer's MLP is looked through, down to s-ops that are; the first layer whose table stays
/// small wins, when it is earlier than the map's own. A choice between numbers (`x if c else
/// y`) has an MLP of two gates a branch of its own (condMlp), so a table replaces it only when
/// small: a large one would cost far more than the layer it may save, and often saves none.
std::optional<Lowering::Fused> Lowering::fuse(const Node& n, const ValueSet& outSet) {
    std::vector<const Repr*> ops;
    int directReady = 0;
    for (NodeId op : n.operands) {
        ops.push_back(&shadow(op));
        directReady = std::max(directReady, ops.back()->ready);
    }
    const size_t maxRows =
        multiplexes(n, ops, planMap(n, ops, outSet)) ? kMaxFusedChoiceRows : kMaxFusedRows;
    for (int layer = 0; layer < mlpLayer(directReady); ++layer) {
        if (std::optional<Fused> fused = fuseAt(n, 2 * layer + 1, maxRows)) return fused;
    }
    return std::nullopt;
}

std::optional<Lowering::Fused> Lowering::fuseAt(const Node& n, int ready, size_t maxRows) {
    using Expr = FusedExpr;
    Fused out;
    auto isMap = [&](NodeId id) {
        return g_[id].kind == OpKind::Map || g_[id].kind == OpKind::SequenceMap;
    };
    // A map of numbers too many to tabulate stays a leaf: its own MLP is built from its
    // operator, and no table could hold it.
    auto tabulable = [&](NodeId id) {
        return std::none_of(g_[id].operands.begin(), g_[id].operands.end(), [&](NodeId op) {
            const Repr& r = shadow(op);
            return r.numerical && !r.set.bounded;
        });
    };
    bool reachable = true;
    std::function<Expr(NodeId, int)> build = [&](NodeId id, int depth) -> Expr {
        const Node& m = g_[id];
        if (shadow(id).ready > ready) {
            if (isMap(id) && depth < kMaxFuseDepth && tabulable(id)) {
                Expr e;
                e.node = &m;
                for (NodeId op : m.operands) e.kids.push_back(build(op, depth + 1));
                return e;
            }
            reachable = false;
        }
        Expr e;
        auto it = std::find(out.leaves.begin(), out.leaves.end(), id);
        e.leaf = static_cast<int>(it - out.leaves.begin());
        if (it == out.leaves.end()) out.leaves.push_back(id);
        return e;
    };
    Expr root;
    root.node = &n;
    for (NodeId op : n.operands) root.kids.push_back(build(op, 0));
    if (!reachable) return std::nullopt;

    std::vector<std::vector<Value>> domains;
    size_t rows = 1;
    for (NodeId leaf : out.leaves) {
        const Repr& r = shadow(leaf);
        if (r.numerical && !r.set.bounded) return std::nullopt;
        domains.push_back(r.numerical ? r.set.values : r.values);
        if (domains.back().empty()) return std::nullopt;
        rows *= domains.back().size();
        if (rows > maxRows) return std::nullopt;
    }

    // Leaves the chain's result never depends on are dropped: (i + 1) * a < (i + 1) * b reads
    // i for nothing, and every leaf kept multiplies the table. Checked on the whole table.
    std::vector<std::string> table(rows);
    {
        std::vector<Value> args(domains.size());
        for (size_t row = 0; row < rows; ++row) {
            size_t rest = row;
            for (size_t i = 0; i < domains.size(); ++i) {
                args[i] = domains[i][rest % domains[i].size()];
                rest /= domains[i].size();
            }
            try {
                Value y = evaluate(root, args);
                table[row] = std::string(atomTypeName(atomType(y))) + ":" + toDisplay(y);
            } catch (const std::domain_error&) {
                table[row] = "error";
            }
        }
    }
    std::vector<bool> keep(domains.size(), true);
    size_t stride = 1;
    for (size_t i = 0; i < domains.size(); ++i) {
        bool matters = false;
        for (size_t row = 0; row < rows && !matters; ++row) {
            size_t digit = (row / stride) % domains[i].size();
            if (digit != 0) matters = table[row] != table[row - digit * stride];
        }
        keep[i] = matters;
        stride *= domains[i].size();
    }

    std::vector<NodeId> kept;
    std::vector<int> position;  // per leaf: its index among the kept ones, or -1
    std::vector<Value> fixed;   // per leaf: the value used when dropped
    for (size_t i = 0; i < out.leaves.size(); ++i) {
        position.push_back(keep[i] ? static_cast<int>(kept.size()) : -1);
        fixed.push_back(domains[i].front());
        if (keep[i]) kept.push_back(out.leaves[i]);
    }
    if (kept.empty()) return std::nullopt;  // a constant: no MLP needed to learn that

    out.leaves = kept;
    out.node = n;
    out.node.kind = kept.size() == 1 ? OpKind::Map : OpKind::SequenceMap;
    out.node.operands = kept;
    out.node.op = MapOp::Opaque;
    out.node.opArgs.clear();
    out.node.fn = [root, position, fixed](std::span<const Value> args) {
        std::vector<Value> all = fixed;
        for (size_t i = 0; i < all.size(); ++i) {
            if (position[i] >= 0) all[i] = args[static_cast<size_t>(position[i])];
        }
        return evaluate(root, all);
    };
    return out;
}

std::string Lowering::describeFusion(const Node& n, const Fused& fused) {
    std::string leaves;
    for (NodeId leaf : fused.leaves)
        leaves += (leaves.empty() ? "'" : ", '") + describe(g_[leaf]) + "'";
    return "'" + describe(n) + "' computed from " + leaves;
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
    if (plan.route == MapRoute::Mlp && options_.optLevel > 0) {
        // Fusion may compute it earlier, from what its operands read.
        if (std::optional<Fused> fused = fuse(m, set)) {
            int leafReady = 0;
            for (NodeId leaf : fused->leaves) leafReady = std::max(leafReady, shadow(leaf).ready);
            r.ready = 2 * mlpLayer(leafReady) + 2;
        }
    }
    return shadows_.emplace(id, std::move(r)).first->second;
}

Repr Lowering::lowerMap(NodeId id) {
    const ValueSet& outSet = sets_[static_cast<size_t>(id)];
    std::optional<Fused> fused;
    const Node* n = &g_[id];
    if (outSet.bounded && outSet.values.empty()) {
        // Every combination of operand values raised: say why, with the first one.
        std::string why = "it raises on every value its operands can take";
        std::vector<Value> args;
        for (NodeId op : n->operands) {
            const ValueSet& in = sets_[static_cast<size_t>(op)];
            if (in.values.empty()) break;
            args.push_back(in.values.front());
        }
        if (args.size() == n->operands.size()) {
            try {
                n->fn(args);
            } catch (const std::domain_error& e) {
                why += " (" + std::string(e.what()) + ")";
            }
        }
        fail(*n, "'" + describe(*n) + "' cannot be computed: " + why);
    }
    std::vector<const Repr*> ops;
    for (NodeId op : n->operands) ops.push_back(&shadow(op));
    MapPlan plan = planMap(*n, ops, outSet);
    if (plan.route == MapRoute::Mlp && options_.optLevel > 0) {
        fused = fuse(*n, outSet);
        if (fused) {
            debugLine("fuse", describeFusion(*n, *fused));
            // The copy keeps the encoding chosen for the map (which may depend on what reads
            // the map, as a select does).
            fused->node.encoding = plan.numericalOut ? Encoding::Numerical : Encoding::Categorical;
            n = &fused->node;
        }
    }
    // A choice between numbers that fusion cannot make earlier gates its branches.
    if (!fused && plan.route == MapRoute::Mlp && multiplexes(*n, ops, plan)) {
        ops.clear();
        int ready = 0;
        for (NodeId op : n->operands) {
            ops.push_back(&repr(op));
            ready = std::max(ready, ops.back()->ready);
        }
        return condMlp(*n, ops, mlpLayer(ready), outSet);
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
                bool known = true,
                     integral = std::abs(plan.affine.back() - std::round(plan.affine.back())) == 0;
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
            // a x + b of an s-op whose square is known: a^2 x^2 + 2ab x + b^2.
            double b = plan.affine.back();
            const Repr* x = nullptr;
            double a = 0.0;
            bool single = true;
            for (size_t i = 0; i < ops.size(); ++i) {
                if (plan.affine[i] == 0.0) continue;
                if (ops[i]->isConstant) {
                    b += plan.affine[i] * ops[i]->values.front().toDouble();
                } else {
                    single = single && x == nullptr;
                    x = ops[i];
                    a = plan.affine[i];
                }
            }
            if (single && x && x->square) {
                Form sq = scaled(*x->square, a * a);
                addTo(sq, x->numberForm(), 2.0 * a * b);
                if (b != 0.0) sq.push_back({kOne, b * b});
                r.square = std::move(sq);
            }
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
    bool tooMany = std::any_of(ops.begin(), ops.end(),
                               [](const Repr* r) { return r->numerical && !r->set.bounded; });
    if (tooMany) {
        if (n->op >= MapOp::Eq && n->op <= MapOp::Ge)
            return comparisonMlp(*n, ops, mlpLayer(ready), outSet);
        fail(*n, "'" + describe(*n) +
                     "' is a function of numbers with too many values to tabulate; of such "
                     "numbers raspc compiles +, -, * by a constant and comparisons, each "
                     "written as one operator");
    }
    Repr out = mapMlp(*n, ops, mlpLayer(ready), plan.numericalOut, outSet,
                      plan.numericalOut && comparedOnlyWithPositions(g_[id], outSet));
    return out;
}

/// An MLP computing n.fn of `ops` into a fresh slot. Categorical operands gate one group of
/// units per combination of their values; at most one numerical operand is read through
/// ramp steps placed between neighbouring values where the function changes.
Repr Lowering::mapMlp(const Node& n, const std::vector<const Repr*>& ops, int layer,
                      bool numericalOut, const ValueSet& outSet, bool withSquare) {
    // -O0 keeps every map its own table, over its operands' values: a chain that -O1 folds
    // into a table of the few inputs underneath can then be far too large.
    auto unfusedHint = [&]() -> std::string {
        if (options_.optLevel > 0) return "";
        return " (at -O0 maps are not folded into tables of their inputs; compile without -O0)";
    };
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
            fail(n, "'" + describe(n) +
                        "' reads a numerical s-op with too many possible "
                        "values to tabulate (round() of it would be such a table too); lower "
                        "max_len or the alphabet");
        }
        // Gaps that are only rounding noise do not count: such values are one number.
        double ownGap = std::numeric_limits<double>::infinity();
        for (size_t i = 0; i + 1 < set.values.size(); ++i) {
            double a = set.values[i].toDouble(), b = set.values[i + 1].toDouble();
            if (!nearlyEqual(a, b)) ownGap = std::min(ownGap, b - a);
        }
        // One value (up to noise) is a constant z need not see; the first operand that varies
        // sets the scale; each later one is spread past everything before it.
        double lambda = !std::isfinite(ownGap) ? 0.0
                        : !std::isfinite(gap)  ? 1.0
                                               : (span + gap) / ownGap;
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
                            std::to_string(kMaxTableRows) + " rows" + unfusedHint());
            }
        }
        points = std::move(next);
        span = span + lambda * (set.hi - set.lo);
        if (lambda > 0.0) gap = std::min(gap, lambda * ownGap);
    }
    std::sort(points.begin(), points.end(),
              [](const Point& a, const Point& b) { return a.z < b.z; });
    double zMax = 0.0;
    for (const Point& p : points) zMax = std::max(zMax, std::abs(p.z));
    const bool numericalIn = !nums.empty();

    Repr out = Repr::written(2 * layer + 2, outSet, numericalOut);
    std::map<Value, int, TableLess> dimOf;
    int squareDim = -1;
    if (numericalOut) {
        int d = newDim();
        out.cols.push_back({{d, 1.0}});
        if (withSquare) {
            squareDim = newDim();
            out.square = Form{{squareDim, 1.0}};
        }
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
        if (numericalOut && squareDim >= 0)
            return {{out.cols[0][0].dim, y->toDouble()}, {squareDim, y->toDouble() * y->toDouble()}};
        if (numericalOut) return {{out.cols[0][0].dim, y->toDouble()}};
        auto it = dimOf.find(*y);
        if (it == dimOf.end()) return {};
        return {{it->second, 1.0}};
    };

    size_t rows = points.size();
    for (size_t c : cats) rows *= ops[c]->values.size();
    if (rows > kMaxTableRows) {
        fail(n, "'" + describe(n) + "' needs a lookup table of " + std::to_string(rows) +
                    " rows; raspc allows " + std::to_string(kMaxTableRows) + unfusedHint());
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
                    fail(n, "'" + describe(n) +
                                "' gives different results for numerical "
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
    block.label =
        "tuple for selector (" + site.loc.file + ":" + std::to_string(site.loc.line) + ")";
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

}  // namespace raspc::lowering
