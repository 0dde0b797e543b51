// raspc: compile RASP programs to transformers, evaluate them, and run compiled models.
#include <pthread.h>

#include <climits>
#include <filesystem>
#include <iostream>
#include <vector>

#include "cli/commands.h"
#include "runtime/errors.h"

namespace raspc::cli {

void addInputOptions(CLI::App* cmd, Inputs& in) {
    cmd->add_option("--input,-i", in.input,
                    "One input: a string (one token per character), or "
                    "numbers separated by spaces for number programs");
    cmd->add_option("--inputs-file", in.inputsFile,
                    "A file with one input per line (- for standard input)")
        ->check(CLI::Validator(
            [](std::string& path) -> std::string {
                if (path == "-" || std::filesystem::is_regular_file(path)) return "";
                return "no such file: " + path;
            },
            "FILE or -"));
}

CLI::Validator wholeNumber(long long lowest, long long highest) {
    std::string range = "from " + std::to_string(lowest) +
                        (highest == LLONG_MAX ? "" : " to " + std::to_string(highest));
    auto check = [lowest, highest, range](std::string& text) -> std::string {
        bool digits = !text.empty() && text.size() <= 18 &&
                      text.find_first_not_of("0123456789") == std::string::npos;
        if (!digits || std::stoll(text) < lowest || std::stoll(text) > highest) {
            return "must be a whole number " + range + ", not '" + text + "'";
        }
        return "";
    };
    return CLI::Validator(check, range);
}

void refuseCompileSettings(const std::string& path, const ProgramSettings& s) {
    if (s.vocab || s.maxLen > 0 || !s.outputs.empty() || s.optLevel != 1 || s.causal ||
        !s.libraryPath.empty()) {
        throw UsageError(
            "--vocab, --max-len, --output, --lib, -O and --causal apply when compiling; '" + path +
            "' is a compiled model (recompile its program with them instead)");
    }
}

void addProgramOptions(CLI::App* cmd, ProgramSettings& s) {
    cmd->add_option("--vocab", s.vocab,
                    "Alphabet, overriding the program's `vocab` (\"abc\", or \"1,2,3\")");
    // As large as a program's own `max_len` may be; what compiles at a length is the
    // compiler's to say (README, Limits).
    cmd->add_option("--max-len", s.maxLen,
                    "Maximum input length, overriding `max_len` (programs only; which lengths "
                    "compile is in README.md, Limits)")
        ->check(wholeNumber(1, INT32_MAX));
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

namespace {

int guardedMain(int argc, char** argv) {
    using namespace raspc;
    try {
        return cli::mainImpl(argc, argv);
    } catch (const UserError& e) {
        printUserError(std::cerr, e);
        return cli::kExitUserError;
    } catch (const cli::UsageError& e) {
        std::cerr << "raspc: error: " << e.what() << "\nRun with --help for more information.\n";
        return cli::kExitUsage;
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

// Parsing, elaborating and printing deeply nested programs recurse once per level: run on a
// thread with a large stack (reserved, not committed) so that depth is not a crash.
constexpr size_t kStackBytes = size_t{1} << 30;

struct MainCall {
    int argc;
    char** argv;
    int status;
};

void* callGuardedMain(void* arg) {
    auto* call = static_cast<MainCall*>(arg);
    call->status = guardedMain(call->argc, call->argv);
    return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
    MainCall call{argc, argv, raspc::cli::kExitInternal};
    pthread_attr_t attr;
    pthread_t thread;
    if (pthread_attr_init(&attr) != 0 || pthread_attr_setstacksize(&attr, kStackBytes) != 0 ||
        pthread_create(&thread, &attr, callGuardedMain, &call) != 0) {
        return guardedMain(argc, argv);  // no thread: run here, with the usual stack
    }
    pthread_join(thread, nullptr);
    pthread_attr_destroy(&attr);
    return call.status;
}
