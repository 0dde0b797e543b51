// The native runner against onnxruntime (through tests/ort/run_ort.mjs): same decoded
// outputs, and the same inputs fail. Needs node and `npm ci` run at the repository root.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "backend/onnx_writer.h"
#include "bench/toy_models.h"
#include "lookup_model.h"
#include "runtime/runner.h"
#include "test_util.h"

using namespace raspc;
using Json = nlohmann::json;

namespace {

// What the native runner makes of one input, in run_ort.mjs's JSON form.
Json nativeResult(const rt::Model& m, const rt::Runner& runner,
                  const std::vector<std::string>& tokens) {
    try {
        auto values = runner.run({rt::encodeTokens(m, tokens)});
        Json outputs = Json::object();
        for (size_t o = 0; o < m.outputs.size(); ++o)
            outputs[m.outputs[o].name] = rt::decode(m.outputs[o], values[0][o]);
        return {{"outputs", outputs}};
    } catch (const rt::InputError& e) {
        return {{"error", e.what()}};
    } catch (const rt::DecodeError& e) {
        return {{"error", e.what()}};
    }
}

// Runs run_ort.mjs on the model and inputs; one parsed JSON result per input.
std::vector<Json> ortResults(const testing::ScratchDir& dir, const std::string& model,
                             const std::vector<std::vector<std::string>>& inputs) {
    const std::filesystem::path root = RASPC_SOURCE_DIR;
    REQUIRE_MESSAGE(std::filesystem::exists(root / "node_modules" / "onnxruntime-node"),
                    "onnxruntime-node is not installed: run `ONNXRUNTIME_NODE_INSTALL=skip npm "
                    "ci` in the repository root");
    std::string inputsPath = dir.file("inputs.jsonl");
    std::string outputPath = dir.file("ort.jsonl");
    {
        std::ofstream in(inputsPath);
        for (const auto& tokens : inputs) in << Json(tokens).dump() << "\n";
    }
    std::string command = std::string("\"") + RASPC_NODE + "\" \"" +
                          (root / "tests/ort/run_ort.mjs").string() + "\" \"" + model + "\" \"" +
                          inputsPath + "\" > \"" + outputPath + "\"";
    REQUIRE_MESSAGE(std::system(command.c_str()) == 0, "failed: " << command);

    std::vector<Json> results;
    std::ifstream out(outputPath);
    for (std::string line; std::getline(out, line);) results.push_back(Json::parse(line));
    return results;
}

// Both runners agree on every input: same outputs, or both fail.
void crossCheck(const rt::Model& m, const std::vector<std::vector<std::string>>& inputs) {
    testing::ScratchDir dir;
    std::string path = dir.file("model.onnx");
    writeOnnx(m, path);
    std::vector<Json> ort = ortResults(dir, path, inputs);
    REQUIRE(ort.size() == inputs.size());

    rt::Runner runner(m);
    for (size_t i = 0; i < inputs.size(); ++i) {
        CAPTURE(Json(inputs[i]).dump());
        Json native = nativeResult(m, runner, inputs[i]);
        if (native.contains("error")) {
            CHECK_MESSAGE(ort[i].contains("error"),
                          "onnxruntime: " << ort[i].dump() << " native: " << native.dump());
        } else {
            CHECK(ort[i].dump() == native.dump());
        }
    }
}

// Every sequence over `vocab` up to `maxLength` tokens, then `extra` random ones up to `longest`.
std::vector<std::vector<std::string>> inputsOver(const std::vector<std::string>& vocab,
                                                 int maxLength, int extra, int longest) {
    std::vector<std::vector<std::string>> all = {{}};
    std::vector<std::vector<std::string>> inputs;
    for (int len = 1; len <= maxLength; ++len) {
        std::vector<std::vector<std::string>> next;
        for (const auto& prefix : all)
            for (const auto& t : vocab) {
                next.push_back(prefix);
                next.back().push_back(t);
            }
        all = next;
        inputs.insert(inputs.end(), all.begin(), all.end());
    }
    std::mt19937 rng(5);
    for (int i = 0; i < extra; ++i) {
        std::vector<std::string> tokens(1 + rng() % longest);
        for (auto& t : tokens) t = vocab[rng() % vocab.size()];
        inputs.push_back(tokens);
    }
    return inputs;
}

}  // namespace

