// `raspc run`: a compiled model (or a program compiled in memory) on inputs, natively.
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <filesystem>
#include <iostream>
#include <optional>

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

/// The vocabulary for a message: every token, or the first few and how many there are.
std::string vocabText(const std::vector<std::string>& vocab) {
    constexpr size_t kShown = 24;
    std::string text;
    for (size_t i = 0; i < vocab.size() && i < kShown; ++i) text += (i ? " " : "") + vocab[i];
    if (vocab.size() > kShown) text += " ... (" + std::to_string(vocab.size()) + " tokens)";
    return text;
}

/// The id of the --stop token, read the way input tokens are read (so "0700" is the token
/// 700 of a vocabulary of numbers); a token outside the vocabulary is a usage error.
int32_t stopTokenId(const rt::Model& m, const std::string& text) {
    std::vector<std::string> tokens;
    try {
        tokens = parseModelInput(text, m.tokenType);
    } catch (const UserError& e) {
        throw UsageError("--stop: " + std::string(e.what()));
    }
    if (tokens.size() != 1) {
        throw UsageError("--stop takes one token, not " + std::to_string(tokens.size()) + " (" +
                         quotedShort(text) + ")");
    }
    auto it = std::find(m.vocab.begin(), m.vocab.end(), tokens.front());
    if (it == m.vocab.end()) {
        throw UsageError("--stop " + quotedShort(text) +
                         " is not in the model's vocabulary: " + vocabText(m.vocab));
    }
    return static_cast<int32_t>(it - m.vocab.begin());
}

/// Appends the model's output at the last position as the next token, again and again,
/// streaming each token to stdout, until the stop token, `maxSteps` tokens, or the maximum
/// length. The first output of the model is the next token.
int generate(const rt::Model& m, const std::string& prompt, const Generation& gen, bool asJson) {
    if (m.outputs.empty()) throw UserError("the model has no output to generate from");
    const rt::Output& next = m.outputs.front();
    const rt::NextToken nextToken(m);
    const int32_t stopId = gen.stop ? stopTokenId(m, *gen.stop) : -1;  // -1: no stop token
    rt::Decoder decoder(m, gen.attention == "scan" ? rt::Attention::Scan : rt::Attention::Auto);
    std::vector<std::string> tokens = parseModelInput(prompt, m.tokenType);
    std::vector<int32_t> ids = rt::encodeTokens(m, tokens);
    // What eval refuses anywhere in the sequence, generation refuses too: a position whose
    // output does not decode or whose average check fails (an aggregate averaged different
    // values), and an output whose positions mix strings with other values. The prompt's
    // positions are decoded in full; generated ones through nextToken, plus these checks.
    std::optional<rt::OutputValues> firstOut;
    auto refused = [&](const rt::OutputValues& v, bool whole) -> std::optional<std::string> {
        try {
            if (!next.textEntries.empty()) {
                if (!firstOut) firstOut = v;
                rt::OutputValues both = *firstOut;
                both.ids.insert(both.ids.end(), v.ids.begin(), v.ids.end());
                both.margins.insert(both.margins.end(), v.margins.begin(), v.margins.end());
                both.values.insert(both.values.end(), v.values.begin(), v.values.end());
                both.averageCheck.insert(both.averageCheck.end(), v.averageCheck.begin(),
                                         v.averageCheck.end());
                rt::decode(next, both);
            } else if (whole || !v.averageCheck.empty()) {
                rt::decode(next, v);
            }
        } catch (const rt::DecodeError& e) {
            return std::string(e.what());
        }
        return std::nullopt;
    };
    std::vector<rt::OutputValues> outs;
    for (int32_t id : ids) {
        outs = decoder.step(id);
        if (auto why = refused(outs.front(), true)) throw UserError("the prompt: " + *why);
    }

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
                         (generated.size() == 1 ? " token: " : " tokens: ") + why);
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
        if (id == stopId) {
            stopped = "stop token";
            break;
        }
        if (decoder.length() >= m.maxLen) {
            stopped = "maximum length";
            break;
        }
        outs = decoder.step(id);
        if (auto why = refused(outs.front(), false)) throw stopBecause(*why);
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
    // Running out of positions is not a failure (the model can go no further), but a reader
    // of the tokens alone could not tell it from a finished run.
    auto lengthNotice = [&] {
        if (stopped == "maximum length") {
            std::cerr << "raspc: note: generation stopped at the model's maximum length ("
                      << m.maxLen << " tokens), after " << generated.size() << " new token"
                      << (generated.size() == 1 ? "" : "s") << "\n";
        }
    };
    if (asJson) {
        json j;
        j["input"] = prompt;
        j["generated"] = generated;
        j["stopped"] = stopped;
        std::cout << j.dump() << "\n";
    } else {
        std::cout << "\n";
    }
    std::cout << std::flush;
    lengthNotice();
    return kExitOk;
}

