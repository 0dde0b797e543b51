// `raspc verify`: compiles a program in memory and checks the model against the interpreter.
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <random>

#include "backend/lower.h"
#include "cli/commands.h"
#include "interp/interpreter.h"
#include "runtime/runner.h"

namespace raspc::cli {
namespace {

using nlohmann::json;

struct VerifyOptions {
    int64_t exhaustiveLimit = 20000;
    int64_t samples = 2000;
    uint64_t seed = 1;
    bool asJson = false;
};

/// Which inputs a run checks: all of lengths 1..exhaustiveLength, then `random` more whose
/// lengths lie above exhaustiveLength.
struct Plan {
    int exhaustiveLength = 0;
    int64_t exhaustiveCount = 0;
    int64_t random = 0;
};

/// The first input on which the interpreter and the model differ (or either fails).
struct Disagreement {
    size_t index = 0;  // in its chunk
    std::vector<int32_t> ids;
    std::string output;  // empty when no single output is at fault
    std::vector<std::string> interpreterValues;
    std::vector<std::string> modelValues;
    std::string error;  // why a side has no values, if it has none
};

// How many inputs of lengths 1..maxLen there are over `v` tokens, stopping once past `cap`.
int64_t countUpTo(int64_t v, int maxLen, int64_t cap) {
    int64_t total = 0, perLength = 1;
    for (int len = 1; len <= maxLen; ++len) {
        if (perLength > cap / std::max<int64_t>(v, 1) + 1) return cap + 1;
        perLength *= v;
        total += perLength;
        if (total > cap) return cap + 1;
    }
    return total;
}

Plan makePlan(int64_t vocabSize, int maxLen, const VerifyOptions& o) {
    Plan plan;
    while (plan.exhaustiveLength < maxLen && countUpTo(vocabSize, plan.exhaustiveLength + 1,
                                                       o.exhaustiveLimit) <= o.exhaustiveLimit) {
        ++plan.exhaustiveLength;
    }
    plan.exhaustiveCount = countUpTo(vocabSize, plan.exhaustiveLength, o.exhaustiveLimit);
    plan.random = plan.exhaustiveLength < maxLen ? o.samples : 0;
    return plan;
}

// Produces the planned inputs in order, a chunk at a time: every sequence of ids of each
// length up to the exhaustive one (an odometer), then random ones. The first two random
// inputs have the maximum length and one below, where exactness is hardest.
class InputSource {
public:
    InputSource(const Plan& plan, int vocabSize, int maxLen, uint64_t seed)
        : plan_(plan), vocabSize_(vocabSize), maxLen_(maxLen), rng_(seed) {
        if (plan_.exhaustiveLength > 0) current_.assign(1, 0);
    }

    bool next(std::vector<int32_t>& out) {
        if (!current_.empty()) {
            out = current_;
            advance();
            return true;
        }
        if (randomDone_ >= plan_.random) return false;
        int low = plan_.exhaustiveLength + 1;
        int len = std::uniform_int_distribution<int>(low, maxLen_)(rng_);
        if (randomDone_ == 0) len = maxLen_;
        if (randomDone_ == 1 && maxLen_ - 1 >= low) len = maxLen_ - 1;
        std::uniform_int_distribution<int> token(0, vocabSize_ - 1);
        out.resize(len);
        for (int32_t& id : out) id = token(rng_);
        ++randomDone_;
        return true;
    }

private:
    void advance() {
        for (size_t i = current_.size(); i-- > 0;) {
            if (++current_[i] < vocabSize_) return;
            current_[i] = 0;
        }
        // Every sequence of this length is done: start the next length, or stop.
        if (static_cast<int>(current_.size()) < plan_.exhaustiveLength) {
            current_.assign(current_.size() + 1, 0);
        } else {
            current_.clear();
        }
    }

