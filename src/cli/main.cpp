// raspc: compile RASP programs to transformers, evaluate them, and run compiled models.
#include <iostream>
#include <vector>

#include "cli/commands.h"
#include "runtime/errors.h"

namespace raspc::cli {

void addInputOptions(CLI::App* cmd, Inputs& in) {
    cmd->add_option("--input,-i", in.input,
                    "One input: a string (one token per character), or "
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
    cmd->add_option("-O", s.optLevel,
                    "Optimisation level: -O0 turns folding, fusing and merging "
                    "off (for comparison and debugging); -O1 is the default")
        ->check(CLI::Range(0, 1));
    cmd->add_flag("--causal", s.causal,
                  "Compile and evaluate as if the program said `causal;` (warns about selectors "
                  "that look ahead)");
}

namespace {

int mainImpl(int argc, char** argv) {
    CLI::App app{"raspc " RASPC_VERSION
                 ": compiles RASP programs to transformers (ONNX) and "
                 "runs them",
                 "raspc"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("raspc ") + RASPC_VERSION);

    // One line per subcommand; each lives in its own file.
    std::vector<Command> commands = {
        addCompileCommand(app), addEvalCommand(app), addRunCommand(app),
        addInspectCommand(app), addDrawCommand(app), addVerifyCommand(app),
    };

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? kExitOk : kExitUsage;
    }
    for (const Command& c : commands) {
        if (c.app->parsed()) return c.run();
    }
    return kExitUsage;
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
