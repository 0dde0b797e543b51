// `raspc compile`: a program to an ONNX model, with a report of what was built.
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "backend/lower.h"
#include "backend/onnx_writer.h"
#include "cli/commands.h"
#include "cli/inspection.h"
#include "frontend/ast_printer.h"
#include "frontend/parser.h"
#include "ir/printer.h"
#include "passes/pipeline.h"
#include "runtime/onnx_reader.h"

namespace raspc::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string reportText(const rt::Model& m, const CompileReport& r, const std::string& path) {
    std::ostringstream out;
    out << path << ": " << r.layers << " layer" << (r.layers == 1 ? "" : "s") << ", "
        << r.heads.size() << " head" << (r.heads.size() == 1 ? "" : "s") << ", residual width "
        << r.width << ", " << m.parameterCount() << " parameters (" << m.nonZeroParameterCount()
        << " non-zero), " << m.floatType
        << (r.floatReason.empty() ? "" : " (" + r.floatReason + ")") << "\n";
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
    if (!r.floatReason.empty()) j["floatReason"] = r.floatReason;
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
    out = writablePath(out);
    checkOutputPath(out, path, force);
    CompileReport report;
    auto start = std::chrono::steady_clock::now();
    rt::Model m = compileProgram(p, report);
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

/// `--emit=<stage>`: prints one stage of compiling instead of writing a model.
int runEmit(const std::string& stage, const std::string& path, const ProgramSettings& settings) {
    if (stage == "ast") {
        // The file as written: no library, nothing run.
        printAst(std::cout, parseFile(path));
        return kExitOk;
    }
    Program p = loadProgram(path, settings);
    if (stage == "ir") {
        printGraph(std::cout, p.graph, p.outputs);
    } else if (stage == "ir-opt") {
        CompileOptions options = compileOptions(p);
        std::vector<NodeId> outputs = options.outputs;
        Graph g = optimize(p.graph, outputs, passOptions(p.graph, options));
        printGraph(std::cout, g, outputs);
    } else {
        CompileReport report;
        std::cout << scheduleText(compileProgram(p, report));
    }
    return kExitOk;
}

}  // namespace

Command addCompileCommand(CLI::App& app) {
    struct State {
        ProgramSettings settings;
        std::string file, out;
        std::string emit;
        bool asJson = false, force = false;
    };
    auto st = std::make_shared<State>();
    CLI::App* cmd = app.add_subcommand("compile", "Compile a program to an ONNX model");
    cmd->add_option("program", st->file, "The .rasp program")->required();
    cmd->add_option("-o,--out", st->out, "Model file to write (default: the program's name "
                                         "with .onnx)");
    cmd->add_flag("--force", st->force, "Replace an existing file that is not a raspc model");
    cmd->add_flag("--json", st->asJson, "Print the compile report as JSON");
    cmd->add_option("--emit", st->emit, "Print a stage to stdout instead of writing the model: "
                                        "ast, ir (as elaborated), ir-opt (after the middle "
                                        "end), schedule (layers and what each sublayer computes)")
        ->check(CLI::IsMember({"ast", "ir", "ir-opt", "schedule"}));
    addProgramOptions(cmd, st->settings);
    return {cmd, [st] {
                if (!st->emit.empty()) return runEmit(st->emit, st->file, st->settings);
                return runCompile(st->file, st->settings, st->out, st->asJson, st->force);
            }};
}

}  // namespace raspc::cli
