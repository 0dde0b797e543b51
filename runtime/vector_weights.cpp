// Single-vector products: rows over a few columns kept in registers, or rows kept whole or as
// their non-zeros.
#include "runtime/vector_weights.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace raspc::rt {

namespace {

// A row is kept whole when under this many columns per non-zero: one scattered product costs
// about as much as this many lanes of contiguous vector work.
constexpr int kScatterCost = 4;

// A matrix with non-zeros in at most this many columns takes the compact form: a product then
// holds that many sums in registers (four vectors of four).
constexpr int kCompactColumns = 16;

// One row of a product in the row form, with its x: whole (`columns` null; cols values) or as
// its non-zeros.
struct WideRow {
    const double* values;
    const int* columns;
    int count;
    double x;
};

// L doubles as one value (a GCC/Clang vector extension). The kernels below are templates,
// compiled once per instruction set with the number of lanes its registers hold (a vector
// wider than the registers would go through memory).
template <int L>
struct VecOf;
template <>
struct VecOf<2> {
    typedef double type __attribute__((vector_size(16)));
};
template <>
struct VecOf<4> {
    typedef double type __attribute__((vector_size(32)));
};
template <>
struct VecOf<8> {
    typedef double type __attribute__((vector_size(64)));
};
template <int L>
using Vec = typename VecOf<L>::type;

// v += a * p[0, L), one rounding for the product and one for the sum (never fused).
template <int L>
[[gnu::always_inline]] inline void addScaled(Vec<L>& v, double a, const double* p) {
    Vec<L> w;
    std::memcpy(&w, p, sizeof w);
    v += a * w;
}

// out[lanes[k]] += x[r] * row r [k] for k < used, for the rows r in both rowBits and live
// (nullptr: all) in increasing order, the sums held in V registers of L lanes. `lanes` has
// V * L columns: the `used` ones, then any valid column (padding, whose weights are 0 and
// whose sums are dropped). Rows of x that are 0 are added too: they add zeros, which can
// change only the sign of a zero, where a branch to skip them would be mispredicted.
template <int L, int V>
[[gnu::always_inline]] inline void compactRowsOf(const double* values, const int* lanes, int used,
                                                 const uint64_t* rowBits, const uint64_t* live,
                                                 size_t words, const double* x, double* out) {
    // Built from scalars in registers: a vector load of scalars just stored would stall.
    Vec<L> sum[V];
    for (int v = 0; v < V; ++v) {
        const int* c = lanes + v * L;
        if constexpr (L == 2)
            sum[v] = Vec<L>{out[c[0]], out[c[1]]};
        else
            sum[v] = Vec<L>{out[c[0]], out[c[1]], out[c[2]], out[c[3]]};
    }
    for (size_t w = 0; w < words; ++w) {
        uint64_t bits = rowBits[w] & (live != nullptr ? live[w] : ~uint64_t{0});
        for (; bits != 0; bits &= bits - 1) {
            const size_t r = w * 64 + static_cast<size_t>(std::countr_zero(bits));
            const double xr = x[r];
            const double* row = values + r * (L * V);
            for (int v = 0; v < V; ++v) addScaled<L>(sum[v], xr, row + L * v);
        }
    }
    double acc[L * V];
    std::memcpy(acc, sum, sizeof sum);
    for (int k = 0; k < used; ++k) out[lanes[k]] = acc[k];
}

// The same for rows of `width` numbers (4, 8, 12 or 16; L divides 4).
template <int L>
[[gnu::always_inline]] inline void compactRows(const double* values, int width, const int* lanes,
                                               int used, const uint64_t* rowBits,
                                               const uint64_t* live, size_t words, const double* x,
                                               double* out) {
    switch (width) {
        case 4:
            return compactRowsOf<L, 4 / L>(values, lanes, used, rowBits, live, words, x, out);
        case 8:
            return compactRowsOf<L, 8 / L>(values, lanes, used, rowBits, live, words, x, out);
        case 12:
            return compactRowsOf<L, 12 / L>(values, lanes, used, rowBits, live, words, x, out);
        default:
            return compactRowsOf<L, 16 / L>(values, lanes, used, rowBits, live, words, x, out);
    }
}

// out[c, c + L * V) += rows[i].x * rows[i].values[c, c + L * V) for each row of rows[first,
// last) in order, the sums held in registers.
template <int L, int V>
[[gnu::always_inline]] inline void denseRunAt(const WideRow* rows, int first, int last, int c,
                                              double* out) {
    Vec<L> sum[V];
    std::memcpy(sum, out + c, sizeof sum);
    for (int i = first; i < last; ++i) {
        const double xr = rows[i].x;
        const double* w = rows[i].values + c;
        for (int v = 0; v < V; ++v) addScaled<L>(sum[v], xr, w + L * v);
    }
    std::memcpy(out + c, sum, sizeof sum);
}

// out (cols) += rows[i].x * row i for each of `count` rows in order. Consecutive whole rows go
// together, a few columns at a time, so their sums stay in registers between rows; each
// entry of out still gets its terms in row order.
template <int L>
[[gnu::always_inline]] inline void wideRows(const WideRow* rows, int count, int cols, double* out) {
    for (int i = 0; i < count;) {
        const WideRow& row = rows[i];
        if (row.columns != nullptr) {
            for (int e = 0; e < row.count; ++e) out[row.columns[e]] += row.x * row.values[e];
            ++i;
            continue;
        }
        int last = i + 1;
        while (last < count && rows[last].columns == nullptr) ++last;
        int c = 0;
        for (; c + 4 * L <= cols; c += 4 * L) denseRunAt<L, 4>(rows, i, last, c, out);
        for (; c + L <= cols; c += L) denseRunAt<L, 1>(rows, i, last, c, out);
        for (; c < cols; ++c) {
            double sum = out[c];
            for (int k = i; k < last; ++k) sum += rows[k].x * rows[k].values[c];
            out[c] = sum;
        }
        i = last;
    }
}

// positiveBits for up to 64 values, one bit each.
[[gnu::always_inline]] inline uint64_t positiveWord(const double* v, size_t n) {
    uint64_t bits = 0;
    for (size_t u = 0; u < n; ++u) bits |= static_cast<uint64_t>(v[u] > 0.0) << u;
    return bits;
}

// The kernels for one instruction set.
struct KernelTable {
    void (*compact)(const double* values, int width, const int* lanes, int used,
                    const uint64_t* rowBits, const uint64_t* live, size_t words, const double* x,
                    double* out);
    void (*wide)(const WideRow* rows, int count, int cols, double* out);
    void (*positive)(const double* values, size_t n, uint64_t* bits);
};

// Plain code: two lanes (SSE2 on x86-64).
const KernelTable kPlain = {
    [](const double* values, int width, const int* lanes, int used, const uint64_t* rowBits,
       const uint64_t* live, size_t words, const double* x,
       double* out) { compactRows<2>(values, width, lanes, used, rowBits, live, words, x, out); },
    [](const WideRow* rows, int count, int cols, double* out) {
        wideRows<2>(rows, count, cols, out);
    },
    [](const double* v, size_t n, uint64_t* bits) {
        for (size_t base = 0; base < n; base += 64)
            bits[base / 64] = positiveWord(v + base, std::min<size_t>(64, n - base));
    },
};

#if defined(__x86_64__)
__attribute__((target("avx2"))) void compactAvx2(const double* values, int width, const int* lanes,
                                                 int used, const uint64_t* rowBits,
                                                 const uint64_t* live, size_t words,
                                                 const double* x, double* out) {
    compactRows<4>(values, width, lanes, used, rowBits, live, words, x, out);
}

__attribute__((target("avx2"))) void wideAvx2(const WideRow* rows, int count, int cols,
                                              double* out) {
    wideRows<4>(rows, count, cols, out);
}

// Sets one bit per value, 64 values a word, `L` values at a time by `blockMask` (a mask of
// which of the L values at a pointer are above 0) and the rest one by one. The callers are
// flattened, so the mask's instructions are inlined into the function of their target.
template <int L, typename BlockMask>
[[gnu::always_inline]] inline void positiveWords(const double* v, size_t n, uint64_t* bits,
                                                 BlockMask blockMask) {
    for (size_t base = 0; base < n; base += 64) {
        const size_t count = std::min<size_t>(64, n - base);
        uint64_t word = 0;
        size_t u = 0;
        for (; u + L <= count; u += L) word |= blockMask(v + base + u) << u;
        bits[base / 64] = word | positiveWord(v + base + u, count - u) << u;
    }
}

struct PositiveMaskAvx2 {
    __attribute__((target("avx2"))) uint64_t operator()(const double* p) const {
        const __m256d above = _mm256_cmp_pd(_mm256_loadu_pd(p), _mm256_setzero_pd(), _CMP_GT_OQ);
        return static_cast<uint64_t>(_mm256_movemask_pd(above));
    }
};

struct PositiveMaskAvx512 {
    __attribute__((target("avx512f"))) uint64_t operator()(const double* p) const {
        return static_cast<uint64_t>(
            _mm512_cmp_pd_mask(_mm512_loadu_pd(p), _mm512_setzero_pd(), _CMP_GT_OQ));
    }
};

__attribute__((target("avx2"), flatten)) void positiveAvx2(const double* v, size_t n,
                                                           uint64_t* bits) {
    positiveWords<4>(v, n, bits, PositiveMaskAvx2());
}

__attribute__((target("avx512f"))) void wideAvx512(const WideRow* rows, int count, int cols,
                                                   double* out) {
    wideRows<8>(rows, count, cols, out);
}

__attribute__((target("avx512f"), flatten)) void positiveAvx512(const double* v, size_t n,
                                                                uint64_t* bits) {
    positiveWords<8>(v, n, bits, PositiveMaskAvx512());
}
#endif

#if defined(__x86_64__)
// The compact rows have four lanes at most: AVX2's.
const KernelTable kAvx2 = {compactAvx2, wideAvx2, positiveAvx2};
const KernelTable kAvx512 = {compactAvx2, wideAvx512, positiveAvx512};
#endif

// The table for `set`, or nullptr when the processor cannot run it.
const KernelTable* tableFor(KernelSet set) {
    switch (set) {
        case KernelSet::Plain:
            return &kPlain;
#if defined(__x86_64__)
        case KernelSet::Avx2:
            __builtin_cpu_init();
            return __builtin_cpu_supports("avx2") ? &kAvx2 : nullptr;
        case KernelSet::Avx512:
            __builtin_cpu_init();
            return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") ? &kAvx512
                                                                                       : nullptr;
#endif
        default:
            return nullptr;
    }
}

std::atomic<const KernelTable*> selected{nullptr};  // by selectKernels

// The selected kernels, else the widest the processor runs.
const KernelTable& kernels() {
    static const KernelTable* const widest = [] {
        for (KernelSet set : {KernelSet::Avx512, KernelSet::Avx2})
            if (const KernelTable* t = tableFor(set)) return t;
        return &kPlain;
    }();
    const KernelTable* chosen = selected.load(std::memory_order_relaxed);
    return chosen != nullptr ? *chosen : *widest;
}

}  // namespace

