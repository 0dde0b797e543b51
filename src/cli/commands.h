// The raspc subcommands: each file registers one with CLI11 and runs it.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "cli/driver.h"

namespace raspc::cli {

// Exit codes scripts can rely on.
constexpr int kExitOk = 0;
constexpr int kExitUserError = 1;  // a bad program, input or model file
constexpr int kExitUsage = 2;      // bad command-line arguments
constexpr int kExitInternal = 3;   // a bug in raspc

/// A command-line mistake that only shows once the command runs (an option that does not
/// apply to the file given, a --stop token outside the vocabulary): exits with kExitUsage.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// A registered subcommand: `run` is called when CLI11 parsed it.
struct Command {
    CLI::App* app = nullptr;
    std::function<int()> run;
};

/// Where inputs come from, for commands that take them.
struct Inputs {
    std::optional<std::string> input;
    std::optional<std::string> inputsFile;
};

void addInputOptions(CLI::App* cmd, Inputs& in);
void addProgramOptions(CLI::App* cmd, ProgramSettings& s);

/// Accepts a whole number from `lowest` to `highest` written in digits; anything else is
/// refused with "must be a whole number from ...", naming what was given.
CLI::Validator wholeNumber(long long lowest, long long highest);

/// Refuses (UsageError) the options that shape a compilation when `path` is a compiled model.
void refuseCompileSettings(const std::string& path, const ProgramSettings& settings);

Command addCompileCommand(CLI::App& app);
Command addEvalCommand(CLI::App& app);
Command addRunCommand(CLI::App& app);
Command addInspectCommand(CLI::App& app);
Command addDrawCommand(CLI::App& app);
Command addVerifyCommand(CLI::App& app);

}  // namespace raspc::cli
