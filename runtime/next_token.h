// The token a causal model asks to append next: its first output at the last position.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/model.h"
#include "runtime/runner.h"

namespace raspc::rt {

/// Reads a generating model's first output as a vocabulary id, in time independent of the
/// vocabulary's size: the way `raspc run --generate` feeds a model its own output.
class NextToken {
public:
    /// Keeps a reference to `m`. Throws ModelError when the model has no output.
    explicit NextToken(const Model& m);

    /// The vocabulary id of the value `first` (one position of the first output) decodes to,
    /// or -1 when that value is not a token of the vocabulary. Throws DecodeError when the value
    /// does not decode at all (see decode()).
    int32_t operator()(const OutputValues& first) const;

    /// The value as decode() shows it, for messages.
    std::string text(const OutputValues& first) const { return decode(out_, first).front(); }

private:
    // The table index decode() picks for the finite number v, or -1 when it would fail.
    int32_t nearestTableIndex(double v) const;

    const Output& out_;
    std::unordered_map<std::string, int32_t> byText_;
    std::vector<int32_t> byTableIndex_;               // categorical or tabled numerical outputs
    std::unordered_map<long long, int32_t> byWhole_;  // whole-number outputs without a table
    // Numerical outputs with a table: its numbers (NaN left out) in increasing order, equal
    // ones by table index, each with its table index, to find the nearest by binary search.
    std::vector<double> sortedNumbers_;
    std::vector<int32_t> sortedIndex_;
};

}  // namespace raspc::rt
