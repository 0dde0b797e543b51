// One head's key/value cache in the incremental decoder, and the strategies that answer it.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "runtime/head_strategy.h"
#include "runtime/hull.h"
#include "runtime/model.h"

namespace raspc::rt {

/// How many queries each strategy answered, and how often the hull had to scan instead.
struct AttentionCounts {
    int64_t scans = 0;
    int64_t hull = 0;
    int64_t runningSum = 0;
    int64_t hullFallbacks = 0;  // hull queries answered by a scan (see KeyHull::best)
};

/// The keys and values of every position of one head (BOS at position 0), kept raw so that
/// any strategy can answer from them at any step, plus the structure of the head's own
/// strategy, brought up to date lazily when that strategy is next used.
///
/// Softmax is computed in double with the underflow of the model's float type: a weight whose
/// exp would be 0 there (exp of less than `underflow`) is 0. So the keys a hard head leaves out
/// get weight exactly 0 as in the model, whichever strategy runs. The weighted sum adds the real
/// positions in order and BOS last, then divides by the sum of weights: with weights of exactly
/// 0 and 1 (hard heads, and uniform heads whose BOS key scores alike or far apart) every
/// strategy then computes the same additions in the same order and agrees to the bit; with
/// other weights the running sum differs from the scan by rounding only.
class HeadCache {
public:
    /// `mask` is the head's own (the model is causal); the strategy must allow it (see
    /// chooseStrategies).
    HeadCache(HeadStrategy strategy, HeadMask mask, int dk, int dv, double underflow);

    /// Appends the key (dk numbers) and value (dv numbers) of the next position.
    void append(const double* key, const double* value);

    /// softmax(q . keys) . values over the positions so far that the mask leaves visible to
    /// the newest one (its query), into out (dv numbers), by the head's strategy when
    /// `useStrategy`, else by a scan. Counts the query in `counts`.
    void attend(const double* q, bool useStrategy, double* out, AttentionCounts& counts);

    /// Keeps only the first `positions` positions (BOS included).
    void truncate(size_t positions);

    size_t positions() const { return positions_; }
    HeadStrategy strategy() const { return strategy_; }

private:
    // The real keys the newest position's query sees: [first, end).
    KeyRange visible() const;
    void scan(const double* q, KeyRange keys, double* out);
    // The answer from the hull over keys 1 .. end - 1, or false when the hull cannot give it
    // exactly.
    bool fromHull(const double* q, size_t end, double* out);
    void fromRunningSum(const double* q, size_t end, double* out);
    // exp(shifted), or 0 where the model's float type underflows. The best key's own weight,
    // exp(0) = 1 exactly, needs no call.
    double weight(double shifted) const {
        if (shifted == 0.0) return 1.0;
        return shifted < underflow_ ? 0.0 : std::exp(shifted);
    }
    double score(const double* q, const double* k) const;

    HeadStrategy strategy_;
    HeadMask mask_;
    int dk_, dv_;
    double underflow_;
    size_t positions_ = 0;
    std::vector<double> keys_;    // positions x dk
    std::vector<double> values_;  // positions x dv
    std::vector<double> scores_;  // scratch for the scan

    // The strategy's structure covers positions 1 .. synced_ - 1 (BOS is handled apart).
    size_t synced_ = 1;
    std::optional<KeyHull> hull_;
    std::vector<double> valueSum_;  // running sum of the real positions' values
};

}  // namespace raspc::rt
