// Weights prepared for the incremental decoder's products of a single vector, in double.
#pragma once

#include <cstddef>
#include <vector>

#include "runtime/model.h"

namespace raspc::rt {

/// A weight matrix for out += x * W with one x at a time. Only rows that hold a non-zero are
/// kept; a row with many non-zeros is kept whole so that its product runs as vector work over
/// contiguous memory, a row with few as its non-zeros alone.
class VectorWeights {
public:
    VectorWeights() = default;
    explicit VectorWeights(const Matrix& w);

    int rows() const { return rows_; }
    int cols() const { return cols_; }

    /// out (cols) += x (rows) * W, skipping the rows where x is 0. Each entry of out gets its
    /// products added in increasing row order.
    void addProduct(const double* x, double* out) const;

    /// The same when x is non-zero at most at the `count` rows listed in `active` (increasing).
    void addProductAt(const double* x, const int* active, int count, double* out) const;

private:
    struct Row {
        size_t start = 0;  // dense: offset of the row in denseValues_; else in columns_
        int count = 0;     // dense: cols_; else the number of non-zeros
        bool dense = false;
    };
    void addRow(const Row& row, double xr, double* out) const;

    int rows_ = 0, cols_ = 0;
    std::vector<int> nonZeroRows_;  // increasing
    std::vector<int> rowSlot_;      // row -> index into rowData_, or -1 for an all-zero row
    std::vector<Row> rowData_;      // parallel to nonZeroRows_
    std::vector<double> denseValues_;
    std::vector<int> columns_;  // sparse rows' non-zeros: their columns and values
    std::vector<double> sparseValues_;
};

}  // namespace raspc::rt
