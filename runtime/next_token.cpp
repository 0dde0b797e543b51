// Precomputed maps from an output's values to vocabulary ids.
#include "runtime/next_token.h"

#include <cmath>
#include <cstdlib>

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
    // Whole numbers decode to their plain decimal text; only tokens written so can match.
    for (const auto& [token, id] : byText_) {
        char* end = nullptr;
        const long long v = std::strtoll(token.c_str(), &end, 10);
        if (!token.empty() && *end == '\0' && std::to_string(v) == token) byWhole_.emplace(v, id);
    }
}

int32_t NextToken::operator()(const OutputValues& first) const {
    // The common cases without building strings; anything unusual goes through decode(), whose
    // rules (and errors) these shortcuts follow.
    if (out_.kind == OutputKind::Categorical && !first.ids.empty() &&
        first.margins.front() >= kMinCategoricalMargin && first.ids.front() >= 0 &&
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
    auto it = byText_.find(text(first));
    return it == byText_.end() ? -1 : it->second;
}

}  // namespace raspc::rt