TEST_CASE("onnxruntime agrees with the native runner: identity model") {
    std::vector<std::string> vocab = {"a", "b", "c", "d"};
    crossCheck(toy::identityModel(vocab, 5), inputsOver(vocab, 3, 30, 5));
}

TEST_CASE("onnxruntime agrees with the native runner: shift model, input errors included") {
    std::vector<std::string> vocab = {"a", "b", "c"};
    auto inputs = inputsOver(vocab, 4, 60, 9);
    inputs.push_back({"a", "z"});
    inputs.push_back(std::vector<std::string>(10, "a"));  // longer than maxLen
    crossCheck(toy::shiftModel(vocab, 9), inputs);
}

TEST_CASE("onnxruntime agrees with the native runner on failing numerical decodes") {
    // With no tolerance, fractions that float32 cannot hold exactly (1/3) fail to decode on
    // both sides, while 0 and 1/2 still decode.
    std::vector<std::string> vocab = {"a", "b"};
    rt::Model m = toy::shiftModel(vocab, 5);
    m.outputs[1].tolerance = 0.0;
    crossCheck(m, inputsOver(vocab, 5, 0, 5));
}

TEST_CASE("onnxruntime agrees with the native runner on float64 and float32 lookup models") {
    // No position table, position powers, hard 2-D heads; "next" and "latest" decode exactly
    // (the other outputs are raw numbers that only the decoder tests compare).
    std::vector<std::string> vocab;
    for (int t = 0; t < 7; ++t) vocab.push_back(std::to_string(t));
    for (const char* type : {"float64", "float32"}) {
        CAPTURE(type);
        rt::Model m = testing::lookupModel(7, 40, type, true, 10);
        m.outputs.resize(2);
        crossCheck(m, inputsOver(vocab, 2, 80, 40));
    }
}

TEST_CASE("onnxruntime agrees with the native runner under every head mask") {
    // The shift model's heads under masks, causal or not: the graph's mask bias must hide what
    // the runner hides. The uniform "frac" head takes every mask; the hard "prev" head only
    // those that leave it the previous position (under >= or > it would average keys that
    // score alike, which run_ort.mjs does not reject as the runner does).
    std::vector<std::string> vocab = {"a", "b", "c"};
    auto inputs = inputsOver(vocab, 4, 40, 7);
    using M = rt::HeadMask;
    const std::vector<M> masks = {M::None, M::KeyAtMost, M::KeyBefore, M::KeyAtLeast, M::KeyAfter};
    for (bool causal : {false, true}) {
        for (size_t i = 0; i < masks.size(); ++i) {
            CAPTURE(causal);
            CAPTURE(rt::maskOperator(masks[i]));
            rt::Model m = toy::shiftModel(vocab, 7);
            m.causal = causal;
            m.layers[0].heads[0].mask = masks[(i + 1) % 3];
            m.layers[0].heads[1].mask = masks[i];
            crossCheck(m, inputs);
        }
    }
}

TEST_CASE("onnxruntime agrees with the native runner on a float64 lookup model under masks") {
    std::vector<std::string> vocab;
    for (int t = 0; t < 7; ++t) vocab.push_back(std::to_string(t));
    rt::Model m = testing::lookupModel(7, 40, "float64", true, 11);
    m.outputs.resize(2);
    m.layers[0].heads[0].mask = rt::HeadMask::KeyBefore;
    m.layers[0].heads[1].mask = rt::HeadMask::KeyAtLeast;
    m.layers[0].heads[2].mask = rt::HeadMask::KeyAfter;
    m.layers[1].heads[1].mask = rt::HeadMask::KeyAtMost;
    crossCheck(m, inputsOver(vocab, 2, 60, 40));
}
