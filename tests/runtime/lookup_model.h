// A hand-built causal model with every kind of head the decoder tells apart, for its tests.
#pragma once

#include <cstdint>

#include "runtime/model.h"

namespace raspc::testing {

/// A causal model over the tokens "0" .. "vocabSize - 1" (at most 16), in `floatType`, with no
/// position table: the position index comes from one row of position powers. Layer 0: a hard
/// 2-D "lookup" head (the mean index of earlier positions holding token t + 1, merging
/// coinciding keys), a hard 2-D "latest" head (the index of the latest position holding t + 2,
/// through a position term in the key; exact only up to maxLen), a uniform "mean" head over
/// all positions (a running-sum head), with `softHead` a running-sum head whose weights are
/// soft, and a random MLP. Layer 1: a random dense scan head and a hard "lookup2" head reading
/// the MLP's output. Outputs: "next" (categorical: token t + 1, so generation counts up
/// cyclically), "latest" (numerical, a whole number), then one numerical output per head and
/// MLP, for comparing raw values.
rt::Model lookupModel(int vocabSize, int maxLen, const char* floatType, bool softHead,
                      uint32_t seed);

}  // namespace raspc::testing
