// Maps of numbers compiled from their operator rather than from a table of their values:
// what numbers with too many values to enumerate (positions in long programs) need, and what
// a choice between numbers does best (a gate per branch instead of a table of every value).
#include "backend/lowering.h"

namespace raspc::lowering {

std::optional<std::vector<double>> Lowering::structuralAffine(
    const Node& n, const std::vector<const Repr*>& ops) const {
    bool tooMany = std::any_of(ops.begin(), ops.end(),
                               [](const Repr* r) { return r->numerical && !r->set.bounded; });
    if (!tooMany || n.encoding == Encoding::Categorical) return std::nullopt;
    std::vector<double> coeffs(ops.size() + 1, 0.0);
    // Adds c times argument `a` to the result; false if it is not a number.
    auto add = [&](const MapArg& a, double c) {
        if (a.slot < 0) {
            if (!a.atom.isNumber()) return false;
            coeffs.back() += c * a.atom.toDouble();
            return true;
        }
        coeffs[static_cast<size_t>(a.slot)] += c;
        return ops[static_cast<size_t>(a.slot)]->allNumbers();
    };
    const auto& args = n.opArgs;
    switch (n.op) {
        case MapOp::Add:
            if (add(args[0], 1.0) && add(args[1], 1.0)) return coeffs;
            return std::nullopt;
        case MapOp::Sub:
            if (add(args[0], 1.0) && add(args[1], -1.0)) return coeffs;
            return std::nullopt;
        case MapOp::Neg:
            if (add(args[0], -1.0)) return coeffs;
            return std::nullopt;
        case MapOp::Mul:
            // Only by a constant: a product of two varying numbers is not linear.
            for (int c = 0; c < 2; ++c) {
                const MapArg& k = args[static_cast<size_t>(c)];
                const MapArg& x = args[static_cast<size_t>(1 - c)];
                if (k.slot < 0 && k.atom.isNumber() && add(x, k.atom.toDouble())) return coeffs;
            }
            return std::nullopt;
        default:
            return std::nullopt;
    }
}

void Lowering::requireExactWhole(const Node& n, double largest, const std::string& what,
                                 const std::string& advice) {
    // One bit to spare below each limit: a sum of two terms each under it stays exact.
    if (largest > 0x1p52) {
        fail(n, "'" + describe(n) + "' " + what + " up to " +
                    (largest < 9e18 ? std::to_string(static_cast<long long>(largest))
                                    : std::string("1e19+")) +
                    ", past what float64 keeps exact (2^52 here); " + advice);
    }
    if (largest > 0x1p23 && float64Reason_.empty()) {
        float64Reason_ = "'" + describe(n) + "' " + what + " past float32's exact whole numbers " +
                         "(2^24)";
    }
}

/// x op y for whole numbers x, y of any size: with t = x - y, the units relu(t) - relu(t - 1)
/// and relu(-t) - relu(-t - 1) are exactly [t >= 1] and [t <= -1] at whole t, and every
/// comparison is a sum of those two and a constant.
Repr Lowering::comparisonMlp(const Node& n, const std::vector<const Repr*>& ops, int layer,
                             const ValueSet& outSet) {
    Form t;
    bool whole = true;
    for (size_t i = 0; i < n.opArgs.size(); ++i) {
        const MapArg& a = n.opArgs[i];
        double sign = i == 0 ? 1.0 : -1.0;
        if (a.slot < 0) {
            if (!a.atom.isNumber()) fail(n, "'" + describe(n) + "' compares a number with a non-number");
            whole = whole && (a.atom.isInt() || a.atom.isBool());
            t.push_back({kOne, sign * a.atom.toDouble()});
            continue;
        }
        const Repr& r = *ops[static_cast<size_t>(a.slot)];
        if (!r.allNumbers()) fail(n, "'" + describe(n) + "' compares a number with a non-number");
        if (r.numerical) {
            whole = whole && r.set.integral;
        } else {
            for (const Value& v : r.values) whole = whole && (v.isInt() || v.isBool());
        }
        addTo(t, r.numberForm(), sign);
    }
    if (!whole) {
        fail(n, "'" + describe(n) +
                    "' compares numbers that are not whole, among too many values to tabulate");
    }
    // |t| bounds every unit's input: the units are exact only while t stays a whole number
    // the float type holds exactly (2^24 in float32, 2^53 in float64).
    double largest = 0.0;
    for (const MapArg& a : n.opArgs) {
        if (a.slot < 0) {
            largest += std::abs(a.atom.toDouble());
            continue;
        }
        const Repr& r = *ops[static_cast<size_t>(a.slot)];
        double m = 0.0;
        if (r.numerical) {
            if (!r.set.rangeKnown) fail(n, "'" + describe(n) + "' compares numbers of unknown range");
            m = std::max(std::abs(r.set.lo), std::abs(r.set.hi));
        } else {
            for (const Value& v : r.values) m = std::max(m, std::abs(v.toDouble()));
        }
        largest += m;
    }
    requireExactWhole(n, largest + 1.0, "compares whole numbers", "compare smaller numbers");
    // True = alpha [t >= 1] + beta [t <= -1] + gamma.
    double alpha = 0, beta = 0, gamma = 0;
    switch (n.op) {
        case MapOp::Eq: alpha = -1, beta = -1, gamma = 1; break;
        case MapOp::Ne: alpha = 1, beta = 1, gamma = 0; break;
        case MapOp::Lt: alpha = 0, beta = 1, gamma = 0; break;
        case MapOp::Le: alpha = -1, beta = 0, gamma = 1; break;
        case MapOp::Gt: alpha = 1, beta = 0, gamma = 0; break;
        case MapOp::Ge: alpha = 0, beta = -1, gamma = 1; break;
        default: throw InternalError("comparisonMlp on a map that is not a comparison");
    }
    Repr out = Repr::written(2 * layer + 2, outSet, false);
    // Each value's column: True's weights, or False's (one minus them).
    std::vector<std::pair<int, double>> columns;  // (dim, +1 for True / -1 for False)
    for (const Value& v : outSet.values) {
        int dim = newDim();
        bool truth = v.isBool() && v.toDouble() != 0.0;
        columns.push_back({dim, truth ? 1.0 : -1.0});
        out.values.push_back(v);
        out.cols.push_back({{dim, 1.0}});
    }
    auto writes = [&](double coeff, double constant) {
        Form f;
        for (auto [dim, sign] : columns) {
            double w = sign > 0 ? coeff : constant - coeff;
            if (w != 0.0) f.push_back({dim, w});
        }
        return f;
    };
    BlockPlan block;
    block.layer = layer;
    block.label = "compare " + describe(n);
    Form shifted = t;
    shifted.push_back({kOne, -1.0});
    Form negated = scaled(t, -1.0);
    Form negShifted = negated;
    negShifted.push_back({kOne, -1.0});
    block.units.push_back({t, writes(alpha, 0.0)});
    block.units.push_back({shifted, writes(-alpha, 0.0)});
    block.units.push_back({negated, writes(beta, 0.0)});
    block.units.push_back({negShifted, writes(-beta, 0.0)});
    block.units.push_back({{{kOne, 1.0}}, writes(gamma, 1.0)});
    blocks_.push_back(std::move(block));
    return out;
}

bool Lowering::multiplexes(const Node& n, const std::vector<const Repr*>& ops,
                           const MapPlan& plan) const {
    if (n.op != MapOp::Cond || !plan.numericalOut || n.opArgs[0].slot < 0) return false;
    if (ops[static_cast<size_t>(n.opArgs[0].slot)]->numerical) return false;
    for (int b = 1; b <= 2; ++b) {
        const MapArg& a = n.opArgs[static_cast<size_t>(b)];
        if (a.slot < 0 ? !a.atom.isNumber() : !ops[static_cast<size_t>(a.slot)]->allNumbers())
            return false;
        if (a.slot >= 0 && ops[static_cast<size_t>(a.slot)]->numerical &&
            !ops[static_cast<size_t>(a.slot)]->set.rangeKnown)
            return false;
    }
    return true;
}

/// `x if c else y` for numbers: x [c] + y [not c], each product a gate,
/// relu(x - lo - B (1 - [c])) + lo [c] with B = hi - lo, exact for x in [lo, hi]. Two units a
/// branch (one for a constant), where a table would need a group of units per value.
Repr Lowering::condMlp(const Node& n, const std::vector<const Repr*>& ops, int layer,
                       const ValueSet& outSet) {
    const Repr& cond = *ops[static_cast<size_t>(n.opArgs[0].slot)];
    Form yes;
    for (size_t i = 0; i < cond.values.size(); ++i) {
        if (cond.values[i].truthy()) addTo(yes, cond.cols[i]);
    }
    Form no = scaled(yes, -1.0);
    no.push_back({kOne, 1.0});

    BlockPlan block;
    block.layer = layer;
    block.label = "choose " + describe(n);
    int dim = newDim();
    for (int b = 1; b <= 2; ++b) {
        const Form& taken = b == 1 ? yes : no;
        const MapArg& a = n.opArgs[static_cast<size_t>(b)];
        if (a.slot < 0) {
            double c = a.atom.toDouble();
            if (c != 0.0) block.units.push_back({taken, {{dim, c}}});
            continue;
        }
        const Repr& x = *ops[static_cast<size_t>(a.slot)];
        const auto [lo, hi] = x.numberRange();
        const double bound = hi - lo;
        // The gate's input adds x, lo + bound and bound [c]; its output lo [c].
        requireExactWhole(n, std::max(std::abs(lo), std::abs(hi)) + std::abs(lo + bound) + bound,
                          "chooses between numbers", "choose between smaller numbers");
        Form in = x.numberForm();
        in.push_back({kOne, -lo - bound});
        addTo(in, taken, bound);
        block.units.push_back({in, {{dim, 1.0}}});
        if (lo != 0.0) block.units.push_back({taken, {{dim, lo}}});
    }
    blocks_.push_back(std::move(block));

    Repr out = Repr::written(2 * layer + 2, outSet, true);
    out.cols.push_back({{dim, 1.0}});
    return out;
}

}  // namespace raspc::lowering
