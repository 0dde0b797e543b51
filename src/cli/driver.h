// The steps every raspc subcommand shares: loading a program, reading inputs, printing values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "backend/lower.h"
#include "ir/graph.h"

namespace raspc::cli {

/// Command-line settings that override what a program states.
struct ProgramSettings {
    std::optional<std::string> vocab;  // unset: the program's own
    int maxLen = 0;                    // 0 = the program's own
    std::vector<std::string> outputs;  // empty = the last s-op the program computed
    std::vector<std::string> libraryPath;
    int optLevel = 1;  // -O0 turns the middle end's optimisations off
    bool causal = false;  // --causal: compile as if the program said `causal;`
};

/// A loaded program with everything compiling and evaluating it needs.
struct Program {
    Graph graph;
    std::string path;
    std::vector<Value> vocab;  // may be empty when neither program nor flags say
    int maxLen = 0;
    std::vector<NodeId> outputs;
    std::vector<std::string> outputNames;
    int optLevel = 1;
};

Program loadProgram(const std::string& path, const ProgramSettings& settings);

/// Prints a compile report's warnings to stderr, `file:line:col: warning: ...`.
void printWarnings(const CompileReport& report);

/// The compile options for a loaded program; throws UserError if alphabet or length is missing.
CompileOptions compileOptions(const Program& p);

/// Splits one input line into atoms: a string program takes each character as a token; a
/// program over numbers or booleans takes tokens separated by spaces (a comma inside a token,
/// as in "600,700", makes it no number).
std::vector<Value> parseInput(const std::string& text, TokenType type);

/// The same for a compiled model, whose vocabulary holds tokens as the REPL shows them.
std::vector<std::string> parseModelInput(const std::string& text, const std::string& tokenType);

/// Checks an input against the alphabet and maximum length; throws UserError naming the
/// offending token and its position, or the length.
void checkInput(const std::vector<Value>& input, const std::vector<Value>& vocab, int maxLen);

/// One input as typed, and where it came from for messages: "--input", "line 3 of in.txt",
/// "the program's example".
struct InputLine {
    std::string text;
    std::string where;
};

/// InputLine::where of the program's example.
inline constexpr const char* kExampleWhere = "the program's example";

/// Reads the input lines: `--input` text, and every non-empty line of `--inputs-file`, or
/// else the program's example input.
std::vector<InputLine> inputLines(const std::optional<std::string>& input,
                                  const std::optional<std::string>& inputsFile,
                                  const std::optional<std::string>& example);

/// Where to write output file `out`: itself, or the file a symbolic link names. Throws
/// UserError when that is a directory, device or anything else but a regular file (never
/// replaced, even with --force).
std::string writablePath(const std::string& out);

/// The message for a program's example that is no valid input (`why`).
std::string badExampleMessage(const InputLine& line, const std::string& why);

/// `text` in double quotes for a message: whole when short, else its start, "...", and its
/// length, so that a huge input never floods the terminal.
std::string quotedShort(const std::string& text);

/// The message for one bad input among several: where it is, its start, why it is bad, and
/// that none of the inputs was `verb`ed (every input is checked before any runs).
std::string badLineMessage(const InputLine& line, const std::string& why, const std::string& verb);

/// One s-op's values as the REPL shows them: `[o, l, l, e, h] (strings)`, `[5]*5 (ints)`.
std::string formatSequence(const std::vector<std::string>& values, const std::string& plural);

/// Prints the outputs for one input after another: `name("input") = [...] (type)` lines, or
/// one JSON object per input ({"input": ..., "outputs": {name: [...]}}) for scripts.
class OutputPrinter {
public:
    explicit OutputPrinter(bool json) : json_(json) {}
    void begin(const std::string& input);
    void add(const std::string& name, const std::vector<std::string>& values,
             const std::string& plural);
    void end();

private:
    bool json_;
    std::string input_;
    std::string jsonOutputs_;
};

/// "ints", "floats", "bools", "strings" for the values of one sequence.
std::string pluralOf(const std::vector<Value>& values);

}  // namespace raspc::cli
