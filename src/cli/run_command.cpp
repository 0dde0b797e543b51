// `raspc run`: a compiled model (or a program compiled in memory) on inputs, natively.
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "backend/lower.h"
#include "cli/commands.h"
#include "runtime/decoder.h"
#include "runtime/next_token.h"
#include "runtime/onnx_reader.h"
#include "runtime/runner.h"

namespace raspc::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool isOnnxPath(const std::string& path) {
    return fs::path(path).extension() == ".onnx";
}

/// The REPL's type word for decoded values: like eval's, from the values themselves (a table of
/// means holds floats, but one sequence may show only whole numbers).
std::string pluralOfType(const std::string& type, const std::vector<std::string>& values) {
    if (type == "str") return "strings";
    if (type == "bool") return "bools";
    bool anyFloat = std::any_of(values.begin(), values.end(), [](const std::string& v) {
        return v.find_first_of(".eni") != std::string::npos;  // 0.5, 1e-05, inf, nan
    });
    bool anyBool = std::any_of(values.begin(), values.end(),
                               [](const std::string& v) { return v == "True" || v == "False"; });
    if (anyBool && !anyFloat) return "ints";
    return anyFloat ? "floats" : "ints";
}

/// Settings of `run --generate`.
struct Generation {
    bool on = false;
    int maxSteps = 200;
    std::optional<std::string> stop;
    std::string attention = "auto";  // or "scan": a plain scan for every head
};

/// Appends the model's output at the last position as the next token, again and again,
/// streaming each token to stdout, until the stop token, `maxSteps` tokens, or the maximum
/// length. The first output of the model is the next token.
int generate(const rt::Model& m, const std::string& prompt, const Generation& gen, bool asJson) {
    if (m.outputs.empty()) throw UserError("the model has no output to generate from");
    const rt::Output& next = m.outputs.front();
    const rt::NextToken nextToken(m);
    rt::Decoder decoder(m, gen.attention == "scan" ? rt::Attention::Scan : rt::Attention::Auto);
    std::vector<std::string> tokens = parseModelInput(prompt, m.tokenType);
    std::vector<int32_t> ids = rt::encodeTokens(m, tokens);
    std::vector<rt::OutputValues> outs;
    for (int32_t id : ids) outs = decoder.step(id);

    const bool strings = m.tokenType == "str";
    const bool progress = !asJson && isatty(STDERR_FILENO);
    // A terminal sees every token at once; a pipe gets them in bursts at least every 50 ms, as
    // a write per token would cost more than the token.
    const bool flushEach = isatty(STDOUT_FILENO);
    auto start = std::chrono::steady_clock::now();
    auto lastReport = start, lastFlush = start;
    std::vector<std::string> generated;
    std::string stopped = "max steps";
    if (!asJson) std::cout << prompt << std::flush;
    auto stopBecause = [&](const std::string& why) {
        if (!asJson) std::cout << "\n";
        return UserError("generation stopped after " + std::to_string(generated.size()) +
                         " tokens: " + why);
    };
    for (int step = 0; step < gen.maxSteps; ++step) {
        int32_t id = -1;
        try {
            id = nextToken(outs.front());
        } catch (const rt::DecodeError& e) {
            throw stopBecause(e.what());
        }
        if (id < 0) {
            throw stopBecause("output '" + next.name + "' gave '" + nextToken.text(outs.front()) +
                              "', which is not a token of the vocabulary");
        }
        const std::string& token = m.vocab[static_cast<size_t>(id)];
        generated.push_back(token);
        if (!asJson) std::cout << (strings ? "" : " ") << token;
        if (gen.stop && token == *gen.stop) {
            stopped = "stop token";
            break;
        }
        if (decoder.length() >= m.maxLen) {
            stopped = "maximum length";
            break;
        }
        outs = decoder.step(id);
        auto now = std::chrono::steady_clock::now();
        if (!asJson && (flushEach || now - lastFlush > std::chrono::milliseconds(50))) {
            std::cout << std::flush;
            lastFlush = now;
        }
        if (progress && now - lastReport > std::chrono::milliseconds(250)) {
            double seconds = std::chrono::duration<double>(now - start).count();
            std::cerr << "\r" << generated.size() << " steps, "
                      << static_cast<long>(generated.size() / seconds) << " tokens/s" << std::flush;
            lastReport = now;
        }
    }
    if (progress) std::cerr << "\r\033[K" << std::flush;
    if (asJson) {
        json j;
        j["input"] = prompt;
        j["generated"] = generated;
        j["stopped"] = stopped;
        std::cout << j.dump() << "\n";
    } else {
        std::cout << "\n";
    }
    return kExitOk;
}

