// The incremental decoder: its strategies against the plain scan, against the batched runner,
// and its rewinding and switching.
#include <doctest/doctest.h>

#include <cmath>
#include <optional>
#include <random>
#include <vector>

#include "bench/toy_models.h"
#include "lookup_model.h"
#include "runtime/decoder.h"
#include "runtime/runner.h"

using namespace raspc;

namespace {

// Generates from token 0 for `steps` tokens, feeding each "next" output back; returns every
// step's outputs.
std::vector<std::vector<rt::OutputValues>> generate(rt::Decoder& decoder, int steps) {
    std::vector<std::vector<rt::OutputValues>> trace;
    int32_t token = 0;
    for (int i = 0; i < steps; ++i) {
        trace.push_back(decoder.step(token));
        token = static_cast<int32_t>(trace.back()[0].ids[0]);
    }
    return trace;
}

// Same ids, and numbers equal to the bit (tolerance 0) or within `tolerance` relative.
void checkSame(const std::vector<std::vector<rt::OutputValues>>& a,
               const std::vector<std::vector<rt::OutputValues>>& b, double tolerance) {
    REQUIRE(a.size() == b.size());
    for (size_t s = 0; s < a.size(); ++s) {
        CAPTURE(s);
        REQUIRE(a[s].size() == b[s].size());
        for (size_t o = 0; o < a[s].size(); ++o) {
            CAPTURE(o);
            CHECK(a[s][o].ids == b[s][o].ids);
            REQUIRE(a[s][o].values.size() == b[s][o].values.size());
            for (size_t i = 0; i < a[s][o].values.size(); ++i) {
                const double x = a[s][o].values[i], y = b[s][o].values[i];
                if (tolerance == 0.0)
                    CHECK(x == y);
                else
                    CHECK(std::abs(x - y) <= tolerance * std::max(1.0, std::abs(x)));
            }
        }
    }
}

using rt::HeadStrategy;

}  // namespace

TEST_CASE("decoder: strategies are read from the weights") {
    rt::Model m = testing::lookupModel(8, 100, "float64", true, 1);
    rt::Decoder decoder(m);
    using S = HeadStrategy;
    CHECK(decoder.strategies() ==
          std::vector<std::vector<S>>{{S::Hull, S::Hull, S::RunningSum, S::RunningSum},
                                      {S::Scan, S::Hull}});
    CHECK(decoder.headCount() == 6);
    CHECK(rt::strategyName(S::RunningSum) == "running sum");
}

TEST_CASE("decoder: hull and running sum give the scan's outputs to the bit") {
    for (const char* type : {"float64", "float32"}) {
        CAPTURE(type);
        rt::Model m = testing::lookupModel(11, 4000, type, false, 2);
        rt::Decoder fast(m, rt::Attention::Auto);
        rt::Decoder slow(m, rt::Attention::Scan);
        auto a = generate(fast, 3000);
        checkSame(a, generate(slow, 3000), 0.0);

        // Every query after BOS's own was answered by the strategies, none fell back.
        const rt::AttentionCounts& q = fast.stats().queries;
        CHECK(q.hull == 3 * 3001);
        CHECK(q.runningSum == 3001);
        CHECK(q.scans == 3001);
        CHECK(q.hullFallbacks == 3);  // BOS: its query (0, 0) has no direction
        CHECK(slow.stats().queries.scans == 5 * 3001);
    }
}

TEST_CASE("decoder: a soft running-sum head agrees with the scan within rounding") {
    rt::Model m = testing::lookupModel(7, 600, "float64", true, 3);
    rt::Decoder fast(m, rt::Attention::Auto);
    rt::Decoder slow(m, rt::Attention::Scan);
    checkSame(generate(fast, 500), generate(slow, 500), 1e-12);
}

