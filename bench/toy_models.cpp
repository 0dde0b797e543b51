// Hand-built Models: weights written out position by position.
#include "bench/toy_models.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <set>
#include <utility>

namespace raspc::toy {

namespace {

// Big enough that exp(-kHardScale) is 0 in float32 (it underflows below about -103.3).
constexpr float kHardScale = 120.0f;

rt::Model skeleton(const std::vector<std::string>& vocab, int maxLen, int width) {
    rt::Model m;
    m.vocab = vocab;
    m.maxLen = maxLen;
    m.width = width;
    m.version = "toy";
    m.source = "hand-built";
    m.tokenEmbedding = rt::Matrix(static_cast<int>(vocab.size()) + 1, width);
    m.positionEmbedding = rt::Matrix(maxLen + 1, width);
    return m;
}

}  // namespace

rt::Model identityModel(const std::vector<std::string>& vocab, int maxLen) {
    const int v = static_cast<int>(vocab.size());
    rt::Model m = skeleton(vocab, maxLen, v + 1);  // token one-hot, then the BOS flag
    for (int t = 0; t <= v; ++t) m.tokenEmbedding.at(t, t) = 1.0f;

    rt::Output out;
    out.name = "token";
    out.valueType = "str";
    out.table = vocab;
    out.readout = rt::Matrix(m.width, v);
    for (int t = 0; t < v; ++t) out.readout.at(t, t) = 1.0f;
    m.outputs.push_back(std::move(out));
    return m;
}

std::string fractionText(int k, int n) {
    return k == 0 ? "0" : std::to_string(k) + "/" + std::to_string(n);
}

rt::Model shiftModel(const std::vector<std::string>& vocab, int maxLen) {
    const int v = static_cast<int>(vocab.size());
    // Residual layout: token one-hot | BOS flag | position one-hot | prev | frac | rot.
    const int tok = 0, bos = v, pos = v + 1, prev = pos + maxLen + 1, frac = prev + v + 1,
              rot = frac + 1, width = rot + v + 1;
    rt::Model m = skeleton(vocab, maxLen, width);
    for (int t = 0; t < v; ++t) m.tokenEmbedding.at(t, tok + t) = 1.0f;
    m.tokenEmbedding.at(v, bos) = 1.0f;
    for (int p = 0; p <= maxLen; ++p) m.positionEmbedding.at(p, pos + p) = 1.0f;

    // Query p selects key p - 1; the BOS query (p = 0) selects nothing and is never read.
    rt::Head previous;
    previous.label = "previous token";
    previous.wq = rt::Matrix(width, maxLen + 1);
    previous.wk = rt::Matrix(width, maxLen + 1);
    for (int p = 1; p <= maxLen; ++p) previous.wq.at(pos + p, p - 1) = kHardScale;
    for (int p = 0; p <= maxLen; ++p) previous.wk.at(pos + p, p) = 1.0f;
    previous.wv = rt::Matrix(width, v + 1);  // token one-hot, BOS as entry v
    for (int t = 0; t < v; ++t) previous.wv.at(tok + t, t) = 1.0f;
    previous.wv.at(bos, v) = 1.0f;
    previous.wo = rt::Matrix(v + 1, width);
    for (int t = 0; t <= v; ++t) previous.wo.at(t, prev + t) = 1.0f;

    // Zero scores: every position, BOS included, weighs 1 / (length + 1).
    rt::Head mean;
    mean.label = "fraction of first token";
    mean.wq = rt::Matrix(width, 1);
    mean.wk = rt::Matrix(width, 1);
    mean.wv = rt::Matrix(width, 1);
    mean.wv.at(tok + 0, 0) = 1.0f;
    mean.wo = rt::Matrix(1, width);
    mean.wo.at(0, frac) = 1.0f;

    rt::Layer attention;
    attention.heads = {previous, mean};
    attention.mlp.w1 = rt::Matrix(width, 0);
    attention.mlp.w2 = rt::Matrix(0, width);

    rt::Layer rotate;
    rotate.mlp.labels = {"rotate prev"};
    rotate.mlp.w1 = rt::Matrix(width, v + 1);
    rotate.mlp.w2 = rt::Matrix(v + 1, width);
    for (int t = 0; t <= v; ++t) {
        rotate.mlp.w1.at(prev + t, t) = 1.0f;
        rotate.mlp.w2.at(t, rot + (t == v ? v : (t + 1) % v)) = 1.0f;
    }
    m.layers = {attention, rotate};

    std::vector<std::string> withNone = vocab;
    withNone.push_back("-");
    for (auto [name, first] : {std::pair{"prev", prev}, std::pair{"rot", rot}}) {
        rt::Output out;
        out.name = name;
        out.valueType = "str";
        out.table = withNone;
        out.readout = rt::Matrix(width, v + 1);
        for (int t = 0; t <= v; ++t) out.readout.at(first + t, t) = 1.0f;
        m.outputs.push_back(std::move(out));
    }

    rt::Output fraction;
    fraction.name = "frac";
    fraction.kind = rt::OutputKind::Numerical;
    fraction.valueType = "float";
    fraction.readout = rt::Matrix(width, 1);
    fraction.readout.at(frac, 0) = 1.0f;
    std::set<std::pair<double, std::string>> values;  // sorted, and 1/2 == 2/4 kept once
    std::set<double> seen;
    for (int n = 2; n <= maxLen + 1; ++n)
        for (int k = 0; k < n; ++k)
            if (seen.insert(static_cast<double>(k) / n).second)
                values.emplace(static_cast<double>(k) / n, fractionText(k, n));
    for (auto& [number, text] : values) {
        fraction.numbers.push_back(number);
        fraction.table.push_back(text);
    }
    // Distinct fractions with denominators up to maxLen + 1 differ by at least 1 / (n^2).
    fraction.tolerance = 0.25 / ((maxLen + 1.0) * (maxLen + 1.0));
    m.outputs.insert(m.outputs.begin() + 1, std::move(fraction));
    return m;
}

ShiftExpected shiftExpected(const std::vector<std::string>& vocab,
                            const std::vector<std::string>& tokens) {
    ShiftExpected e;
    const int n = static_cast<int>(tokens.size());
    const int count = static_cast<int>(std::count(tokens.begin(), tokens.end(), vocab[0]));
    // shiftModel's table spells each fraction in lowest terms (its first spelling).
    const int g = std::gcd(count, n + 1);
    const int k = count / g, d = (n + 1) / g;
    for (int i = 0; i < n; ++i) {
        if (i == 0) {
            e.prev.push_back("-");
            e.rot.push_back("-");
        } else {
            e.prev.push_back(tokens[i - 1]);
            auto at = std::find(vocab.begin(), vocab.end(), tokens[i - 1]) - vocab.begin();
            e.rot.push_back(vocab[(at + 1) % vocab.size()]);
        }
        e.frac.push_back(fractionText(k, d));
    }
    return e;
}

rt::Model denseModel(int vocabSize, int maxLen, int width, int layers, int heads, int headDim,
                     int hidden, uint32_t seed) {
    std::vector<std::string> vocab;
    for (int t = 0; t < vocabSize; ++t) vocab.push_back("t" + std::to_string(t));
    rt::Model m = skeleton(vocab, maxLen, width);
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    auto randomMatrix = [&](int r, int c, float scale) {
        rt::Matrix w(r, c);
        for (double& e : w.data) e = normal(rng) * scale;  // a float32 value
        return w;
    };
    const float scale = 1.0f / static_cast<float>(width);  // keeps activations moderate
    m.tokenEmbedding = randomMatrix(vocabSize + 1, width, 1.0f);
    m.positionEmbedding = randomMatrix(maxLen + 1, width, 1.0f);
    for (int l = 0; l < layers; ++l) {
        rt::Layer layer;
        for (int h = 0; h < heads; ++h) {
            rt::Head head;
            head.label = "dense";
            head.wq = randomMatrix(width, headDim, scale);
            head.wk = randomMatrix(width, headDim, scale);
            head.wv = randomMatrix(width, headDim, scale);
            head.wo = randomMatrix(headDim, width, scale);
            layer.heads.push_back(std::move(head));
        }
        layer.mlp.labels = {"dense"};
        layer.mlp.w1 = randomMatrix(width, hidden, scale);
        layer.mlp.w2 = randomMatrix(hidden, width, scale);
        m.layers.push_back(std::move(layer));
    }
    rt::Output out;
    out.name = "argmax";
    out.valueType = "int";
    for (int i = 0; i < width; ++i) out.table.push_back(std::to_string(i));
    out.readout = randomMatrix(width, width, 1.0f);
    m.outputs.push_back(std::move(out));
    return m;
}

}  // namespace raspc::toy
