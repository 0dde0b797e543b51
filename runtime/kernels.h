// The native runner's matrix products: activations times mostly-zero weight matrices.
#pragma once

#include <cstddef>
#include <vector>

#include "runtime/model.h"

namespace raspc::rt {

/// A weight matrix prepared for products that skip its zeros. Compiled models are mostly
/// zeros, so visiting only the non-zero weights skips most of the work.
struct SparseWeights {
    const Matrix* w = nullptr;
    /// The rows holding a non-zero, in increasing order.
    std::vector<int> nonZeroRows;
    /// The non-zeros row by row: entries rowStart[t] .. rowStart[t + 1] - 1 of `columns` and
    /// `values` belong to row nonZeroRows[t], in increasing column order.
    std::vector<int> rowStart;
    std::vector<int> columns;
    std::vector<float> values;
    /// True when the non-zero rows are so sparse that visiting single weights beats vector
    /// work over whole rows.
    bool byEntry = false;

    /// Keeps a pointer to `w`, which must outlive the result.
    static SparseWeights from(const Matrix& w);
};

/// True when under a quarter of a's entries are non-zero: such an activation is multiplied
/// row by row skipping its zeros; a denser one in register tiles.
bool mostlyZero(const std::vector<float>& a);

/// c (rows x w.cols) = a (rows x w.rows) * w. Whichever kernel runs, every entry of c sums its
/// products in increasing order of the inner index starting from 0; the kernels differ only in
/// which zero products they leave out, which can change nothing but the sign of a zero.
void multiply(const float* a, size_t rows, bool aMostlyZero, const SparseWeights& w, float* c);

/// x (rows x w.cols) += a * w, the product of each row computed in full (as multiply does)
/// before it is added. `scratch` is a buffer the call may resize and overwrite.
void multiplyAdd(const float* a, size_t rows, bool aMostlyZero, const SparseWeights& w, float* x,
                 std::vector<float>& scratch);

}  // namespace raspc::rt