int runModel(const std::string& path, const ProgramSettings& settings, const Inputs& in,
             bool asJson, const Generation& gen) {
    rt::Model m;
    std::optional<std::string> example;
    if (isOnnxPath(path)) {
        // A model is compiled already: settings that shape a compilation cannot apply.
        refuseCompileSettings(path, settings);
        m = rt::loadModel(path);
    } else {
        Program p = loadProgram(path, settings);
        CompileReport report;
        m = lower(p.graph, compileOptions(p), &report);
        printWarnings(report);
        example = p.graph.exampleInput;
    }
    std::vector<InputLine> inputs = inputLines(in.input, in.inputsFile, example);
    if (gen.on) {
        if (inputs.size() != 1) {
            throw UsageError("--generate takes one prompt, not " + std::to_string(inputs.size()) +
                             ": give --input, or an --inputs-file of one line");
        }
        return generate(m, inputs.front().text, gen, asJson);
    }
    rt::Runner runner(m);
    std::vector<std::string> lines;
    std::vector<std::vector<int32_t>> batch;
    for (const InputLine& line : inputs) {
        try {
            batch.push_back(rt::encodeTokens(m, parseModelInput(line.text, m.tokenType)));
        } catch (const std::exception& e) {
            if (line.where == kExampleWhere) throw UserError(badExampleMessage(line, e.what()));
            if (inputs.size() == 1) throw;
            throw UserError(badLineMessage(line, e.what(), "run"));
        }
        lines.push_back(line.text);
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
                std::cerr << "raspc: error: " << inputs[s].where << " (" << quotedShort(lines[s])
                          << "): " << e.what() << "\n";
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
    CLI::Option* generate = cmd->add_flag(
        "--generate", st->gen.on,
        "Causal programs: append the output at the last position as the next token, "
        "repeatedly, until the --stop token, --max-steps tokens or the maximum length (a note "
        "on stderr says so); exit 0 in each case");
    // Each of these means nothing without --generate: refused rather than ignored.
    cmd->add_option("--max-steps", st->gen.maxSteps, "With --generate: most tokens to add")
        ->check(wholeNumber(1, INT32_MAX))
        ->capture_default_str()
        ->needs(generate);
    cmd->add_option("--stop", st->gen.stop,
                    "With --generate: stop after this token (one token of the vocabulary, "
                    "written as inputs are)")
        ->needs(generate);
    cmd->add_option("--attention", st->gen.attention,
                    "With --generate: auto (each head's fastest exact strategy: convex hull, "
                    "running sum or scan) or scan (a plain scan everywhere); both give the same "
                    "tokens")
        ->check(CLI::IsMember({"auto", "scan"}))
        ->default_str("auto")
        ->needs(generate);
    addProgramOptions(cmd, st->settings);
    addInputOptions(cmd, st->inputs);
    return {cmd,
            [st] { return runModel(st->file, st->settings, st->inputs, st->asJson, st->gen); }};
}

}  // namespace raspc::cli
