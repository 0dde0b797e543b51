// The lookup model: hard 2-D heads built the way the compiler builds numerical lookups.
#include "lookup_model.h"

#include <random>
#include <string>

namespace raspc::testing {

namespace {

// Residual dimensions handed out in order.
struct Layout {
    int next = 0;
    int take(int n = 1) {
        int first = next;
        next += n;
        return first;
    }
};

// A numerical output reading dimension `dim`; only the raw value matters in the tests.
rt::Output numberAt(const std::string& name, int width, int dim, double tolerance) {
    rt::Output o;
    o.name = name;
    o.kind = rt::OutputKind::Numerical;
    o.valueType = "int";
    o.readout = rt::Matrix(width, 1);
    o.readout.at(dim, 0) = 1.0;
    o.tolerance = tolerance;
    return o;
}

}  // namespace

rt::Model lookupModel(int vocabSize, int maxLen, const char* floatType, bool softHead,
                      uint32_t seed) {
    const int v = vocabSize;
    const bool wide = std::string(floatType) == "float64";
    // Score gap that puts exp below the float type's underflow: past 745 (double), 104 (float).
    const double gap = wide ? 1024.0 : 128.0;
    // The key's position term c * index stays below 1/8 up to maxLen; one position apart it
    // still moves the score by the gap.
    double c = 1.0;
    while (c * 8.0 * maxLen > 1.0) c /= 2.0;
    const double latestScale = gap / c;
    const double lookupScale = 4.0 * gap;
    const int bosValue = -3;  // BOS's key sits on the parabola too, far from every target

    Layout at;
    const int one = at.take(), bos = at.take(), index = at.take(), tok = at.take(v);
    const int lookupOut = at.take(), latestOut = at.take(), meanOut = at.take();
    const int softOut = at.take(2), mlpOut = at.take(2), denseOut = at.take(2);
    const int lookup2Out = at.take(2);
    const int d = at.next;

    rt::Model m;
    for (int t = 0; t < v; ++t) m.vocab.push_back(std::to_string(t));
    m.tokenType = "int";
    m.maxLen = maxLen;
    m.width = d;
    m.floatType = floatType;
    m.causal = true;
    m.version = "test";
    m.source = "lookup_model.cpp";
    m.tokenEmbedding = rt::Matrix(v + 1, d);
    for (int t = 0; t < v; ++t) {
        m.tokenEmbedding.at(t, one) = 1.0;
        m.tokenEmbedding.at(t, tok + t) = 1.0;
    }
    m.tokenEmbedding.at(v, bos) = 1.0;
    m.positionEmbedding = rt::Matrix(0, d);
    m.positionPowers = rt::Matrix(1, d);
    m.positionPowers.at(0, index) = 1.0;

    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);  // float: exact in a float32 model
    auto randomInto = [&](rt::Matrix& w, int row, double scale) {
        for (int c2 = 0; c2 < w.cols; ++c2)
            w.at(row, c2) = static_cast<double>(normal(rng)) * scale;
    };

    // A hard head looking up the positions whose token is (t + shift) mod v: key (2u, -u^2)
    // for token u, query scale * (target + 1/4, 1), so the score peaks at u = target and every
    // other token scores at least scale / 2 lower.
    auto lookupHead = [&](const std::string& label, int shift, double scale, double positionTerm) {
        rt::Head h;
        h.label = label;
        h.hard = true;
        h.wq = rt::Matrix(d, 2);
        h.wk = rt::Matrix(d, 2);
        for (int t = 0; t < v; ++t) {
            h.wq.at(tok + t, 0) = scale * (((t + shift) % v) + 0.25);
            h.wk.at(tok + t, 0) = 2.0 * t;
            h.wk.at(tok + t, 1) = -1.0 * t * t;
        }
        h.wq.at(one, 1) = scale;
        h.wk.at(bos, 0) = 2.0 * bosValue;
        h.wk.at(bos, 1) = -1.0 * bosValue * bosValue;
        h.wk.at(index, 1) = positionTerm;
        return h;
    };

    rt::Layer l0;
    rt::Head lookup = lookupHead("lookup", 1, lookupScale, 0.0);
    lookup.wv = rt::Matrix(d, 1);
    lookup.wv.at(index, 0) = 1.0;
    lookup.wo = rt::Matrix(1, d);
    lookup.wo.at(0, lookupOut) = 1.0;
    l0.heads.push_back(std::move(lookup));

    rt::Head latest = lookupHead("latest", 2, latestScale, c);
    latest.wv = rt::Matrix(d, 1);
    latest.wv.at(index, 0) = 1.0;
    latest.wo = rt::Matrix(1, d);
    latest.wo.at(0, latestOut) = 1.0;
    l0.heads.push_back(std::move(latest));

