// Incremental decoding of causal models: one position at a time, with a key/value cache and a
// per-head attention strategy (convex hull, running sum or scan).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "runtime/errors.h"
#include "runtime/head_cache.h"
#include "runtime/head_strategy.h"
#include "runtime/model.h"
#include "runtime/runner.h"
#include "runtime/vector_weights.h"

namespace raspc::rt {

/// Which attention the decoder runs.
enum class Attention {
    /// Each head's own strategy (see chooseStrategies): hull, running sum, or scan.
    Auto,
    /// A plain scan of the cache for every head: the reference the others must match.
    Scan,
};

/// Where a decoder's time went, when timing is on (setTiming), and how many queries each
/// strategy answered (always counted).
struct DecoderStats {
    int64_t steps = 0;               // positions decoded, BOS included
    double projectionSeconds = 0.0;  // q, k, v and output projections of every head
    double attentionSeconds = 0.0;   // cache updates and queries
    double mlpSeconds = 0.0;
    double otherSeconds = 0.0;  // embedding and readouts
    AttentionCounts queries;
};

/// Runs a causal Model one position at a time. Each head keeps the keys and values of every
/// position so far and answers its query by its strategy (or by a scan, under
/// Attention::Scan); both give the same outputs (see HeadCache for how exactly). Computes in
/// double whatever the model's float type (float32 weights are exact in double), with softmax
/// weights that underflow to 0 where the model's float type would.
class Decoder {
public:
    /// Keeps a reference to `m`, which must outlive the Decoder. Throws ModelError if the model
    /// is not causal: without the mask, later positions would change earlier ones and no cache
    /// could be kept. Decodes BOS at once.
    explicit Decoder(const Model& m, Attention attention = Attention::Auto);

    /// Appends a token (an id into m.vocab) and returns the outputs at its position, one entry
    /// each, of which the first `outputs` (all by default) are read and the others left empty:
    /// generation needs only the first. The result stays valid until the next call. Throws
    /// InputError past the model's maximum length or for a bad id.
    const std::vector<OutputValues>& step(int32_t token, size_t outputs = SIZE_MAX);

    /// Tokens appended so far (BOS not counted).
    int length() const { return length_; }

    /// Switches the attention for the following steps; the cache is shared, so a switch is
    /// possible at any step (a strategy catches up on the positions it missed when next used).
    void setAttention(Attention attention) { attention_ = attention; }
    Attention attention() const { return attention_; }

    /// Forgets every token after the first `length` (0 <= length <= length()), so the same
    /// positions can be decoded again, e.g. with the other attention. Cheap when the
    /// strategies' structures have not yet seen the dropped positions (after decoding them
    /// under Attention::Scan); otherwise they are rebuilt from the cache when next used.
    void rewind(int length);

    /// The strategy Attention::Auto uses for each head, per layer (names: strategyName).
    const std::vector<std::vector<HeadStrategy>>& strategies() const { return strategies_; }
    /// Number of heads in all layers.
    int headCount() const;

    /// Times projections, attention, MLPs and the rest of every following step (a few clock
    /// reads per layer; off by default).
    void setTiming(bool on) { timing_ = on; }
    const DecoderStats& stats() const { return stats_; }
    void resetStats() { stats_ = DecoderStats(); }

private:
    // One layer's weights prepared for single-row products: the q, k and v projections of all
    // heads side by side in one matrix (head h's q at qkvOffset[h], then its k, then its v).
    struct PreparedLayer {
        VectorWeights qkv;
        std::vector<int> qkvOffset;
        std::vector<VectorWeights> wo;
        size_t valueWidth = 0;  // all heads' dv together
        VectorWeights w1, w2;
        bool hasMlp = false;
        IndexBits headWrites;  // residual dimensions the heads' outputs can change
    };

    void prepareEmbedding();
    void embedInto(int32_t tokenId, int position);
    void advance(int32_t tokenId, int position);
    void readOutputs(size_t count);

    const Model& model_;
    Attention attention_;
    std::vector<std::vector<HeadStrategy>> strategies_;
    std::vector<PreparedLayer> layers_;
    std::vector<VectorWeights> readouts_;
    std::optional<VectorWeights> averageCheck_;  // Model::averageCheck's readout, if any
    std::vector<std::vector<HeadCache>> cache_;  // [layer][head]
    std::vector<double> x_, qkv_, mixed_, hidden_, logits_, powerSum_;
    IndexBits fired_;  // the hidden units a ReLU left non-zero
    std::vector<OutputValues> outputs_;
    double minMargin_ = 0.0;  // minCategoricalMargin of the model

    // The residual is zero outside live_: the dimensions the embedding of this position and
    // the sublayers so far can have written. Products visit only the rows live there.
    IndexBits live_;
    // Each token's embedding row as its non-zeros (row t's at tokenStart_[t] ..
    // tokenStart_[t + 1] - 1), and as bits (bitWords(width) words per token).
    std::vector<size_t> tokenStart_;
    std::vector<int> tokenColumns_;
    std::vector<double> tokenValues_;
    IndexBits tokenBits_;
    IndexBits positionBits_;         // where the position table or powers are not zero
    std::vector<int> powerColumns_;  // where some row of the position powers is not zero
    int length_ = 0;
    bool timing_ = false;
    DecoderStats stats_;
};

}  // namespace raspc::rt
