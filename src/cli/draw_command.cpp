// `raspc draw`: a program's computation flow as a graphviz picture, grouped by sublayer.
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "support/text.h"
#include "passes/pipeline.h"

extern char** environ;

namespace raspc::cli {
namespace {

namespace fs = std::filesystem;

/// Marks files we wrote: the first line of a DOT file, an SVG comment (from the graph's
/// `comment` attribute).
constexpr std::string_view kMarker = "raspc draw";

/// S-ops without a slot of their own (folded into readers, constants): dashed and grey.
constexpr const char* kLightStyle =
    "style=\"rounded,dashed\", color=\"#9a9a9a\", fontcolor=\"#606060\"";

/// One drawn node: an s-op or a selector.
struct DrawNode {
    NodeId id = 0;
    std::string label;
    std::string cluster;  // "" outside every cluster
    std::string style;    // extra DOT attributes
};

/// The sublayers in the order a reader meets them.
struct Cluster {
    std::string key;
    std::string title;
    std::string color;
};

std::string dotQuoted(const std::string& text) { return raspc::quoted(text); }

std::string shortLoc(const SourceLoc& loc) {
    if (loc.line <= 0) return "";
    return fs::path(loc.file).filename().string() + ":" + std::to_string(loc.line);
}

/// "select ==", "aggregate mean", "map": the kind with what distinguishes it.
std::string kindText(const Node& n) {
    std::string kind(toString(n.kind));
    switch (n.kind) {
        case OpKind::Select:
            return kind + " " + std::string(toString(n.cmp));
        case OpKind::Aggregate:
            return kind + " " + std::string(toString(n.reduction));
        case OpKind::Constant:
            return kind + " " + toDisplay(n.constant);
        default:
            return kind;
    }
}

/// An aggregate whose slot an MLP writes: a lookup of a long program, whose head finds the
/// key and whose MLP block in the same layer puts in the default. Drawn with its head, as
/// `raspc inspect` lists it.
bool isLookup(const CompileReport::Placement& p) {
    return p.where == "mlp" && p.kind == toString(OpKind::Aggregate);
}

std::string clusterKey(const CompileReport::Placement& p) {
    if (p.where == "embedding") return "embedding";
    if (p.where == "attention" || isLookup(p)) return "L" + std::to_string(p.layer) + "_attention";
    if (p.where == "mlp") return "L" + std::to_string(p.layer) + "_mlp";
    return "";  // folded and constant s-ops have no sublayer of their own
}

/// The graph lowering compiled: the middle end run exactly as lower() runs it, so node ids match
/// the report's placements. Returns nothing when they do not match (the middle end changed
/// under us); the picture then shows s-ops only, from the report.
std::optional<Graph> scheduledGraph(const Program& p, const CompileOptions& options,
                                    const CompileReport& report, std::vector<NodeId>& outputs) {
    outputs = options.outputs;
    Graph g = optimize(p.graph, outputs, passOptions(p.graph, options));
    for (const CompileReport::Placement& pl : report.placements) {
        if (pl.node < 0 || pl.node >= static_cast<NodeId>(g.nodes.size())) return std::nullopt;
        const Node& n = g[pl.node];
        std::string name = n.name.empty() ? std::string(toString(n.kind)) : n.name;
        if (std::string(toString(n.kind)) != pl.kind || name != pl.name) return std::nullopt;
    }
    return g;
}

std::string buildDot(const Program& p, const CompileOptions& options, const CompileReport& report) {
    std::map<NodeId, const CompileReport::Placement*> placed;
    for (const auto& pl : report.placements) placed[pl.node] = &pl;

    std::vector<NodeId> outputs;
    std::optional<Graph> g = scheduledGraph(p, options, report, outputs);
    std::set<NodeId> isOutput(outputs.begin(), outputs.end());

    // Nodes: every node the outputs need, in graph order.
    std::vector<DrawNode> nodes;
    struct Edge {
        NodeId from, to;
        std::string label;
    };
    std::vector<Edge> edgeList;
    if (g) {
        std::vector<bool> needed(g->nodes.size(), false);
        for (NodeId o : outputs) needed[static_cast<size_t>(o)] = true;
        for (size_t i = g->nodes.size(); i-- > 0;) {
            if (!needed[i]) continue;
            for (NodeId op : g->nodes[i].operands) needed[static_cast<size_t>(op)] = true;
        }
        for (size_t i = 0; i < g->nodes.size(); ++i) {
            if (!needed[i]) continue;
            const Node& n = g->nodes[i];
            NodeId id = static_cast<NodeId>(i);
            // Unnamed nodes go by their kind alone.
            std::string label = n.name.empty() ? kindText(n) : n.name + "\n" + kindText(n);
            if (std::string loc = shortLoc(n.loc); !loc.empty()) label += "\n" + loc;
            DrawNode d{id, label, "", ""};
            if (auto it = placed.find(id); it != placed.end()) d.cluster = clusterKey(*it->second);
            if (n.isSelector()) {
                d.style = "shape=ellipse, fillcolor=\"#fff7d6\"";
            } else if (!placed.count(id)) {
                d.style = kLightStyle;  // lowering needed no slot for it (a constant, say)
            }
            nodes.push_back(d);
            for (size_t k = 0; k < n.operands.size(); ++k) {
                std::string label;
                if (n.kind == OpKind::Select) label = k == 0 ? "keys" : "queries";
                edgeList.push_back({n.operands[k], id, label});
            }
        }
        // A selector is computed inside the heads that read it: draw it in their sublayer
        // when they all share one.
        std::map<NodeId, std::set<std::string>> readerClusters;
        for (const Edge& e : edgeList) {
            for (const DrawNode& d : nodes) {
                if (d.id == e.to) readerClusters[e.from].insert(d.cluster);
            }
        }
        for (DrawNode& d : nodes) {
            if (!(*g)[d.id].isSelector()) continue;
            const auto& cs = readerClusters[d.id];
            if (cs.size() == 1) d.cluster = *cs.begin();
        }
    } else {
        for (const auto& pl : report.placements) {
            std::string label = pl.name == pl.kind ? pl.kind : pl.name + "\n" + pl.kind;
            if (std::string loc = shortLoc(pl.loc); !loc.empty()) label += "\n" + loc;
            nodes.push_back({pl.node, label, clusterKey(pl), ""});
            for (NodeId op : pl.operands) edgeList.push_back({op, pl.node, ""});
        }
        for (NodeId o : options.outputs) isOutput.insert(o);
    }

    // Folded s-ops and constants have no slot: a light, dashed style says so.
    for (DrawNode& d : nodes) {
        auto it = placed.find(d.id);
        if (it == placed.end()) continue;
        const std::string& where = it->second->where;
        if (where == "folded" || where == "constant") {
            d.label += "\n(" + where + ")";
            d.style = kLightStyle;
        }
        if (isLookup(*it->second))
            d.label += "\n(default: layer " + std::to_string(it->second->layer) + " MLP)";
        if (isOutput.count(d.id))
            d.style += std::string(d.style.empty() ? "" : ", ") + "penwidth=2";
    }

    std::vector<Cluster> clusters = {{"embedding", "embedding", "#eaf1fb"}};
    for (int l = 0; l < report.layers; ++l) {
        std::string n = std::to_string(l);
        clusters.push_back({"L" + n + "_attention", "layer " + n + " attention", "#fbeee6"});
        clusters.push_back({"L" + n + "_mlp", "layer " + n + " MLP", "#e9f6ea"});
    }

    std::ostringstream out;
    out << "// " << kMarker << ": " << p.path << "\n";
    out << "digraph raspc {\n";
    out << "    comment=" << dotQuoted(std::string(kMarker)) << ";\n";
    // newrank lets the rank constraint below reach into clusters.
    out << "    rankdir=TB; newrank=true;\n";
    out << "    node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=Helvetica, "
           "fontsize=10];\n";
    out << "    edge [color=\"#555555\", arrowsize=0.6, fontsize=8, fontname=Helvetica];\n";
    auto emitNode = [&](const DrawNode& d, const std::string& indent) {
        out << indent << "n" << d.id << " [label=" << dotQuoted(d.label);
        if (!d.style.empty()) out << ", " << d.style;
        out << "];\n";
    };
    for (const Cluster& c : clusters) {
        bool any = false;
        for (const DrawNode& d : nodes) any = any || d.cluster == c.key;
        if (!any) continue;
        out << "    subgraph cluster_" << c.key << " {\n";
        out << "        label=" << dotQuoted(c.title) << ";\n";
        out << "        style=filled; color=" << dotQuoted(c.color) << "; fontname=Helvetica;\n";
        for (const DrawNode& d : nodes) {
            if (d.cluster == c.key) emitNode(d, "        ");
        }
        out << "    }\n";
    }
    for (const DrawNode& d : nodes) {
        if (d.cluster.empty()) emitNode(d, "    ");
    }
    std::set<NodeId> drawn;
    for (const DrawNode& d : nodes) drawn.insert(d.id);
    for (const Edge& e : edgeList) {
        if (!drawn.count(e.from)) continue;
        out << "    n" << e.from << " -> n" << e.to;
        if (!e.label.empty()) out << " [label=" << dotQuoted(e.label) << "]";
        out << ";\n";
    }
    // Inputs and constants on the top row: left alone, dot pulls them down to their readers.
    std::set<NodeId> hasInputs;
    for (const Edge& e : edgeList) {
        if (drawn.count(e.from)) hasInputs.insert(e.to);
    }
    out << "    { rank=same;";
    for (const DrawNode& d : nodes) {
        if (!hasInputs.count(d.id)) out << " n" << d.id << ";";
    }
    out << " }\n";
    out << "}\n";
    return out.str();
}

/// True when `path` holds a picture this command wrote (DOT or SVG with our marker).
bool isOurs(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::string head(4096, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));
    return head.find("// " + std::string(kMarker)) == 0 ||
           head.find("<!-- " + std::string(kMarker) + " -->") != std::string::npos;
}

/// Runs graphviz's `dot` to render `dotFile` as `format` into `outFile`.
void runGraphviz(const std::string& format, const std::string& dotFile,
                 const std::string& outFile) {
    std::string typeFlag = "-T" + format;
    std::vector<std::string> args = {"dot", typeFlag, "-o", outFile, dotFile};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    int err = posix_spawnp(&pid, "dot", nullptr, nullptr, argv.data(), environ);
    if (err == ENOENT) {
        throw UserError(
            "graphviz's `dot` program was not found on PATH; install graphviz "
            "(Debian: apt-get install graphviz), or write DOT text with -o flow.dot");
    }
    if (err != 0) throw UserError(std::string("cannot run graphviz's `dot`: ") + strerror(err));
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) throw UserError("lost track of graphviz's `dot` process");
    }
    // posix_spawnp may report a missing program only through the child's exit status (127).
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        throw UserError(
            "graphviz's `dot` program could not be started; install graphviz "
            "(Debian: apt-get install graphviz), or write DOT text with -o flow.dot");
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw InternalError(
            "graphviz's `dot` rejected the graph raspc wrote (see its message "
            "above)");
    }
}

