// The native runner on hand-built models whose outputs are known, and its input errors.
#include <doctest/doctest.h>

#include <random>

#include "backend/onnx_writer.h"
#include "bench/toy_models.h"
#include "runtime/onnx_reader.h"
#include "runtime/runner.h"
#include "test_util.h"

using namespace raspc;

namespace {

const std::vector<std::string> kVocab = {"a", "b", "c"};

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    for (char c : s) out.emplace_back(1, c);
    return out;
}

// Every output of `m` on `tokens`, decoded, in the model's output order.
std::vector<std::vector<std::string>> runOne(const rt::Model& m,
                                             const std::vector<std::string>& tokens) {
    rt::Runner runner(m);
    auto results = runner.run({rt::encodeTokens(m, tokens)});
    std::vector<std::vector<std::string>> decoded;
    for (size_t o = 0; o < m.outputs.size(); ++o)
        decoded.push_back(rt::decode(m.outputs[o], results[0][o]));
    return decoded;
}

}  // namespace

TEST_CASE("the identity model reads its input back") {
    rt::Model m = toy::identityModel(kVocab, 6);
    CHECK(runOne(m, split("abcab"))[0] == split("abcab"));
    CHECK(runOne(m, split("c"))[0] == split("c"));
}

TEST_CASE("the shift model: hard attention, uniform attention and an MLP") {
    rt::Model m = toy::shiftModel(kVocab, 6);
    for (std::string input : {"a", "ab", "cab", "aaaaaa", "bcbcb", "cccc"}) {
        CAPTURE(input);
        auto got = runOne(m, split(input));
        toy::ShiftExpected want = toy::shiftExpected(kVocab, split(input));
        CHECK(got[0] == want.prev);
        CHECK(got[1] == want.frac);
        CHECK(got[2] == want.rot);
    }
}

TEST_CASE("hard attention weights are exactly one-hot") {
    rt::Model m = toy::shiftModel(kVocab, 6);
    rt::Runner runner(m);
    std::vector<int32_t> ids = {2, 0, 1, 1};
    rt::Matrix x = runner.residual(ids);
    // The prev slot of position p holds exactly the one-hot of the token at p - 1.
    const int v = 3, prev = v + 1 + 7;
    for (int p = 2; p <= 4; ++p)
        for (int t = 0; t <= v; ++t) CHECK(x.at(p, prev + t) == (t == ids[p - 2] ? 1.0f : 0.0f));
}

TEST_CASE("a batch of different lengths gives what each sequence gives alone") {
    rt::Model m = toy::shiftModel(kVocab, 8);
    rt::Runner runner(m);
    std::mt19937 rng(3);
    std::vector<std::vector<int32_t>> batch;
    for (int i = 0; i < 20; ++i) {
        std::vector<int32_t> ids(1 + rng() % 8);
        for (auto& id : ids) id = static_cast<int32_t>(rng() % 3);
        batch.push_back(ids);
    }
    auto together = runner.run(batch);
    REQUIRE(together.size() == batch.size());
    for (size_t s = 0; s < batch.size(); ++s) {
        auto alone = runner.run({batch[s]});
        for (size_t o = 0; o < m.outputs.size(); ++o) {
            CHECK(together[s][o].ids == alone[0][o].ids);
            CHECK(together[s][o].values == alone[0][o].values);
        }
    }
}

TEST_CASE("a model read back from ONNX runs like the original") {
    testing::ScratchDir dir;
    rt::Model m = toy::shiftModel(kVocab, 5);
    writeOnnx(m, dir.file("shift.onnx"));
    rt::Model back = rt::loadModel(dir.file("shift.onnx"));
    CHECK(runOne(back, split("abcca")) == runOne(m, split("abcca")));
}

TEST_CASE("input errors name the problem") {
    rt::Model m = toy::shiftModel(kVocab, 4);
    CHECK_THROWS_WITH_AS(rt::encodeTokens(m, split("abxa")),
                         "unknown token 'x' at position 2; the vocabulary is: a, b, c",
                         rt::InputError);
    CHECK_THROWS_WITH_AS(rt::encodeTokens(m, split("abcab")),
                         "input has 5 tokens, more than the model's maximum length 4",
                         rt::InputError);
    CHECK_THROWS_WITH_AS(rt::encodeTokens(m, {}), doctest::Contains("empty input"), rt::InputError);

    rt::Runner runner(m);
    CHECK_THROWS_WITH_AS(runner.run({{0, 1}, {0, 3}}),
                         doctest::Contains("sequence 1: token id 3 at position 1"), rt::InputError);
    CHECK_THROWS_WITH_AS(runner.run({{0}, {}}), doctest::Contains("sequence 1: empty"),
                         rt::InputError);
    CHECK_THROWS_AS(runner.run({{0, 0, 0, 0, 0}}), rt::InputError);
}

TEST_CASE("numerical decoding: nearest entry within tolerance, else an error") {
    rt::Output out;
    out.name = "n";
    out.kind = rt::OutputKind::Numerical;
    out.table = {"zero", "one", "two"};
    out.numbers = {0.0, 1.0, 2.0};
    out.tolerance = 0.1;
    rt::OutputValues v;
    v.values = {0.05, 1.0, 1.95, -0.1};
    CHECK(rt::decode(out, v) == std::vector<std::string>{"zero", "one", "two", "zero"});

    v.values = {1.0, 1.5};
    CHECK_THROWS_WITH_AS(rt::decode(out, v),
                         "output 'n' at position 1: value 1.5 is not within 0.1 of any table "
                         "value",
                         rt::DecodeError);
    v.values = {std::nan("")};
    CHECK_THROWS_AS(rt::decode(out, v), rt::DecodeError);

    // A tie goes to the earlier entry, as the onnxruntime cross-check decodes it.
    out.tolerance = 0.5;
    v.values = {0.5};
    CHECK(rt::decode(out, v) == std::vector<std::string>{"zero"});
}

