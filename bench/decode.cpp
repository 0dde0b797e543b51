// raspc_bench_decode: generation speed of the incremental decoder on long traces. Per-token
// time of the hull (each head's own strategy) and of the plain scan at chosen positions, both
// continuing from the same cache; whole-trace tokens/s; where a step's time goes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/driver.h"
#include "runtime/decoder.h"
#include "runtime/next_token.h"
#include "runtime/onnx_reader.h"

namespace {

using namespace raspc;
using Clock = std::chrono::steady_clock;

struct Case {
    std::string name, model, prompt;
};

struct Options {
    std::vector<Case> cases;
    int64_t tokens = 1000000;
    int window = 200;
    // The positions, and 9K and 43K where the anchors give the hull's speed-up.
    std::vector<int64_t> positions = {1000, 9000, 10000, 43000, 100000, 1000000};
    std::string report = "bench/decode.md";
    std::string reference;  // trace_reference, to check each trace against; "" for no check
};

// One window: the same tokens decoded twice from the same cache, by the strategies and by scans;
// then as many more by the strategies with the decoder's timers on, for the split.
struct Window {
    int64_t position = 0;
    std::vector<int32_t> tokens;  // the window's tokens, as the strategies decoded them
    double hullSeconds = 0.0, scanSeconds = 0.0;
    bool same = true;                  // both decodings gave the same tokens
    std::vector<int32_t> splitTokens;  // the tokens after the window, decoded with timers on
    rt::DecoderStats split;            // their timers
};

struct Result {
    Case c;
    std::string floatType;
    int layers = 0, heads = 0, width = 0;
    int64_t parameters = 0, nonZero = 0;
    uintmax_t fileBytes = 0;
    std::vector<std::string> strategies;  // one line per layer
    int64_t generated = 0;
    double traceSeconds = 0.0;  // generation outside the scan windows
    std::string stopped;
    std::string checked = "not checked";  // against trace_reference
    std::vector<Window> windows;
    rt::AttentionCounts queries;
};

double seconds(Clock::time_point since) {
    return std::chrono::duration<double>(Clock::now() - since).count();
}

// The next token id from a step's outputs; throws when it is not a token.
int32_t nextToken(const rt::NextToken& next, const std::vector<rt::OutputValues>& outs) {
    const int32_t id = next(outs.front());
    if (id < 0) throw std::runtime_error("the model's next token is not in its vocabulary");
    return id;
}

// Decodes `count` tokens from `token` on, returning them (the last is the token to feed next).
std::vector<int32_t> decodeWindow(rt::Decoder& d, const rt::NextToken& next, int32_t token,
                                  int count, double& secondsOut) {
    std::vector<int32_t> out;
    auto start = Clock::now();
    for (int i = 0; i < count; ++i) {
        token = nextToken(next, d.step(token, 1));
        out.push_back(token);
    }
    secondsOut = seconds(start);
    return out;
}

// Times the window at the decoder's current position: first by scans, then, rewound, by the
// strategies; the trace continues after the second, through a window of as many tokens whose
// time the decoder's timers split. (The timers read the clock a few times per layer, which
// would add to the first windows' times.)
Window measureWindow(rt::Decoder& d, const rt::NextToken& next, int32_t& token, int count) {
    Window w;
    w.position = d.length();
    const int32_t resume = token;

    // Scans first: the strategies' structures do not see these positions, so the rewind
    // costs nothing.
    d.setAttention(rt::Attention::Scan);
    std::vector<int32_t> scanned = decodeWindow(d, next, resume, count, w.scanSeconds);
    d.rewind(static_cast<int>(w.position));

    d.setAttention(rt::Attention::Auto);
    std::vector<int32_t> fast = decodeWindow(d, next, resume, count, w.hullSeconds);
    w.same = scanned == fast;
    token = fast.back();
    w.tokens = std::move(fast);

    const rt::DecoderStats before = d.stats();
    d.setTiming(true);
    double splitSeconds = 0.0;
    w.splitTokens = decodeWindow(d, next, token, count, splitSeconds);
    d.setTiming(false);
    const rt::DecoderStats& after = d.stats();
    w.split.projectionSeconds = after.projectionSeconds - before.projectionSeconds;
    w.split.attentionSeconds = after.attentionSeconds - before.attentionSeconds;
    w.split.mlpSeconds = after.mlpSeconds - before.mlpSeconds;
    w.split.otherSeconds = after.otherSeconds - before.otherSeconds;
    token = w.splitTokens.back();
    return w;
}

std::string grouped(int64_t v) {
    std::string s = std::to_string(v), out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (i > 0 && (s.size() - i) % 3 == 0) out += ',';
        out += s[i];
    }
    return out;
}

