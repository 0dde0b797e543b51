// Helpers shared by the per-position and the long-input value-set inferences.
#include "passes/value_set_support.h"

#include <algorithm>

namespace raspc::value_set_support {

bool whole(const Value& v) {
    return v.isInt() || v.isBool();
}

ValueSet fromSet(const Set& s) {
    ValueSet vs;
    vs.values.assign(s.begin(), s.end());
    vs.rangeKnown = vs.allNumbers() && !vs.values.empty();
    if (vs.rangeKnown) {
        vs.lo = vs.values.front().toDouble();
        vs.hi = vs.values.back().toDouble();
    }
    vs.integral = !s.empty() && std::all_of(s.begin(), s.end(), whole);
    return vs;
}

ValueSet range(double lo, double hi, bool integral) {
    ValueSet vs;
    vs.bounded = false;
    vs.rangeKnown = true;
    vs.lo = lo;
    vs.hi = hi;
    vs.integral = integral;
    return vs;
}

ValueSet unbounded() {
    ValueSet vs;
    vs.bounded = false;
    vs.rangeKnown = false;
    return vs;
}

void applyMap(const Node& n, const std::vector<Value>& args, Set& out, std::string& raises) {
    try {
        out.insert(n.fn(args));
    } catch (const std::domain_error& e) {
        if (raises.empty()) {
            raises = e.what();
            raises += " (at operand values";
            for (const Value& a : args) raises += " " + toDisplay(a);
            raises += ")";
        }
    }
}

namespace {

/// The range of one argument of a structural map.
struct Operand {
    bool known = false;
    double lo = 0.0, hi = 0.0;
    bool integral = false;
};

Operand operandOf(const MapArg& a, const std::vector<ValueSet>& sets, const Node& n) {
    Operand o;
    if (a.slot < 0) {
        if (!a.atom.isNumber()) return o;
        o.known = true;
        o.lo = o.hi = a.atom.toDouble();
        o.integral = whole(a.atom);
        return o;
    }
    const ValueSet& s = sets[static_cast<size_t>(n.operands[static_cast<size_t>(a.slot)])];
    if (!s.rangeKnown || (s.bounded && !s.allNumbers())) return o;
    o.known = true;
    o.lo = s.lo;
    o.hi = s.hi;
    o.integral = s.integral;
    return o;
}

}  // namespace

ValueSet structuralMap(const Node& n, const std::vector<ValueSet>& sets) {
    std::vector<Operand> args;
    for (const MapArg& a : n.opArgs) args.push_back(operandOf(a, sets, n));
    for (size_t i = 0; i < args.size(); ++i) {
        // A condition is any value; only the chosen numbers matter.
        if (!args[i].known && !(n.op == MapOp::Cond && i == 0)) return unbounded();
    }
    switch (n.op) {
        case MapOp::Add:
            return range(args[0].lo + args[1].lo, args[0].hi + args[1].hi,
                         args[0].integral && args[1].integral);
        case MapOp::Sub:
            return range(args[0].lo - args[1].hi, args[0].hi - args[1].lo,
                         args[0].integral && args[1].integral);
        case MapOp::Neg:
            return range(-args[0].hi, -args[0].lo, args[0].integral);
        case MapOp::Mul: {
            double c[] = {args[0].lo * args[1].lo, args[0].lo * args[1].hi, args[0].hi * args[1].lo,
                          args[0].hi * args[1].hi};
            return range(*std::min_element(c, c + 4), *std::max_element(c, c + 4),
                         args[0].integral && args[1].integral);
        }
        case MapOp::Eq:
        case MapOp::Ne:
        case MapOp::Lt:
        case MapOp::Le:
        case MapOp::Gt:
        case MapOp::Ge:
            return fromSet(Set{Value(false), Value(true)});
        case MapOp::Cond:
            return range(std::min(args[1].lo, args[2].lo), std::max(args[1].hi, args[2].hi),
                         args[1].integral && args[2].integral);
        case MapOp::Opaque:
            break;
    }
    return unbounded();
}

}  // namespace raspc::value_set_support
