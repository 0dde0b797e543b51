// Lowering of selects in long programs (maximum length above kLongInputLength), where
// positions are numbers rather than one-hots: every select becomes a 2-D lookup head that a
// runner can answer from a convex hull of its keys.
#include "backend/lowering.h"

namespace raspc::lowering {

namespace {

// exp(-x) is exactly 0 in float64 from about x = 745.2: keys scoring this far below the best
// get no weight at all.
constexpr double kHardGap64 = 750.0;

}  // namespace

/// An aggregate of a long program: `select(keys, queries, ==)` as a head with 2-D query
/// (q + 1/4, 1) and key (2k, -k^2), so the score 2k(q + 1/4) - k^2 is largest at the key
/// nearest q + 1/4: a match if there is one, and one key point only. "latest" ("earliest")
/// adds a position term too small to pass a match, so the newest (oldest) match wins. The head
/// also reads the key it found; an MLP in the same layer gives the default where that key is
/// no match.
Repr Lowering::lowerLookup(NodeId id) {
    const Node& n = g_[id];
    const Node& sel = g_[n.operands[0]];
    if (sel.kind != OpKind::Select || sel.cmp != Cmp::Eq) {
        fail(n, "with max_len above " + std::to_string(kLongInputLength) +
                    ", a select must be one equality, select(keys, queries, ==)");
    }
    if (n.reduction != Reduction::Mean && n.reduction != Reduction::Latest &&
        n.reduction != Reduction::Earliest) {
        fail(n, "with max_len above " + std::to_string(kLongInputLength) +
                    ", aggregates take the mean of matches, \"latest\" or \"earliest\"");
    }
    const Repr& keys = repr(sel.operands[0]);
    const Repr& queries = repr(sel.operands[1]);
    const Repr& vals = repr(n.operands[1]);
    const ValueSet& outSet = sets_[static_cast<size_t>(id)];

    // Codes: whole numbers standing for the compared values, equal exactly when the values
    // are. Numbers code as themselves; anything else by its place in a shared table.
    bool numbers = keys.allNumbers() && queries.allNumbers();
    std::vector<Value> table;
    if (!numbers) {
        if (keys.numerical || queries.numerical) fail(sel, "this select compares numbers with non-numbers");
        for (const Repr* r : {&keys, &queries}) {
            for (const Value& v : r->values) {
                if (std::none_of(table.begin(), table.end(),
                                 [&](const Value& t) { return compare(Cmp::Eq, t, v); }))
                    table.push_back(v);
            }
        }
    }
    auto code = [&](const Value& v) {
        if (numbers) return v.toDouble();
        for (size_t i = 0; i < table.size(); ++i) {
            if (compare(Cmp::Eq, table[i], v)) return static_cast<double>(i);
        }
        throw InternalError("lookup code of a value outside the table");
    };
    // The code of a side as a linear read, its square, and its largest magnitude.
    struct Side {
        Form code, square;
        double magnitude = 0.0;
        bool whole = true;
    };
    auto sideOf = [&](const Repr& r, bool needSquare) {
        Side s;
        if (r.numerical) {
            s.code = r.cols[0];
            if (!r.set.rangeKnown) fail(sel, "this select compares numbers of unknown range");
            s.magnitude = std::max(std::abs(r.set.lo), std::abs(r.set.hi));
            s.whole = r.set.integral;
            if (needSquare) {
                if (!r.square) {
                    fail(sel, "the keys of this select are numbers with too many values, and not "
                              "the index plus a constant: a lookup needs their square");
                }
                s.square = *r.square;
            }
            return s;
        }
        for (size_t i = 0; i < r.values.size(); ++i) {
            double c = code(r.values[i]);
            addTo(s.code, r.cols[i], c);
            addTo(s.square, r.cols[i], c * c);
            s.magnitude = std::max(s.magnitude, std::abs(c));
            s.whole = s.whole && c == std::round(c);
        }
        return s;
    };
    Side key = sideOf(keys, true);
    Side query = sideOf(queries, false);
    if (!key.whole || !query.whole) fail(sel, "this select compares numbers that are not whole");

    // Keys that are the index plus a constant never repeat, so need no position term.
    const bool unique = keys.numerical && keys.square;
    const bool positional = !unique && n.reduction != Reduction::Mean;
    const double positions = options_.maxLen;
    // Score units: a match beats the nearest other key point by 1/2 (by 1/4 once a position
    // term of at most 1/4 is added), and the position term separates matches by epsilon.
    const double epsilon = positional ? 0.25 / positions : 0.0;
    const double scale = positional ? kHardGap64 / epsilon : 2.0 * kHardGap64;
    const double m = std::max(key.magnitude, query.magnitude + 1.0);
    // Rounding a score of size `largest` in float64 moves it by a few units of 2^-52 of it:
    // that must stay far below the gap (kHardGap64) that keeps the best key alone.
    const double largest = scale * (2.0 * m * m + m * m + 1.0);
    if (largest * 0x1p-50 > kHardGap64 / 8.0) {
        fail(sel, "this lookup compares numbers up to " + std::to_string(static_cast<long long>(m)) +
                      ", too large for float64 scores to keep apart; lower max_len");
    }

    // float32 keeps whole numbers exact up to 2^24 and about 7 digits: too few for these
    // scores (the first lookup that needs more says why).
    if (float64Reason_.empty() && largest * 0x1p-21 > kHardGap64 / 8.0) {
        float64Reason_ = positional
                             ? "'" + describe(n) + "' tells " + std::to_string(options_.maxLen) +
                                   " positions apart by 1/" +
                                   std::to_string(static_cast<long long>(4 * positions)) +
                                   " of a score unit, past float32's 7 digits"
                             : "'" + describe(n) + "' squares numbers up to " +
                                   std::to_string(static_cast<long long>(m)) +
                                   ", past float32's exact whole numbers (2^24)";
    }
    int ready = std::max({keys.ready, queries.ready, vals.ready});
    int layer = headLayer(ready);
    HeadPlan h;
    h.layer = layer;
    h.label = "lookup " + describe(n);
    h.hard = true;
    h.dk = 2;
    Form qx = scaled(query.code, scale);
    qx.push_back({kOne, 0.25 * scale});
    emitColumn(h.q, 0, qx, 0.0);
    emitColumn(h.q, 1, {{kOne, scale}}, 0.0);
    Form ky = scaled(key.square, -1.0);
    if (positional) {
        addTo(ky, {{indexPowerDims_[0], n.reduction == Reduction::Latest ? epsilon : -epsilon}});
    }
    // BOS scores below every real key: it is never the answer, the MLP below gives defaults.
    emitColumn(h.k, 0, scaled(key.code, 2.0), 0.0);
    emitColumn(h.k, 1, ky, -(2.0 * m + 2.0) * (2.0 * m + 2.0));

    // Values: the key's code, then the payload.
    int found = newDim();
    emitColumn(h.v, 0, key.code, 0.0);
    h.o.push_back({0, found, 1.0});
    // A mean of several different values is a number, whatever the values' encoding; and
    // numbers of many values travel better as one number than as a one-hot (as for maps).
    const bool numerical =
        n.encoding == Encoding::Numerical || vals.numerical || !outSet.bounded ||
        (n.encoding == Encoding::Inferred && vals.allNumbers() && n.constant.isNumber() &&
         outSet.values.size() > kSmallCategorical);
    const Repr& moved = vals;
    std::vector<int> payload;
    if (numerical) {
        payload.push_back(newDim());
        emitColumn(h.v, 1, vals.numberForm(), 0.0);
        h.o.push_back({1, payload[0], 1.0});
    } else {
        for (size_t i = 0; i < moved.values.size(); ++i) {
            payload.push_back(newDim());
            emitColumn(h.v, static_cast<int>(i) + 1, moved.cols[i], 0.0);
            h.o.push_back({static_cast<int>(i) + 1, payload.back(), 1.0});
        }
    }
    h.dv = static_cast<int>(payload.size()) + 1;
    heads_.push_back(std::move(h));
    // A mean of matches (keys that may repeat) holding different values is no one-hot: unless
    // only an output's readout reads it (its margin tells), the average check must.
    if (!numerical && !unique && n.reduction == Reduction::Mean && payload.size() > 1 &&
        !readOnlyAsOutput(n)) {
        std::vector<Form> columns;
        for (int p : payload) columns.push_back({{p, 1.0}});
        checkAverage(n, layer, columns);
    }

    // t = found - query is 0 exactly at a match; gate(p) = relu(p + Bt) + relu(p - Bt)
    // - B relu(t) - B relu(-t) - relu(p) is p there and 0 at every other whole t (0 <= p <= B).
    // The default comes from 1 - [t == 0] = relu(t) - relu(t - 1) + relu(-t) - relu(-t - 1).
    Form t = {{found, 1.0}};
    addTo(t, query.code, -1.0);
    Form tMinus1 = t;
    tMinus1.push_back({kOne, -1.0});
    Form negT = scaled(t, -1.0);
    Form negTMinus1 = negT;
    negTMinus1.push_back({kOne, -1.0});
    BlockPlan block;
    block.layer = layer;
    block.label = "lookup default " + describe(n);
    Repr out = Repr::written(2 * layer + 2, outSet, numerical);
    if (numerical) {
        bool known = vals.numerical ? vals.set.rangeKnown : vals.allNumbers();
        if (!known || !n.constant.isNumber()) {
            fail(n, "this lookup's values or default are not numbers of known range");
        }
        const auto [lo, hi] = vals.numberRange();
        const double d = n.constant.toDouble();
        const double bound = std::max(1.0, hi - lo);
        // The gates add p - lo and bound t, and write (bound + |lo - d|) relu(+-t) and lo.
        const double far = key.magnitude + query.magnitude;  // |t| at most
        requireExactWhole(n, bound + (bound + std::abs(lo - d)) * (far + 1.0) + std::abs(lo),
                          "gates the numbers it finds by how far their key is from the query",
                          "look up smaller numbers, or keys nearer the queries");
        int dim = newDim();
        out.cols.push_back({{dim, 1.0}});
        Form p = {{payload[0], 1.0}, {kOne, -lo}};  // p - lo >= 0
        Form up = p, down = p;
        addTo(up, t, bound);
        addTo(down, t, -bound);
        block.units.push_back({up, {{dim, 1.0}}});
        block.units.push_back({down, {{dim, 1.0}}});
        block.units.push_back({p, {{dim, -1.0}}});
        // out = gate(p - lo) + lo - (lo - d)(1 - [t == 0]).
        block.units.push_back({t, {{dim, -bound - (lo - d)}}});
        block.units.push_back({negT, {{dim, -bound - (lo - d)}}});
        block.units.push_back({tMinus1, {{dim, lo - d}}});
        block.units.push_back({negTMinus1, {{dim, lo - d}}});
        block.units.push_back({{{kOne, 1.0}}, {{dim, lo}}});
    } else {
        // One column per value the lookup may give; a payload column feeds the column of
        // its value, and the default's column takes 1 - [t == 0].
        std::vector<int> dims;
        int defaultDim = -1;
        for (const Value& v : outSet.values) {
            int dim = newDim();
            dims.push_back(dim);
            out.values.push_back(v);
            out.cols.push_back({{dim, 1.0}});
            if (sameTableEntry(v, n.constant)) defaultDim = dim;
        }
        if (defaultDim < 0) throw InternalError("a lookup's default is missing from its values");
        Form shared;  // what relu(t) and relu(-t) write: -1 to every payload's column
        for (size_t i = 0; i < moved.values.size(); ++i) {
            auto it = std::find_if(out.values.begin(), out.values.end(), [&](const Value& v) {
                return sameTableEntry(v, moved.values[i]);
            });
            if (it == out.values.end()) continue;  // a value the set says never arrives
            int dim = dims[static_cast<size_t>(it - out.values.begin())];
            Form p = {{payload[i], 1.0}};
            Form up = p, down = p;
            addTo(up, t, 1.0);
            addTo(down, t, -1.0);
            block.units.push_back({up, {{dim, 1.0}}});
            block.units.push_back({down, {{dim, 1.0}}});
            block.units.push_back({p, {{dim, -1.0}}});
            shared.push_back({dim, -1.0});
        }
        Form side = shared;
        side.push_back({defaultDim, 1.0});
        block.units.push_back({t, side});
        block.units.push_back({negT, side});
        block.units.push_back({tMinus1, {{defaultDim, -1.0}}});
        block.units.push_back({negTMinus1, {{defaultDim, -1.0}}});
    }
    blocks_.push_back(std::move(block));
    return out;
}

}  // namespace raspc::lowering