double count(const Window& w) {
    return static_cast<double>(w.tokens.size());
}

// Shell-quotes `s` in single quotes.
std::string quoted(const std::string& s) {
    std::string out = "'";
    for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return out + "'";
}

// Compares the trace with trace_reference's direct computation of the case (its name must be a
// sample trace_reference knows), both written as `raspc run --generate` prints tokens.
std::string checkTrace(const std::string& reference, const Case& c, const rt::Model& m,
                       const std::vector<int32_t>& trace) {
    std::string mine;
    for (int32_t id : trace) {
        if (m.tokenType != "str") mine += ' ';
        mine += m.vocab[static_cast<size_t>(id)];
    }
    const std::string command = quoted(reference) + " " + quoted(c.name) + " " + quoted(c.prompt) +
                                " " + std::to_string(trace.size());
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) return "could not run trace_reference";
    std::string theirs;
    char buf[1 << 16];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) theirs.append(buf, n);
    if (pclose(pipe) != 0) return "trace_reference failed";
    while (!theirs.empty() && theirs.back() == '\n') theirs.pop_back();
    if (theirs == mine) return "all " + grouped(static_cast<int64_t>(trace.size())) + " match";
    size_t at = 0;
    while (at < mine.size() && at < theirs.size() && mine[at] == theirs[at]) ++at;
    return "DIFFERS from character " + std::to_string(at);
}

Result runCase(const Case& c, const Options& o) {
    Result r;
    r.c = c;
    rt::Model m = rt::loadModel(c.model);
    r.floatType = m.floatType;
    r.layers = static_cast<int>(m.layers.size());
    r.width = m.width;
    r.parameters = m.parameterCount();
    r.nonZero = m.nonZeroParameterCount();
    r.fileBytes = std::filesystem::file_size(c.model);

    rt::Decoder d(m);
    r.heads = d.headCount();
    for (size_t l = 0; l < d.strategies().size(); ++l) {
        std::string line = "L" + std::to_string(l) + ":";
        for (rt::HeadStrategy s : d.strategies()[l]) (line += ' ') += rt::strategyName(s);
        r.strategies.push_back(line);
    }
    rt::NextToken next(m);

    std::vector<int32_t> prompt = rt::encodeTokens(m, cli::parseModelInput(c.prompt, m.tokenType));
    auto start = Clock::now();
    std::vector<rt::OutputValues> outs;
    for (int32_t id : prompt) outs = d.step(id, 1);
    int32_t token = nextToken(next, outs);
    r.generated = 0;
    std::vector<int32_t> trace = {token};  // every token generated, as the trace goes on

    // The trace runs to the token limit, and on through a window (and the split's window after
    // it) that starts before it.
    int64_t end = static_cast<int64_t>(prompt.size()) + o.tokens;
    for (int64_t p : o.positions)
        if (p <= end) end = std::max(end, p + 2 * o.window);
    end = std::min<int64_t>(end, m.maxLen);
    size_t nextWindow = 0;
    double excluded = 0.0;  // time spent in scan windows and reporting
    r.stopped = "token limit";
    while (d.length() < end) {
        while (nextWindow < o.positions.size() && o.positions[nextWindow] < d.length())
            ++nextWindow;
        if (nextWindow < o.positions.size() && o.positions[nextWindow] == d.length() &&
            d.length() + 2 * o.window <= end) {
            Window w = measureWindow(d, next, token, o.window);
            excluded += w.scanSeconds;
            r.generated += 2 * o.window;
            trace.insert(trace.end(), w.tokens.begin(), w.tokens.end());
            trace.insert(trace.end(), w.splitTokens.begin(), w.splitTokens.end());
            r.windows.push_back(w);
            std::fprintf(stderr, "  %s: position %lld: hull %.2f us/token, scan %.2f us/token\n",
                         c.name.c_str(), static_cast<long long>(w.position),
                         1e6 * w.hullSeconds / count(w), 1e6 * w.scanSeconds / count(w));
            ++nextWindow;
            continue;
        }
        token = nextToken(next, d.step(token, 1));
        trace.push_back(token);
        ++r.generated;
    }
    if (d.length() >= m.maxLen) r.stopped = "maximum length";
    r.traceSeconds = seconds(start) - excluded;
    r.queries = d.stats().queries;
    if (!o.reference.empty()) r.checked = checkTrace(o.reference, c, m, trace);
    return r;
}

