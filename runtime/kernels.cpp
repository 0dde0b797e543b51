// The native runner's matrix products: by single weights, by whole rows, or in register tiles.
#include "runtime/kernels.h"

#include <algorithm>
#include <cstring>

namespace raspc::rt {

namespace {

// By single weights, skipping zero entries of a: the work is proportional to the non-zero
// products, which wins when both the residual stream (mostly one-hot) and the weights are
// sparse, as in compiled models.
void entryMatmul(const float* a, size_t rows, const SparseWeights& w, float* c) {
    const size_t inner = static_cast<size_t>(w.w->rows);
    const size_t cols = static_cast<size_t>(w.w->cols);
    const int* nz = w.nonZeroRows.data();
    const size_t nzCount = w.nonZeroRows.size();
    const int* start = w.rowStart.data();
    const int* columns = w.columns.data();
    const float* values = w.values.data();

    std::fill(c, c + rows * cols, 0.0f);
    for (size_t i = 0; i < rows; ++i) {
        const float* ai = a + i * inner;
        float* ci = c + i * cols;
        for (size_t t = 0; t < nzCount; ++t) {
            const float av = ai[nz[t]];
            if (av == 0.0f) continue;
            for (int e = start[t]; e < start[t + 1]; ++e) ci[columns[e]] += av * values[e];
        }
    }
}

// entryMatmul added into x one row at a time: the row's product stays in cache and the batch-
// sized product is never written.
void entryMatmulAdd(const float* a, size_t rows, const SparseWeights& w, float* x,
                    std::vector<float>& rowProduct) {
    const size_t inner = static_cast<size_t>(w.w->rows);
    const size_t cols = static_cast<size_t>(w.w->cols);
    const int* nz = w.nonZeroRows.data();
    const size_t nzCount = w.nonZeroRows.size();
    const int* start = w.rowStart.data();
    const int* columns = w.columns.data();
    const float* values = w.values.data();

    rowProduct.resize(cols);
    float* p = rowProduct.data();
    for (size_t i = 0; i < rows; ++i) {
        const float* ai = a + i * inner;
        std::fill(p, p + cols, 0.0f);
        bool any = false;
        for (size_t t = 0; t < nzCount; ++t) {
            const float av = ai[nz[t]];
            if (av == 0.0f) continue;
            any = true;
            for (int e = start[t]; e < start[t + 1]; ++e) p[columns[e]] += av * values[e];
        }
        // Adding a row of +0 could only turn a -0 of x into +0, which nothing reads.
        if (!any) continue;
        float* xi = x + i * cols;
        for (size_t j = 0; j < cols; ++j) xi[j] += p[j];
    }
}

// By whole rows of w, skipping zero entries of a: the row loop vectorises, which beats single
// weights when the non-zero rows of w are dense.
void rowMatmul(const float* a, size_t rows, const SparseWeights& w, float* c) {
    const size_t inner = static_cast<size_t>(w.w->rows);
    const size_t cols = static_cast<size_t>(w.w->cols);
    std::fill(c, c + rows * cols, 0.0f);
    for (size_t i = 0; i < rows; ++i) {
        const float* ai = a + i * inner;
        float* ci = c + i * cols;
        for (int k : w.nonZeroRows) {
            const float av = ai[k];
            if (av == 0.0f) continue;
            const float* bk = w.w->data.data() + static_cast<size_t>(k) * cols;
            for (size_t j = 0; j < cols; ++j) ci[j] += av * bk[j];
        }
    }
}

using Vec8 = float __attribute__((vector_size(32)));
constexpr size_t kTileRows = 4;
constexpr size_t kVecsPerTile = 2;
constexpr size_t kTileCols = kVecsPerTile * 8;

// Dense a: c is computed in kTileRows x kTileCols tiles held in registers, so each load of a
// row of w serves kTileRows rows of a and c is written once. Cloned for AVX2 and chosen at
// load time, so the binary stays portable.
__attribute__((target_clones("avx2", "default"))) void tileMatmul(const float* a, size_t rows,
                                                                  const SparseWeights& w,
                                                                  float* c) {
    const size_t inner = static_cast<size_t>(w.w->rows);
    const size_t cols = static_cast<size_t>(w.w->cols);
    const float* bData = w.w->data.data();
    const int* nz = w.nonZeroRows.data();
    const size_t nzCount = w.nonZeroRows.size();

    // Entry (i, j) alone, for the rows and columns that do not fill a tile.
    auto single = [&](size_t i, size_t j) {
        float sum = 0.0f;
        for (size_t t = 0; t < nzCount; ++t)
            sum += a[i * inner + nz[t]] * bData[static_cast<size_t>(nz[t]) * cols + j];
        c[i * cols + j] = sum;
    };

    size_t i0 = 0;
    for (; i0 + kTileRows <= rows; i0 += kTileRows) {
        size_t j0 = 0;
        for (; j0 + kTileCols <= cols; j0 += kTileCols) {
            // GCC vector types pin the tile to registers (8 of 8 floats under AVX2); plain
            // arrays got vectorised across k with shuffles instead.
            Vec8 acc[kTileRows][kVecsPerTile] = {};
            for (size_t t = 0; t < nzCount; ++t) {
                const size_t k = static_cast<size_t>(nz[t]);
                Vec8 bk[kVecsPerTile];
                std::memcpy(bk, bData + k * cols + j0, sizeof bk);
                for (size_t r = 0; r < kTileRows; ++r) {
                    const float av = a[(i0 + r) * inner + k];
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

}  // namespace

SparseWeights SparseWeights::from(const Matrix& w) {
    SparseWeights s;
    s.w = &w;
    s.rowStart.push_back(0);
    for (int r = 0; r < w.rows; ++r) {
        const float* row = w.data.data() + static_cast<size_t>(r) * w.cols;
        const size_t before = s.columns.size();
        for (int c = 0; c < w.cols; ++c) {
            if (row[c] == 0.0f) continue;
            s.columns.push_back(c);
            s.values.push_back(row[c]);
        }
        if (s.columns.size() == before) continue;
        s.nonZeroRows.push_back(r);
        s.rowStart.push_back(static_cast<int>(s.columns.size()));
    }
    // A single weight costs about as much as kEntryCost vector lanes of a row (measured on
    // the samples' models).
    constexpr size_t kEntryCost = 4;
    s.byEntry = s.columns.size() * kEntryCost < s.nonZeroRows.size() * static_cast<size_t>(w.cols);
    return s;
}

bool mostlyZero(const std::vector<float>& a) {
    const auto nonZeros = std::count_if(a.begin(), a.end(), [](float v) { return v != 0.0f; });
    return static_cast<size_t>(nonZeros) * 4 < a.size();
}

void multiply(const float* a, size_t rows, bool aMostlyZero, const SparseWeights& w, float* c) {
    if (w.byEntry)
        entryMatmul(a, rows, w, c);
    else if (aMostlyZero)
        rowMatmul(a, rows, w, c);
    else
        tileMatmul(a, rows, w, c);
}

void multiplyAdd(const float* a, size_t rows, bool aMostlyZero, const SparseWeights& w, float* x,
                 std::vector<float>& scratch) {
    if (w.byEntry) {
        entryMatmulAdd(a, rows, w, x, scratch);
        return;
    }
    const size_t size = rows * static_cast<size_t>(w.w->cols);
    scratch.resize(size);
    multiply(a, rows, aMostlyZero, w, scratch.data());
    for (size_t i = 0; i < size; ++i) x[i] += scratch[i];
}

}  // namespace raspc::rt
