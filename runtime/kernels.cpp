// The native runner's matrix products: by single weights, by whole rows, or in register tiles,
// each a template instantiated for float and double.
#include "runtime/kernels.h"

#include <algorithm>
#include <cstring>

namespace raspc::rt {

namespace {

// One row of a times w by single weights, added into `out` (cols entries), skipping zero
// entries of the row: the work is proportional to the non-zero products, which wins when both
// the residual stream (mostly one-hot) and the weights are sparse, as in compiled models.
// Returns whether any entry of the row read was non-zero.
template <typename T>
bool addEntryRowProduct(const T* ai, const SparseWeights<T>& w, T* out) {
    const int* start = w.rowStart.data();
    const int* columns = w.columns.data();
    const T* values = w.values.data();
    bool any = false;
    for (size_t t = 0; t < w.nonZeroRows.size(); ++t) {
        const T av = ai[w.nonZeroRows[t]];
        if (av == T(0)) continue;
        any = true;
        for (int e = start[t]; e < start[t + 1]; ++e) out[columns[e]] += av * values[e];
    }
    return any;
}

template <typename T>
void entryMatmul(const T* a, size_t rows, const SparseWeights<T>& w, T* c) {
    const size_t inner = static_cast<size_t>(w.rows);
    const size_t cols = static_cast<size_t>(w.cols);
    std::fill(c, c + rows * cols, T(0));
    for (size_t i = 0; i < rows; ++i) addEntryRowProduct(a + i * inner, w, c + i * cols);
}

// entryMatmul added into x one row at a time: the row's product stays in cache and the batch-
// sized product is never written.
template <typename T>
void entryMatmulAdd(const T* a, size_t rows, const SparseWeights<T>& w, T* x,
                    std::vector<T>& rowProduct) {
    const size_t inner = static_cast<size_t>(w.rows);
    const size_t cols = static_cast<size_t>(w.cols);
    rowProduct.resize(cols);
    T* p = rowProduct.data();
    for (size_t i = 0; i < rows; ++i) {
        std::fill(p, p + cols, T(0));
        // Adding a row of +0 could only turn a -0 of x into +0, which nothing reads.
        if (!addEntryRowProduct(a + i * inner, w, p)) continue;
        T* xi = x + i * cols;
        for (size_t j = 0; j < cols; ++j) xi[j] += p[j];
    }
}

// By whole rows of w, skipping zero entries of a: the row loop vectorises, which beats single
// weights when the non-zero rows of w are dense.
template <typename T>
void rowMatmul(const T* a, size_t rows, const SparseWeights<T>& w, T* c) {
    const size_t inner = static_cast<size_t>(w.rows);
    const size_t cols = static_cast<size_t>(w.cols);
    std::fill(c, c + rows * cols, T(0));
    for (size_t i = 0; i < rows; ++i) {
        const T* ai = a + i * inner;
        T* ci = c + i * cols;
        for (int k : w.nonZeroRows) {
            const T av = ai[k];
            if (av == T(0)) continue;
            const T* bk = w.dense.data() + static_cast<size_t>(k) * cols;
            for (size_t j = 0; j < cols; ++j) ci[j] += av * bk[j];
        }
    }
}

// 32-byte vectors of T: 8 floats or 4 doubles, one AVX2 register each.
template <typename T>
struct Lanes {
    typedef T Vec __attribute__((vector_size(32)));
    static constexpr size_t kCount = 32 / sizeof(T);
};
constexpr size_t kTileRows = 4;
constexpr size_t kVecsPerTile = 2;

// Dense a: c is computed in kTileRows x (kVecsPerTile vectors) tiles held in registers, so
// each load of a row of w serves kTileRows rows of a and c is written once. The body is inlined
// into tileMatmul's clones below, so the AVX2 clone compiles it for AVX2.
template <typename T>
__attribute__((always_inline)) inline void tileMatmulBody(const T* a, size_t rows,
                                                          const SparseWeights<T>& w, T* c) {
    using Vec = typename Lanes<T>::Vec;
    constexpr size_t kTileCols = kVecsPerTile * Lanes<T>::kCount;
    const size_t inner = static_cast<size_t>(w.rows);
    const size_t cols = static_cast<size_t>(w.cols);
    const T* bData = w.dense.data();
    const int* nz = w.nonZeroRows.data();
    const size_t nzCount = w.nonZeroRows.size();

    // Entry (i, j) alone, for the rows and columns that do not fill a tile.
    auto single = [&](size_t i, size_t j) {
        T sum = 0;
        for (size_t t = 0; t < nzCount; ++t)
            sum += a[i * inner + nz[t]] * bData[static_cast<size_t>(nz[t]) * cols + j];
        c[i * cols + j] = sum;
    };

    size_t i0 = 0;
    for (; i0 + kTileRows <= rows; i0 += kTileRows) {
        size_t j0 = 0;
        for (; j0 + kTileCols <= cols; j0 += kTileCols) {
            // GCC vector types pin the tile to registers; plain arrays got vectorised across
            // k with shuffles instead.
            Vec acc[kTileRows][kVecsPerTile] = {};
            for (size_t t = 0; t < nzCount; ++t) {
                const size_t k = static_cast<size_t>(nz[t]);
                Vec bk[kVecsPerTile];
                std::memcpy(bk, bData + k * cols + j0, sizeof bk);
                for (size_t r = 0; r < kTileRows; ++r) {
                    const T av = a[(i0 + r) * inner + k];
                    for (size_t v = 0; v < kVecsPerTile; ++v) acc[r][v] += av * bk[v];
                }
            }
            for (size_t r = 0; r < kTileRows; ++r)
                std::memcpy(c + (i0 + r) * cols + j0, acc[r], sizeof acc[r]);
        }
        for (size_t r = 0; r < kTileRows; ++r)
            for (size_t j = j0; j < cols; ++j) single(i0 + r, j);
    }
    for (; i0 < rows; ++i0)
        for (size_t j = 0; j < cols; ++j) single(i0, j);
}

// Cloned for AVX2 and chosen at load time, so the binary stays portable. (GCC cannot clone
// a template, hence one plain function per scalar.)
__attribute__((target_clones("avx2", "default"))) void tileMatmul(const float* a, size_t rows,
                                                                  const SparseWeights<float>& w,
                                                                  float* c) {
    tileMatmulBody(a, rows, w, c);
}
__attribute__((target_clones("avx2", "default"))) void tileMatmul(const double* a, size_t rows,
                                                                  const SparseWeights<double>& w,
                                                                  double* c) {
    tileMatmulBody(a, rows, w, c);
}

}  // namespace

template <typename T>
SparseWeights<T> SparseWeights<T>::from(const Matrix& w) {
    SparseWeights<T> s;
    s.rows = w.rows;
    s.cols = w.cols;
    s.rowStart.push_back(0);
    for (int r = 0; r < w.rows; ++r) {
        const double* row = w.data.data() + static_cast<size_t>(r) * w.cols;
        const size_t before = s.columns.size();
        for (int c = 0; c < w.cols; ++c) {
            if (row[c] == 0.0) continue;
            s.columns.push_back(c);
            s.values.push_back(static_cast<T>(row[c]));
        }
        if (s.columns.size() == before) continue;
        s.nonZeroRows.push_back(r);
        s.rowStart.push_back(static_cast<int>(s.columns.size()));
    }
    // A single weight costs about as much as kEntryCost vector lanes of a row (measured on
    // the samples' models).
    constexpr size_t kEntryCost = 4;
    s.byEntry = s.columns.size() * kEntryCost < s.nonZeroRows.size() * static_cast<size_t>(w.cols);
    if (!s.byEntry) s.dense.assign(w.data.begin(), w.data.end());
    return s;
}

template <typename T>
bool mostlyZero(const std::vector<T>& a) {
    const auto nonZeros = std::count_if(a.begin(), a.end(), [](T v) { return v != T(0); });
    return static_cast<size_t>(nonZeros) * 4 < a.size();
}

template <typename T>
void multiply(const T* a, size_t rows, bool aMostlyZero, const SparseWeights<T>& w, T* c) {
    if (w.byEntry)
        entryMatmul(a, rows, w, c);
    else if (aMostlyZero)
        rowMatmul(a, rows, w, c);
    else
        tileMatmul(a, rows, w, c);
}

template <typename T>
void multiplyAdd(const T* a, size_t rows, bool aMostlyZero, const SparseWeights<T>& w, T* x,
                 std::vector<T>& scratch) {
    if (w.byEntry) {
        entryMatmulAdd(a, rows, w, x, scratch);
        return;
    }
    const size_t size = rows * static_cast<size_t>(w.cols);
    scratch.resize(size);
    multiply(a, rows, aMostlyZero, w, scratch.data());
    for (size_t i = 0; i < size; ++i) x[i] += scratch[i];
}

template struct SparseWeights<float>;
template struct SparseWeights<double>;
template bool mostlyZero(const std::vector<float>&);
template bool mostlyZero(const std::vector<double>&);
template void multiply(const float*, size_t, bool, const SparseWeights<float>&, float*);
template void multiply(const double*, size_t, bool, const SparseWeights<double>&, double*);
template void multiplyAdd(const float*, size_t, bool, const SparseWeights<float>&, float*,
                          std::vector<float>&);
template void multiplyAdd(const double*, size_t, bool, const SparseWeights<double>&, double*,
                          std::vector<double>&);

}  // namespace raspc::rt
