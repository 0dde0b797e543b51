// Loading programs and inputs, and formatting values, for the raspc subcommands.
#include "cli/driver.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "elaborate/elaborate.h"
#include "passes/value_sets.h"

namespace raspc::cli {

namespace {

std::vector<std::string> splitTokens(const std::string& text) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : text) {
        if (c == ' ' || c == ',' || c == '\t' || c == '[' || c == ']') {
            if (!cur.empty()) out.push_back(cur);
            cur.clear();
        } else {
            cur.push_back(c);
        }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

/// Input tokens of a number or boolean program: separated by spaces and tabs only.
std::vector<std::string> splitWords(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    std::string word;
    while (in >> word) out.push_back(word);
    return out;
}

Value parseAtom(const std::string& tok, TokenType type) {
    try {
        size_t used = 0;
        switch (type) {
            case TokenType::Int: {
                long long v = std::stoll(tok, &used);
                if (used == tok.size()) return Value(static_cast<int64_t>(v));
                break;
            }
            case TokenType::Float: {
                double v = std::stod(tok, &used);
                if (used == tok.size()) return Value(v);
                break;
            }
            case TokenType::Bool:
                if (tok == "True" || tok == "true" || tok == "1") return Value(true);
                if (tok == "False" || tok == "false" || tok == "0") return Value(false);
                break;
            case TokenType::String:
                return Value(tok);
        }
    } catch (const std::exception&) {
    }
    static const char* names[] = {"string", "integer", "number", "boolean"};
    std::string why = "input token " + quotedShort(tok) + " is not " +
                      (type == TokenType::Int ? "an " : "a ") + names[static_cast<int>(type)];
    if (tok.find(',') != std::string::npos) why += " (separate tokens with spaces, not commas)";
    throw UserError(why);
}

TokenType tokenTypeOf(const std::string& name) {
    if (name == "int") return TokenType::Int;
    if (name == "float") return TokenType::Float;
    if (name == "bool") return TokenType::Bool;
    return TokenType::String;
}

}  // namespace

/// Warns about every selector the program uses that would see later positions, which the
/// causal mask hides from it.
void warnLookingAhead(const Program& p) {
    if (p.vocab.empty() || p.maxLen <= 0) return;
    Domain domain{p.vocab, p.maxLen, true};
    for (NodeId sel : selectorsLookingAhead(p.graph, domain)) {
        std::cerr << formatDiagnostic(p.graph[sel].loc, "warning",
                                      "this selector can pick later positions, which --causal "
                                      "hides from it: the program's results will differ");
    }
}

Program loadProgram(const std::string& path, const ProgramSettings& settings) {
    if (std::filesystem::is_directory(path)) {
        throw UserError("'" + path + "' is a directory, not a program file");
    }
    Program p;
    p.path = path;
    LoadOptions opts;
    opts.libraryPath = settings.libraryPath;
    opts.libraryPath.push_back(RASPC_LIB_DIR);
    p.graph = raspc::loadProgram(path, opts);

    if (settings.vocab) {
        try {
            if (p.graph.tokenType == TokenType::String) {
                p.vocab = parseInput(*settings.vocab, TokenType::String);
            } else {
                for (const std::string& t : splitTokens(*settings.vocab)) {
                    p.vocab.push_back(parseAtom(t, p.graph.tokenType));
                }
            }
        } catch (const UserError& e) {
            throw UsageError(std::string("--vocab: ") + e.what());
        }
        if (p.vocab.empty()) throw UsageError("--vocab: the alphabet is empty");
    } else if (p.graph.vocab) {
        p.vocab = *p.graph.vocab;
    }
    p.maxLen = settings.maxLen > 0 ? settings.maxLen : p.graph.maxLen.value_or(0);
    p.optLevel = settings.optLevel;
    if (settings.causal && !p.graph.causal) {
        p.graph.causal = true;
        warnLookingAhead(p);
    }

    if (settings.outputs.empty()) {
        if (!p.graph.lastSop) {
            throw UserError(SourceLoc{path, 0, 0},
                            "the program computes no s-op to output; end it with an expression "
                            "or pass --output");
        }
        p.outputs.push_back(*p.graph.lastSop);
        const Node& n = p.graph[*p.graph.lastSop];
        p.outputNames.push_back(n.name.empty() ? "out" : n.name);
    } else {
        for (const std::string& name : settings.outputs) {
            if (std::count(settings.outputs.begin(), settings.outputs.end(), name) > 1) {
                throw UsageError("--output names '" + name + "' more than once");
            }
            auto it = std::find_if(p.graph.named.rbegin(), p.graph.named.rend(),
                                   [&](const auto& kv) { return kv.first == name; });
            if (it == p.graph.named.rend()) {
                const bool selector =
                    std::any_of(p.graph.nodes.begin(), p.graph.nodes.end(),
                                [&](const Node& n) { return n.isSelector() && n.name == name; });
                if (selector) {
                    throw UserError("'" + name + "' in " + path +
                                    " is a selector, not an s-op: output an s-op made from it "
                                    "(an aggregate or a selector_width)");
                }
                if (name == "tokens" || name == "indices" || name == "length") {
                    throw UserError("'" + name + "' is built in, not named by " + path +
                                    ": name it to output it (x = " + name + ";)");
                }
                std::string known;
                for (const auto& [n, id] : p.graph.named) {
                    if (known.find(" " + n + ",") == std::string::npos) known += " " + n + ",";
                }
                if (!known.empty()) known.pop_back();
                throw UserError("no s-op named '" + name + "' in " + path +
                                (known.empty() ? "" : "; it names:" + known));
            }
            p.outputs.push_back(it->second);
            p.outputNames.push_back(name);
        }
    }
    return p;
}

void printWarnings(const CompileReport& report) {
    for (const Diagnostic& d : report.warnings) {
        std::cerr << formatDiagnostic(d.loc, "warning", d.message);
    }
}

CompileOptions compileOptions(const Program& p) {
    if (p.vocab.empty()) {
        throw UserError(SourceLoc{p.path, 0, 0},
                        "no alphabet: add a statement like `vocab \"abc\";` or pass --vocab");
    }
    if (p.maxLen <= 0) {
        throw UserError(SourceLoc{p.path, 0, 0},
                        "no maximum length: add a statement like `max_len 8;` or pass --max-len");
    }
    CompileOptions o;
    o.vocab = p.vocab;
    o.maxLen = p.maxLen;
    o.outputs = p.outputs;
    o.outputNames = p.outputNames;
    o.sourceName = p.path;
    o.optLevel = p.optLevel;
    return o;
}

std::vector<Value> parseInput(const std::string& text, TokenType type) {
    std::vector<Value> out;
    if (type == TokenType::String) {
        // One token per character, not per byte: a UTF-8 character stays whole.
        for (size_t i = 0; i < text.size();) {
            size_t len = 1;
            auto lead = static_cast<unsigned char>(text[i]);
            if (lead >= 0xF0)
                len = 4;
            else if (lead >= 0xE0)
                len = 3;
            else if (lead >= 0xC0)
                len = 2;
            out.push_back(Value(text.substr(i, len)));
            i += len;
        }
        return out;
    }
    for (const std::string& t : splitWords(text)) out.push_back(parseAtom(t, type));
    return out;
}

std::vector<std::string> parseModelInput(const std::string& text, const std::string& tokenType) {
    std::vector<std::string> out;
    for (const Value& v : parseInput(text, tokenTypeOf(tokenType))) out.push_back(toDisplay(v));
    return out;
}

void checkInput(const std::vector<Value>& input, const std::vector<Value>& vocab, int maxLen) {
    if (input.empty()) throw UserError("the input is empty; give at least one token");
    if (maxLen > 0 && static_cast<int>(input.size()) > maxLen) {
        throw UserError("the input has " + std::to_string(input.size()) +
                        " tokens, more than the maximum length " + std::to_string(maxLen));
    }
    if (vocab.empty()) return;
    for (size_t i = 0; i < input.size(); ++i) {
        bool known = std::any_of(vocab.begin(), vocab.end(), [&](const Value& v) {
            return v == input[i] && v.isString() == input[i].isString();
        });
        if (!known) {
            std::string all;
            for (const Value& v : vocab) all += (all.empty() ? "" : " ") + toDisplay(v);
            throw UserError("input token '" + toDisplay(input[i]) + "' at position " +
                            std::to_string(i) + " is not in the alphabet: " + all);
        }
    }
}

std::vector<InputLine> inputLines(const std::optional<std::string>& input,
                                  const std::optional<std::string>& inputsFile,
                                  const std::optional<std::string>& example) {
    std::vector<InputLine> lines;
    if (input) lines.push_back({*input, "--input"});
    if (inputsFile) {
        // "-" is standard input.
        std::ifstream file;
        if (*inputsFile != "-") {
            file.open(*inputsFile);
            if (!file) throw UserError("cannot read inputs file '" + *inputsFile + "'");
        }
        std::istream& in = *inputsFile == "-" ? std::cin : file;
        std::string line;
        for (int number = 1; std::getline(in, line); ++number) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (!line.empty()) {
                lines.push_back({line, "line " + std::to_string(number) + " of " + *inputsFile});
            }
        }
    }
    if (lines.empty() && inputsFile) {
        throw UserError("inputs file '" + *inputsFile + "' holds no input (every line is empty)");
    }
    if (lines.empty() && example) lines.push_back({*example, kExampleWhere});
    if (lines.empty()) {
        throw UserError(
            "no input: pass --input \"...\" (or --inputs-file), or give the program "
            "an example with `set example \"...\";`");
    }
    return lines;
}