    Plan plan_;
    int vocabSize_;
    int maxLen_;
    std::mt19937_64 rng_;
    std::vector<int32_t> current_;
    int64_t randomDone_ = 0;
};

// Numbers compare by value (the interpreter may show 2 where a table says 2.0); everything
// else, booleans included, must match as shown.
bool sameShown(const std::string& a, const std::string& b) {
    if (a == b) return true;
    char* endA = nullptr;
    char* endB = nullptr;
    double x = std::strtod(a.c_str(), &endA);
    double y = std::strtod(b.c_str(), &endB);
    if (a.empty() || b.empty() || *endA != '\0' || *endB != '\0') return false;
    return std::fabs(x - y) <= 1e-9 * std::max(1.0, std::fabs(x));
}

bool sameSequence(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (!sameShown(a[i], b[i])) return false;
    }
    return true;
}

std::string showInput(const std::vector<int32_t>& ids, const rt::Model& m) {
    std::string text;
    for (size_t i = 0; i < ids.size(); ++i) {
        if (m.tokenType != "str" && i > 0) text += " ";
        text += m.vocab[ids[i]];
    }
    return text;
}

std::string showValues(const std::vector<std::string>& values) {
    std::string text = "[";
    for (size_t i = 0; i < values.size(); ++i) text += (i ? ", " : "") + values[i];
    return text + "]";
}

// Checks one chunk of inputs; returns the first disagreement in it, if any. An input that the
// interpreter fails on agrees when the model refuses it too (counted in `refusedByBoth`).
std::optional<Disagreement> checkChunk(const Program& p, const rt::Model& m,
                                       const rt::Runner& runner,
                                       const std::vector<std::vector<int32_t>>& chunk,
                                       int64_t& refusedByBoth) {
    auto results = runner.run(chunk);
    for (size_t s = 0; s < chunk.size(); ++s) {
        std::vector<Value> input;
        for (int32_t id : chunk[s]) input.push_back(p.vocab[id]);
        std::vector<std::vector<Value>> expected;
        try {
            expected = interpret(p.graph, input, p.outputs);
        } catch (const UserError& e) {
            const Diagnostic& d = e.diagnostics().front();
            std::string shown = formatDiagnostic(d.loc, "error", d.message);
            while (!shown.empty() && shown.back() == '\n') shown.pop_back();
            bool refused = false;
            for (size_t o = 0; o < m.outputs.size() && !refused; ++o) {
                try {
                    rt::decode(m.outputs[o], results[s][o]);
                } catch (const rt::DecodeError&) {
                    refused = true;
                }
            }
            if (refused) {
                ++refusedByBoth;
                continue;
            }
            return Disagreement{
                s, chunk[s], "", {}, {}, "the interpreter fails where the model answers: " + shown};
        }
        for (size_t o = 0; o < m.outputs.size(); ++o) {
            std::vector<std::string> want;
            for (const Value& v : expected[o]) want.push_back(toDisplay(v));
            std::vector<std::string> got;
            try {
                got = rt::decode(m.outputs[o], results[s][o]);
            } catch (const rt::DecodeError& e) {
                std::string why = std::string("the model's output does not decode: ") + e.what();
                return Disagreement{s, chunk[s], m.outputs[o].name, want, {}, why};
            }
            if (!sameSequence(want, got)) {
                return Disagreement{s, chunk[s], m.outputs[o].name, want, got, ""};
            }
        }
    }
    return std::nullopt;
}

void printDisagreement(const Disagreement& d, const rt::Model& m, int64_t agreed, bool asJson) {
    std::string input = showInput(d.ids, m);
    if (asJson) {
        json j;
        j["verified"] = false;
        j["agreed"] = agreed;
        j["input"] = input;
        std::vector<std::string> tokens;
        for (int32_t id : d.ids) tokens.push_back(m.vocab[id]);
        j["tokens"] = tokens;
        if (!d.output.empty()) j["output"] = d.output;
        if (!d.interpreterValues.empty()) j["interpreter"] = d.interpreterValues;
        if (!d.modelValues.empty()) j["model"] = d.modelValues;
        if (!d.error.empty()) j["error"] = d.error;
        std::cout << j.dump() << "\n";
        return;
    }
    bool interpreterFailed = d.output.empty();
    std::cout << (interpreterFailed ? "failure" : "disagreement") << " on input \"" << input
              << "\" (length " << d.ids.size() << ", after " << agreed << " inputs agreed)\n";
    if (!d.output.empty()) std::cout << "  output:      " << d.output << "\n";
    if (!d.interpreterValues.empty()) {
        std::cout << "  interpreter: " << showValues(d.interpreterValues) << "\n";
    }
    if (!d.modelValues.empty()) std::cout << "  model:       " << showValues(d.modelValues) << "\n";
    if (!d.error.empty()) std::cout << "  " << d.error << "\n";
}

int runVerify(const std::string& path, const ProgramSettings& settings, const VerifyOptions& o) {
    Program p = loadProgram(path, settings);
    CompileReport report;
    rt::Model m = lower(p.graph, compileOptions(p), &report);
    printWarnings(report);
    if (m.vocab.size() != p.vocab.size()) {
        throw InternalError("verify: the model's vocabulary has " + std::to_string(m.vocab.size()) +
                            " tokens, the program's " + std::to_string(p.vocab.size()));
    }
    for (size_t i = 0; i < p.vocab.size(); ++i) {
        if (m.vocab[i] != toDisplay(p.vocab[i])) {
            throw InternalError("verify: token id " + std::to_string(i) + " is '" + m.vocab[i] +
                                "' in the model but '" + toDisplay(p.vocab[i]) +
                                "' in the program");
        }
    }
    rt::Runner runner(m);

    // The interpreter is quadratic in the length: programs for long traces are checked on
    // inputs up to kLongestVerified tokens (their generated traces are checked by tests).
    constexpr int kLongestVerified = 256;
    const int longest = std::min(p.maxLen, kLongestVerified);
    Plan plan = makePlan(static_cast<int64_t>(p.vocab.size()), longest, o);
    int64_t total = plan.exhaustiveCount + plan.random;
    if (total == 0) {
        throw UsageError("nothing to check: --exhaustive-limit " +
                         std::to_string(o.exhaustiveLimit) + " is below the " +
                         std::to_string(p.vocab.size()) + " inputs of length 1, and --samples " +
                         "is 0; raise either");
    }
    InputSource source(plan, static_cast<int>(p.vocab.size()), longest, o.seed);
    bool progress = !o.asJson && isatty(STDERR_FILENO);

    // Long inputs cost quadratic attention: keep a chunk's work roughly constant.
    const size_t chunkTokens = 8192;
    int64_t checked = 0, refusedByBoth = 0;
    std::vector<std::vector<int32_t>> chunk;
    size_t chunkLen = 0;
    std::vector<int32_t> ids;
    bool more = true;
    while (more) {
        more = source.next(ids);
        if (more) {
            chunkLen += ids.size();
            chunk.push_back(ids);
        }
        if (chunk.empty() || (more && chunkLen < chunkTokens)) continue;
        std::optional<Disagreement> bad = checkChunk(p, m, runner, chunk, refusedByBoth);
        if (bad) {
            if (progress) std::cerr << "\r\033[K";
            printDisagreement(*bad, m, checked + static_cast<int64_t>(bad->index), o.asJson);
            return kExitUserError;
        }
        checked += static_cast<int64_t>(chunk.size());
        chunk.clear();
        chunkLen = 0;
        if (progress)
            std::cerr << "\rverify: " << checked << "/" << total << " inputs" << std::flush;
    }
    if (progress) std::cerr << "\r\033[K";

    if (o.asJson) {
        json j;
        j["verified"] = true;
        j["inputs"] = checked;
        j["refused_by_both"] = refusedByBoth;
        j["exhaustive_length"] = plan.exhaustiveLength;
        j["exhaustive"] = plan.exhaustiveCount;
        j["random"] = plan.random;
        j["max_len"] = p.maxLen;
        j["longest_input"] = longest;
        std::cout << j.dump() << "\n";
    } else {
        std::cout << "verified: " << checked << " inputs agree (exhaustive up to length "
                  << plan.exhaustiveLength << ", " << plan.random << " random";
        if (plan.random > 0) {
            std::cout << " of lengths " << plan.exhaustiveLength + 1 << ".." << longest;
        }
        if (longest < p.maxLen) std::cout << "; max_len is " << p.maxLen;
        std::cout << ")";
        if (refusedByBoth > 0) {
            std::cout << "; " << refusedByBoth << " of them the interpreter fails on and the "
                      << "model refuses";
        }
        std::cout << "\n";
    }
    return kExitOk;
}

}  // namespace

Command addVerifyCommand(CLI::App& app) {
    struct State {
        ProgramSettings settings;
        VerifyOptions options;
        std::string file;
    };
    auto st = std::make_shared<State>();
    CLI::App* cmd = app.add_subcommand(
        "verify",
        "Compile a program and check the model against the interpreter: on every "
        "input when there are few enough, else on every short input and random ones");
    cmd->add_option("program", st->file, "The .rasp program")->required();
    cmd->add_option("--exhaustive-limit", st->options.exhaustiveLimit,
                    "Check every input up to the longest length whose inputs number at most "
                    "this many")
        ->capture_default_str()
        ->check(wholeNumber(0, LLONG_MAX));
    cmd->add_option("--samples", st->options.samples,
                    "Random inputs to check beyond the exhaustive lengths")
        ->capture_default_str()
        ->check(wholeNumber(0, LLONG_MAX));
    cmd->add_option("--seed", st->options.seed, "Seed for the random inputs")
        ->capture_default_str();
    cmd->add_flag("--json", st->options.asJson, "Print one JSON object with the verdict");
    addProgramOptions(cmd, st->settings);
    return {cmd, [st] { return runVerify(st->file, st->settings, st->options); }};
}

}  // namespace raspc::cli
