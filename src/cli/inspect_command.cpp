// `raspc inspect`: what a program compiles to, or what a compiled model file holds.
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/inspection.h"
#include "runtime/onnx_reader.h"

namespace raspc::cli {
namespace {

namespace fs = std::filesystem;

int runInspect(const std::string& path, const ProgramSettings& settings, bool asJson) {
    rt::Model m;
    if (fs::path(path).extension() == ".onnx") {
        refuseCompileSettings(path, settings);
        if (!fs::exists(path)) throw UserError("cannot open '" + path + "': no such file");
        m = rt::loadModel(path);
    } else {
        // Compiled in memory exactly as `raspc compile` would write it, so that inspecting a
        // program and inspecting its .onnx file print the same.
        Program p = loadProgram(path, settings);
        CompileReport report;
        m = compileProgram(p, report);
    }
    if (asJson) {
        std::cout << inspectJson(m).dump(2) << "\n";
    } else {
        std::cout << inspectText(m);
    }
    return kExitOk;
}

}  // namespace

Command addInspectCommand(CLI::App& app) {
    struct State {
        ProgramSettings settings;
        std::string file;
        bool asJson = false;
    };
    auto st = std::make_shared<State>();
    CLI::App* cmd = app.add_subcommand(
        "inspect", "Show a compiled model's layers, heads, MLP blocks and residual slot map");
    cmd->add_option("file", st->file,
                    "A .rasp program (compiled in memory) or a raspc .onnx "
                    "model")
        ->required();
    cmd->add_flag("--json", st->asJson, "Print one JSON object");
    addProgramOptions(cmd, st->settings);
    return {cmd, [st] { return runInspect(st->file, st->settings, st->asJson); }};
}

}  // namespace raspc::cli