TEST_CASE("decoder: agrees with the batched runner, for float64 and float32 models") {
    for (const char* type : {"float64", "float32"}) {
        CAPTURE(type);
        rt::Model m = testing::lookupModel(9, 64, type, true, 4);
        rt::Runner runner(m);
        std::mt19937 rng(5);
        for (int trial = 0; trial < 10; ++trial) {
            std::vector<int32_t> ids(1 + rng() % 64);
            for (int32_t& id : ids) id = static_cast<int32_t>(rng() % 9);
            auto batch = runner.run({ids})[0];
            rt::Decoder decoder(m);
            for (size_t p = 0; p < ids.size(); ++p) {
                auto step = decoder.step(ids[p]);
                for (size_t o = 0; o < m.outputs.size(); ++o) {
                    CAPTURE(o);
                    if (m.outputs[o].kind == rt::OutputKind::Categorical) {
                        CHECK(step[o].ids[0] == batch[o].ids[p]);
                    } else {
                        // float32 runs the batch in float; the decoder is always in double.
                        double scale = std::max(1.0, std::abs(batch[o].values[p]));
                        CHECK(std::abs(step[o].values[0] - batch[o].values[p]) <= 1e-4 * scale);
                    }
                }
            }
        }
    }
}

TEST_CASE("decoder: rewinding and switching attention keep the trace") {
    rt::Model m = testing::lookupModel(13, 3000, "float64", true, 6);
    rt::Decoder reference(m, rt::Attention::Scan);
    auto want = generate(reference, 1200);

    rt::Decoder decoder(m);
    std::vector<std::vector<rt::OutputValues>> got;
    int32_t token = 0;
    auto run = [&](int steps) {
        for (int i = 0; i < steps; ++i) {
            got.push_back(decoder.step(token));
            token = static_cast<int32_t>(got.back()[0].ids[0]);
        }
    };
    run(400);
    // Scan a window, rewind, and decode the same window again with the strategies: the
    // structures have not seen the window, so nothing is rebuilt.
    decoder.setAttention(rt::Attention::Scan);
    const int32_t resume = token;
    run(300);
    auto scanned = std::vector(got.end() - 300, got.end());
    decoder.rewind(400);
    got.resize(400);
    token = resume;
    decoder.setAttention(rt::Attention::Auto);
    run(300);
    checkSame(scanned, std::vector(got.end() - 300, got.end()), 1e-12);
    // Rewinding past what the structures hold makes them rebuild from the raw cache.
    decoder.rewind(650);
    got.resize(650);
    token = static_cast<int32_t>(got.back()[0].ids[0]);
    run(550);
    CHECK(decoder.length() == 1200);
    checkSame(want, got, 1e-12);
    CHECK_THROWS_AS(decoder.rewind(1201), rt::InputError);
}

TEST_CASE("decoder: a copy decodes on by itself") {
    rt::Model m = testing::lookupModel(10, 2000, "float64", false, 8);
    rt::Decoder reference(m, rt::Attention::Scan);
    auto want = generate(reference, 800);

    rt::Decoder decoder(m);
    std::vector<std::vector<rt::OutputValues>> got = generate(decoder, 400);
    std::optional<rt::Decoder> copy(decoder);
    for (int i = 0; i < 50; ++i) decoder.step(static_cast<int32_t>(i % 10));  // diverge
    rt::Decoder copied = *copy;
    copy.reset();  // the copy's hull must not point into the original, nor this into the copy
    int32_t token = static_cast<int32_t>(got.back()[0].ids[0]);
    for (int i = 0; i < 400; ++i) {
        got.push_back(copied.step(token));
        token = static_cast<int32_t>(got.back()[0].ids[0]);
    }
    checkSame(want, got, 0.0);
}

TEST_CASE("decoder: timing splits the work when asked") {
    rt::Model m = testing::lookupModel(5, 500, "float64", false, 7);
    rt::Decoder decoder(m);
    generate(decoder, 50);
    CHECK(decoder.stats().attentionSeconds == 0.0);
    decoder.setTiming(true);
    generate(decoder, 50);
    const rt::DecoderStats& s = decoder.stats();
    CHECK(s.steps == 101);
    CHECK(s.attentionSeconds > 0.0);
    CHECK(s.projectionSeconds > 0.0);
    CHECK(s.mlpSeconds > 0.0);
    decoder.resetStats();
    CHECK(decoder.stats().steps == 0);
}

