// Value-set inference by exhaustive enumeration over operands' sets (treated as independent).
#include "passes/value_sets.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

namespace raspc {

namespace {

// Sets larger than this are not enumerated: the compiler cannot build tables for them anyway.
constexpr size_t kMaxSetSize = 20000;
// Largest operand product a sequence map may enumerate.
constexpr size_t kMaxProduct = 2'000'000;

ValueSet fromSet(std::set<Value> s) {
    ValueSet vs;
    vs.values.assign(s.begin(), s.end());
    vs.rangeKnown = vs.allNumbers() && !vs.values.empty();
    if (vs.rangeKnown) {
        vs.lo = vs.values.front().toDouble();
        vs.hi = vs.values.back().toDouble();
    }
    return vs;
}

ValueSet unbounded() {
    ValueSet vs;
    vs.bounded = false;
    vs.rangeKnown = false;
    return vs;
}

ValueSet range(int lo, int hi) {
    std::set<Value> s;
    for (int i = lo; i <= hi; ++i) s.insert(Value(i));
    return fromSet(std::move(s));
}

// Applies fn to every combination of operand values; values it rejects are skipped (they
// cannot occur on an input the interpreter accepts).
ValueSet applyMap(const Node& n, const std::vector<const ValueSet*>& in) {
    size_t product = 1;
    for (const ValueSet* vs : in) {
        if (!vs->bounded) return unbounded();
        product *= std::max<size_t>(vs->values.size(), 1);
        if (product > kMaxProduct) return unbounded();
    }
    std::set<Value> out;
    std::vector<size_t> idx(in.size(), 0);
    std::vector<Value> args(in.size());
    for (size_t done = 0; done < product; ++done) {
        bool empty = false;
        for (size_t i = 0; i < in.size(); ++i) {
            if (in[i]->values.empty()) empty = true;
            else args[i] = in[i]->values[idx[i]];
        }
        if (!empty) {
            try {
                out.insert(n.fn(args));
            } catch (const std::domain_error&) {
            }
            if (out.size() > kMaxSetSize) return unbounded();
        }
        for (size_t i = 0; i < in.size(); ++i) {
            if (++idx[i] < in[i]->values.size()) break;
            idx[i] = 0;
        }
    }
    return fromSet(std::move(out));
}

}  // namespace

bool ValueSet::allNumbers() const {
    return std::all_of(values.begin(), values.end(), [](const Value& v) { return v.isNumber(); });
}

ValueSet meanValues(const std::vector<Value>& values, int maxLen, size_t cap) {
    // Sums of exactly k elements, k = 1..maxLen, as exact rationals would be ideal; doubles are
    // enough here because the compiler only needs the distinct values to within float32.
    std::set<double> sums;
    std::set<double> means;
    for (const Value& v : values) sums.insert(v.toDouble());
    for (int k = 1; k <= maxLen; ++k) {
        for (double s : sums) means.insert(s / k);
        if (means.size() > cap) return unbounded();
        if (k == maxLen) break;
        std::set<double> next;
        for (double s : sums) {
            for (const Value& v : values) next.insert(s + v.toDouble());
        }
        if (next.size() > cap * 4) return unbounded();
        sums = std::move(next);
    }
    std::set<Value> out;
    // Keep the operands' own atoms where a mean equals one of them, so int values stay ints.
    for (const Value& v : values) out.insert(v);
    for (double m : means) {
        Value asValue(m);
        if (!out.count(asValue)) out.insert(asValue);
    }
    return fromSet(std::move(out));
}

ValueSet sumValues(const std::vector<Value>& values, int maxLen, size_t cap) {
    std::set<double> sums = {0.0};
    std::set<double> all = {0.0};
    for (int k = 1; k <= maxLen; ++k) {
        std::set<double> next;
        for (double s : sums) {
            for (const Value& v : values) next.insert(s + v.toDouble());
        }
        if (next.size() > cap) return unbounded();
        sums = std::move(next);
        all.insert(sums.begin(), sums.end());
        if (all.size() > cap) return unbounded();
    }
    bool ints = std::all_of(values.begin(), values.end(), [](const Value& v) { return !v.isFloat(); });
    std::set<Value> out;
    for (double s : all) out.insert(ints ? Value(static_cast<int64_t>(std::llround(s))) : Value(s));
    return fromSet(std::move(out));
}

std::vector<ValueSet> inferValueSets(const Graph& g, const Domain& domain) {
    std::vector<ValueSet> sets(g.nodes.size());
    for (size_t id = 0; id < g.nodes.size(); ++id) {
        const Node& n = g.nodes[id];
        auto operandSet = [&](size_t i) -> const ValueSet& {
            return sets[static_cast<size_t>(n.operands[i])];
        };
        switch (n.kind) {
        case OpKind::Tokens:
            sets[id] = fromSet(std::set<Value>(domain.vocab.begin(), domain.vocab.end()));
            break;
        case OpKind::Indices:
            sets[id] = range(0, domain.maxLen - 1);
            break;
        case OpKind::Length:
            sets[id] = range(1, domain.maxLen);
            break;
        case OpKind::SelectorWidth:
            sets[id] = range(0, domain.maxLen);
            break;
        case OpKind::Constant:
            sets[id] = fromSet({n.constant});
            break;
        case OpKind::Map:
        case OpKind::SequenceMap: {
            std::vector<const ValueSet*> in;
            for (size_t i = 0; i < n.operands.size(); ++i) in.push_back(&operandSet(i));
            sets[id] = applyMap(n, in);
            break;
        }
        case OpKind::Aggregate: {
            const ValueSet& vals = operandSet(1);
            if (!vals.bounded) {
                sets[id] = unbounded();
                break;
            }
            ValueSet result;
            if (n.reduction == Reduction::Mean && vals.allNumbers() &&
                n.encoding != Encoding::Categorical) {
                result = meanValues(vals.values, domain.maxLen, kMaxSetSize);
            } else if (n.reduction == Reduction::Sum && vals.allNumbers()) {
                result = sumValues(vals.values, domain.maxLen, kMaxSetSize);
            } else {
                result = vals;
            }
            if (result.bounded) {
                std::set<Value> s(result.values.begin(), result.values.end());
                s.insert(n.constant);
                result = fromSet(std::move(s));
            } else if (vals.rangeKnown && n.constant.isNumber()) {
                result.rangeKnown = true;
                result.lo = std::min(vals.lo, n.constant.toDouble());
                result.hi = std::max(vals.hi, n.constant.toDouble());
            }
            sets[id] = std::move(result);
            break;
        }
        case OpKind::Select:
        case OpKind::SelectAnd:
        case OpKind::SelectOr:
        case OpKind::SelectNot:
            break;
        }
    }
    return sets;
}

}  // namespace raspc
