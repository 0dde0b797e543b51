// Value-set inference. Sets are kept per position: an s-op's values at position i are
// enumerated from its operands' values at that same position, so s-ops built from `indices`
// stay correlated with it. S-ops that depend on positions alone (indices, length, constants
// and maps of them) are known exactly for every (length, position), which makes the key set
// of a selector over them exact: a prefix mean at position i averages exactly i + 1 keys.
#include "passes/value_sets.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include "passes/value_set_support.h"

namespace raspc {

namespace {

using namespace value_set_support;

/// Sums of one value from each of `parts` (exact key sets), or unbounded past the cap.
std::optional<std::set<double>> sumsOf(const std::vector<const Set*>& parts) {
    std::set<double> sums = {0.0};
    for (const Set* p : parts) {
        std::set<double> next;
        for (double s : sums) {
            for (const Value& v : *p) next.insert(s + v.toDouble());
        }
        if (next.size() > kMaxSetSize) return std::nullopt;
        sums = std::move(next);
    }
    return sums;
}

bool allNumbers(const Set& s) {
    return std::all_of(s.begin(), s.end(), [](const Value& v) { return v.isNumber(); });
}

bool anyFloat(const Set& s) {
    return std::any_of(s.begin(), s.end(), [](const Value& v) { return v.isFloat(); });
}

/// Per-position value sets for every node of a graph.
class Inference {
public:
    Inference(const Graph& g, const Domain& d)
        : g_(g),
          d_(d),
          exact_(g.nodes.size()),
          sets_(g.nodes.size()),
          bounded_(g.nodes.size(), true),
          averages_(g.nodes.size(), false),
          raises_(g.nodes.size()) {}

    std::vector<ValueSet> run();

    /// Selectors that may pick a key after the query (see selectorsLookingAhead).
    std::vector<NodeId> lookingAhead();

private:
    using Table = std::vector<std::vector<Value>>;  // [n - 1][i], i < n

    /// The keys a selector may pick for query i at length n: exactly these (`exact`), or any
    /// subset of them.
    struct Keys {
        bool exact = false;
        std::vector<int> keys;
    };

    void exactNode(NodeId id);
    void positionSets(NodeId id);
    void aggregateSets(NodeId id);
    bool structured(NodeId sel) const;
    bool selects(NodeId sel, int n, int q, int k) const;
    Keys keysOf(NodeId sel, int n, int q) const;
    Set reduce(NodeId id, const Keys& keys, int maxWidth);