// The 1-minute load average, or "?".
std::string loadAverage() {
    std::ifstream in("/proc/loadavg");
    std::string first;
    return in >> first ? first : "?";
}

std::string fixed(double v, int digits) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

// Projections / attention / MLP / other as shares of the timed hull window.
std::string splitText(const rt::DecoderStats& s) {
    const double total = s.projectionSeconds + s.attentionSeconds + s.mlpSeconds + s.otherSeconds;
    if (total <= 0.0) return "-";
    auto pct = [&](double x) { return fixed(100.0 * x / total, 0) + "%"; };
    return pct(s.projectionSeconds) + " / " + pct(s.attentionSeconds) + " / " + pct(s.mlpSeconds) +
           " / " + pct(s.otherSeconds);
}

// The published figures to beat (../shared/ANCHORS.md, "Executing programs inside a
// transformer"), all measured on a 2-core machine of this kind.
struct Anchors {
    static constexpr double engineTokensPerSecond = 19800;     // C++ engine, 1.06M-token trace
    static constexpr double communityTokensPerSecond = 40400;  // sparse projections, same trace
    static constexpr double headStepsPerSecond = 5.4e6;        // 133 heads x ~40,000 tokens/s
    // Hull against its plain key/value cache, per token, at these positions.
    static constexpr int64_t hullPositions[3] = {1000, 9000, 43000};
    static constexpr double hullOverScan[3] = {5, 41, 340};
    // The physical limit: about 2 x parameters operations per token at ~100 GFLOP/s.
    static constexpr double flopsPerSecond = 100e9;
};

// The window at `position` or, failing that, the nearest one; nullptr when there is none.
const Window* nearestWindow(const Result& r, int64_t position) {
    const Window* best = nullptr;
    for (const Window& w : r.windows)
        if (!best || std::llabs(w.position - position) < std::llabs(best->position - position))
            best = &w;
    return best;
}

double scanOverHull(const Window& w) {
    return w.scanSeconds / w.hullSeconds;
}

