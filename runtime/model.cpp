// Sizes and the layer layout of a Model, for metadata and reports.
#include "runtime/model.h"

#include <algorithm>

namespace raspc::rt {

namespace {

// Calls f on every weight matrix of the model.
template <typename F>
void forEachMatrix(const Model& m, F f) {
    f(m.tokenEmbedding);
    f(m.positionEmbedding);
    f(m.positionPowers);
    for (const Layer& l : m.layers) {
        for (const Head& h : l.heads) {
            f(h.wq);
            f(h.wk);
            f(h.wv);
            f(h.wo);
        }
        f(l.mlp.w1);
        f(l.mlp.w2);
    }
    for (const Output& o : m.outputs) f(o.readout);
    if (m.averageCheck.present()) f(m.averageCheck.readout);
}

}  // namespace

std::string_view maskOperator(HeadMask mask) {
    switch (mask) {
        case HeadMask::None:
            return "";
        case HeadMask::KeyAtMost:
            return "<=";
        case HeadMask::KeyBefore:
            return "<";
        case HeadMask::KeyAtLeast:
            return ">=";
        case HeadMask::KeyAfter:
            return ">";
    }
    return "";
}

std::optional<HeadMask> maskFromOperator(std::string_view op) {
    for (HeadMask m :
         {HeadMask::KeyAtMost, HeadMask::KeyBefore, HeadMask::KeyAtLeast, HeadMask::KeyAfter})
        if (maskOperator(m) == op) return m;
    return std::nullopt;
}

int64_t Model::parameterCount() const {
    int64_t n = 0;
    forEachMatrix(*this, [&](const Matrix& w) { n += static_cast<int64_t>(w.data.size()); });
    return n;
}

int64_t Model::nonZeroParameterCount() const {
    int64_t n = 0;
    forEachMatrix(*this, [&](const Matrix& w) {
        n += std::count_if(w.data.begin(), w.data.end(), [](double v) { return v != 0.0; });
    });
    return n;
}

std::string Model::layerLayout() const {
    if (layers.empty()) return "no layers";
    std::string out;
    for (size_t i = 0; i < layers.size(); ++i) {
        const Layer& l = layers[i];
        if (i > 0) out += "; ";
        // Appending piece by piece (not "L" + to_string) dodges a false g++ 12 -Wrestrict.
        out += 'L';
        out += std::to_string(i);
        out += ':';
        size_t heads = l.heads.size();
        int hidden = l.mlp.w1.cols;
        if (heads > 0) {
            out += ' ';
            out += std::to_string(heads);
            out += heads == 1 ? " head" : " heads";
        }
        if (heads > 0 && hidden > 0) out += " +";
        if (hidden > 0) {
            out += " MLP ";
            out += std::to_string(hidden);
        }
        if (heads == 0 && hidden == 0) out += " empty";
    }
    return out;
}

}  // namespace raspc::rt
