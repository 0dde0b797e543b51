// Weights prepared for the incremental decoder's products of a single vector, in double.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/model.h"

namespace raspc::rt {

/// A set of indices 0 .. n - 1 as bits, 64 to a word (index i is bit i % 64 of word i / 64).
using IndexBits = std::vector<uint64_t>;

/// Words an IndexBits over n indices takes.
inline size_t bitWords(size_t n) {
    return (n + 63) / 64;
}

/// a |= b (both over the same number of indices).
inline void addBits(IndexBits& a, const IndexBits& b) {
    for (size_t w = 0; w < a.size(); ++w) a[w] |= b[w];
}

/// Sets bits[u] for each u in [0, n) with values[u] > 0 and clears the others (bitWords(n)
/// words; NaN is not above 0): the units a ReLU lets through.
void positiveBits(const double* values, size_t n, uint64_t* bits);

/// The instruction sets the products below have kernels for.
enum class KernelSet { Plain, Avx2, Avx512 };

/// Makes every product (and positiveBits) use the kernels of `set` from now on, instead of the
/// widest the processor runs; for tests, which check each set against the others. Returns
/// false, changing nothing, when the processor cannot run them.
bool selectKernels(KernelSet set);

/// A weight matrix for out += x * W with one x at a time. Only rows that hold a non-zero are
/// kept. When few columns hold non-zeros (projections to a head, an MLP's output, a readout),
/// each row is kept as its values in those columns alone, and a product keeps those entries
/// of out in registers while it adds the rows; otherwise a row with many non-zeros is kept
/// whole, and runs of whole rows are added a few columns at a time with the sums in
/// registers, while a row with few non-zeros is kept as those alone.
///
/// Every product adds each entry of out's terms in increasing row order, one rounding for
/// each product and one for each sum (never fused), whichever form and instruction set runs:
/// the results are the plain sum's, to the bit. The forms differ only in which zero terms they
/// add or leave out, which can change nothing but the sign of a zero.
class VectorWeights {
public:
    VectorWeights() = default;
    explicit VectorWeights(const Matrix& w);

    int rows() const { return rows_; }
    int cols() const { return cols_; }
    /// The rows that hold a non-zero, and the columns that do (those a product can change).
    const IndexBits& rowBits() const { return rowBits_; }
    const IndexBits& columnBits() const { return columnBits_; }

    /// out (cols) += x (rows) * W.
    void addProduct(const double* x, double* out) const;

    /// The same when x is 0 outside `live` (rowBits().size() words; nullptr: anywhere): only
    /// rows in both `live` and rowBits() are visited, so a mostly-zero x costs its few live
    /// rows.
    void addProduct(const double* x, const uint64_t* live, double* out) const;

private:
    struct Row {
        size_t start = 0;  // dense: offset of the row in denseValues_; else in columns_
        int count = 0;     // dense: cols_; else the number of non-zeros
        bool dense = false;
    };
    // Calls f(slot, x[r]) for each row r in `live` (nullptr: all) and rowBits_ with x[r] != 0,
    // in order.
    template <typename F>
    void forLiveRows(const double* x, const uint64_t* live, F f) const;

    int rows_ = 0, cols_ = 0;
    std::vector<int> nonZeroRows_;  // increasing
    std::vector<int> rowSlot_;      // row -> its slot, or -1
    IndexBits rowBits_, columnBits_;

    // The compact form (compactWidth_ > 0): the columns holding non-zeros; the same padded
    // to whole vectors of four with the first again (the padding's weights are 0); and each
    // row's values in them, compactWidth_ numbers a row.
    std::vector<int> compactColumns_;
    std::vector<int> compactLanes_;
    int compactWidth_ = 0;
    std::vector<double> compactValues_;

    // The row form: per slot (a non-zero row's index in nonZeroRows_), whole or as its
    // non-zeros.
    std::vector<Row> rowData_;
    std::vector<double> denseValues_;
    std::vector<int> columns_;  // sparse rows' non-zeros: their columns and values
    std::vector<double> sparseValues_;
};

}  // namespace raspc::rt
