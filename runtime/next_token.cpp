// Precomputed maps from an output's values to vocabulary ids.
#include "runtime/next_token.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "runtime/errors.h"

namespace raspc::rt {

namespace {

const Output& firstOutput(const Model& m) {
    if (m.outputs.empty()) throw ModelError("the model has no output to generate from");
    return m.outputs.front();
}

}  // namespace

NextToken::NextToken(const Model& m) : out_(firstOutput(m)) {
    for (size_t i = 0; i < m.vocab.size(); ++i)
        byText_.emplace(m.vocab[i], static_cast<int32_t>(i));
    for (const std::string& value : out_.table) {
        auto it = byText_.find(value);
        byTableIndex_.push_back(it == byText_.end() ? -1 : it->second);
    }
    // NaN sorts nowhere: leave it out before sorting.
    std::vector<int32_t> order;
    for (size_t i = 0; i < out_.numbers.size(); ++i)
        if (!std::isnan(out_.numbers[i])) order.push_back(static_cast<int32_t>(i));
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
        return out_.numbers[static_cast<size_t>(a)] < out_.numbers[static_cast<size_t>(b)];
    });
    for (int32_t i : order) {
        sortedNumbers_.push_back(out_.numbers[static_cast<size_t>(i)]);
        sortedIndex_.push_back(i);
    }
    // Whole numbers decode to their plain decimal text; only tokens written so can match.
    for (const auto& [token, id] : byText_) {
        char* end = nullptr;
        const long long v = std::strtoll(token.c_str(), &end, 10);
        if (!token.empty() && *end == '\0' && std::to_string(v) == token) byWhole_.emplace(v, id);
    }
}

int32_t NextToken::nearestTableIndex(double v) const {
    // decode() takes the first table entry at the least distance |number - v|. That distance
    // only grows away from v on either side, so the entries at the least distance lie next to
    // where v would sort.
    const auto split = std::lower_bound(sortedNumbers_.begin(), sortedNumbers_.end(), v);
    const size_t right = static_cast<size_t>(split - sortedNumbers_.begin());
    auto distance = [&](size_t i) { return std::abs(sortedNumbers_[i] - v); };
    double least = std::numeric_limits<double>::infinity();
    if (right > 0) least = distance(right - 1);
    if (right < sortedNumbers_.size()) least = std::min(least, distance(right));
    if (!(least <= out_.tolerance)) return -1;

    int32_t best = std::numeric_limits<int32_t>::max();
    for (size_t i = right; i > 0 && distance(i - 1) == least; --i)
        best = std::min(best, sortedIndex_[i - 1]);
    for (size_t i = right; i < sortedNumbers_.size() && distance(i) == least; ++i)
        best = std::min(best, sortedIndex_[i]);
    return best;
}

int32_t NextToken::operator()(const OutputValues& first) const {
    // The common cases without building strings; anything unusual goes through decode(), whose
    // rules (and errors) these shortcuts follow.
    if (out_.kind == OutputKind::Categorical && !first.ids.empty() &&
        first.margins.front() >= first.minMargin && first.ids.front() >= 0 &&
        first.ids.front() < static_cast<int64_t>(byTableIndex_.size()))
        return byTableIndex_[static_cast<size_t>(first.ids.front())];
    if (out_.kind == OutputKind::Numerical && out_.numbers.empty() && !first.values.empty()) {
        const double v = first.values.front();
        const double whole = std::round(v);
        if (std::abs(v - whole) <= out_.tolerance && std::abs(whole) < 1e18) {
            auto it = byWhole_.find(static_cast<long long>(whole));
            return it == byWhole_.end() ? -1 : it->second;
        }
    }
    if (out_.kind == OutputKind::Numerical && !out_.numbers.empty() && !first.values.empty() &&
        std::isfinite(first.values.front())) {
        const int32_t index = nearestTableIndex(first.values.front());
        if (index >= 0) return byTableIndex_[static_cast<size_t>(index)];
    }
    auto it = byText_.find(text(first));
    return it == byText_.end() ? -1 : it->second;
}

}  // namespace raspc::rt