TEST_CASE("decoder: a step may read only the first outputs") {
    rt::Model m = testing::lookupModel(9, 400, "float64", false, 9);
    rt::Decoder all(m), first(m);
    int32_t token = 0;
    for (int i = 0; i < 300; ++i) {
        const std::vector<rt::OutputValues> want = all.step(token);
        const std::vector<rt::OutputValues>& got = first.step(token, 1);
        REQUIRE(got.size() == want.size());
        CHECK(got[0].ids == want[0].ids);
        CHECK(got[0].margins == want[0].margins);
        // Messages about a step's outputs name its position; margins are judged by the model.
        CHECK(got[0].firstPosition == static_cast<size_t>(i));
        CHECK(got[0].minMargin == rt::minCategoricalMargin(m));
        for (size_t o = 1; o < got.size(); ++o) {
            CHECK(got[o].ids.empty());
            CHECK(got[o].values.empty());
        }
        token = static_cast<int32_t>(want[0].ids[0]);
    }
}

TEST_CASE("decoder: masked heads keep their strategies where a prefix is visible") {
    // key <= query is the causal mask itself and key < query a shorter prefix: hull and
    // running sum stay; under >= and > only the query's own key can be left, so a scan.
    using M = rt::HeadMask;
    using S = HeadStrategy;
    rt::Model m = testing::lookupModel(8, 100, "float64", true, 1);
    m.layers[0].heads[0].mask = M::KeyBefore;
    m.layers[0].heads[1].mask = M::KeyAtLeast;
    m.layers[0].heads[2].mask = M::KeyAtMost;
    m.layers[0].heads[3].mask = M::KeyAfter;
    m.layers[1].heads[1].mask = M::KeyBefore;
    CHECK(rt::chooseStrategies(m) ==
          std::vector<std::vector<S>>{{S::Hull, S::Scan, S::RunningSum, S::Scan},
                                      {S::Scan, S::Hull}});
}

TEST_CASE("decoder: under every mask the strategies match the scan and the batched runner") {
    using M = rt::HeadMask;
    const std::vector<M> masks = {M::None, M::KeyAtMost, M::KeyBefore, M::KeyAtLeast, M::KeyAfter};
    for (size_t shift = 0; shift < masks.size(); ++shift) {
        CAPTURE(shift);
        rt::Model m = testing::lookupModel(9, 300, "float64", false, 12);
        size_t i = shift;
        for (rt::Layer& l : m.layers)
            for (rt::Head& h : l.heads) h.mask = masks[i++ % masks.size()];

        rt::Decoder fast(m, rt::Attention::Auto);
        rt::Decoder slow(m, rt::Attention::Scan);
        auto trace = generate(fast, 250);
        checkSame(trace, generate(slow, 250), 0.0);

        // The batched runner on the generated tokens gives the same outputs at every position.
        std::vector<int32_t> ids = {0};
        for (size_t p = 0; p + 1 < trace.size(); ++p)
            ids.push_back(static_cast<int32_t>(trace[p][0].ids[0]));
        auto batch = rt::Runner(m).run({ids})[0];
        for (size_t p = 0; p < ids.size(); ++p) {
            CAPTURE(p);
            CHECK(trace[p][0].ids[0] == batch[0].ids[p]);
            for (size_t o = 1; o < m.outputs.size(); ++o) {
                CAPTURE(o);
                CHECK(trace[p][o].values[0] == doctest::Approx(batch[o].values[p]).epsilon(1e-9));
            }
        }
    }
}

TEST_CASE("decoder: rejects non-causal models") {
    CHECK_THROWS_AS(rt::Decoder(toy::shiftModel({"a", "b"}, 4)), rt::ModelError);
}
