// Strategy choice: a static reading of the weights, done once per model.
#include "runtime/head_strategy.h"

namespace raspc::rt {

namespace {

// Clears constant[c] for every column c of `w` with a non-zero in rows [firstRow, w.rows).
void clearNonZeroColumns(const Matrix& w, int firstRow, std::vector<bool>& constant) {
    for (int r = firstRow; r < w.rows; ++r)
        for (int c = 0; c < w.cols; ++c)
            if (w.at(r, c) != 0.0) constant[static_cast<size_t>(c)] = false;
}

}  // namespace

std::string_view strategyName(HeadStrategy s) {
    switch (s) {
        case HeadStrategy::Scan:
            return "scan";
        case HeadStrategy::Hull:
            return "hull";
        case HeadStrategy::RunningSum:
            return "running sum";
    }
    return "?";
}

std::vector<bool> constantDimensions(const Model& m) {
    const int d = m.width;
    const int vocab = static_cast<int>(m.vocab.size());
    std::vector<bool> constant(static_cast<size_t>(d), true);
    // Row 0 of the position table is BOS, which may differ.
    clearNonZeroColumns(m.positionEmbedding, 1, constant);
    clearNonZeroColumns(m.positionPowers, 0, constant);
    for (const Layer& l : m.layers) {
        for (const Head& h : l.heads) clearNonZeroColumns(h.wo, 0, constant);
        clearNonZeroColumns(l.mlp.w2, 0, constant);
    }
    for (int t = 1; t < vocab; ++t)
        for (int c = 0; c < d; ++c)
            if (m.tokenEmbedding.at(t, c) != m.tokenEmbedding.at(0, c))
                constant[static_cast<size_t>(c)] = false;
    return constant;
}

std::vector<std::vector<HeadStrategy>> chooseStrategies(const Model& m) {
    const std::vector<bool> constant = constantDimensions(m);
    std::vector<std::vector<HeadStrategy>> out;
    for (const Layer& l : m.layers) {
        std::vector<HeadStrategy> heads;
        for (const Head& h : l.heads) {
            if (h.mask == HeadMask::KeyAtLeast || h.mask == HeadMask::KeyAfter) {
                heads.push_back(HeadStrategy::Scan);
                continue;
            }
            bool constantKey = true;
            for (int r = 0; r < h.wk.rows && constantKey; ++r) {
                if (constant[static_cast<size_t>(r)]) continue;
                for (int c = 0; c < h.wk.cols && constantKey; ++c)
                    constantKey = h.wk.at(r, c) == 0.0;
            }
            if (constantKey)
                heads.push_back(HeadStrategy::RunningSum);
            else if (h.hard && h.wk.cols == 2)
                heads.push_back(HeadStrategy::Hull);
            else
                heads.push_back(HeadStrategy::Scan);
        }
        out.push_back(std::move(heads));
    }
    return out;
}

}  // namespace raspc::rt
