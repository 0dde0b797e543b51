// raspc: compile RASP programs to transformers, evaluate them, and run compiled models.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "backend/lower.h"
#include "backend/onnx_writer.h"
#include "cli/driver.h"
#include "interp/interpreter.h"
#include "runtime/onnx_reader.h"
#include "runtime/runner.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace raspc::cli {
namespace {

// Exit codes scripts can rely on.
constexpr int kExitOk = 0;
constexpr int kExitUserError = 1;   // a bad program, input or model file
constexpr int kExitUsage = 2;       // bad command-line arguments
constexpr int kExitInternal = 3;    // a bug in raspc

struct Inputs {
    std::optional<std::string> input;
    std::optional<std::string> inputsFile;
};

void addInputOptions(CLI::App* cmd, Inputs& in) {
    cmd->add_option("--input,-i", in.input, "One input: a string (one token per character), or "
                                            "numbers separated by spaces for number programs");
    cmd->add_option("--inputs-file", in.inputsFile, "A file with one input per line")
        ->check(CLI::ExistingFile);
}

void addProgramOptions(CLI::App* cmd, ProgramSettings& s) {
    cmd->add_option("--vocab", s.vocab,
                    "Alphabet, overriding the program's `vocab` (\"abc\", or \"1,2,3\")");
    cmd->add_option("--max-len", s.maxLen, "Maximum input length, overriding `max_len`")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--output", s.outputs, "S-ops to output (default: the last one computed)")
        ->delimiter(',');
    cmd->add_option("-L,--lib", s.libraryPath, "Extra directory to search for `load`");
}

bool isOnnxPath(const std::string& path) { return fs::path(path).extension() == ".onnx"; }

// ---- compile ----------------------------------------------------------------------------

std::string reportText(const rt::Model& m, const CompileReport& r, const std::string& path) {
    std::ostringstream out;
    out << path << ": " << r.layers << " layer" << (r.layers == 1 ? "" : "s") << ", "
        << r.heads.size() << " head" << (r.heads.size() == 1 ? "" : "s") << ", residual width "
        << r.width << ", " << m.parameterCount() << " parameters (" << m.nonZeroParameterCount()
        << " non-zero), " << m.floatType << "\n";
    for (int l = 0; l < r.layers; ++l) {
        out << "  layer " << l << "\n";
        for (const auto& h : r.heads) {
            if (h.layer == l) {
                out << "    head  " << h.label << "  [q/k " << h.queryKeyWidth << ", v "
                    << h.valueWidth << "]\n";
            }
        }
        for (const auto& b : r.blocks) {
            if (b.layer == l) out << "    mlp   " << b.label << "  [hidden " << b.hidden << "]\n";
        }
    }
    return out.str();
}

json reportJson(const rt::Model& m, const CompileReport& r) {
    json j;
    j["layers"] = r.layers;
    j["heads"] = r.heads.size();
    j["width"] = r.width;
    j["parameters"] = m.parameterCount();
    j["nonZeroParameters"] = m.nonZeroParameterCount();
    j["floatType"] = m.floatType;
    int mlpHidden = 0;
    for (const auto& b : r.blocks) mlpHidden += b.hidden;
    j["mlpHidden"] = mlpHidden;
    for (const auto& h : r.heads) {
        j["headList"].push_back({{"layer", h.layer}, {"label", h.label},
                                 {"queryKeyWidth", h.queryKeyWidth}, {"valueWidth", h.valueWidth}});
    }
    for (const auto& b : r.blocks) {
        j["mlpBlocks"].push_back({{"layer", b.layer}, {"label", b.label}, {"hidden", b.hidden}});
    }
    return j;
}

/// Refuses to replace a file that is not a model raspc wrote, unless forced.
void checkOutputPath(const std::string& out, const std::string& source, bool force) {
    if (fs::exists(out) && fs::exists(source) && fs::equivalent(out, source)) {
        throw UserError("refusing to write the model over its own source file '" + out + "'");
    }
    if (!fs::exists(out) || force) return;
    try {
        rt::loadModel(out);
    } catch (const rt::ModelError&) {
        throw UserError("'" + out + "' exists and is not a raspc model; pass --force to "
                        "replace it");
    }
}

int runCompile(const std::string& path, const ProgramSettings& settings, std::string out,
               bool asJson, bool force) {
    Program p = loadProgram(path, settings);
    if (out.empty()) out = fs::path(path).replace_extension(".onnx").string();
    checkOutputPath(out, path, force);
    CompileReport report;
    auto start = std::chrono::steady_clock::now();
    rt::Model m = lower(p.graph, compileOptions(p), &report);
    writeOnnx(m, out);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                    .count();
    if (asJson) {
        json j = reportJson(m, report);
        j["output"] = out;
        j["milliseconds"] = ms;
        std::cout << j.dump() << "\n";
    } else {
        std::cout << reportText(m, report, out);
    }
    return kExitOk;
}

// ---- eval -------------------------------------------------------------------------------

int runEval(const std::string& path, const ProgramSettings& settings, const Inputs& in,
            bool asJson) {
    Program p = loadProgram(path, settings);
    for (const std::string& line : inputLines(in.input, in.inputsFile, p.graph.exampleInput)) {
        std::vector<Value> input = parseInput(line, p.graph.tokenType);
        checkInput(input, p.vocab, p.maxLen);
        auto values = interpret(p.graph, input, p.outputs);
        json j;
        for (size_t o = 0; o < p.outputs.size(); ++o) {
            std::vector<std::string> shown;
            for (const Value& v : values[o]) shown.push_back(toDisplay(v));
            if (asJson) {
                j["outputs"][p.outputNames[o]] = shown;
            } else {
                std::cout << p.outputNames[o] << "(\"" << line << "\") = "
                          << formatSequence(shown, pluralOf(values[o])) << "\n";
            }
        }
        if (asJson) {
            j["input"] = line;
            std::cout << j.dump() << "\n";
        }
    }
    return kExitOk;
}

// ---- run --------------------------------------------------------------------------------

std::string pluralOfType(const std::string& type) {
    if (type == "str") return "strings";
    if (type == "bool") return "bools";
    if (type == "float") return "floats";
    return "ints";
}

int runModel(const std::string& path, const ProgramSettings& settings, const Inputs& in,
             bool asJson) {
    rt::Model m;
    std::optional<std::string> example;
    if (isOnnxPath(path)) {
        m = rt::loadModel(path);
    } else {
        Program p = loadProgram(path, settings);
        m = lower(p.graph, compileOptions(p));
        example = p.graph.exampleInput;
    }
    rt::Runner runner(m);
    std::vector<std::string> lines = inputLines(in.input, in.inputsFile, example);
    std::vector<std::vector<int32_t>> batch;
    for (const std::string& line : lines) {
        std::vector<std::string> tokens = parseModelInput(line, m.tokenType);
        batch.push_back(rt::encodeTokens(m, tokens));
    }
    auto results = runner.run(batch);
    int status = kExitOk;
    for (size_t s = 0; s < lines.size(); ++s) {
        json j;
        j["input"] = lines[s];
        for (size_t o = 0; o < m.outputs.size(); ++o) {
            const rt::Output& out = m.outputs[o];
            std::vector<std::string> shown;
            try {
                shown = rt::decode(out, results[s][o]);
            } catch (const rt::DecodeError& e) {
                std::cerr << "raspc: error: input \"" << lines[s] << "\": output '" << out.name
                          << "': " << e.what() << "\n";
                status = kExitUserError;
                continue;
            }
            if (asJson) {
                j["outputs"][out.name] = shown;
            } else {
                std::cout << out.name << "(\"" << lines[s] << "\") = "
                          << formatSequence(shown, pluralOfType(out.valueType)) << "\n";
            }
        }
        if (asJson) std::cout << j.dump() << "\n";
    }
    return status;
}

int mainImpl(int argc, char** argv) {
    CLI::App app{"raspc " RASPC_VERSION ": compiles RASP programs to transformers (ONNX) and runs them",
                 "raspc"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("raspc ") + RASPC_VERSION);

    ProgramSettings settings;
    Inputs inputs;
    std::string file, out;
    bool asJson = false, force = false;

    CLI::App* compile = app.add_subcommand("compile", "Compile a program to an ONNX model");
    compile->add_option("program", file, "The .rasp program")->required();
    compile->add_option("-o,--out", out, "Model file to write (default: the program's name "
                                         "with .onnx)");
    compile->add_flag("--force", force, "Replace an existing file that is not a raspc model");
    compile->add_flag("--json", asJson, "Print the compile report as JSON");
    addProgramOptions(compile, settings);

    CLI::App* eval = app.add_subcommand("eval", "Evaluate a program with the reference "
                                                "interpreter");
    eval->add_option("program", file, "The .rasp program")->required();
    eval->add_flag("--json", asJson, "Print one JSON object per input");
    addProgramOptions(eval, settings);
    addInputOptions(eval, inputs);

    CLI::App* run = app.add_subcommand("run", "Run a compiled model (.onnx), or compile a "
                                              ".rasp program in memory and run it");
    run->add_option("model", file, "The .onnx model or .rasp program")->required();
    run->add_flag("--json", asJson, "Print one JSON object per input");
    addProgramOptions(run, settings);
    addInputOptions(run, inputs);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? kExitOk : kExitUsage;
    }

    if (compile->parsed()) return runCompile(file, settings, out, asJson, force);
    if (eval->parsed()) return runEval(file, settings, inputs, asJson);
    return runModel(file, settings, inputs, asJson);
}

}  // namespace
}  // namespace raspc::cli

int main(int argc, char** argv) {
    using namespace raspc;
    try {
        return cli::mainImpl(argc, argv);
    } catch (const UserError& e) {
        printUserError(std::cerr, e);
        return cli::kExitUserError;
    } catch (const rt::ModelError& e) {
        std::cerr << "raspc: error: " << e.what() << "\n";
        return cli::kExitUserError;
    } catch (const rt::InputError& e) {
        std::cerr << "raspc: error: " << e.what() << "\n";
        return cli::kExitUserError;
    } catch (const InternalError& e) {
        std::cerr << "raspc: internal error: " << e.what() << " (this is a bug in raspc)\n";
        return cli::kExitInternal;
    } catch (const std::exception& e) {
        std::cerr << "raspc: internal error: " << e.what() << " (this is a bug in raspc)\n";
        return cli::kExitInternal;
    }
}