// Our figures beside the anchors' as ratios, and the goals for the decoder.
void anchorSection(std::ostringstream& md, const std::vector<Result>& results) {
    md << "\n## Against the anchors\n\nThe anchors' figures are from `ANCHORS.md` (Percepta's "
          "WebAssembly interpreter: 7 layers, 133 heads, measured on a 2-core machine of this "
          "kind); ours are this run's. Ratio = ours / theirs.\n\n"
          "| case | tokens/s | vs engine 19,800 | vs community 40,400 | head-steps/s | vs 5.4M "
          "| hull/scan at 1K (5x) | at 9K (41x) | at 43K (340x) | physical limit (dense / "
          "non-zero) |\n|---|---|---|---|---|---|---|---|---|---|\n";
    for (const Result& r : results) {
        const double tps = r.generated / r.traceSeconds;
        md << "| " << r.c.name << " | " << grouped(static_cast<int64_t>(tps)) << " | "
           << fixed(tps / Anchors::engineTokensPerSecond, 1) << "x | "
           << fixed(tps / Anchors::communityTokensPerSecond, 1) << "x | "
           << grouped(static_cast<int64_t>(tps * r.heads)) << " | "
           << fixed(tps * r.heads / Anchors::headStepsPerSecond, 2) << "x";
        for (size_t i = 0; i < 3; ++i) {
            const Window* w = nearestWindow(r, Anchors::hullPositions[i]);
            md << " | ";
            if (!w) {
                md << "-";
                continue;
            }
            const double ratio = scanOverHull(*w);
            md << fixed(ratio, 0) << "x (" << fixed(ratio / Anchors::hullOverScan[i], 1) << "x)";
            if (w->position != Anchors::hullPositions[i]) md << " at " << grouped(w->position);
        }
        // Tokens/s the dense and the non-zero parameter counts would allow at the limit.
        const double dense = Anchors::flopsPerSecond / (2.0 * static_cast<double>(r.parameters));
        const double sparse = Anchors::flopsPerSecond / (2.0 * static_cast<double>(r.nonZero));
        md << " | " << fixed(100.0 * tps / dense, 0) << "% / " << fixed(100.0 * tps / sparse, 1)
           << "% |\n";
    }
    md << "\nPhysical limit: about 2 x parameters floating-point operations per token at about "
          "100 GFLOP/s on this machine (ANCHORS.md); \"dense\" counts every parameter, "
          "\"non-zero\" only the non-zero ones (the decoder skips zero weights and rows the "
          "residual leaves at 0, so it can pass the dense limit).\n";
}

// The decoder goals of the issue (#5), for the machine sample (case counter_machine) when the
// run has it.
void goalSection(std::ostringstream& md, const std::vector<Result>& results) {
    const Result* machine = nullptr;
    for (const Result& r : results)
        if (r.c.name == "counter_machine") machine = &r;
    if (!machine) return;
    const Window* at10k = nullptr;
    const Window* at1m = nullptr;
    for (const Window& w : machine->windows) {
        if (w.position == 10000) at10k = &w;
        if (w.position == 1000000) at1m = &w;
    }
    auto verdict = [](bool met) { return met ? "met" : "**NOT MET**"; };
    const double tps = machine->generated / machine->traceSeconds;
    const bool matched = machine->checked.rfind("all ", 0) == 0;
    md << "\n## Goals (machine sample)\n\n| goal | measured | |\n|---|---|---|\n";
    if (at10k && at1m) {
        const double growth = at1m->hullSeconds / at10k->hullSeconds;
        md << "| hull per-token time grows at most 2x from 10K to 1M | " << fixed(growth, 2)
           << "x | " << verdict(growth <= 2.0) << " |\n";
        const double ratio = scanOverHull(*at1m);
        md << "| hull at least 500x faster than the scan at 1M | " << fixed(ratio, 0) << "x | "
           << verdict(ratio >= 500.0) << " |\n";
    }
    md << "| at least 80,000 tokens/s over 1M tokens, no token differing | "
       << grouped(static_cast<int64_t>(tps)) << " tokens/s over " << grouped(machine->generated)
       << ", " << machine->checked << " | "
       << verdict(tps >= 80000 && matched && machine->generated >= 1000000) << " |\n";
    md << "| at least 10.8M head-steps/s | " << grouped(static_cast<int64_t>(tps * machine->heads))
       << " (" << machine->heads << " heads) | " << verdict(tps * machine->heads >= 10.8e6)
       << " |\n";
}

