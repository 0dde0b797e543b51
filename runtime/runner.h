// The native runner: executes a Model on token sequences with the runtime's own kernels.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "runtime/errors.h"
#include "runtime/kernels.h"
#include "runtime/model.h"

namespace raspc::rt {

/// Maps the tokens of one input to token ids (indices into m.vocab), BOS not included.
/// Throws InputError for an empty input, one longer than m.maxLen, or an unknown token (the
/// message names the token and its position and lists the vocabulary).
std::vector<int32_t> encodeTokens(const Model& m, std::span<const std::string> tokens);

/// One output's raw values for one sequence, one entry per input position (BOS excluded).
struct OutputValues {
    std::vector<int64_t> ids;     // categorical: index into Output::table
    std::vector<double> margins;  // categorical: oneHotMargin of the scores (1 for a clean
                                  // one-hot; at most 1 - 1/n when an aggregate averaged
                                  // different values over n keys)
    std::vector<double> values;   // numerical: the model's number, not yet decoded
    /// Categorical: the smallest margin decode() accepts, set by whoever ran the model from its
    /// float type and maximum length (minCategoricalMargin).
    double minMargin = 0.5;
    /// The position of the first entry in its sequence (the decoder gives one position at a
    /// time), so that messages name the right one.
    size_t firstPosition = 0;
    /// Per position, the model's average check (Model::averageCheck; empty when it has none),
    /// and the aggregates it covers, for the message. decode() refuses a sequence where it
    /// passes 1 - minMargin.
    std::vector<double> averageCheck;
    const std::vector<std::string>* averageSources = nullptr;
};

/// How close categorical scores are to the clean one-hot of `best` (their maximum): 1 minus
/// the largest distance of a score from it. A single score has nothing to be told apart from:
/// 1.
template <typename T>
double oneHotMargin(const T* scores, size_t count, size_t best) {
    if (count < 2) return 1.0;
    double distance = std::abs(1.0 - static_cast<double>(scores[best]));
    for (size_t c = 0; c < count; ++c) {
        if (c != best) distance = std::max(distance, std::abs(static_cast<double>(scores[c])));
    }
    return 1.0 - distance;
}

/// The smallest margin (oneHotMargin) a categorical output of `m` decodes with. A move that
/// averaged different values over n <= m.maxLen keys leaves a score of at most 1 - 1/n, so
/// the limit sits halfway, at 1 - 1/(2 maxLen), unless rounding in the model's float type
/// (2 maxLen units of roundoff, the sum of maxLen attention weights) could come that close.
/// FIXME: past 2048 positions a float32 model's limit is its rounding, and an average over
/// more than 2^23 / maxLen keys decodes as its largest share instead of failing.
double minCategoricalMargin(const Model& m);

/// Runs a Model in its float type (float32 in float, float64 in double), computing what its
/// ONNX graph computes (softmax as exp(s - max) times the reciprocal of the sum, as onnxruntime
/// does) so both decode to the same values.
class Runner {
public:
    /// Keeps a reference to `m`, which must outlive the Runner and be consistent (as every
    /// model from loadModel is).
    explicit Runner(const Model& m);

    /// Runs every sequence of token ids (without BOS; lengths may differ) and returns, per
    /// sequence, one OutputValues per Model output, in the Model's order. Throws InputError
    /// for an empty or too long sequence or an id outside the vocabulary.
    std::vector<std::vector<OutputValues>> run(
        const std::vector<std::vector<int32_t>>& batch) const;

    /// The final residual stream of one sequence, BOS row first: (ids.size() + 1) x width.
    /// For tests and debugging.
    Matrix residual(std::span<const int32_t> ids) const;

private:
    // The forward pass in one scalar type, defined in runner.cpp.
    template <typename T>
    class Engine;

    void checkIds(std::span<const int32_t> ids, size_t index) const;

    const Model& model_;
    // Exactly one is set, after the model's float type.
    std::shared_ptr<const Engine<float>> float32_;
    std::shared_ptr<const Engine<double>> float64_;
};

/// The table values of one output for one sequence: the table entry of each id (categorical;
/// a DecodeError when its margin is below values.minMargin, naming the position),
/// or the table entry nearest to each number (numerical; on a tie, the earlier entry). Throws
/// DecodeError when a number lies farther than out.tolerance from every entry, or an id is
/// outside the table.
std::vector<std::string> decode(const Output& out, const OutputValues& values);

}  // namespace raspc::rt
