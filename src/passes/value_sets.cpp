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
#include "support/debug.h"

namespace raspc {

namespace {

using namespace value_set_support;

/// The work one node's sets may cost over all positions, in values put into sets (operand
/// combinations of a map, values an aggregate gathers). Every sample that compiles at max_len
/// 300 stays within it (a quarter of it was too little for sort and reverse there); what needs
/// more (numbers derived from positions, in programs of long max_len) is known by its range
/// instead, without minutes of enumeration. FIXME: the four passes that infer sets each pay
/// it again, so a node at the budget costs about a second.
constexpr size_t kMaxWork = 2000000;
/// Keys of a selector visited for the cost of one value put into a set.
constexpr size_t kKeysPerUnit = 32;

/// Counts one node's work; past kMaxWork, throws std::length_error as a set past its cap does.
class Budget {
public:
    explicit Budget(size_t limit = kMaxWork) : limit_(limit), left_(limit) {}
    void reset() { left_ = limit_; }
    void spend(size_t units) {
        if (units > left_) throw std::length_error("value-set inference past its work budget");
        left_ -= units;
    }

private:
    size_t limit_;
    size_t left_;
};

/// Sums of one value from each of `parts` (exact key sets), or unbounded past the cap.
std::optional<std::set<double>> sumsOf(const std::vector<const Set*>& parts, Budget& budget) {
    std::set<double> sums = {0.0};
    for (const Set* p : parts) {
        budget.spend(sums.size() * p->size());
        std::set<double> next;
        for (double s : sums) {
            for (const Value& v : *p) next.insert(s + v.toDouble());
        }
        if (next.size() > kMaxSetSize) return std::nullopt;
        sums = std::move(next);
    }
    return sums;
}

/// Means of every multiset of 1..maxLen of `values`, as the public meanValues, on a budget.
ValueSet meanValues(const std::vector<Value>& values, int maxLen, size_t cap, Budget& budget) {
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
        budget.spend(sums.size() * values.size());
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

/// Sums of every multiset of 0..maxLen of `values`, as the public sumValues, on a budget.
ValueSet sumValues(const std::vector<Value>& values, int maxLen, size_t cap, Budget& budget) {
    std::set<double> sums = {0.0};
    std::set<double> all = {0.0};
    for (int k = 1; k <= maxLen; ++k) {
        budget.spend(sums.size() * values.size());
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
          raises_(g.nodes.size()),
          out_(g.nodes.size()) {}

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
    void mapSets(NodeId id);
    void summarize(NodeId id);
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
    std::vector<ValueSet> out_;        // per node, once summarized: its set for all positions
    Budget budget_;                    // of the node being inferred
    // reduce(): the values of the first prefixLength_ keys of aggregate prefixId_.
    NodeId prefixId_ = -1;
    size_t prefixLength_ = 0;
    Set prefixPool_;
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

    // Every key of a prefix (an unknown selector's): the union grows with the prefix.
    const bool prefix =
        keys.keys.front() == 0 && keys.keys.back() == static_cast<int>(keys.keys.size()) - 1;
    if (!prefix || prefixId_ != id || prefixLength_ > keys.keys.size()) {
        prefixId_ = id;
        prefixLength_ = 0;
        prefixPool_.clear();
    }
    Set scattered;
    Set& pool = prefix ? prefixPool_ : scattered;
    for (size_t i = prefix ? prefixLength_ : 0; i < keys.keys.size(); ++i) {
        const Set& at = vals[static_cast<size_t>(keys.keys[i])];
        budget_.spend(at.size());
        pool.insert(at.begin(), at.end());
    }
    if (prefix) prefixLength_ = keys.keys.size();
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
        auto sums = sumsOf(parts, budget_);
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
    ValueSet all = n.reduction == Reduction::Sum
                       ? sumValues(std::vector<Value>(pool.begin(), pool.end()), maxWidth,
                                   kMaxSetSize, budget_)
                       : meanValues(std::vector<Value>(pool.begin(), pool.end()), maxWidth,
                                    kMaxSetSize, budget_);
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
    budget_.reset();
    try {
        for (int i = 0; i < N; ++i) {
            // A causal query sees its prefix alone, whatever the length: one length will do.
            const int lastLen = d_.causal ? i + 1 : N;
            for (int len = i + 1; len <= lastLen; ++len) {
                // Widths are not on the budget: they never take more than maxLen + 1 values,
                // and lowering needs them all.
                if (!width) budget_.spend(static_cast<size_t>(len) / kKeysPerUnit + 1);
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
                budget_.spend(it->second.size());
                at[static_cast<size_t>(i)].insert(it->second.begin(), it->second.end());
            }
        }
    } catch (const std::length_error& e) {
        debugLine("value_sets", "'" + n.loc.file + ":" + std::to_string(n.loc.line) + ":" +
                                    std::to_string(n.loc.col) + "': " + e.what() +
                                    "; a range instead, if its values have one");
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
        case OpKind::SequenceMap:
            mapSets(id);
            return;
        case OpKind::Aggregate:
        case OpKind::SelectorWidth:
        case OpKind::WidthInverse:
            aggregateSets(id);
            return;
        default:
            return;
    }
}

/// A map's values at each position: its function on every combination of its operands' values
/// there. Past the work budget (or an operand's set), the map's set is given up.
void Inference::mapSets(NodeId id) {
    const Node& n = g_[id];
    const size_t N = static_cast<size_t>(d_.maxLen);
    std::vector<Set>& at = sets_[static_cast<size_t>(id)];
    for (NodeId op : n.operands) {
        if (!bounded_[static_cast<size_t>(op)]) {
            bounded_[static_cast<size_t>(id)] = false;
            return;
        }
    }
    // The combinations of all positions together, counted before any is tried.
    size_t combinations = 0;
    for (size_t i = 0; i < N && combinations <= kMaxWork; ++i) {
        size_t product = 1;
        for (NodeId op : n.operands) {
            product *= std::max<size_t>(sets_[static_cast<size_t>(op)][i].size(), 1);
            if (product > kMaxWork) break;
        }
        combinations += product;
    }
    if (combinations > kMaxWork) {
        debugLine("value_sets", "'" + n.loc.file + ":" + std::to_string(n.loc.line) + ":" +
                                    std::to_string(n.loc.col) + "': over " +
                                    std::to_string(kMaxWork) +
                                    " operand combinations over all positions; a range instead");
        bounded_[static_cast<size_t>(id)] = false;
        return;
    }
    for (size_t i = 0; i < N; ++i) {
        std::vector<const Set*> in;
        for (NodeId op : n.operands) in.push_back(&sets_[static_cast<size_t>(op)][i]);
        Set& out = at[i];
        bool small = forEachCombination(in, [&](const std::vector<Value>& args) {
            applyMap(n, args, out, raises_[static_cast<size_t>(id)]);
            return out.size() <= kMaxSetSize;
        });
        if (!small) {
            bounded_[static_cast<size_t>(id)] = false;
            return;
        }
    }
}

/// The node's set over all positions, from its per-position sets; once those are given up,
/// a range where one is known: from the operator of a map, from the values of an aggregate.
void Inference::summarize(NodeId id) {
    const Node& n = g_[id];
    ValueSet& out = out_[static_cast<size_t>(id)];
    Set all;
    if (bounded_[static_cast<size_t>(id)]) {
        for (const Set& s : sets_[static_cast<size_t>(id)]) all.insert(s.begin(), s.end());
        if (all.size() > kMaxSetSize) bounded_[static_cast<size_t>(id)] = false;
    }
    if (!bounded_[static_cast<size_t>(id)]) {
        out = unbounded();
        if ((n.kind == OpKind::Map || n.kind == OpKind::SequenceMap) && n.op != MapOp::Opaque)
            out = structuralMap(n, out_);
        // Aggregates of known numbers keep a range even when their sets are too large.
        if (n.kind == OpKind::Aggregate && n.constant.isNumber()) {
            const ValueSet& vals = out_[static_cast<size_t>(n.operands[1])];
            if (vals.rangeKnown) {
                double d = n.constant.toDouble();
                double lo = vals.lo, hi = vals.hi;
                if (n.reduction == Reduction::Sum) {
                    lo = std::min(0.0, d_.maxLen * lo);
                    hi = std::max(0.0, d_.maxLen * hi);
                }
                out.rangeKnown = true;
                out.lo = std::min(lo, d);
                out.hi = std::max(hi, d);
                out.integral = vals.integral && whole(n.constant) && n.reduction != Reduction::Mean;
            }
        }
    } else {
        out = fromSet(all);
        out.averagesDistinct = averages_[static_cast<size_t>(id)];
    }
    out.raises = raises_[static_cast<size_t>(id)];
}

std::vector<ValueSet> Inference::run() {
    for (size_t id = 0; id < g_.nodes.size(); ++id) {
        if (g_.nodes[id].isSelector()) continue;
        exactNode(static_cast<NodeId>(id));
        positionSets(static_cast<NodeId>(id));
        summarize(static_cast<NodeId>(id));
    }
    return out_;
}

}  // namespace

bool ValueSet::allNumbers() const {
    return std::all_of(values.begin(), values.end(), [](const Value& v) { return v.isNumber(); });
}

ValueSet meanValues(const std::vector<Value>& values, int maxLen, size_t cap) {
    Budget unlimited(SIZE_MAX);
    return meanValues(values, maxLen, cap, unlimited);
}

ValueSet sumValues(const std::vector<Value>& values, int maxLen, size_t cap) {
    Budget unlimited(SIZE_MAX);
    return sumValues(values, maxLen, cap, unlimited);
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
