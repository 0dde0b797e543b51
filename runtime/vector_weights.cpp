// Single-vector products over rows kept whole or as their non-zeros.
#include "runtime/vector_weights.h"

namespace raspc::rt {

namespace {

// A row is kept whole when under this many columns per non-zero: one scattered product costs
// about as much as this many lanes of contiguous vector work.
constexpr int kScatterCost = 4;

// out[0, n) += a * row[0, n). Cloned for AVX2, chosen at load time.
__attribute__((target_clones("avx2", "default"))) void axpy(double a, const double* row, int n,
                                                            double* out) {
    for (int c = 0; c < n; ++c) out[c] += a * row[c];
}

}  // namespace

VectorWeights::VectorWeights(const Matrix& w) : rows_(w.rows), cols_(w.cols) {
    rowSlot_.assign(static_cast<size_t>(rows_), -1);
    for (int r = 0; r < rows_; ++r) {
        const double* row = w.data.data() + static_cast<size_t>(r) * cols_;
        int nonZeros = 0;
        for (int c = 0; c < cols_; ++c) nonZeros += row[c] != 0.0;
        if (nonZeros == 0) continue;

        Row info;
        info.dense = nonZeros * kScatterCost >= cols_;
        if (info.dense) {
            info.start = denseValues_.size();
            info.count = cols_;
            denseValues_.insert(denseValues_.end(), row, row + cols_);
        } else {
            info.start = columns_.size();
            info.count = nonZeros;
            for (int c = 0; c < cols_; ++c) {
                if (row[c] == 0.0) continue;
                columns_.push_back(c);
                sparseValues_.push_back(row[c]);
            }
        }
        rowSlot_[static_cast<size_t>(r)] = static_cast<int>(rowData_.size());
        rowData_.push_back(info);
        nonZeroRows_.push_back(r);
    }
}

void VectorWeights::addRow(const Row& row, double xr, double* out) const {
    if (row.dense) {
        axpy(xr, denseValues_.data() + row.start, cols_, out);
        return;
    }
    const int* columns = columns_.data() + row.start;
    const double* values = sparseValues_.data() + row.start;
    for (int e = 0; e < row.count; ++e) out[columns[e]] += xr * values[e];
}

void VectorWeights::addProduct(const double* x, double* out) const {
    for (size_t t = 0; t < nonZeroRows_.size(); ++t) {
        const double xr = x[nonZeroRows_[t]];
        if (xr != 0.0) addRow(rowData_[t], xr, out);
    }
}

void VectorWeights::addProductAt(const double* x, const int* active, int count, double* out) const {
    for (int i = 0; i < count; ++i) {
        const int r = active[i];
        const int slot = rowSlot_[static_cast<size_t>(r)];
        if (slot >= 0) addRow(rowData_[static_cast<size_t>(slot)], x[r], out);
    }
}

}  // namespace raspc::rt