int runModel(const std::string& path, const ProgramSettings& settings, const Inputs& in,
             bool asJson, const Generation& gen) {
    rt::Model m;
    std::optional<std::string> example;
    if (isOnnxPath(path)) {
        // A model is compiled already: settings that shape a compilation cannot apply.
        if (!settings.vocab.empty() || settings.maxLen > 0 || !settings.outputs.empty() ||
            settings.optLevel != 1 || settings.causal) {
            throw UserError(
                "--vocab, --max-len, --output, -O and --causal apply when compiling; "
                "'" +
                path + "' is a compiled model (recompile its program instead)");
        }
        m = rt::loadModel(path);
    } else {
        Program p = loadProgram(path, settings);
        CompileReport report;
        m = lower(p.graph, compileOptions(p), &report);
        printWarnings(report);
        example = p.graph.exampleInput;
    }
    if (gen.on) {
        std::vector<std::string> lines = inputLines(in.input, in.inputsFile, example);
        if (lines.size() != 1) throw UserError("--generate takes one prompt");
        return generate(m, lines.front(), gen, asJson);
    }
    rt::Runner runner(m);
    std::vector<std::string> lines = inputLines(in.input, in.inputsFile, example);
    std::vector<std::vector<int32_t>> batch;
    for (size_t i = 0; i < lines.size(); ++i) {
        try {
            batch.push_back(rt::encodeTokens(m, parseModelInput(lines[i], m.tokenType)));
        } catch (const std::exception& e) {
            if (lines.size() == 1) throw;
            throw UserError("input " + std::to_string(i + 1) + " (\"" + lines[i] +
                            "\"): " + e.what());
        }
    }
    auto results = runner.run(batch);
    int status = kExitOk;
    OutputPrinter printer(asJson);
    for (size_t s = 0; s < lines.size(); ++s) {
        printer.begin(lines[s]);
        for (size_t o = 0; o < m.outputs.size(); ++o) {
            const rt::Output& out = m.outputs[o];
            try {
                std::vector<std::string> shown = rt::decode(out, results[s][o]);
                printer.add(out.name, shown, pluralOfType(out.valueType, shown));
            } catch (const rt::DecodeError& e) {
                std::cerr << "raspc: error: input \"" << lines[s] << "\": " << e.what() << "\n";
                status = kExitUserError;
            }
        }
        printer.end();
    }
    return status;
}

}  // namespace

Command addRunCommand(CLI::App& app) {
    struct State {
        ProgramSettings settings;
        Inputs inputs;
        std::string file;
        bool asJson = false;
        Generation gen;
    };
    auto st = std::make_shared<State>();
    CLI::App* cmd = app.add_subcommand("run",
                                       "Run a compiled model (.onnx), or compile a .rasp "
                                       "program in memory and run it");
    cmd->add_option("model", st->file, "The .onnx model or .rasp program")->required();
    cmd->add_flag("--json", st->asJson, "Print one JSON object per input");
    cmd->add_flag("--generate", st->gen.on,
                  "Causal programs: append the output at the last "
                  "position as the next token, repeatedly");
    cmd->add_option("--max-steps", st->gen.maxSteps, "With --generate: most tokens to add")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--stop", st->gen.stop, "With --generate: stop after this token");
    cmd->add_option("--attention", st->gen.attention,
                    "With --generate: auto (each head's fastest exact strategy: convex hull, "
                    "running sum or scan) or scan (a plain scan everywhere); both give the same "
                    "tokens")
        ->check(CLI::IsMember({"auto", "scan"}))
        ->default_str("auto");
    addProgramOptions(cmd, st->settings);
    addInputOptions(cmd, st->inputs);
    return {cmd,
            [st] { return runModel(st->file, st->settings, st->inputs, st->asJson, st->gen); }};
}

}  // namespace raspc::cli