    rt::Head mean;  // no query or key: every position weighs the same
    mean.label = "mean";
    mean.wq = rt::Matrix(d, 1);
    mean.wk = rt::Matrix(d, 1);
    mean.wv = rt::Matrix(d, 1);
    for (int t = 0; t < v; ++t) mean.wv.at(tok + t, 0) = t;
    mean.wo = rt::Matrix(1, d);
    mean.wo.at(0, meanOut) = 1.0;
    l0.heads.push_back(std::move(mean));

    if (softHead) {
        // Keys read only dimensions constant over real positions; queries vary by token.
        rt::Head soft;
        soft.label = "soft";
        soft.wq = rt::Matrix(d, 2);
        soft.wk = rt::Matrix(d, 2);
        soft.wk.at(one, 0) = 1.0;
        soft.wk.at(bos, 1) = 1.0;
        soft.wv = rt::Matrix(d, 2);
        for (int t = 0; t < v; ++t) {
            randomInto(soft.wq, tok + t, 1.0);
            randomInto(soft.wv, tok + t, 1.0);
        }
        soft.wo = rt::Matrix(2, d);
        soft.wo.at(0, softOut) = 1.0;
        soft.wo.at(1, softOut + 1) = 1.0;
        l0.heads.push_back(std::move(soft));
    }

    const int hidden = 4;
    l0.mlp.labels = {"random"};
    l0.mlp.w1 = rt::Matrix(d, hidden);
    for (int r : {lookupOut, latestOut, meanOut}) randomInto(l0.mlp.w1, r, 0.125);
    l0.mlp.w2 = rt::Matrix(hidden, d);
    for (int u = 0; u < hidden; ++u) {
        l0.mlp.w2.at(u, mlpOut) = static_cast<double>(normal(rng));
        l0.mlp.w2.at(u, mlpOut + 1) = static_cast<double>(normal(rng));
    }
    m.layers.push_back(std::move(l0));

    rt::Layer l1;
    rt::Head dense;
    dense.label = "dense";
    dense.wq = rt::Matrix(d, 3);
    dense.wk = rt::Matrix(d, 3);
    dense.wv = rt::Matrix(d, 2);
    for (int r = tok; r < tok + v; ++r) {
        randomInto(dense.wq, r, 0.5);
        randomInto(dense.wk, r, 0.5);
        randomInto(dense.wv, r, 1.0);
    }
    for (int r : {mlpOut, mlpOut + 1}) randomInto(dense.wk, r, 0.25);
    dense.wo = rt::Matrix(2, d);
    dense.wo.at(0, denseOut) = 1.0;
    dense.wo.at(1, denseOut + 1) = 1.0;
    l1.heads.push_back(std::move(dense));

    rt::Head lookup2 = lookupHead("lookup2", 3, lookupScale, 0.0);
    lookup2.wv = rt::Matrix(d, 2);
    lookup2.wv.at(mlpOut, 0) = 1.0;
    lookup2.wv.at(mlpOut + 1, 1) = 1.0;
    lookup2.wo = rt::Matrix(2, d);
    lookup2.wo.at(0, lookup2Out) = 1.0;
    lookup2.wo.at(1, lookup2Out + 1) = 1.0;
    l1.heads.push_back(std::move(lookup2));
    l1.mlp.w1 = rt::Matrix(d, 0);
    l1.mlp.w2 = rt::Matrix(0, d);
    m.layers.push_back(std::move(l1));

    rt::Output next;
    next.name = "next";
    next.valueType = "int";
    next.table = m.vocab;
    next.readout = rt::Matrix(d, v);
    for (int t = 0; t < v; ++t) next.readout.at(tok + t, (t + 1) % v) = 1.0;
    m.outputs.push_back(std::move(next));
    m.outputs.push_back(numberAt("latest", d, latestOut, 0.25));
    m.outputs.push_back(numberAt("lookup", d, lookupOut, 0.5));
    m.outputs.push_back(numberAt("mean", d, meanOut, 0.5));
    if (softHead) {
        m.outputs.push_back(numberAt("soft0", d, softOut, 0.5));
        m.outputs.push_back(numberAt("soft1", d, softOut + 1, 0.5));
    }
    m.outputs.push_back(numberAt("mlp", d, mlpOut, 0.5));
    m.outputs.push_back(numberAt("dense", d, denseOut, 0.5));
    m.outputs.push_back(numberAt("lookup2", d, lookup2Out + 1, 0.5));
    return m;
}

}  // namespace raspc::testing
