// The incremental decoder: sparse single-row products, per-head caches, optional timers.
#include "runtime/decoder.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <string>

#include "runtime/embedding.h"

namespace raspc::rt {

namespace {

// Below this, exp is exactly 0 in the model's float type: float32 rounds anything under
// 2^-150 to 0; double's own exp underflows near -745.13 anyway.
double underflowOf(const Model& m) {
    return m.floatType == "float64" ? -745.2 : -150.0 * std::log(2.0);
}

// All heads' wq, wk, wv of a layer side by side: one product serves every projection.
Matrix sideBySide(const Layer& layer, int width, std::vector<int>& offsets) {
    int cols = 0;
    for (const Head& h : layer.heads) {
        offsets.push_back(cols);
        cols += 2 * h.wq.cols + h.wv.cols;
    }
    Matrix all(width, cols);
    for (size_t hi = 0; hi < layer.heads.size(); ++hi) {
        const Head& h = layer.heads[hi];
        int at = offsets[hi];
        for (const Matrix* w : {&h.wq, &h.wk, &h.wv}) {
            for (int r = 0; r < width; ++r)
                for (int c = 0; c < w->cols; ++c) all.at(r, at + c) = w->at(r, c);
            at += w->cols;
        }
    }
    return all;
}

// Adds the time since `since` to `total` and restarts `since`, when timing is on.
class Stopwatch {
public:
    explicit Stopwatch(bool on) : on_(on) {
        if (on_) since_ = Clock::now();
    }
    void lap(double& total) {
        if (!on_) return;
        const auto now = Clock::now();
        total += std::chrono::duration<double>(now - since_).count();
        since_ = now;
    }

private:
    using Clock = std::chrono::steady_clock;
    bool on_;
    Clock::time_point since_;
};

}  // namespace

Decoder::Decoder(const Model& m, Attention attention)
    : model_(m), attention_(attention), strategies_(chooseStrategies(m)) {
    if (!m.causal) {
        throw ModelError(
            "this model is not causal, so it cannot be run one position at a time; "
            "compile a program with `causal;`");
    }
    const double underflow = underflowOf(m);
    for (size_t l = 0; l < m.layers.size(); ++l) {
        const Layer& layer = m.layers[l];
        PreparedLayer p;
        p.qkv = VectorWeights(sideBySide(layer, m.width, p.qkvOffset));
        std::vector<HeadCache> heads;
        for (size_t h = 0; h < layer.heads.size(); ++h) {
            const Head& head = layer.heads[h];
            p.wo.emplace_back(head.wo);
            p.valueWidth += static_cast<size_t>(head.wv.cols);
            heads.emplace_back(strategies_[l][h], head.wq.cols, head.wv.cols, underflow);
        }
        p.hasMlp = layer.mlp.w1.cols > 0;
        if (p.hasMlp) {
            p.w1 = VectorWeights(layer.mlp.w1);
            p.w2 = VectorWeights(layer.mlp.w2);
        }
        layers_.push_back(std::move(p));
        cache_.push_back(std::move(heads));
    }
    for (const Output& o : m.outputs) readouts_.emplace_back(o.readout);
    advance(static_cast<int32_t>(m.vocab.size()), 0);  // BOS
}

int Decoder::headCount() const {
    int n = 0;
    for (const Layer& l : model_.layers) n += static_cast<int>(l.heads.size());
    return n;
}

void Decoder::rewind(int length) {
    if (length < 0 || length > length_)
        throw InputError("cannot rewind to " + std::to_string(length) +
                         " tokens: " + std::to_string(length_) + " are decoded");
    length_ = length;
    for (auto& layer : cache_)
        for (HeadCache& head : layer) head.truncate(static_cast<size_t>(length) + 1);
}

void Decoder::advance(int32_t tokenId, int position) {
    Stopwatch watch(timing_);
    const size_t d = static_cast<size_t>(model_.width);
    x_.resize(d);
    embed(model_, tokenId, position, x_.data(), scratch_);
    watch.lap(stats_.otherSeconds);

    const bool useStrategies = attention_ == Attention::Auto;
    for (size_t l = 0; l < layers_.size(); ++l) {
        const PreparedLayer& layer = layers_[l];
        const Layer& weights = model_.layers[l];
        std::vector<HeadCache>& heads = cache_[l];

        if (!heads.empty()) {
            // Every head reads the residual as it was before the layer: project them all first.
            qkv_.assign(static_cast<size_t>(layer.qkv.cols()), 0.0);
            layer.qkv.addProduct(x_.data(), qkv_.data());
            watch.lap(stats_.projectionSeconds);

            mixed_.resize(layer.valueWidth);
            double* mixed = mixed_.data();
            for (size_t h = 0; h < heads.size(); ++h) {
                const int dk = weights.heads[h].wq.cols;
                const double* q = qkv_.data() + layer.qkvOffset[h];
                heads[h].append(q + dk, q + 2 * dk);
                heads[h].attend(q, useStrategies, mixed, stats_.queries);
                mixed += weights.heads[h].wv.cols;
            }
            watch.lap(stats_.attentionSeconds);

            mixed = mixed_.data();
            for (size_t h = 0; h < heads.size(); ++h) {
                layer.wo[h].addProduct(mixed, x_.data());
                mixed += weights.heads[h].wv.cols;
            }
            watch.lap(stats_.projectionSeconds);
        }

        if (!layer.hasMlp) continue;
        hidden_.assign(static_cast<size_t>(layer.w1.cols()), 0.0);
        layer.w1.addProduct(x_.data(), hidden_.data());
        // The ReLU: lookup-table MLPs are wide but few units fire, so w2 visits only the
        // units above 0 (listed without branches, which the data would mispredict) and the
        // others need not be zeroed.
        const double* hidden = hidden_.data();
        const int units = layer.w1.cols();
        if (active_.size() < static_cast<size_t>(units)) active_.resize(static_cast<size_t>(units));
        int* active = active_.data();
        int fired = 0;
        for (int u = 0; u < units; ++u) {
            active[fired] = u;
            fired += hidden[u] > 0.0;
        }
        layer.w2.addProductAt(hidden, active, fired, x_.data());
        watch.lap(stats_.mlpSeconds);
    }
    ++stats_.steps;
}

void Decoder::readOutputs(std::vector<OutputValues>& out) {
    out.resize(model_.outputs.size());
    for (size_t o = 0; o < model_.outputs.size(); ++o) {
        const VectorWeights& readout = readouts_[o];
        logits_.assign(static_cast<size_t>(readout.cols()), 0.0);
        readout.addProduct(x_.data(), logits_.data());
        if (model_.outputs[o].kind == OutputKind::Numerical) {
            out[o].values.push_back(logits_[0]);
            continue;
        }
        // The first maximum wins, as ONNX ArgMax does.
        auto best = std::max_element(logits_.begin(), logits_.end());
        double second = -std::numeric_limits<double>::infinity();
        for (auto it = logits_.begin(); it != logits_.end(); ++it) {
            if (it != best) second = std::max(second, *it);
        }
        out[o].ids.push_back(best - logits_.begin());
        out[o].margins.push_back(logits_.size() > 1 ? *best - second : 1.0);
    }
}

std::vector<OutputValues> Decoder::step(int32_t token) {
    if (token < 0 || token >= static_cast<int32_t>(model_.vocab.size())) {
        throw InputError("token id " + std::to_string(token) + " is outside the vocabulary");
    }
    if (length_ >= model_.maxLen) {
        throw InputError("the sequence would pass the model's maximum length " +
                         std::to_string(model_.maxLen));
    }
    ++length_;
    advance(token, length_);

    Stopwatch watch(timing_);
    std::vector<OutputValues> out;
    readOutputs(out);
    watch.lap(stats_.otherSeconds);
    return out;
}

}  // namespace raspc::rt
