// The incremental decoder: sparse single-row products, per-head caches, optional timers.
#include "runtime/decoder.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

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
        p.headWrites.assign(bitWords(static_cast<size_t>(m.width)), 0);
        std::vector<HeadCache> heads;
        for (size_t h = 0; h < layer.heads.size(); ++h) {
            const Head& head = layer.heads[h];
            p.wo.emplace_back(head.wo);
            p.valueWidth += static_cast<size_t>(head.wv.cols);
            heads.emplace_back(strategies_[l][h], head.mask, head.wq.cols, head.wv.cols, underflow);
            addBits(p.headWrites, p.wo.back().columnBits());
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
    if (m.averageCheck.present()) averageCheck_.emplace(m.averageCheck.readout);
    minMargin_ = minCategoricalMargin(m);
    outputs_.resize(m.outputs.size());

    prepareEmbedding();
    advance(static_cast<int32_t>(m.vocab.size()), 0);  // BOS
}

void Decoder::prepareEmbedding() {
    // The embedding's non-zeros, so that a step writes and visits only those.
    const Model& m = model_;
    const size_t d = static_cast<size_t>(m.width);
    const size_t words = bitWords(d);
    auto setBit = [](uint64_t* bits, size_t c) { bits[c / 64] |= uint64_t{1} << (c % 64); };
    tokenBits_.assign(static_cast<size_t>(m.tokenEmbedding.rows) * words, 0);
    for (int t = 0; t < m.tokenEmbedding.rows; ++t) {
        tokenStart_.push_back(tokenColumns_.size());
        for (size_t c = 0; c < d; ++c) {
            const double v = m.tokenEmbedding.at(t, static_cast<int>(c));
            if (v == 0.0) continue;
            tokenColumns_.push_back(static_cast<int>(c));
            tokenValues_.push_back(v);
            setBit(tokenBits_.data() + static_cast<size_t>(t) * words, c);
        }
    }
    tokenStart_.push_back(tokenColumns_.size());

    positionBits_.assign(words, 0);
    for (size_t c = 0; c < d; ++c) {
        bool table = false, powers = false;
        for (int r = 0; r < m.positionEmbedding.rows; ++r)
            table = table || m.positionEmbedding.at(r, static_cast<int>(c)) != 0.0;
        for (int r = 0; r < m.positionPowers.rows; ++r)
            powers = powers || m.positionPowers.at(r, static_cast<int>(c)) != 0.0;
        if (powers) powerColumns_.push_back(static_cast<int>(c));
        if (table || powers) setBit(positionBits_.data(), c);
    }
    x_.assign(d, 0.0);
    live_.assign(words, 0);
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

void Decoder::embedInto(int32_t tokenId, int position) {
    // What embed() computes, visiting only the non-zeros of the token's row and of the position
    // powers (the zeros it adds elsewhere can change nothing but the sign of a zero).
    const size_t d = static_cast<size_t>(model_.width);
    double* x = x_.data();
    std::fill(x, x + d, 0.0);
    const size_t t = static_cast<size_t>(tokenId);
    for (size_t e = tokenStart_[t]; e < tokenStart_[t + 1]; ++e)
        x[tokenColumns_[e]] = tokenValues_[e];
    const size_t words = live_.size();
    std::copy_n(tokenBits_.data() + t * words, words, live_.data());
    addBits(live_, positionBits_);

    if (model_.positionEmbedding.rows > 0) {
        const double* pe = model_.positionEmbedding.data.data() + static_cast<size_t>(position) * d;
        for (size_t c = 0; c < d; ++c) x[c] += pe[c];
    }
    if (model_.positionPowers.rows == 0 || position == 0) return;
    const double index = static_cast<double>(position - 1);
    powerSum_.assign(powerColumns_.size(), 0.0);
    double power = index;
    for (int e = 0; e < model_.positionPowers.rows; ++e) {
        if (e > 0) power *= index;
        const double* row = model_.positionPowers.data.data() + static_cast<size_t>(e) * d;
        for (size_t i = 0; i < powerColumns_.size(); ++i)
            powerSum_[i] += power * row[powerColumns_[i]];
    }
    for (size_t i = 0; i < powerColumns_.size(); ++i) x[powerColumns_[i]] += powerSum_[i];
}

void Decoder::advance(int32_t tokenId, int position) {
    Stopwatch watch(timing_);
    embedInto(tokenId, position);
    watch.lap(stats_.otherSeconds);

    const bool useStrategies = attention_ == Attention::Auto;
    for (size_t l = 0; l < layers_.size(); ++l) {
        const PreparedLayer& layer = layers_[l];
        const Layer& weights = model_.layers[l];
        std::vector<HeadCache>& heads = cache_[l];

        if (!heads.empty()) {
            // Every head reads the residual as it was before the layer: project them all first.
            qkv_.assign(static_cast<size_t>(layer.qkv.cols()), 0.0);
            layer.qkv.addProduct(x_.data(), live_.data(), qkv_.data());
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
            addBits(live_, layer.headWrites);
            watch.lap(stats_.projectionSeconds);
        }

        if (!layer.hasMlp) continue;
        hidden_.assign(static_cast<size_t>(layer.w1.cols()), 0.0);
        layer.w1.addProduct(x_.data(), live_.data(), hidden_.data());
        // The ReLU: lookup-table MLPs are wide but few units fire, so w2 visits only the
        // units above 0 (found by vector compares, as branches would mispredict) and the
        // others need not be zeroed.
        fired_.resize(bitWords(hidden_.size()));
        positiveBits(hidden_.data(), hidden_.size(), fired_.data());
        layer.w2.addProduct(hidden_.data(), fired_.data(), x_.data());
        addBits(live_, layer.w2.columnBits());
        watch.lap(stats_.mlpSeconds);
    }
    ++stats_.steps;
}

void Decoder::readOutputs(size_t count) {
    double check = 0.0;
    if (averageCheck_) {
        averageCheck_->addProduct(x_.data(), live_.data(), &check);
    }
    for (size_t o = 0; o < model_.outputs.size(); ++o) {
        OutputValues& out = outputs_[o];
        out.ids.clear();
        out.margins.clear();
        out.values.clear();
        out.minMargin = minMargin_;
        out.firstPosition = static_cast<size_t>(length_ - 1);
        out.averageCheck.clear();
        if (o >= count) continue;
        if (averageCheck_) {
            out.averageCheck.push_back(check);
            out.averageSources = &model_.averageCheck.sources;
        }

        const VectorWeights& readout = readouts_[o];
        logits_.assign(static_cast<size_t>(readout.cols()), 0.0);
        readout.addProduct(x_.data(), live_.data(), logits_.data());
        if (model_.outputs[o].kind == OutputKind::Numerical) {
            out.values.push_back(logits_[0]);
            continue;
        }
        // The first maximum wins, as ONNX ArgMax does.
        const size_t best =
            static_cast<size_t>(std::max_element(logits_.begin(), logits_.end()) - logits_.begin());
        out.ids.push_back(static_cast<int64_t>(best));
        out.margins.push_back(oneHotMargin(logits_.data(), logits_.size(), best));
    }
}

const std::vector<OutputValues>& Decoder::step(int32_t token, size_t outputs) {
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
    readOutputs(outputs);
    watch.lap(stats_.otherSeconds);
    return outputs_;
}

}  // namespace raspc::rt