std::string markdown(const std::vector<Result>& results, const Options& o) {
    std::ostringstream md;
    md << "# Decoding long traces\n\n"
       << "Written by `raspc_bench_decode` (see README.md). One thread. Each case generates up to "
       << grouped(o.tokens) << " tokens after its prompt with each head's own strategy (convex "
       << "hull, running sum, or scan). At each listed position a window of " << o.window
       << " tokens is decoded twice from the same cache: by plain scans of every head, then, "
       << "rewound, by the strategies (the trace goes on from there). \"same\" says both gave "
       << "the same tokens. Split: projections / attention / MLPs / embedding and readout, "
       << "timed by the decoder's timers over the next " << o.window
       << " tokens (their clock reads would add to the window's own time).\n\n";

    md << "## Models\n\n| case | float type | layers | heads | width | parameters (non-zero) | "
          "file | strategies |\n|---|---|---|---|---|---|---|---|\n";
    for (const Result& r : results) {
        std::string strategies;
        for (const std::string& s : r.strategies)
            strategies += (strategies.empty() ? "" : "; ") + s;
        md << "| " << r.c.name << " | " << r.floatType << " | " << r.layers << " | " << r.heads
           << " | " << r.width << " | " << grouped(r.parameters) << " (" << grouped(r.nonZero)
           << ") | " << fixed(r.fileBytes / 1e6, 1) << " MB | " << strategies << " |\n";
    }

    md << "\n## Whole traces\n\n| case | tokens | seconds | tokens/s | head-steps/s | stopped "
          "| hull fallbacks | against trace_reference |\n|---|---|---|---|---|---|---|---|\n";
    for (const Result& r : results) {
        const double tps = r.generated / r.traceSeconds;
        md << "| " << r.c.name << " | " << grouped(r.generated) << " | " << fixed(r.traceSeconds, 2)
           << " | " << grouped(static_cast<int64_t>(tps)) << " | "
           << grouped(static_cast<int64_t>(tps * r.heads)) << " | " << r.stopped << " | "
           << r.queries.hullFallbacks << " of " << grouped(r.queries.hull) << " | " << r.checked
           << " |\n";
    }

    md << "\n## Per-token time by position\n\n| case | position | hull us/token | scan us/token "
          "| scan / hull | same | split (proj / attn / MLP / other) |\n"
          "|---|---|---|---|---|---|---|\n";
    for (const Result& r : results) {
        for (const Window& w : r.windows) {
            const double hull = 1e6 * w.hullSeconds / count(w);
            const double scan = 1e6 * w.scanSeconds / count(w);
            md << "| " << r.c.name << " | " << grouped(w.position) << " | " << fixed(hull, 2)
               << " | " << fixed(scan, 1) << " | " << fixed(scan / hull, 0) << "x | "
               << (w.same ? "yes" : "NO") << " | " << splitText(w.split) << " |\n";
        }
    }
    anchorSection(md, results);
    goalSection(md, results);
    md << "\nCommand: `raspc_bench_decode --tokens " << o.tokens << " --window " << o.window;
    if (!o.reference.empty()) md << " --reference " << o.reference;
    for (const Result& r : results)
        md << " --case " << r.c.name << " " << r.c.model << " \"" << r.c.prompt << "\"";
    md << "`, load average " << loadAverage() << " at the end (2 cores; above 1, other work shared "
       << "the machine and wall-clock times are longer than the decoder alone needs).\n";
    return md.str();
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    std::vector<std::string> caseArgs;
    CLI::App app{"Generation speed of the incremental decoder: hull against scan by position"};
    app.add_option("--case", caseArgs, "NAME MODEL.onnx PROMPT (repeatable)")
        ->expected(3)
        ->required()
        ->take_all();
    app.add_option("--tokens", o.tokens, "Tokens to generate after each prompt");
    app.add_option("--window", o.window, "Tokens timed at each position");
    app.add_option("--positions", o.positions, "Positions to time hull and scan at")
        ->delimiter(',');
    app.add_option("--report", o.report, "Markdown report to write");
    app.add_option("--reference", o.reference,
                   "trace_reference (tests/e2e): check every trace against it; case names must "
                   "be its sample names");
    CLI11_PARSE(app, argc, argv);
    for (size_t i = 0; i + 2 < caseArgs.size(); i += 3)
        o.cases.push_back({caseArgs[i], caseArgs[i + 1], caseArgs[i + 2]});

    std::vector<Result> results;
    try {
        for (const Case& c : o.cases) {
            std::fprintf(stderr, "%s: %s\n", c.name.c_str(), c.model.c_str());
            results.push_back(runCase(c, o));
        }
    } catch (const std::exception& e) {
        std::cerr << "raspc_bench_decode: " << e.what() << "\n";
        return 1;
    }
    std::string md = markdown(results, o);
    std::cout << md;
    std::ofstream(o.report) << md;
    return 0;
}
