// The three ways to answer a head's query from its cache: scan, hull, running sum.
#include "runtime/head_cache.h"

#include <algorithm>
#include <limits>

namespace raspc::rt {

HeadCache::HeadCache(HeadStrategy strategy, HeadMask mask, int dk, int dv, double underflow)
    : strategy_(strategy), mask_(mask), dk_(dk), dv_(dv), underflow_(underflow) {
    if (strategy_ == HeadStrategy::Hull) hull_.emplace(dv_);
    if (strategy_ == HeadStrategy::RunningSum) valueSum_.assign(static_cast<size_t>(dv_), 0.0);
}

void HeadCache::append(const double* key, const double* value) {
    keys_.insert(keys_.end(), key, key + dk_);
    values_.insert(values_.end(), value, value + dv_);
    ++positions_;
}

void HeadCache::truncate(size_t positions) {
    if (positions >= positions_) return;
    positions_ = positions;
    keys_.resize(positions_ * static_cast<size_t>(dk_));
    values_.resize(positions_ * static_cast<size_t>(dv_));
    // A structure past the cut cannot drop points: rebuild it from the raw cache when next used.
    if (synced_ > std::max<size_t>(positions_, 1)) {
        synced_ = 1;
        if (hull_) hull_.emplace(dv_);
        std::fill(valueSum_.begin(), valueSum_.end(), 0.0);
    }
}

double HeadCache::score(const double* q, const double* k) const {
    if (dk_ == 2) return dot2(q[0], q[1], k[0], k[1]);
    double s = 0.0;
    for (int c = 0; c < dk_; ++c) s += q[c] * k[c];
    return s;
}

KeyRange HeadCache::visible() const {
    const int rows = static_cast<int>(positions_);
    return visibleKeys(mask_, true, rows - 1, rows);
}

void HeadCache::attend(const double* q, bool useStrategy, double* out, AttentionCounts& counts) {
    const KeyRange keys = visible();
    // Under the masks chooseStrategies gives hull or running sum (none, <=, <) the visible
    // keys are the prefix 1 .. end - 1 (none when end is 1), which those structures hold.
    const size_t end = static_cast<size_t>(std::max(keys.first, keys.end));
    if (useStrategy && strategy_ == HeadStrategy::RunningSum) {
        ++counts.runningSum;
        fromRunningSum(q, end, out);
        return;
    }
    if (useStrategy && strategy_ == HeadStrategy::Hull) {
        ++counts.hull;
        if (fromHull(q, end, out)) return;
        ++counts.hullFallbacks;
    } else {
        ++counts.scans;
    }
    scan(q, keys, out);
}

void HeadCache::scan(const double* q, KeyRange keys, double* out) {
    const size_t first = static_cast<size_t>(keys.first);
    const size_t end = static_cast<size_t>(std::max(keys.first, keys.end));
    scores_.resize(positions_);
    double max = score(q, keys_.data());
    scores_[0] = max;
    for (size_t j = first; j < end; ++j) {
        scores_[j] = score(q, keys_.data() + j * static_cast<size_t>(dk_));
        max = std::max(max, scores_[j]);
    }

    // Real positions in order, then BOS: the order the other strategies add in.
    std::fill(out, out + dv_, 0.0);
    double total = 0.0;
    auto add = [&](size_t j) {
        const double w = weight(scores_[j] - max);
        if (w == 0.0) return;  // a hard head leaves almost every key out
        total += w;
        const double* v = values_.data() + j * static_cast<size_t>(dv_);
        for (int c = 0; c < dv_; ++c) out[c] += w * v[c];
    };
    for (size_t j = first; j < end; ++j) add(j);
    add(0);
    for (int c = 0; c < dv_; ++c) out[c] /= total;
}

bool HeadCache::fromHull(const double* q, size_t end, double* out) {
    for (; synced_ < end; ++synced_) {
        const double* k = keys_.data() + synced_ * 2;
        hull_->insert(k[0], k[1], values_.data() + synced_ * static_cast<size_t>(dv_));
    }
    std::optional<KeyHull::Best> best = hull_->best(q[0], q[1]);
    if (!best) return false;

    // BOS is a key like any other, kept apart so that it is added last, as the scan does.
    const double bosScore = dot2(q[0], q[1], keys_[0], keys_[1]);
    const double max = std::max(best->score, bosScore);
    const double wBest = weight(best->score - max);
    const double wBos = weight(bosScore - max);
    // Both weighted but not tied: the head is not hard here, and only a scan is exact.
    if (wBest != 0.0 && wBos != 0.0 && best->score != bosScore) return false;

    const double total = (wBest != 0.0 ? static_cast<double>(best->count) : 0.0) + wBos;
    for (int c = 0; c < dv_; ++c) {
        double sum = wBest != 0.0 ? best->valueSum[c] : 0.0;
        if (wBos != 0.0) sum += wBos * values_[static_cast<size_t>(c)];
        out[c] = sum / total;
    }
    return true;
}

void HeadCache::fromRunningSum(const double* q, size_t end, double* out) {
    for (; synced_ < end; ++synced_) {
        const double* v = values_.data() + synced_ * static_cast<size_t>(dv_);
        for (int c = 0; c < dv_; ++c) valueSum_[static_cast<size_t>(c)] += v[c];
    }
    const size_t real = end - 1;
    const double bosScore = score(q, keys_.data());
    if (real == 0) {
        std::copy(values_.begin(), values_.begin() + dv_, out);
        return;
    }
    // Every real key is the same vector, so one score stands for all of them.
    const double realScore = score(q, keys_.data() + dk_);
    const double max = std::max(realScore, bosScore);
    const double wReal = weight(realScore - max);
    const double wBos = weight(bosScore - max);

    const double total = wReal * static_cast<double>(real) + wBos;
    for (int c = 0; c < dv_; ++c) {
        double sum = wReal * valueSum_[static_cast<size_t>(c)];
        if (wBos != 0.0) sum += wBos * values_[static_cast<size_t>(c)];
        out[c] = sum / total;
    }
}

}  // namespace raspc::rt
