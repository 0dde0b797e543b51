// Lowering of attention: selectors into scored blocks, and the heads of aggregates, sums and
// selector widths (the BOS position carries defaults).
#include "backend/lowering.h"

namespace raspc::lowering {

namespace {

// The head mask doing the work of `s` when it compares key positions with query positions by
// <=, <, >= or >; None otherwise.
rt::HeadMask positionMask(const Graph& g, NodeId s) {
    const Node& n = g[s];
    if (n.kind != OpKind::Select || g[n.operands[0]].kind != OpKind::Indices ||
        g[n.operands[1]].kind != OpKind::Indices)
        return rt::HeadMask::None;
    switch (n.cmp) {
        case Cmp::Le:
            return rt::HeadMask::KeyAtMost;
        case Cmp::Lt:
            return rt::HeadMask::KeyBefore;
        case Cmp::Ge:
            return rt::HeadMask::KeyAtLeast;
        case Cmp::Gt:
            return rt::HeadMask::KeyAfter;
        default:
            return rt::HeadMask::None;
    }
}

}  // namespace

/// Splits a selector into a position mask and blocks whose scores add up: a conjunction at
/// the top becomes one block per conjunct; each block compares one key s-op (or tuple) with
/// one query s-op (or tuple) through its predicate matrix. A key is selected when it passes
/// the mask and every block scores 1. The first conjunct comparing indices with indices by an
/// order becomes the mask, so the head reads no position features for it; a second such
/// conjunct stays a block (one mask per head).
Lowering::Scoring Lowering::selectorScoring(NodeId selector, double tieRange) {
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

    Scoring scoring;
    for (auto it = conjuncts.begin(); it != conjuncts.end(); ++it) {
        if (rt::HeadMask mask = positionMask(g_, *it); mask != rt::HeadMask::None) {
            scoring.mask = mask;
            conjuncts.erase(it);
            break;
        }
    }

    std::vector<Block>& blocks = scoring.blocks;
    for (NodeId c : conjuncts) {
        if (std::optional<Block> b = equalityBlock(c, tieRange)) {
            blocks.push_back(std::move(*b));
            continue;
        }
        std::vector<NodeId> keys, queries;
        std::function<void(NodeId)> collect = [&](NodeId s) {
            const Node& n = g_[s];
            if (n.kind == OpKind::Select) {
                NodeId k = n.operands[0], q = n.operands[1];
                if (g_[k].kind != OpKind::Constant &&
                    std::find(keys.begin(), keys.end(), k) == keys.end())
                    keys.push_back(k);
                if (g_[q].kind != OpKind::Constant &&
                    std::find(queries.begin(), queries.end(), q) == queries.end())
                    queries.push_back(q);
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
                case OpKind::SelectAnd:
                    return holds(n.operands[0], kv, qv) && holds(n.operands[1], kv, qv);
                case OpKind::SelectOr:
                    return holds(n.operands[0], kv, qv) || holds(n.operands[1], kv, qv);
                case OpKind::SelectNot:
                    return !holds(n.operands[0], kv, qv);
                default:
                    throw InternalError("selector operand is not a selector");
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
    return scoring;
}

/// A head whose real keys score `scale` per satisfied block, under the scoring's position mask.
/// The BOS key, which no mask hides, scores half a block less than a full match, so it wins
/// exactly when nothing is selected (or the same as a full match, for selector_width); with no
/// blocks at all, visible real keys score 0 and BOS -scale / 2. The BOS query attends to BOS
/// alone.
HeadPlan Lowering::buildHead(const Scoring& scoring, bool bosLikeSelected, int layer,
                             const std::string& label, const std::optional<TieBreak>& tie) {
    const std::vector<Block>& blocks = scoring.blocks;
    // Selected keys, BOS and unselected keys score at least half a block apart; a tie-break
    // spreads selected keys over kHardGap * range, so a block must outweigh that too.
    const double range = tie ? tie->range : 0.0;
    const double scale = 2.0 * kHardGap * (range + 1.0);
    HeadPlan h;
    h.layer = layer;
    h.label = label;
    h.mask = scoring.mask;
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
    if (longInputs()) return lowerLookup(id);
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
            std::vector<double> ranks;
            for (int i = 0; i < positions; ++i) {
                double rank = latest ? i : positions - 1 - i;
                ranks.push_back(rank);
                if (rank != 0.0 && !positionEquality_)
                    t.form.push_back({indexDims_[static_cast<size_t>(i)], rank});
            }
            // With position columns in use, the rank is the index's column, not its one-hot.
            if (positionEquality_) t.form = positionForm(ranks);
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
            std::sort(order.begin(), order.end(),
                      [&](size_t a, size_t b) { return ranked.values[a] < ranked.values[b]; });
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
    // With `positional`, keys that are a one-to-one function of the position count too.
    std::function<bool(NodeId, bool)> atMostOne = [&](NodeId s, bool positional) {
        const Node& sn = g_[s];
        if (sn.kind == OpKind::Select) {
            if (sn.cmp != Cmp::Eq) return false;
            if (g_[sn.operands[0]].kind == OpKind::Indices) return true;
            if (!positional) return false;
            const auto keys = positionalValues(repr(sn.operands[0]));  // indices + 1, say
            if (!keys) return false;
            for (size_t i = 0; i < keys->size(); ++i) {
                for (size_t j = 0; j < i; ++j) {
                    if (compare(Cmp::Eq, (*keys)[i], (*keys)[j])) return false;
                }
            }
            return true;
        }
        if (sn.kind == OpKind::SelectAnd)
            return atMostOne(sn.operands[0], positional) || atMostOne(sn.operands[1], positional);
        return false;
    };
    const bool picksOne = tie.has_value() || atMostOne(n.operands[0], true);
    // A move of numbers becomes a one-hot of them for the maps that read it, but only where it
    // compares indices themselves: by keys computed from the position it stays one number
    // (tracr's detect-pattern, whose shifted booleans are and-ed, is 10 wide so, 13 as
    // one-hots). A move that only the readout reads carries its number: one dimension.
    const bool movesByIndex = tie.has_value() || atMostOne(n.operands[0], false);
    const bool numerical =
        n.encoding == Encoding::Numerical ||
        (n.encoding == Encoding::Inferred && vals.allNumbers() && n.constant.isNumber() &&
         (vals.numerical || !movesByIndex || readOnlyAsOutput(n)));
    // A categorical move of a numerical s-op moves its one-hot view instead.
    const Repr& moved = !numerical && vals.numerical ? categorical(n.operands[1]) : vals;
    if (numerical && !(vals.allNumbers() && n.constant.isNumber())) {
        fail(n, "'" + describe(n) + "' is numerical but its values or default are not numbers");
    }
    if (!numerical && !picksOne && vals.allNumbers() && !n.constant.isNumber()) {
        fail(n, "this aggregate averages numbers but its default " + toDisplay(n.constant) +
                    " is not a number; give a number as the default");
    }
    if (!numerical && !outSet.bounded) {
        fail(n, "'" + describe(n) + "' has too many possible values for a categorical encoding");
    }
    if (!numerical && outSet.averagesDistinct) {
        fail(n,
             "this aggregate can select several keys holding different values, and "
             "averaging them has no exact categorical result; make the selector pick one key "
             "(e.g. add `and select(indices, indices, ==)`-style conditions), use a reduction "
             "such as \"latest\" or \"max\", or aggregate numbers");
    }

    Scoring scoring = selectorScoring(n.operands[0], tie ? tie->range : 0.0);
    int ready = std::max({moved.ready, tieReady, scoring.ready()});
    int layer = headLayer(ready);
    HeadPlan h = buildHead(scoring, false, layer, "aggregate " + describe(n), tie);

    // A categorical aggregate gives one of the values it moves or its default: values of the
    // set that only an average could give (the set may not know the selector picks one key)
    // get no column. `movedResult` says which results arrive from keys (not only as default).
    std::vector<Value> results;
    std::vector<bool> movedResult;
    for (const Value& v : outSet.values) {
        const bool moves = std::any_of(moved.values.begin(), moved.values.end(),
                                       [&](const Value& m) { return sameTableEntry(m, v); });
        if (!moves && !sameTableEntry(v, n.constant)) continue;
        results.push_back(v);
        movedResult.push_back(moves);
    }
    // A move that only the readout reads carries its value's index in `results` instead of a
    // one-hot: one dimension, decoded by the nearest index.
    const bool coded = !numerical && picksOne && n.encoding == Encoding::Inferred &&
                       results.size() > 1 && readOnlyAsOutput(n);

    Repr out = Repr::written(2 * layer + 1, outSet, numerical);
    if (numerical) {
        int d = newDim(n.constant.toDouble());
        emitColumn(h.v, 0, vals.numberForm(), n.constant.toDouble());
        h.o.push_back({0, d, 1.0});
        h.dv = 1;
        out.cols.push_back({{d, 1.0}});
    } else if (coded) {
        auto codeOf = [&](const Value& v) -> std::optional<double> {
            for (size_t c = 0; c < results.size(); ++c) {
                if (sameTableEntry(results[c], v)) return static_cast<double>(c);
            }
            return std::nullopt;  // a value the set says never arrives
        };
        // A default the set says never arrives gets -1, which decodes to nothing.
        const double defaultCode = codeOf(n.constant).value_or(-1.0);
        int d = newDim(defaultCode);
        Form f;
        for (size_t i = 0; i < moved.values.size(); ++i) {
            if (const auto code = codeOf(moved.values[i])) addTo(f, moved.cols[i], *code);
        }
        emitColumn(h.v, 0, f, defaultCode);
        h.o.push_back({0, d, 1.0});
        h.dv = 1;
        out.coded = true;
        out.values = results;
        out.cols.push_back({{d, 1.0}});
    } else {
        int col = 0;
        for (const Value& v : results) {
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
        // Keys of different values may be selected together on some inputs, and their average
        // held by no one-hot: an output's readout tells (its margin), anything else reading it
        // needs the check.
        if (!picksOne && std::count(movedResult.begin(), movedResult.end(), true) > 1 &&
            !readOnlyAsOutput(n)) {
            std::vector<Form> movedColumns;
            for (size_t j = 0; j < out.cols.size(); ++j) {
                if (movedResult[j]) movedColumns.push_back(out.cols[j]);
            }
            checkAverage(n, layer, movedColumns);
        }
    }
    heads_.push_back(std::move(h));
    return out;
}

/// A one-hot entry c in [0, 1] is min(c, 1 - c) = relu(c) - relu(2c - 1) from clean: 0 for
/// a clean one-hot, at least 1/n where n keys holding different values were averaged.
void Lowering::checkAverage(const Node& n, int layer, const std::vector<Form>& oneHot) {
    if (averageCheckDim_ < 0) averageCheckDim_ = newDim();
    averageChecks_.push_back(describe(n));
    BlockPlan block;
    block.layer = layer;
    block.label = "check " + describe(n);
    for (const Form& c : oneHot) {
        Form twice = scaled(c, 2.0);
        twice.push_back({kOne, -1.0});
        block.units.push_back({c, {{averageCheckDim_, 1.0}}});
        block.units.push_back({twice, {{averageCheckDim_, -1.0}}});
    }
    blocks_.push_back(std::move(block));
}

/// Adds units that write delta * clamp((x - from) / (to - from), 0, 1): a ramp that is 0 up to
/// `from` and 1 from `to` on (from < to), or the mirror image (from > to).
namespace {

void addRamp(BlockPlan& block, const Form& x, double from, double to, const Form& delta) {
    double slope = 1.0 / (to - from);
    for (auto [edge, sign] : {std::pair{from, 1.0}, std::pair{to, -1.0}}) {
        Form in = scaled(x, slope);
        in.push_back({kOne, -slope * edge});
        block.units.push_back({in, scaled(delta, sign)});
    }
}

}  // namespace

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

    Scoring scoring = selectorScoring(n.operands[0]);
    int ready = std::max(vals.ready, scoring.ready());
    int layer = headLayer(ready);
    HeadPlan h = buildHead(scoring, true, layer, "aggregate(sum) " + describe(n));
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

    Repr out = Repr::written(2 * layer + 2, outSet, true);
    out.cols.push_back({{outDim, 1.0}});
    return out;
}

/// WidthInverse: a head that weighs BOS like a selected key reads 1/(w+1) from BOS's flag.
/// The map decoding w (split_width) usually joins the same layer's MLP.
Repr Lowering::lowerWidthInverse(NodeId id) {
    const Node& n = g_[id];
    if (longInputs()) {
        fail(n, "selector_width and length are not compiled for max_len above " +
                    std::to_string(kLongInputLength) + "; lower max_len");
    }
    Scoring scoring = selectorScoring(n.operands[0]);
    int layer = headLayer(scoring.ready());
    HeadPlan h = buildHead(scoring, true, layer, "selector_width " + describe(n));
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

}  // namespace raspc::lowering