void positiveBits(const double* values, size_t n, uint64_t* bits) {
    kernels().positive(values, n, bits);
}

bool selectKernels(KernelSet set) {
    const KernelTable* table = tableFor(set);
    if (table != nullptr) selected.store(table, std::memory_order_relaxed);
    return table != nullptr;
}

VectorWeights::VectorWeights(const Matrix& w) : rows_(w.rows), cols_(w.cols) {
    rowSlot_.assign(static_cast<size_t>(rows_), -1);
    rowBits_.assign(bitWords(static_cast<size_t>(rows_)), 0);
    columnBits_.assign(bitWords(static_cast<size_t>(cols_)), 0);
    for (int r = 0; r < rows_; ++r) {
        const double* row = w.data.data() + static_cast<size_t>(r) * cols_;
        bool any = false;
        for (int c = 0; c < cols_; ++c) {
            if (row[c] == 0.0) continue;
            any = true;
            columnBits_[static_cast<size_t>(c) / 64] |= uint64_t{1} << (c % 64);
        }
        if (!any) continue;
        rowSlot_[static_cast<size_t>(r)] = static_cast<int>(nonZeroRows_.size());
        rowBits_[static_cast<size_t>(r) / 64] |= uint64_t{1} << (r % 64);
        nonZeroRows_.push_back(r);
    }
    for (int c = 0; c < cols_; ++c)
        if (columnBits_[static_cast<size_t>(c) / 64] >> (c % 64) & 1) compactColumns_.push_back(c);

    if (!compactColumns_.empty() && compactColumns_.size() <= kCompactColumns) {
        compactWidth_ = static_cast<int>((compactColumns_.size() + 3) / 4 * 4);
        compactLanes_ = compactColumns_;
        compactLanes_.resize(static_cast<size_t>(compactWidth_), compactColumns_.front());
        // Every row, zero rows too, so that a product finds row r at r * compactWidth_.
        compactValues_.assign(static_cast<size_t>(rows_) * compactWidth_, 0.0);
        for (int r : nonZeroRows_) {
            const double* row = w.data.data() + static_cast<size_t>(r) * cols_;
            double* to = compactValues_.data() + static_cast<size_t>(r) * compactWidth_;
            for (size_t k = 0; k < compactColumns_.size(); ++k) to[k] = row[compactColumns_[k]];
        }
        return;
    }
    compactColumns_.clear();

    for (int r : nonZeroRows_) {
        const double* row = w.data.data() + static_cast<size_t>(r) * cols_;
        int nonZeros = 0;
        for (int c = 0; c < cols_; ++c) nonZeros += row[c] != 0.0;
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
        rowData_.push_back(info);
    }
}

