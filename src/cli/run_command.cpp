// `raspc run`: a compiled model (or a program compiled in memory) on inputs, natively.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>

#include "backend/lower.h"
#include "cli/commands.h"
#include "runtime/onnx_reader.h"
#include "runtime/runner.h"

namespace raspc::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool isOnnxPath(const std::string& path) { return fs::path(path).extension() == ".onnx"; }

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
    OutputPrinter printer(asJson);
    for (size_t s = 0; s < lines.size(); ++s) {
        printer.begin(lines[s]);
        for (size_t o = 0; o < m.outputs.size(); ++o) {
            const rt::Output& out = m.outputs[o];
            try {
                printer.add(out.name, rt::decode(out, results[s][o]), pluralOfType(out.valueType));
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
    };
    auto st = std::make_shared<State>();
    CLI::App* cmd = app.add_subcommand("run", "Run a compiled model (.onnx), or compile a .rasp "
                                              "program in memory and run it");
    cmd->add_option("model", st->file, "The .onnx model or .rasp program")->required();
    cmd->add_flag("--json", st->asJson, "Print one JSON object per input");
    addProgramOptions(cmd, st->settings);
    addInputOptions(cmd, st->inputs);
    return {cmd, [st] { return runModel(st->file, st->settings, st->inputs, st->asJson); }};
}

}  // namespace raspc::cli
