// raspc_bench_runner: tokens per second of the native runner and of onnxruntime, side by side,
// on the same model files and the same batch of inputs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "backend/onnx_writer.h"
#include "bench/toy_models.h"
#include "runtime/onnx_reader.h"
#include "runtime/runner.h"

namespace {

using namespace raspc;
using Json = nlohmann::json;

struct Options {
    std::vector<std::string> models;
    std::string toyDir;
    int batch = 32;
    int length = 0;  // 0: each model's maximum length
    int reps = 5;
    int threads = 1;
    std::string node = RASPC_NODE;
};

struct Timing {
    double medianSeconds = 0;
    double tokensPerSecond = 0;
};

// Writes the hand-built models into `dir` and returns their paths.
std::vector<std::string> writeToyModels(const std::string& dir) {
    std::filesystem::create_directories(dir);
    std::vector<std::string> vocab16;
    for (char c = 'a'; c < 'a' + 16; ++c) vocab16.emplace_back(1, c);
    std::vector<std::pair<std::string, rt::Model>> models;
    models.emplace_back("shift_v16_n128", toy::shiftModel(vocab16, 128));
    models.emplace_back("shift_v16_n512", toy::shiftModel(vocab16, 512));
    models.emplace_back("dense_d128_l4_h4", toy::denseModel(16, 128, 128, 4, 4, 32, 256, 1));
    std::vector<std::string> paths;
    for (auto& [name, model] : models) {
        paths.push_back((std::filesystem::path(dir) / (name + ".onnx")).string());
        writeOnnx(model, paths.back());
    }
    return paths;
}

// The same random batch for both runners: `batch` sequences of `length` tokens.
std::vector<std::vector<std::string>> randomInputs(const rt::Model& m, int batch, int length) {
    std::mt19937 rng(1234);
    std::vector<std::vector<std::string>> inputs(batch, std::vector<std::string>(length));
    for (auto& tokens : inputs)
        for (auto& t : tokens) t = m.vocab[rng() % m.vocab.size()];
    return inputs;
}

Timing timeNative(const rt::Model& m, const std::vector<std::vector<std::string>>& inputs,
                  int reps) {
    rt::Runner runner(m);
    std::vector<std::vector<int32_t>> batch;
    for (const auto& tokens : inputs) batch.push_back(rt::encodeTokens(m, tokens));
    runner.run(batch);  // warm-up, as the onnxruntime side does

    std::vector<double> seconds;
    for (int r = 0; r < reps; ++r) {
        auto start = std::chrono::steady_clock::now();
        auto results = runner.run(batch);
        std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
        seconds.push_back(took.count());
        if (results.size() != batch.size()) throw std::runtime_error("runner lost sequences");
    }
    std::sort(seconds.begin(), seconds.end());
    Timing t;
    t.medianSeconds = seconds[seconds.size() / 2];
    t.tokensPerSecond = static_cast<double>(inputs.size() * inputs[0].size()) / t.medianSeconds;
    return t;
}

// 812, 9.5k, 559k, 12.3M: short enough for a table column.
std::string countText(int64_t n) {
    char buf[32];
    if (n < 1000)
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
    else if (n < 1'000'000)
        std::snprintf(buf, sizeof buf, n < 10'000 ? "%.1fk" : "%.0fk", n / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%.1fM", n / 1e6);
    return buf;
}

Timing timeOrt(const Options& opt, const std::string& model, const std::string& inputsPath) {
    std::string script = std::string(RASPC_SOURCE_DIR) + "/bench/ort_bench.mjs";
    std::string command = "\"" + opt.node + "\" \"" + script + "\" \"" + model + "\" \"" +
                          inputsPath + "\" " + std::to_string(opt.reps) + " " +
                          std::to_string(opt.threads);
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) throw std::runtime_error("cannot start: " + command);
    std::string out;
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
    if (pclose(pipe) != 0) throw std::runtime_error("onnxruntime benchmark failed: " + command);
    Json j = Json::parse(out);
    return {j.at("medianSeconds").get<double>(), j.at("tokensPerSecond").get<double>()};
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    CLI::App app{"Native runner vs onnxruntime: tokens per second on the same inputs"};
    app.add_option("models", opt.models, "raspc ONNX model files");
    app.add_option("--toy-models", opt.toyDir,
                   "write the hand-built models to this directory and benchmark them too");
    app.add_option("--batch", opt.batch, "sequences per run")->check(CLI::PositiveNumber);
    app.add_option("--len", opt.length, "tokens per sequence (default: the model's maximum)");
    app.add_option("--reps", opt.reps, "timed runs; the median counts")->check(CLI::PositiveNumber);
    app.add_option("--threads", opt.threads, "onnxruntime intra-op threads (native: 1)")
        ->check(CLI::PositiveNumber);
    app.add_option("--node", opt.node, "node executable");
    CLI11_PARSE(app, argc, argv);

    try {
        if (!opt.toyDir.empty()) {
            auto toys = writeToyModels(opt.toyDir);
            opt.models.insert(opt.models.begin(), toys.begin(), toys.end());
        }
        if (opt.models.empty()) {
            std::cerr << "raspc_bench_runner: no models (give files or --toy-models DIR)\n";
            return 2;
        }

        auto scratch =
            std::filesystem::temp_directory_path() / ("raspc_bench_" + std::to_string(::getpid()));
        std::filesystem::create_directories(scratch);
        std::printf("%-24s %11s %12s %14s %14s %10s\n", "model", "batch x len", "params (nz)",
                    "native tok/s", "ort tok/s", "nat/ort");
        for (const std::string& path : opt.models) {
            rt::Model m = rt::loadModel(path);
            int length = opt.length > 0 ? std::min(opt.length, m.maxLen) : m.maxLen;
            auto inputs = randomInputs(m, opt.batch, length);
            std::string inputsPath = (scratch / "inputs.jsonl").string();
            {
                std::ofstream in(inputsPath);
                for (const auto& tokens : inputs) in << Json(tokens).dump() << "\n";
            }

            Timing native = timeNative(m, inputs, opt.reps);
            Timing ort = timeOrt(opt, path, inputsPath);
            std::string shape = std::to_string(opt.batch) + " x " + std::to_string(length);
            std::string params =
                countText(m.parameterCount()) + " (" + countText(m.nonZeroParameterCount()) + ")";
            std::printf("%-24s %11s %12s %14.0f %14.0f %10.2f\n",
                        std::filesystem::path(path).stem().string().c_str(), shape.c_str(),
                        params.c_str(), native.tokensPerSecond, ort.tokensPerSecond,
                        native.tokensPerSecond / ort.tokensPerSecond);
            std::fflush(stdout);
        }
        std::filesystem::remove_all(scratch);
    } catch (const std::exception& e) {
        std::cerr << "raspc_bench_runner: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