template <typename F>
void VectorWeights::forLiveRows(const double* x, const uint64_t* live, F f) const {
    for (size_t w = 0; w < rowBits_.size(); ++w) {
        const uint64_t allowed = live != nullptr ? live[w] : ~uint64_t{0};
        for (uint64_t bits = allowed & rowBits_[w]; bits != 0; bits &= bits - 1) {
            const size_t r = w * 64 + static_cast<size_t>(std::countr_zero(bits));
            const double xr = x[r];
            if (xr != 0.0) f(static_cast<size_t>(rowSlot_[r]), xr);
        }
    }
}

void VectorWeights::addProduct(const double* x, const uint64_t* live, double* out) const {
    if (compactWidth_ == 0) {
        // Rows whose x is 0 are skipped here (a whole row is worth a branch), then added in
        // batches.
        constexpr int kBatch = 64;
        WideRow batch[kBatch];
        int count = 0;
        forLiveRows(x, live, [&](size_t slot, double xr) {
            const Row& row = rowData_[slot];
            batch[count++] = row.dense
                                 ? WideRow{denseValues_.data() + row.start, nullptr, cols_, xr}
                                 : WideRow{sparseValues_.data() + row.start,
                                           columns_.data() + row.start, row.count, xr};
            if (count == kBatch) {
                kernels().wide(batch, count, cols_, out);
                count = 0;
            }
        });
        kernels().wide(batch, count, cols_, out);
        return;
    }
    kernels().compact(compactValues_.data(), compactWidth_, compactLanes_.data(),
                      static_cast<int>(compactColumns_.size()), rowBits_.data(), live,
                      rowBits_.size(), x, out);
}

void VectorWeights::addProduct(const double* x, double* out) const {
    addProduct(x, nullptr, out);
}

}  // namespace raspc::rt
