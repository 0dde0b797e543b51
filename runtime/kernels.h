// The batched runner's matrix products: activations times mostly-zero weight matrices, in
// float (float32 models) or double (float64 models).
#pragma once

#include <cstddef>
#include <vector>

#include "runtime/model.h"

namespace raspc::rt {

/// A weight matrix converted to the scalar T and prepared for products that skip its zeros.
/// Compiled models are mostly zeros, so visiting only the non-zero weights skips most of the
/// work.
template <typename T>
struct SparseWeights {
    int rows = 0;
    int cols = 0;
    /// The whole matrix in T, row-major; kept only when a kernel reads whole rows (!byEntry).
    std::vector<T> dense;
    /// The rows holding a non-zero, in increasing order.
    std::vector<int> nonZeroRows;
    /// The non-zeros row by row: entries rowStart[t] .. rowStart[t + 1] - 1 of `columns` and
    /// `values` belong to row nonZeroRows[t], in increasing column order.
    std::vector<int> rowStart;
    std::vector<int> columns;
    std::vector<T> values;
    /// True when the non-zero rows are so sparse that visiting single weights beats vector
    /// work over whole rows.
    bool byEntry = false;

    /// Copies `w` (converting each weight to T); `w` need not outlive the result.
    static SparseWeights from(const Matrix& w);
};

/// True when under a quarter of a's entries are non-zero: such an activation is multiplied
/// row by row skipping its zeros; a denser one in register tiles.
template <typename T>
bool mostlyZero(const std::vector<T>& a);

/// c (rows x w.cols) = a (rows x w.rows) * w. Whichever kernel runs, every entry of c sums its
/// products in increasing order of the inner index starting from 0; the kernels differ only in
/// which zero products they leave out, which can change nothing but the sign of a zero.
template <typename T>
void multiply(const T* a, size_t rows, bool aMostlyZero, const SparseWeights<T>& w, T* c);

/// x (rows x w.cols) += a * w, the product of each row computed in full (as multiply does)
/// before it is added. `scratch` is a buffer the call may resize and overwrite.
template <typename T>
void multiplyAdd(const T* a, size_t rows, bool aMostlyZero, const SparseWeights<T>& w, T* x,
                 std::vector<T>& scratch);

}  // namespace raspc::rt
