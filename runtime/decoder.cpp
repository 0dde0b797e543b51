#include "runtime/decoder.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace raspc::rt {

Decoder::Decoder(const Model& m) : model_(m), cache_(m.layers.size()) {
    if (!m.causal) {
        throw ModelError(
            "this model is not causal, so it cannot be run one position at a time; "
            "compile a program with `causal;`");
    }
    for (size_t l = 0; l < m.layers.size(); ++l) cache_[l].resize(m.layers[l].heads.size());
    advance(static_cast<int32_t>(m.vocab.size()), 0);  // BOS
}

void Decoder::addProduct(const float* x, const Matrix& w, float* out) {
    for (int r = 0; r < w.rows; ++r) {
        const float xr = x[r];
        if (xr == 0.0f) continue;
        const float* row = w.data.data() + static_cast<size_t>(r) * w.cols;
        for (int c = 0; c < w.cols; ++c) out[c] += xr * row[c];
    }
}

void Decoder::advance(int32_t tokenId, int position) {
    const int d = model_.width;
    x_.assign(static_cast<size_t>(d), 0.0f);
    for (int c = 0; c < d; ++c) {
        x_[static_cast<size_t>(c)] =
            model_.tokenEmbedding.at(tokenId, c) + model_.positionEmbedding.at(position, c);
    }

    for (size_t l = 0; l < model_.layers.size(); ++l) {
        const Layer& layer = model_.layers[l];
        // Every head reads the residual as it was before the layer.
        next_ = x_;
        for (size_t h = 0; h < layer.heads.size(); ++h) {
            const Head& head = layer.heads[h];
            HeadCache& cache = cache_[l][h];
            const int dk = head.wq.cols, dv = head.wv.cols;
            q_.assign(static_cast<size_t>(dk), 0.0f);
            k_.assign(static_cast<size_t>(dk), 0.0f);
            v_.assign(static_cast<size_t>(dv), 0.0f);
            addProduct(x_.data(), head.wq, q_.data());
            addProduct(x_.data(), head.wk, k_.data());
            addProduct(x_.data(), head.wv, v_.data());
            cache.keys.insert(cache.keys.end(), k_.begin(), k_.end());
            cache.values.insert(cache.values.end(), v_.begin(), v_.end());
            const size_t keys = ++cache.positions;

            // Scan every cached key: this position and all before it (the causal mask).
            scores_.assign(keys, 0.0f);
            for (size_t j = 0; j < keys; ++j) {
                const float* kj = cache.keys.data() + j * static_cast<size_t>(dk);
                float s = 0.0f;
                for (int c = 0; c < dk; ++c) s += q_[static_cast<size_t>(c)] * kj[c];
                scores_[j] = s;
            }
            float best = -std::numeric_limits<float>::infinity();
            for (float s : scores_) best = std::max(best, s);
            float sum = 0.0f;
            for (float& s : scores_) {
                s = std::exp(s - best);
                sum += s;
            }
            const float scale = 1.0f / sum;
            mixed_.assign(static_cast<size_t>(dv), 0.0f);
            for (size_t j = 0; j < keys; ++j) {
                const float a = scores_[j] * scale;
                if (a == 0.0f) continue;
                const float* vj = cache.values.data() + j * static_cast<size_t>(dv);
                for (int c = 0; c < dv; ++c) mixed_[static_cast<size_t>(c)] += a * vj[c];
            }
            addProduct(mixed_.data(), head.wo, next_.data());
        }
        x_.swap(next_);

        const Mlp& mlp = layer.mlp;
        if (mlp.w1.cols == 0) continue;
        hidden_.assign(static_cast<size_t>(mlp.w1.cols), 0.0f);
        addProduct(x_.data(), mlp.w1, hidden_.data());
        for (float& h : hidden_) h = std::max(h, 0.0f);
        addProduct(hidden_.data(), mlp.w2, x_.data());
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

    std::vector<OutputValues> out(model_.outputs.size());
    std::vector<float> logits;
    for (size_t o = 0; o < model_.outputs.size(); ++o) {
        const Output& output = model_.outputs[o];
        logits.assign(static_cast<size_t>(output.readout.cols), 0.0f);
        addProduct(x_.data(), output.readout, logits.data());
        if (output.kind == OutputKind::Numerical) {
            out[o].values.push_back(logits[0]);
            continue;
        }
        auto best = std::max_element(logits.begin(), logits.end());
        float second = -std::numeric_limits<float>::infinity();
        for (auto it = logits.begin(); it != logits.end(); ++it) {
            if (it != best) second = std::max(second, *it);
        }
        out[o].ids.push_back(best - logits.begin());
        out[o].margins.push_back(logits.size() > 1 ? *best - second : 1.0f);
    }
    return out;
}

}  // namespace raspc::rt
