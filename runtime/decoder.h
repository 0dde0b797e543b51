// Incremental decoding of causal models: one position at a time, with a key/value cache.
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/errors.h"
#include "runtime/model.h"
#include "runtime/runner.h"

namespace raspc::rt {

/// Runs a causal Model one position at a time. Each head keeps the keys and values of every
/// position so far, so a step costs time proportional to the positions seen (a plain scan of
/// the cache), not a recomputation of the whole prefix. Computes in float32 like Runner.
class Decoder {
public:
    /// Keeps a reference to `m`. Throws ModelError if the model is not causal: without the
    /// mask, later positions would change earlier ones and no cache could be kept.
    explicit Decoder(const Model& m);

    /// Appends a token (an id into m.vocab) and returns every output at its position, one
    /// entry each. Throws InputError past the model's maximum length or for a bad id.
    std::vector<OutputValues> step(int32_t token);

    /// Tokens appended so far (BOS not counted).
    int length() const { return length_; }

private:
    struct HeadCache {
        size_t positions = 0;
        std::vector<float> keys;    // positions x dk
        std::vector<float> values;  // positions x dv
    };

    // x (length d) times w (rows x cols) added into out (length cols); zeros of x skipped.
    static void addProduct(const float* x, const Matrix& w, float* out);
    void advance(int32_t tokenId, int position);

    const Model& model_;
    std::vector<std::vector<HeadCache>> cache_;  // [layer][head]
    std::vector<float> x_, next_, q_, k_, v_, mixed_, hidden_, scores_;
    int length_ = 0;
};

}  // namespace raspc::rt