std::string quotedShort(const std::string& text) {
    constexpr size_t kShown = 40;
    if (text.size() <= kShown + 20) return "\"" + text + "\"";
    size_t cut = kShown;
    // Never cut a UTF-8 character in two: back up to the start of one.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return "\"" + text.substr(0, cut) + "...\" (" + std::to_string(text.size()) + " characters)";
}

std::string badExampleMessage(const InputLine& line, const std::string& why) {
    return std::string(kExampleWhere) + " " + quotedShort(line.text) + " cannot run: " + why +
           "; fix its `set example` line";
}

std::string badLineMessage(const InputLine& line, const std::string& why, const std::string& verb) {
    return line.where + " (" + quotedShort(line.text) + "): " + why + "; no input was " + verb +
           " (fix or remove that line)";
}

std::string formatSequence(const std::vector<std::string>& values, const std::string& plural) {
    std::ostringstream out;
    bool allSame =
        values.size() > 1 && std::all_of(values.begin(), values.end(),
                                         [&](const std::string& v) { return v == values.front(); });
    if (allSame) {
        out << "[" << values.front() << "]*" << values.size();
    } else {
        out << "[";
        for (size_t i = 0; i < values.size(); ++i) out << (i ? ", " : "") << values[i];
        out << "]";
    }
    out << " (" << plural << ")";
    return out.str();
}