int runDraw(const std::string& path, const ProgramSettings& settings, std::string out, bool force) {
    Program p = loadProgram(path, settings);
    CompileOptions options = compileOptions(p);
    CompileReport report;
    lower(p.graph, options, &report);
    std::string dot = buildDot(p, options, report);

    if (out == "-") {
        std::cout << dot;
        return kExitOk;
    }
    if (out.empty()) out = fs::path(path).replace_extension(".svg").string();
    std::string format = fs::path(out).extension().string();
    if (!format.empty()) format.erase(0, 1);
    std::transform(format.begin(), format.end(), format.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    static const std::set<std::string> kRendered = {"svg", "png", "pdf"};
    bool text = format == "dot" || format == "gv";
    if (!text && !kRendered.count(format)) {
        throw UserError("cannot tell the picture format of '" + out +
                        "': name it .svg, .png, .pdf, or .dot for DOT text");
    }
    out = writablePath(out);
    if (fs::exists(out) && fs::exists(path) && fs::equivalent(out, path)) {
        throw UserError("refusing to write the picture over its own source file '" + out + "'");
    }
    if (fs::exists(out) && !force && !isOurs(out)) {
        throw UserError("'" + out +
                        "' exists and is not a picture raspc drew; pass --force to "
                        "replace it");
    }

    if (text) {
        std::ofstream f(out, std::ios::binary);
        f << dot;
        if (!f.flush()) throw UserError("cannot write '" + out + "'");
        return kExitOk;
    }
    // Render beside the target, then move into place: a failed run leaves the old file alone.
    std::string tmpDot = out + ".raspc-tmp.dot";
    std::string tmpOut = out + ".raspc-tmp";
    {
        std::ofstream f(tmpDot, std::ios::binary);
        f << dot;
        if (!f.flush()) throw UserError("cannot write '" + tmpDot + "'");
    }
    try {
        runGraphviz(format, tmpDot, tmpOut);
    } catch (...) {
        std::error_code ec;
        fs::remove(tmpDot, ec);
        fs::remove(tmpOut, ec);
        throw;
    }
    fs::remove(tmpDot);
    fs::rename(tmpOut, out);
    return kExitOk;
}

}  // namespace

Command addDrawCommand(CLI::App& app) {
    struct State {
        ProgramSettings settings;
        std::string file, out;
        bool force = false;
    };
    auto st = std::make_shared<State>();
    CLI::App* cmd = app.add_subcommand(
        "draw", "Draw a program's computation flow, grouped by layer and sublayer (graphviz)");
    cmd->add_option("program", st->file, "The .rasp program")->required();
    cmd->add_option("-o,--out", st->out,
                    "Picture to write: .svg, .png or .pdf (rendered by "
                    "graphviz's dot), .dot for DOT text, - for DOT on "
                    "stdout (default: the program's name with .svg)");
    cmd->add_flag("--force", st->force,
                  "Replace an existing file that raspc did not draw (raspc "
                  "cannot tell its own PNG and PDF files: always needed "
                  "to replace those)");
    addProgramOptions(cmd, st->settings);
    return {cmd, [st] { return runDraw(st->file, st->settings, st->out, st->force); }};
}

}  // namespace raspc::cli
