// Equality selects of short programs (max_len up to kLongInputLength) as quadratic scores, the
// idea of long programs' lookups (lower_lookups.cpp) on a position table: where one side of
// `select(keys, queries, ==)` is a function of the position, its code and the code's square
// are two numeric columns of the position table instead of a one-hot over positions.
//
// Whether this makes a model narrower depends on the whole program (the position one-hot goes
// only if nothing else reads it), so lower() compiles a program both ways and keeps the
// narrower model (see there).
#include "backend/lowering.h"

namespace raspc::lowering {

namespace {

// What an equality block may lose to float32 rounding, in score units (the softmax's
// logits): buildHead leaves 4 to spare beyond kHardGap between selected keys, the BOS key
// and unselected keys; the block may take half of it.
constexpr double kBlockErrorBudget = 2.0;

// A one-hot that an MLP or a head wrote is assumed within this of 0 and 1 (embedding
// one-hots are exact). A quadratic score multiplies that error by up to the largest squared
// code distance, where a one-hot comparison multiplies it by 1.
constexpr double kComputedOneHotError = 0x1p-16;

}  // namespace

std::optional<std::vector<Value>> Lowering::positionalValues(const Repr& r) const {
    if (r.numerical || r.ready != 0 || r.isConstant || indexDims_.empty()) return std::nullopt;
    std::map<int, size_t> positionOf;
    for (size_t p = 0; p < indexDims_.size(); ++p) positionOf[indexDims_[p]] = p;
    std::vector<std::optional<Value>> at(indexDims_.size());
    for (size_t j = 0; j < r.values.size(); ++j) {
        for (const Term& t : r.cols[j]) {
            auto it = positionOf.find(t.dim);
            if (it == positionOf.end() || t.coeff != 1.0 || at[it->second]) return std::nullopt;
            at[it->second] = r.values[j];
        }
    }
    std::vector<Value> out;
    for (const auto& v : at) {
        if (!v) return std::nullopt;
        out.push_back(*v);
    }
    return out;
}

int Lowering::positionColumn(const std::vector<double>& perPosition) {
    for (const auto& [dim, values] : positionColumns_) {
        if (values == perPosition) return dim;
    }
    int dim = newDim();
    positionColumns_.push_back({dim, perPosition});
    return dim;
}

Form Lowering::positionForm(const std::vector<double>& perPosition) {
    const size_t n = perPosition.size();
    std::vector<double> index(n), square(n);
    for (size_t p = 0; p < n; ++p) {
        index[p] = static_cast<double>(p);
        square[p] = index[p] * index[p];
    }
    // v(p) = c2 p^2 + c1 p + c0, fitted on the first three positions and checked on all:
    // codes that are affine in the position, and their squares, share the index's two columns.
    const double v0 = perPosition[0];
    const double v1 = n > 1 ? perPosition[1] : v0;
    const double v2 = n > 2 ? perPosition[2] : 2.0 * v1 - v0;
    const double c2 = (v2 - 2.0 * v1 + v0) / 2.0;
    const double c1 = v1 - v0 - c2;
    bool fits = true;
    for (size_t p = 0; p < n && fits; ++p) {
        fits = c2 * square[p] + c1 * index[p] + v0 == perPosition[p];
    }
    if (!fits) return {{positionColumn(perPosition), 1.0}};
    Form f;
    if (c2 != 0.0) f.push_back({positionColumn(square), c2});
    if (c1 != 0.0) f.push_back({positionColumn(index), c1});
    if (v0 != 0.0) f.push_back({kOne, v0});
    return f;
}

bool Lowering::comparedOnlyWithPositions(const Node& n, const ValueSet& outSet) const {
    if (!positionEquality_ || n.encoding != Encoding::Inferred || !outSet.bounded ||
        outSet.values.empty())
        return false;
    for (const Value& v : outSet.values) {
        if (!v.isNumber() || v.toDouble() != std::round(v.toDouble())) return false;
    }
    // Indices, or a chain of maps of indices alone (folded into the embedding).
    std::function<bool(NodeId)> positional = [&](NodeId id) {
        const Node& m = g_[id];
        if (m.kind == OpKind::Indices) return true;
        return m.kind == OpKind::Map && m.operands.size() == 1 && positional(m.operands[0]);
    };
    size_t self = g_.nodes.size();
    for (size_t id = 0; id < g_.nodes.size(); ++id) {
        if (&g_.nodes[id] == &n) self = id;
    }
    if (self == g_.nodes.size() || outputOnly_[self]) return false;
    for (NodeId out : options_.outputs) {
        if (static_cast<size_t>(out) == self) return false;
    }
    bool read = false;
    for (const Node& reader : g_.nodes) {
        for (size_t i = 0; i < reader.operands.size(); ++i) {
            if (static_cast<size_t>(reader.operands[i]) != self) continue;
            if (reader.kind != OpKind::Select || reader.cmp != Cmp::Eq ||
                !positional(reader.operands[1 - i]))
                return false;
            read = true;
        }
    }
    return read;
}

/// The block's three columns score sum over the one-hots' entries y_i (query) and x_j (key)
/// of y_i x_j (2 c_i c_j + 1 - c_j^2 - c_i^2) = y_i x_j (1 - (c_j - c_i)^2): 1 at a match,
/// at most 0 elsewhere, whole codes c being at least 1 apart. A side that is a function of
/// the position reads its code and square from position-table columns (its "one-hot" is the
/// constant 1), a constant side reads them from the one dimension, and any other side from
/// its one-hot. Reading the one-hot's total (not the constant 1) beside each code keeps the
/// score linear in each one-hot, so an error e in one of its entries moves the score by e
/// times that entry's own score, at most 4 M^2 for codes up to M in magnitude.
///
/// Exactness: the score's terms add up to at most largest = scale (4 M^2 + 2) (scale from
/// buildHead), and float32 rounds a dot product of a few dozen such terms by well under
/// 2^-20 of that; computed one-hots add up to scale 4 M^2 kComputedOneHotError. Both must
/// stay within kBlockErrorBudget, else the one-hot comparison is used.
std::optional<Lowering::Block> Lowering::equalityBlock(NodeId s, double tieRange) {
    const Node& sel = g_[s];
    if (!positionEquality_ || sel.kind != OpKind::Select || sel.cmp != Cmp::Eq) return std::nullopt;

    struct Side {
        const Repr* repr = nullptr;            // one-hot side
        std::optional<Value> constant;         // constant side
        std::optional<std::vector<Value>> at;  // side that is a function of the position
    };
    Side sides[2];
    bool anyPositional = false;
    for (int i = 0; i < 2; ++i) {
        NodeId op = sel.operands[static_cast<size_t>(i)];
        if (g_[op].kind == OpKind::Constant) {
            sides[i].constant = g_[op].constant;
            continue;
        }
        // A numerical side needs its square beside it (comparedOnlyWithPositions); without
        // it, a one-hot copy (an MLP), which the usual comparison makes.
        if (shadow(op).numerical) {
            const Repr& r = repr(op);
            if (!r.square || !r.set.bounded) return std::nullopt;
            sides[i].repr = &r;
            continue;
        }
        sides[i].repr = &categorical(op);
        sides[i].at = positionalValues(*sides[i].repr);
        anyPositional = anyPositional || sides[i].at.has_value();
    }
    if (!anyPositional) return std::nullopt;

    // Codes: whole numbers equal exactly when the values are. Whole numbers code as
    // themselves (which keeps positions' codes affine); anything else by its place in a table.
    std::vector<Value> all;
    bool numericalSide = false;
    for (const Side& side : sides) {
        if (side.constant) all.push_back(*side.constant);
        if (side.repr && side.repr->numerical) {
            all.insert(all.end(), side.repr->set.values.begin(), side.repr->set.values.end());
            numericalSide = true;
        } else if (side.repr) {
            all.insert(all.end(), side.repr->values.begin(), side.repr->values.end());
        }
    }
    const bool whole = std::all_of(all.begin(), all.end(), [](const Value& v) {
        return v.isNumber() && v.toDouble() == std::round(v.toDouble());
    });
    // A number in the stream is its own code: it cannot be looked up in a table.
    if (numericalSide && !whole) return std::nullopt;
    std::vector<Value> table;
    for (const Value& v : all) {
        if (std::none_of(table.begin(), table.end(),
                         [&](const Value& t) { return compare(Cmp::Eq, t, v); }))
            table.push_back(v);
    }
    auto code = [&](const Value& v) -> double {
        if (whole) return v.toDouble();
        for (size_t i = 0; i < table.size(); ++i) {
            if (compare(Cmp::Eq, table[i], v)) return static_cast<double>(i);
        }
        throw InternalError("equality code of a value outside the table");
    };
    double largestCode = 0.0;
    for (const Value& v : all) largestCode = std::max(largestCode, std::abs(code(v)));

    const double scale = 2.0 * kHardGap * (tieRange + 1.0);
    const double m2 = largestCode * largestCode;
    if (scale * (4.0 * m2 + 2.0) * 0x1p-20 > kBlockErrorBudget / 2.0) return std::nullopt;
    for (const Side& side : sides) {
        const bool computed = side.repr && side.repr->ready > 0;
        if (computed && scale * 4.0 * m2 * kComputedOneHotError > kBlockErrorBudget / 2.0)
            return std::nullopt;
    }

    // Per side: the code, its square and the one-hot's total, as linear reads.
    struct Reads {
        Form code, square, mass;
    };
    auto readsOf = [&](const Side& side) {
        Reads r;
        if (side.constant) {
            double c = code(*side.constant);
            r.code = {{kOne, c}};
            r.square = {{kOne, c * c}};
            r.mass = {{kOne, 1.0}};
        } else if (side.at) {
            std::vector<double> codes, squares;
            for (const Value& v : *side.at) {
                codes.push_back(code(v));
                squares.push_back(codes.back() * codes.back());
            }
            r.code = positionForm(codes);
            r.square = positionForm(squares);
            r.mass = {{kOne, 1.0}};
        } else if (side.repr->numerical) {
            r.code = side.repr->cols[0];
            r.square = *side.repr->square;
            r.mass = {{kOne, 1.0}};
        } else {
            for (size_t j = 0; j < side.repr->values.size(); ++j) {
                double c = code(side.repr->values[j]);
                addTo(r.code, side.repr->cols[j], c);
                addTo(r.square, side.repr->cols[j], c * c);
                addTo(r.mass, side.repr->cols[j]);
            }
        }
        // Zero terms are dropped: an all-zero read is a read of nothing.
        return r;
    };
    const Reads key = readsOf(sides[0]);
    const Reads query = readsOf(sides[1]);

    Block b;
    for (const Side& side : sides) {
        if (side.repr) b.ready = std::max(b.ready, side.repr->ready);
    }
    b.q.push_back(scaled(query.code, 2.0));
    b.k.push_back(key.code);
    b.q.push_back(query.mass);
    Form keyRest = key.mass;
    addTo(keyRest, key.square, -1.0);
    b.k.push_back(keyRest);
    b.q.push_back(scaled(query.square, -1.0));
    b.k.push_back(key.mass);
    // A column that reads nothing on one side adds nothing: leave it out.
    for (size_t j = b.q.size(); j-- > 0;) {
        if (b.q[j].empty() || b.k[j].empty()) {
            b.q.erase(b.q.begin() + static_cast<std::ptrdiff_t>(j));
            b.k.erase(b.k.begin() + static_cast<std::ptrdiff_t>(j));
        }
    }
    debugLine("equality", "select " + describe(sel) + ": quadratic block on position columns");
    return b;
}

}  // namespace raspc::lowering
