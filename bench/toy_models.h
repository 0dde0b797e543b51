// Hand-built Models for the runtime's tests and the runner benchmark, made without the
// compiler: small programs whose weights are easy to check by eye, and a dense random model.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/model.h"

namespace raspc::toy {

/// No layers: the output "token" reads the token one-hot back. Table = vocab.
rt::Model identityModel(const std::vector<std::string>& vocab, int maxLen);

/// Two layers, both output kinds, hard and uniform attention, an MLP-less and a head-less
/// layer. Layer 0 has two heads: "prev" copies the previous token (hard attention with a
/// scale of 120, so losing keys get weight exactly 0; the first token sees BOS and reads
/// "-"), and "frac" averages over all positions, BOS included, whether the token is vocab[0]
/// (numerical: count / (length + 1)). Layer 1 is an MLP mapping prev to the next vocabulary
/// entry, cyclically ("rot"; "-" stays "-"). Outputs: prev, frac, rot.
rt::Model shiftModel(const std::vector<std::string>& vocab, int maxLen);

/// What shiftModel computes, worked out directly (for checking runners against).
struct ShiftExpected {
    std::vector<std::string> prev, frac, rot;
};
ShiftExpected shiftExpected(const std::vector<std::string>& vocab,
                            const std::vector<std::string>& tokens);

/// The table text of the fraction k / n, as shiftModel's "frac" output writes it.
std::string fractionText(int k, int n);

/// Random dense weights (no zeros to skip, soft attention): measures the kernels' raw speed.
/// Its one output "argmax" is categorical over `width` entries; its values are meaningless.
rt::Model denseModel(int vocabSize, int maxLen, int width, int layers, int heads, int headDim,
                     int hidden, uint32_t seed);

}  // namespace raspc::toy