    const Graph& g_;
    const Domain& d_;
    std::vector<std::optional<Table>> exact_;
    std::vector<std::vector<Set>> sets_;  // [node][i]
    std::vector<bool> bounded_;
    std::vector<bool> averages_;       // per aggregate: see ValueSet::averagesDistinct
    std::vector<std::string> raises_;  // per map: see ValueSet::raises
};

/// Tables for nodes that depend on positions alone.
void Inference::exactNode(NodeId id) {
    const Node& n = g_[id];
    const int N = d_.maxLen;
    auto build = [&](auto valueAt) {
        Table t(static_cast<size_t>(N));
        for (int len = 1; len <= N; ++len) {
            for (int i = 0; i < len; ++i)
                t[static_cast<size_t>(len - 1)].push_back(valueAt(len, i));
        }
        exact_[static_cast<size_t>(id)] = std::move(t);
    };
    switch (n.kind) {
        case OpKind::Indices:
            build([](int, int i) { return Value(i); });
            break;
        // Causally, every position sees its own prefix: its length is its index + 1.
        case OpKind::Length:
            build([&](int len, int i) { return Value(d_.causal ? i + 1 : len); });
            break;
        case OpKind::Constant:
            build([&](int, int) { return n.constant; });
            break;
        case OpKind::Map:
        case OpKind::SequenceMap: {
            for (NodeId op : n.operands) {
                if (!exact_[static_cast<size_t>(op)]) return;
            }
            try {
                std::vector<Value> args(n.operands.size());
                build([&](int len, int i) {
                    for (size_t k = 0; k < args.size(); ++k) {
                        args[k] = (*exact_[static_cast<size_t>(n.operands[k])])[static_cast<size_t>(
                            len - 1)][static_cast<size_t>(i)];
                    }
                    return n.fn(args);
                });
            } catch (const std::domain_error&) {
                exact_[static_cast<size_t>(id)].reset();
            }
            break;
        }
        default:
            break;
    }
}

bool Inference::structured(NodeId sel) const {
    const Node& n = g_[sel];
    if (n.kind == OpKind::Select) {
        return exact_[static_cast<size_t>(n.operands[0])] &&
               exact_[static_cast<size_t>(n.operands[1])];
    }
    for (NodeId op : n.operands) {
        if (!structured(op)) return false;
    }
    return true;
}

bool Inference::selects(NodeId sel, int len, int q, int k) const {
    const Node& n = g_[sel];
    switch (n.kind) {
        case OpKind::Select: {
            const Table& keys = *exact_[static_cast<size_t>(n.operands[0])];
            const Table& queries = *exact_[static_cast<size_t>(n.operands[1])];
            try {
                return compare(n.cmp, keys[static_cast<size_t>(len - 1)][static_cast<size_t>(k)],
                               queries[static_cast<size_t>(len - 1)][static_cast<size_t>(q)]);
            } catch (const std::domain_error&) {
                return false;
            }
        }
        case OpKind::SelectAnd:
            return selects(n.operands[0], len, q, k) && selects(n.operands[1], len, q, k);
        case OpKind::SelectOr:
            return selects(n.operands[0], len, q, k) || selects(n.operands[1], len, q, k);
        case OpKind::SelectNot:
            return !selects(n.operands[0], len, q, k);
        default:
            throw InternalError("selects() on a non-selector");
    }
}

Inference::Keys Inference::keysOf(NodeId sel, int len, int q) const {
    Keys out;
    // A causal query sees its prefix only: as if the input ended at q.
    if (d_.causal) len = q + 1;
    if (structured(sel)) {
        out.exact = true;
        for (int k = 0; k < len; ++k) {
            if (selects(sel, len, q, k)) out.keys.push_back(k);
        }
        return out;
    }
    const Node& n = g_[sel];
    if (n.kind == OpKind::SelectAnd) {
        // A conjunction picks among the keys of whichever side is known.
        for (NodeId side : n.operands) {
            if (structured(side)) {
                Keys k = keysOf(side, len, q);
                k.exact = false;
                return k;
            }
        }
    }
    for (int k = 0; k < len; ++k) out.keys.push_back(k);
    return out;
}

/// The values an aggregate may produce at one query whose keys are `keys`.
Set Inference::reduce(NodeId id, const Keys& keys, int maxWidth) {
    const Node& n = g_[id];
    const auto& vals = sets_[static_cast<size_t>(n.operands[1])];
    Set out;
    bool canBeEmpty = keys.keys.empty() || !keys.exact;
    if (canBeEmpty) out.insert(n.constant);
    if (keys.keys.empty()) return out;

    Set pool;
    for (int k : keys.keys)
        pool.insert(vals[static_cast<size_t>(k)].begin(), vals[static_cast<size_t>(k)].end());
    bool numbers = allNumbers(pool);
    bool moves = !numbers || n.encoding == Encoding::Categorical;

    switch (n.reduction) {
        case Reduction::Max:
        case Reduction::Min:
            out.insert(pool.begin(), pool.end());
            return out;
        case Reduction::Latest:
        case Reduction::Earliest:
            if (keys.exact) {
                int k = n.reduction == Reduction::Latest ? keys.keys.back() : keys.keys.front();
                out.insert(vals[static_cast<size_t>(k)].begin(),
                           vals[static_cast<size_t>(k)].end());
            } else {
                out.insert(pool.begin(), pool.end());
            }
            return out;
        case Reduction::Mean:
            if (moves) {
                if (keys.exact && keys.keys.size() >= 2 && pool.size() >= 2)
                    averages_[static_cast<size_t>(id)] = true;
                out.insert(pool.begin(), pool.end());
                return out;
            }
            break;
        case Reduction::Sum:
            if (!numbers) throw std::domain_error("sum of non-numbers");
            break;
    }

    // Mean or sum of numbers. One key keeps its atom; several make a float mean.
    out.insert(pool.begin(), pool.end());
    bool ints = !anyFloat(pool);
    auto insertNumber = [&](double x, bool asInt) {
        out.insert(asInt ? Value(static_cast<int64_t>(std::llround(x))) : Value(x));
        if (out.size() > kMaxSetSize) throw std::length_error("value set too large");
    };
    if (keys.exact) {
        std::vector<const Set*> parts;
        for (int k : keys.keys) parts.push_back(&vals[static_cast<size_t>(k)]);
        auto sums = sumsOf(parts);
        if (!sums) throw std::length_error("value set too large");
        double w = static_cast<double>(keys.keys.size());
        for (double s : *sums) {
            if (n.reduction == Reduction::Sum)
                insertNumber(s, ints);
            else if (keys.keys.size() > 1)
                insertNumber(s / w, false);
        }
        return out;
    }
    ValueSet all =
        n.reduction == Reduction::Sum
            ? sumValues(std::vector<Value>(pool.begin(), pool.end()), maxWidth, kMaxSetSize)
            : meanValues(std::vector<Value>(pool.begin(), pool.end()), maxWidth, kMaxSetSize);
    if (!all.bounded) throw std::length_error("value set too large");
    out.insert(all.values.begin(), all.values.end());
    if (n.reduction == Reduction::Sum) out.insert(Value(0));
    return out;
}

void Inference::aggregateSets(NodeId id) {
    const Node& n = g_[id];
    const int N = d_.maxLen;
    std::vector<Set>& at = sets_[static_cast<size_t>(id)];
    NodeId sel = n.operands[0];
    bool width = n.kind == OpKind::SelectorWidth || n.kind == OpKind::WidthInverse;
    bool inverse = n.kind == OpKind::WidthInverse;
    auto widthValue = [&](size_t w) {
        return inverse ? Value(1.0 / static_cast<double>(w + 1)) : Value(static_cast<int64_t>(w));
    };
    if (!width && !bounded_[static_cast<size_t>(n.operands[1])]) {
        bounded_[static_cast<size_t>(id)] = false;
        return;
    }
    // Queries with the same possible keys give the same values: compute each once.
    std::map<std::pair<bool, std::vector<int>>, Set> memo;
    try {
        for (int i = 0; i < N; ++i) {
            for (int len = i + 1; len <= N; ++len) {
                Keys keys = keysOf(sel, len, i);
                if (width) {
                    if (keys.exact) {
                        at[static_cast<size_t>(i)].insert(widthValue(keys.keys.size()));
                    } else {
                        for (size_t w = 0; w <= keys.keys.size(); ++w) {
                            at[static_cast<size_t>(i)].insert(widthValue(w));
                        }
                    }
                    continue;
                }
                auto key = std::make_pair(keys.exact, keys.keys);
                auto it = memo.find(key);
                if (it == memo.end()) {
                    it = memo.emplace(key, reduce(id, keys, static_cast<int>(keys.keys.size())))
                             .first;
                }
                at[static_cast<size_t>(i)].insert(it->second.begin(), it->second.end());
            }
        }
    } catch (const std::length_error&) {
        bounded_[static_cast<size_t>(id)] = false;
    } catch (const std::domain_error&) {
        bounded_[static_cast<size_t>(id)] = false;
    }
}

void Inference::positionSets(NodeId id) {
    const Node& n = g_[id];
    const int N = d_.maxLen;
    std::vector<Set>& at = sets_[static_cast<size_t>(id)];
    at.assign(static_cast<size_t>(N), Set{});
    if (const auto& t = exact_[static_cast<size_t>(id)]) {
        for (int len = 1; len <= N; ++len) {
            for (int i = 0; i < len; ++i)
                at[static_cast<size_t>(i)].insert(
                    (*t)[static_cast<size_t>(len - 1)][static_cast<size_t>(i)]);
        }
        return;
    }
    switch (n.kind) {
        case OpKind::Tokens:
            for (Set& s : at) s.insert(d_.vocab.begin(), d_.vocab.end());
            return;
        case OpKind::Map:
        case OpKind::SequenceMap: {
            for (NodeId op : n.operands) {
                if (!bounded_[static_cast<size_t>(op)]) {
                    bounded_[static_cast<size_t>(id)] = false;
                    return;
                }
            }
            for (int i = 0; i < N; ++i) {
                std::vector<const Set*> in;
                size_t product = 1;
                for (NodeId op : n.operands) {
                    in.push_back(&sets_[static_cast<size_t>(op)][static_cast<size_t>(i)]);
                    product *= std::max<size_t>(in.back()->size(), 1);
                }
                if (product > kMaxProduct) {
                    bounded_[static_cast<size_t>(id)] = false;
                    return;
                }
                Set& out = at[static_cast<size_t>(i)];
                bool small = forEachCombination(in, [&](const std::vector<Value>& args) {
                    applyMap(n, args, out, raises_[static_cast<size_t>(id)]);
                    return out.size() <= kMaxSetSize;
                });
                if (!small) {
                    bounded_[static_cast<size_t>(id)] = false;
                    return;
                }
            }
            return;
        }
        case OpKind::Aggregate:
        case OpKind::SelectorWidth:
        case OpKind::WidthInverse:
            aggregateSets(id);
            return;
        default:
            return;
    }
}

std::vector<ValueSet> Inference::run() {
    for (size_t id = 0; id < g_.nodes.size(); ++id) {
        if (g_.nodes[id].isSelector()) continue;
        exactNode(static_cast<NodeId>(id));
        positionSets(static_cast<NodeId>(id));
    }
    std::vector<ValueSet> out(g_.nodes.size());
    auto whole = [](const Value& v) { return v.isInt() || v.isBool(); };
    for (size_t id = 0; id < g_.nodes.size(); ++id) {
        const Node& n = g_.nodes[id];
        if (n.isSelector()) continue;
        if (!bounded_[id]) {
            out[id] = unbounded();
            // Aggregates of known numbers keep a range even when their sets are too large.
            if (n.kind == OpKind::Aggregate && n.constant.isNumber()) {
                const ValueSet& vals = out[static_cast<size_t>(n.operands[1])];
                if (vals.rangeKnown) {
                    double d = n.constant.toDouble();
                    double lo = vals.lo, hi = vals.hi;
                    if (n.reduction == Reduction::Sum) {
                        lo = std::min(0.0, d_.maxLen * lo);
                        hi = std::max(0.0, d_.maxLen * hi);
                    }
                    out[id].rangeKnown = true;
                    out[id].lo = std::min(lo, d);
                    out[id].hi = std::max(hi, d);
                    out[id].integral =
                        vals.integral && whole(n.constant) && n.reduction != Reduction::Mean;
                }
            }
            continue;
        }
        Set all;
        for (const Set& s : sets_[id]) all.insert(s.begin(), s.end());
        if (all.size() > kMaxSetSize) {
            out[id] = unbounded();
            continue;
        }
        out[id] = fromSet(all);
        out[id].averagesDistinct = averages_[id];
        out[id].integral = !all.empty() && std::all_of(all.begin(), all.end(), whole);
    }
    for (size_t id = 0; id < g_.nodes.size(); ++id) out[id].raises = raises_[id];
    return out;
}

}  // namespace

bool ValueSet::allNumbers() const {
    return std::all_of(values.begin(), values.end(), [](const Value& v) { return v.isNumber(); });
}

ValueSet meanValues(const std::vector<Value>& values, int maxLen, size_t cap) {
    std::set<double> sums;
    std::set<double> means;
    for (const Value& v : values) sums.insert(v.toDouble());
    for (int k = 1; k <= maxLen; ++k) {
        // One key keeps its atom (added below); a mean of two or more is a float.
        if (k > 1) {
            for (double s : sums) means.insert(s / k);
        }
        if (means.size() > cap) return unbounded();
        if (k == maxLen) break;
        std::set<double> next;
        for (double s : sums) {
            for (const Value& v : values) next.insert(s + v.toDouble());
        }
        if (next.size() > cap * 4) return unbounded();
        sums = std::move(next);
    }
    Set out(values.begin(), values.end());
    for (double m : means) out.insert(Value(m));
    return fromSet(out);
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
    bool ints =
        std::all_of(values.begin(), values.end(), [](const Value& v) { return !v.isFloat(); });
    Set out;
    for (double s : all) out.insert(ints ? Value(static_cast<int64_t>(std::llround(s))) : Value(s));
    return fromSet(out);
}

std::vector<NodeId> Inference::lookingAhead() {
    for (size_t id = 0; id < g_.nodes.size(); ++id) {
        if (!g_.nodes[id].isSelector()) exactNode(static_cast<NodeId>(id));
    }
    // A selector the aggregates read directly: combinations are judged as a whole.
    std::vector<NodeId> read;
    for (const Node& n : g_.nodes) {
        if (n.kind == OpKind::Aggregate || n.kind == OpKind::SelectorWidth ||
            n.kind == OpKind::WidthInverse) {
            if (std::find(read.begin(), read.end(), n.operands[0]) == read.end()) {
                read.push_back(n.operands[0]);
            }
        }
    }
    // Judged without the causal mask: which keys would the program's own reading pick?
    Domain open = d_;
    open.causal = false;
    Inference plain(g_, open);
    for (size_t id = 0; id < g_.nodes.size(); ++id) {
        if (!g_.nodes[id].isSelector()) plain.exactNode(static_cast<NodeId>(id));
    }
    std::vector<NodeId> out;
    for (NodeId sel : read) {
        bool ahead = false;
        for (int len = 1; len <= d_.maxLen && !ahead; ++len) {
            for (int q = 0; q < len && !ahead; ++q) {
                Keys keys = plain.keysOf(sel, len, q);
                ahead = !keys.keys.empty() && keys.keys.back() > q;
            }
        }
        if (ahead) out.push_back(sel);
    }
    return out;
}

std::vector<NodeId> selectorsLookingAhead(const Graph& g, const Domain& domain) {
    // Judged by enumerating positions: at long lengths, a sample of the short ones.
    Domain judged = domain;
    judged.maxLen = std::min(domain.maxLen, 64);
    return Inference(g, judged).lookingAhead();
}

std::vector<ValueSet> inferValueSets(const Graph& g, const Domain& domain) {
    if (domain.maxLen > kLongInputLength) return inferWholeSequenceSets(g, domain);
    return Inference(g, domain).run();
}

}  // namespace raspc