void OutputPrinter::begin(const std::string& input) {
    input_ = input;
    jsonOutputs_.clear();
}

void OutputPrinter::add(const std::string& name, const std::vector<std::string>& values,
                        const std::string& plural) {
    if (!json_) {
        std::cout << name << "(\"" << input_ << "\") = " << formatSequence(values, plural) << "\n";
        return;
    }
    jsonOutputs_ += (jsonOutputs_.empty() ? "" : ",") + nlohmann::json(name).dump() + ":" +
                    nlohmann::json(values).dump();
}

void OutputPrinter::end() {
    if (!json_) return;
    // Built by hand so that outputs keep the program's order.
    std::cout << "{\"input\":" << nlohmann::json(input_).dump() << ",\"outputs\":{" << jsonOutputs_
              << "}}\n";
}

std::string pluralOf(const std::vector<Value>& values) {
    bool anyFloat = false, allSame = true;
    for (const Value& v : values) {
        anyFloat = anyFloat || v.isFloat();
        allSame = allSame && atomType(v) == atomType(values.front());
    }
    if (values.empty()) return "ints";
    if (allSame) return atomTypePlural(atomType(values.front()));
    if (anyFloat &&
        std::all_of(values.begin(), values.end(), [](const Value& v) { return v.isNumber(); })) {
        return "floats";
    }
    return "mixed";
}

std::string writablePath(const std::string& out) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path target = out;
    if (fs::is_symlink(fs::symlink_status(target, ec))) {
        // Written through, as a shell redirection would: the link stays.
        target = fs::canonical(target, ec);
        if (ec) throw UserError("'" + out + "' is a symbolic link to nothing; remove it first");
    }
    const fs::file_status st = fs::status(target, ec);
    if (fs::exists(st) && !fs::is_regular_file(st)) {
        throw UserError("'" + out + "' is " +
                        (fs::is_directory(st) ? "a directory" : "not a regular file") +
                        "; raspc writes only regular files (give a file name)");
    }
    return target.string();
}

}  // namespace raspc::cli
