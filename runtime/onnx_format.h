// How a Model is laid out in an ONNX file: initializer names and metadata keys, shared by the
// writer (in the compiler) and the reader (in the runtime) so the two cannot drift apart.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/model.h"

namespace raspc::rt::onnx_format {

inline constexpr std::string_view kProducer = "raspc";
inline constexpr int64_t kOpsetVersion = 17;
inline constexpr int64_t kIrVersion = 8;

/// The graph's only input: int64 token ids [batch, seq], without the BOS position.
inline constexpr std::string_view kTokensInput = "tokens";

// Graph outputs: one per Model output, named after it: int64 [batch, seq] table indices
// (categorical: ArgMax of the scores, or -1 where the native runner refuses the position:
// scores farther from a clean one-hot than minCategoricalMargin allows, or the average check
// failed) or [batch, seq] numbers in the model's float type (numerical: NaN where the average
// check failed).

// Initializers. Every weight matrix is a tensor of the model's float type (FLOAT for float32,
// DOUBLE for float64) with the Matrix's [rows, cols] shape.
inline constexpr std::string_view kTokenEmbedding = "token_embedding";
/// Absent when the model has no position table (Model::positionEmbedding has 0 rows).
inline constexpr std::string_view kPositionEmbedding = "position_embedding";
/// Model::positionPowers; absent when it has 0 rows.
inline constexpr std::string_view kPositionPowers = "position_powers";

/// "layer<L>.head<H>.<which>", which is one of wq, wk, wv, wo.
std::string headWeightName(int layer, int head, std::string_view which);
/// "layer<L>.mlp.<which>", which is w1 or w2. Absent when the layer has no MLP.
std::string mlpWeightName(int layer, std::string_view which);
/// "output.<name>.readout".
std::string readoutName(std::string_view output);

// Metadata keys. Lists are stored as JSON text; numbers as JSON numbers, which round-trip
// doubles exactly.
inline constexpr std::string_view kKeyVersion = "raspc.version";           // marks a raspc file
inline constexpr std::string_view kKeyVocab = "raspc.vocab";               // JSON [token, ...]
inline constexpr std::string_view kKeyTokenType = "raspc.token_type";      // str|int|float|bool
inline constexpr std::string_view kKeyMaxLen = "raspc.max_len";            // BOS not counted
inline constexpr std::string_view kKeyWidth = "raspc.width";               // residual width
inline constexpr std::string_view kKeyOutputs = "raspc.outputs";           // JSON [name, ...]
inline constexpr std::string_view kKeyLayers = "raspc.layers";             // JSON [{heads, mlp}]
inline constexpr std::string_view kKeyLayerLayout = "raspc.layer_layout";  // for people
inline constexpr std::string_view kKeyFloatType = "raspc.float_type";      // float32|float64
/// Optional: the heads with Head::hard set, as JSON [[layer, head], ...]; absent when none.
inline constexpr std::string_view kKeyHardHeads = "raspc.hard_heads";
/// Optional: the heads with a HeadMask, as JSON [[layer, head, operator], ...] with the
/// operator of maskOperator ("<=", "<", ">=", ">"); absent when none (as in older files).
inline constexpr std::string_view kKeyHeadMasks = "raspc.head_masks";
/// Optional: "true" when attention is causally masked (absent in older files: not causal).
inline constexpr std::string_view kKeyCausal = "raspc.causal";
inline constexpr std::string_view kKeySource = "raspc.source";
/// Optional: Model::reportJson (slot map and MLP block widths), absent when empty.
inline constexpr std::string_view kKeyReport = "raspc.report";
/// Optional: JSON [source, ...] of Model::averageCheck, whose readout is the initializer
/// kAverageCheckReadout. Absent when the model has nothing to check.
inline constexpr std::string_view kKeyAverageCheck = "raspc.average_check";
inline constexpr std::string_view kAverageCheckReadout = "average_check.readout";

/// "raspc.output.<name>.<field>"; fields: kind ("categorical" or "numerical"), value_type,
/// table (JSON strings), numbers (JSON numbers, numerical only), tolerance (numerical only).
std::string outputKey(std::string_view output, std::string_view field);

/// The metadata properties describing `m` (everything but the weights), in a fixed order.
std::vector<std::pair<std::string, std::string>> encodeMetadata(const Model& m);

/// Fills every non-weight field of `m` from metadata written by encodeMetadata: vocabulary,
/// sizes, outputs (readouts left empty), and one Layer per layer with its labels and as many
/// empty Heads as it had. Throws ModelError naming the key that is missing or malformed.
void decodeMetadata(const std::map<std::string, std::string>& props, Model& m);

/// Describes the first way in which `m`'s shapes or tables disagree with each other (e.g.
/// "layer 1 head 0: wo is 3 x 8, expected 4 x 8"), or returns "" when `m` is consistent.
/// The writer treats a finding as a compiler bug, the reader as a broken file.
std::string findInconsistency(const Model& m);

}  // namespace raspc::rt::onnx_format