TEST_CASE("categorical decoding rejects an id outside the table") {
    rt::Output out;
    out.name = "c";
    out.table = {"x", "y"};
    rt::OutputValues v;
    v.ids = {1, 0, 2};
    CHECK_THROWS_WITH_AS(rt::decode(out, v), doctest::Contains("position 2: id 2"),
                         rt::DecodeError);
}

TEST_CASE("head masks hide keys by position; BOS stays visible") {
    // The shift model's "frac" head weighs every visible key alike, BOS included (value 0):
    // it reads (number of visible "a" keys) / (number of visible keys + 1).
    using M = rt::HeadMask;
    const std::vector<std::string> input = split("abaacab");
    const int n = static_cast<int>(input.size());
    for (M mask : {M::None, M::KeyAtMost, M::KeyBefore, M::KeyAtLeast, M::KeyAfter}) {
        for (bool causal : {false, true}) {
            CAPTURE(rt::maskOperator(mask));
            CAPTURE(causal);
            rt::Model m = toy::shiftModel(kVocab, 8);
            m.causal = causal;
            m.layers[0].heads[1].mask = mask;
            rt::Runner runner(m);
            auto values = runner.run({rt::encodeTokens(m, input)})[0][1].values;
            REQUIRE(values.size() == input.size());
            for (int q = 0; q < n; ++q) {
                int count = 0, as = 0;
                for (int k = 0; k < n; ++k) {
                    bool visible = mask == M::None || (mask == M::KeyAtMost && k <= q) ||
                                   (mask == M::KeyBefore && k < q) ||
                                   (mask == M::KeyAtLeast && k >= q) ||
                                   (mask == M::KeyAfter && k > q);
                    if (!visible || (causal && k > q)) continue;
                    ++count;
                    as += input[static_cast<size_t>(k)] == "a";
                }
                CAPTURE(q);
                CHECK(values[static_cast<size_t>(q)] ==
                      doctest::Approx(static_cast<double>(as) / (count + 1)).epsilon(1e-6));
            }
        }
    }
}

TEST_CASE("an empty selection under a mask reads BOS alone") {
    // Under key < query the first position sees no key but BOS, and under key > query the
    // last; the hard "prev" head then copies BOS's "-" where it would otherwise read a token.
    rt::Model m = toy::shiftModel(kVocab, 6);
    m.layers[0].heads[0].mask = rt::HeadMask::KeyBefore;
    CHECK(runOne(m, split("cab"))[0] == std::vector<std::string>{"-", "c", "a"});
    for (rt::HeadMask mask : {rt::HeadMask::KeyAfter, rt::HeadMask::KeyAtLeast}) {
        m.layers[0].heads[0].mask = mask;
        m.layers[0].heads[0].wq.at(kVocab.size() + 2, 0) = 0.0f;  // position 1 reads itself
        m.layers[0].heads[0].wq.at(kVocab.size() + 2, 1) = 120.0f;
        // Position 1 (the only one) selects itself: visible under >=, hidden under >.
        CHECK(runOne(m, split("c"))[0] ==
              std::vector<std::string>{mask == rt::HeadMask::KeyAfter ? "-" : "c"});
    }
}

TEST_CASE("categorical decoding: only a clean one-hot decodes") {
    // Scores of a move that averaged three keys holding one value and one holding another: the
    // best leads the next by 0.5, and still is no clean one-hot.
    const double averaged[] = {0.75, 0.25, 0.0};
    const double clean[] = {0.0, 1.0, 0.0};
    const double noisy[] = {1e-7, 0.9999999, -1e-7};
    CHECK(rt::oneHotMargin(averaged, 3, 0) == doctest::Approx(0.75));
    CHECK(rt::oneHotMargin(clean, 3, 1) == 1.0);
    CHECK(rt::oneHotMargin(noisy, 3, 1) == doctest::Approx(1.0 - 1e-7));
    const double single[] = {0.0};
    CHECK(rt::oneHotMargin(single, 1, 0) == 1.0);

    // Halfway between a clean one-hot and the largest share an average over maxLen keys leaves,
    // unless the float type's rounding could come that close.
    rt::Model m;
    m.maxLen = 8;
    CHECK(rt::minCategoricalMargin(m) == 1.0 - 1.0 / 16.0);
    m.maxLen = 1100000;
    m.floatType = "float64";
    CHECK(rt::minCategoricalMargin(m) == doctest::Approx(1.0 - 0.5 / 1100000));
    m.floatType = "float32";
    CHECK(rt::minCategoricalMargin(m) < 0.9);

    rt::Output out;
    out.name = "c";
    out.table = {"x", "y", "z"};
    rt::OutputValues v;
    v.ids = {1, 0};
    v.margins = {1.0, 0.75};
    v.minMargin = 1.0 - 1.0 / 16.0;
    v.firstPosition = 4;
    CHECK_THROWS_WITH_AS(rt::decode(out, v), doctest::Contains("'c' at position 5 is ambiguous"),
                         rt::DecodeError);
    v.margins = {1.0, 0.96875};
    CHECK(rt::decode(out, v) == std::vector<std::string>{"y", "x"});
}
