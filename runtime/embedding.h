// The embedding of one position as the batched runner computes it (the incremental decoder
// computes the same from the non-zeros alone: Decoder::embedInto).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/model.h"

namespace raspc::rt {

/// Writes the embedding of `token` at `position` (0 is BOS) into out[0, d), computed in the
/// scalar T the way the ONNX graph does: the token row, plus the position row when the model
/// has a position table, plus sum over e of j^(e+1) * positionPowers row e at a real position
/// (index j = position - 1, its powers by repeated multiplication in T). `scratch` is a buffer
/// the call may resize and overwrite.
template <typename T>
void embed(const Model& m, int32_t token, int position, T* out, std::vector<T>& scratch) {
    const size_t d = static_cast<size_t>(m.width);
    const double* te = m.tokenEmbedding.data.data() + static_cast<size_t>(token) * d;
    for (size_t c = 0; c < d; ++c) out[c] = static_cast<T>(te[c]);
    if (m.positionEmbedding.rows > 0) {
        const double* pe = m.positionEmbedding.data.data() + static_cast<size_t>(position) * d;
        for (size_t c = 0; c < d; ++c) out[c] += static_cast<T>(pe[c]);
    }
    if (m.positionPowers.rows == 0 || position == 0) return;

    // The graph adds (powers x positionPowers) as one term: sum it first, in row order.
    const T index = static_cast<T>(position - 1);
    scratch.assign(d, T(0));
    T* sum = scratch.data();
    T power = index;
    for (int e = 0; e < m.positionPowers.rows; ++e) {
        if (e > 0) power *= index;
        const double* row = m.positionPowers.data.data() + static_cast<size_t>(e) * d;
        for (size_t c = 0; c < d; ++c) sum[c] += power * static_cast<T>(row[c]);
    }
    for (size_t c = 0; c < d; ++c) out[c] += sum[c];
}

}  // namespace raspc::rt
