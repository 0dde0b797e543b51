// `raspc eval`: the reference interpreter on inputs.
#include <nlohmann/json.hpp>

#include <iostream>

#include "cli/commands.h"
#include "interp/interpreter.h"

namespace raspc::cli {
namespace {

using nlohmann::json;

int runEval(const std::string& path, const ProgramSettings& settings, const Inputs& in,
            bool asJson) {
    Program p = loadProgram(path, settings);
    OutputPrinter printer(asJson);
    std::vector<InputLine> lines = inputLines(in.input, in.inputsFile, p.graph.exampleInput);

    // Every input is checked before any is evaluated: a bad line stops the batch at once, not
    // after a screenful of results.
    std::vector<std::vector<Value>> inputs;
    for (const InputLine& line : lines) {
        try {
            inputs.push_back(parseInput(line.text, p.graph.tokenType));
            checkInput(inputs.back(), p.vocab, p.maxLen);
        } catch (const UserError& e) {
            if (line.where == kExampleWhere) throw UserError(badExampleMessage(line, e.what()));
            if (lines.size() == 1) throw;
            throw UserError(badLineMessage(line, e.what(), "evaluated"));
        }
    }
    for (size_t i = 0; i < lines.size(); ++i) {
        auto values = interpret(p.graph, inputs[i], p.outputs);
        printer.begin(lines[i].text);
        for (size_t o = 0; o < p.outputs.size(); ++o) {
            std::vector<std::string> shown;
            for (const Value& v : values[o]) shown.push_back(toDisplay(v));
            printer.add(p.outputNames[o], shown, pluralOf(values[o]));
        }
        printer.end();
    }
    return kExitOk;
}

}  // namespace

Command addEvalCommand(CLI::App& app) {
    struct State {
        ProgramSettings settings;
        Inputs inputs;
        std::string file;
        bool asJson = false;
    };
    auto st = std::make_shared<State>();
    CLI::App* cmd = app.add_subcommand("eval", "Evaluate a program with the reference interpreter");
    cmd->add_option("program", st->file, "The .rasp program")->required();
    cmd->add_flag("--json", st->asJson, "Print one JSON object per input");
    addProgramOptions(cmd, st->settings);
    addInputOptions(cmd, st->inputs);
    return {cmd, [st] { return runEval(st->file, st->settings, st->inputs, st->asJson); }};
}

}  // namespace raspc::cli
