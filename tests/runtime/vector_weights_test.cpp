// The decoder's single-vector products against a plain sum in row order, with every kernel set
// the processor runs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "runtime/vector_weights.h"

using raspc::rt::bitWords;
using raspc::rt::IndexBits;
using raspc::rt::KernelSet;
using raspc::rt::Matrix;
using raspc::rt::VectorWeights;

namespace {

// Selects each kernel set the processor runs in turn, then the widest again.
class EachKernelSet {
public:
    template <typename F>
    void run(F check) {
        for (KernelSet set : {KernelSet::Plain, KernelSet::Avx2, KernelSet::Avx512}) {
            if (!raspc::rt::selectKernels(set)) continue;
            CAPTURE(static_cast<int>(set));
            check();
        }
    }
    ~EachKernelSet() {
        if (!raspc::rt::selectKernels(KernelSet::Avx512) &&
            !raspc::rt::selectKernels(KernelSet::Avx2))
            raspc::rt::selectKernels(KernelSet::Plain);
    }
};

// out + x * w with each entry's terms added in increasing row order, one rounding each,
// skipping zero weights and zero entries of x.
std::vector<double> plainProduct(const Matrix& w, const std::vector<double>& x,
                                 std::vector<double> out) {
    for (int r = 0; r < w.rows; ++r) {
        if (x[static_cast<size_t>(r)] == 0.0) continue;
        for (int c = 0; c < w.cols; ++c)
            if (w.at(r, c) != 0.0)
                out[static_cast<size_t>(c)] += x[static_cast<size_t>(r)] * w.at(r, c);
    }
    return out;
}

// A random matrix whose non-zero columns are `usedColumns` of its `cols` and whose rows hold
// a non-zero with probability `rowDensity`, each entry of such a row with `entryDensity`.
// Values are fractions, so that the order of additions shows in the rounding.
Matrix randomMatrix(int rows, int cols, int usedColumns, double rowDensity, double entryDensity,
                    std::mt19937& rng) {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<int> used;
    for (int c = 0; c < cols; ++c) used.push_back(c);
    std::shuffle(used.begin(), used.end(), rng);
    used.resize(static_cast<size_t>(usedColumns));
    Matrix w(rows, cols);
    for (int r = 0; r < rows; ++r) {
        if (unit(rng) >= rowDensity) continue;
        for (int c : used)
            if (unit(rng) < entryDensity) w.at(r, c) = unit(rng) * 6.0 - 3.0;
    }
    return w;
}

}  // namespace

TEST_CASE("vector weights: products equal the plain sum in row order, compact and wide") {
    std::mt19937 rng(21);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    struct Shape {
        int rows, cols, usedColumns;
        double rowDensity, entryDensity;
    };
    const std::vector<Shape> shapes = {
        {1, 1, 1, 1.0, 1.0},       {2, 368, 2, 1.0, 0.6},      {368, 2, 2, 0.3, 0.8},
        {368, 12, 12, 0.2, 0.7},   {368, 16, 16, 0.5, 0.3},    {510, 368, 4, 0.9, 0.5},
        {65, 40, 13, 0.6, 0.5},    {368, 510, 510, 0.05, 0.9}, {368, 68, 68, 0.9, 0.4},
        {29, 192, 192, 0.7, 0.15}, {130, 17, 17, 0.5, 0.5},    {64, 33, 33, 1.0, 1.0},
    };
    EachKernelSet sets;
    for (const Shape& shape : shapes) {
        CAPTURE(shape.rows);
        CAPTURE(shape.cols);
        const Matrix w = randomMatrix(shape.rows, shape.cols, shape.usedColumns, shape.rowDensity,
                                      shape.entryDensity, rng);
        const VectorWeights prepared(w);
        for (int trial = 0; trial < 20; ++trial) {
            // x is 0 outside `live`, and at some rows inside it.
            std::vector<double> x(static_cast<size_t>(shape.rows), 0.0);
            IndexBits live(bitWords(x.size()), 0);
            for (size_t r = 0; r < x.size(); ++r) {
                if (unit(rng) < 0.5) continue;
                live[r / 64] |= uint64_t{1} << (r % 64);
                if (unit(rng) < 0.8) x[r] = unit(rng) * 4.0 - 2.0;
            }
            std::vector<double> start(static_cast<size_t>(shape.cols));
            for (double& v : start) v = unit(rng) < 0.5 ? 0.0 : unit(rng) - 0.5;
            const std::vector<double> want = plainProduct(w, x, start);

            sets.run([&] {
                std::vector<double> all = start, masked = start;
                prepared.addProduct(x.data(), all.data());
                prepared.addProduct(x.data(), live.data(), masked.data());
                CHECK(all == want);
                CHECK(masked == want);
            });
        }
    }
}

TEST_CASE("vector weights: rows and columns holding non-zeros") {
    Matrix w(70, 5);
    w.at(3, 1) = 2.0;
    w.at(66, 4) = -1.0;
    const VectorWeights prepared(w);
    CHECK(prepared.rowBits() == IndexBits{uint64_t{1} << 3, uint64_t{1} << 2});
    CHECK(prepared.columnBits() == IndexBits{(uint64_t{1} << 1) | (uint64_t{1} << 4)});
}

TEST_CASE("vector weights: positiveBits finds the values above 0") {
    std::mt19937 rng(22);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const std::vector<double> specials = {
        0.0, -0.0, 1e-300, -1e-300, nan, 1.0, -1.0, std::numeric_limits<double>::infinity()};
    EachKernelSet sets;
    for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{12}, size_t{64}, size_t{65},
                     size_t{130}, size_t{510}}) {
        CAPTURE(n);
        std::vector<double> v(n);
        for (double& e : v) e = specials[rng() % specials.size()];
        IndexBits want(bitWords(n), 0);
        for (size_t u = 0; u < n; ++u)
            if (v[u] > 0.0) want[u / 64] |= uint64_t{1} << (u % 64);
        sets.run([&] {
            IndexBits got(bitWords(n), ~uint64_t{0});
            raspc::rt::positiveBits(v.data(), n, got.data());
            CHECK(got == want);
        });
    }
}
