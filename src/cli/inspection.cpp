// Describes a compiled model: sizes, layers, and which s-op lives in which residual dimensions.
#include "cli/inspection.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "runtime/errors.h"
#include "runtime/head_strategy.h"
#include "runtime/onnx_format.h"

namespace raspc::cli {
namespace {

using nlohmann::json;

/// One placement as stored in Model::reportJson.
struct Slot {
    int node = 0;
    std::string name;
    std::string kind;
    std::string where;  // embedding, attention, mlp, folded, constant
    int layer = 0;
    std::vector<int> dims;
    int lastRead = -1;
    std::string loc;  // "file:line", or "" when the compiler made it
    std::vector<int> operands;
};

struct BlockWidth {
    int layer = 0;
    int hidden = 0;
};

/// The decoded Model::reportJson; `present` is false for files that lack it.
struct Report {
    bool present = false;
    std::vector<Slot> slots;
    std::vector<BlockWidth> blocks;  // in model order
};

/// A row of the slot map: one s-op's slot, a fixed part of the embedding, or scratch space.
struct SlotRow {
    std::vector<int> dims;
    std::string name;
    std::string kind;
    std::string where;
    int layer = 0;
    int lastRead = -1;
    std::string loc;
    const Slot* slot = nullptr;  // the s-op's placement; null for fixed and scratch rows
};

std::string locText(const SourceLoc& loc) {
    if (loc.line <= 0) return "";
    return loc.file + ":" + std::to_string(loc.line);
}

rt::ModelError malformedReport(const std::string& why) {
    return rt::ModelError("raspc metadata '" + std::string(rt::onnx_format::kKeyReport) +
                          "' is malformed: " + why);
}

Report decodeReport(const std::string& text) {
    Report r;
    if (text.empty()) return r;
    json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) throw malformedReport("not a JSON object");
    try {
        for (const json& p : j.at("placements")) {
            Slot s;
            s.node = p.at("node").get<int>();
            s.name = p.at("name").get<std::string>();
            s.kind = p.at("kind").get<std::string>();
            s.where = p.at("where").get<std::string>();
            s.layer = p.at("layer").get<int>();
            s.dims = p.at("dims").get<std::vector<int>>();
            s.lastRead = p.at("lastRead").get<int>();
            s.loc = p.at("loc").get<std::string>();
            s.operands = p.at("operands").get<std::vector<int>>();
            r.slots.push_back(std::move(s));
        }
        for (const json& b : j.at("mlpBlocks")) {
            r.blocks.push_back({b.at("layer").get<int>(), b.at("hidden").get<int>()});
        }
    } catch (const json::exception& e) {
        throw malformedReport(e.what());
    }
    r.present = true;
    return r;
}

/// "2-9", "4,7,10-12": a sorted list of dimensions, runs collapsed.
std::string dimsText(std::vector<int> dims) {
    if (dims.empty()) return "-";
    std::sort(dims.begin(), dims.end());
    std::string out;
    for (size_t i = 0; i < dims.size();) {
        size_t j = i;
        while (j + 1 < dims.size() && dims[j + 1] == dims[j] + 1) ++j;
        if (!out.empty()) out += ",";
        out += std::to_string(dims[i]);
        if (j > i) out += "-" + std::to_string(dims[j]);
        i = j + 1;
    }
    return out;
}

/// Where an s-op is computed, as a reader of the schedule says it: "L1 attn", "embedding".
std::string stageText(const std::string& where, int layer) {
    if (where == "attention") return "L" + std::to_string(layer) + " attn";
    if (where == "mlp") return "L" + std::to_string(layer) + " mlp";
    return where;
}

std::string layerText(int layer) {
    return layer < 0 ? "-" : "L" + std::to_string(layer);
}

/// Columns padded to their widest cell, two spaces apart, each line indented. A row's last
/// cell is never padded and does not widen its column, so a one-cell row can be a heading.
std::string table(const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
    std::vector<size_t> widths;
    for (const auto& row : rows) {
        if (widths.size() < row.size()) widths.resize(row.size(), 0);
        for (size_t c = 0; c + 1 < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
    }
    std::string out;
    for (const auto& row : rows) {
        std::string line = indent;
        for (size_t c = 0; c < row.size(); ++c) {
            line += row[c];
            if (c + 1 < row.size()) line += std::string(widths[c] - row[c].size() + 2, ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        out += line + "\n";
    }
    return out;
}

/// What the embedding tables put in a dimension: "one" (1 at every real position), "bos"
/// (1 at BOS only), "token" or "position" (a one-hot entry), "position-number" (a number per
/// position, as the index and its square for equality selects), "" for nothing or a mixture.
/// Read from the weights, so it works for any raspc file.
std::string embeddingRole(const rt::Model& m, int dim) {
    const int vocab = static_cast<int>(m.vocab.size());
    std::vector<int> tokens, positions;
    const bool table = m.positionEmbedding.rows > 0;
    bool atBos =
        m.tokenEmbedding.at(vocab, dim) != 0.0 || (table && m.positionEmbedding.at(0, dim) != 0.0);
    bool allOnes = true;
    for (int t = 0; t < vocab; ++t) {
        double v = m.tokenEmbedding.at(t, dim);
        if (v != 0.0) tokens.push_back(t);
        if (v != 1.0) allOnes = false;
    }
    bool positionNumbers = false;  // a number per position, not a one-hot entry
    for (int p = 1; table && p <= m.maxLen; ++p) {
        double v = m.positionEmbedding.at(p, dim);
        if (v != 0.0) positions.push_back(p - 1);
        if (v != 0.0 && v != 1.0) positionNumbers = true;
    }
    // Powers of the position index make a number, not a one-hot: no role of its own.
    for (int e = 0; e < m.positionPowers.rows; ++e) {
        if (m.positionPowers.at(e, dim) != 0.0) return "";
    }
    if (allOnes && vocab > 0 && positions.empty() && !atBos) return "one";
    if (atBos && tokens.empty() && positions.empty()) return "bos";
    if (atBos) return "";
    if (tokens.size() == 1 && positions.empty()) return "token";
    if (positions.size() == 1 && tokens.empty()) return "position";
    if (positionNumbers && tokens.empty()) return "position-number";
    return "";
}

/// The hidden width of each MLP block, per layer; -1 where the file does not say.
std::vector<std::vector<int>> blockWidths(const rt::Model& m, const Report& r) {
    std::vector<std::vector<int>> out(m.layers.size());
    std::vector<int> perLayer(m.layers.size(), 0);
    for (const BlockWidth& b : r.blocks) {
        if (b.layer >= 0 && b.layer < static_cast<int>(out.size()))
            out[b.layer].push_back(b.hidden);
    }
    for (size_t l = 0; l < m.layers.size(); ++l) {
        // Trust the report only where it agrees with the model.
        if (out[l].size() != m.layers[l].mlp.labels.size()) {
            out[l].assign(m.layers[l].mlp.labels.size(), -1);
        }
    }
    return out;
}

/// Who first writes a dimension no s-op claims, and the last layer that reads it, from the
/// weights: heads by their output maps, MLP blocks by their rows of w2 (blocks sit side by side
/// in the order of their labels, `widths` wide).
struct ScratchUse {
    std::string where;  // "attention" or "mlp", "" when nothing writes it
    int layer = 0;
    std::string label;  // the head or block that writes it first
    int lastRead = -1;
};

bool rowNonZero(const rt::Matrix& w, int row) {
    for (int c = 0; c < w.cols; ++c) {
        if (w.at(row, c) != 0.0) return true;
    }
    return false;
}

ScratchUse scratchUse(const rt::Model& m, const std::vector<std::vector<int>>& widths, int d) {
    ScratchUse use;
    for (size_t l = 0; l < m.layers.size(); ++l) {
        const rt::Layer& layer = m.layers[l];
        int li = static_cast<int>(l);
        for (const rt::Head& h : layer.heads) {
            if (rowNonZero(h.wq, d) || rowNonZero(h.wk, d) || rowNonZero(h.wv, d))
                use.lastRead = li;
            bool writes = false;
            for (int r = 0; r < h.wo.rows && !writes; ++r) writes = h.wo.at(r, d) != 0.0;
            if (writes && use.where.empty()) use = {"attention", li, h.label, use.lastRead};
        }
        const rt::Mlp& mlp = layer.mlp;
        if (mlp.w1.cols > 0 && rowNonZero(mlp.w1, d)) use.lastRead = li;
        for (int u = 0; u < mlp.w2.rows && use.where.empty(); ++u) {
            if (mlp.w2.at(u, d) == 0.0) continue;
            use.where = "mlp";
            use.layer = li;
            int start = 0;
            for (size_t b = 0; b < widths[l].size() && widths[l][b] >= 0; ++b) {
                if (u < start + widths[l][b]) {
                    use.label = mlp.labels[b];
                    break;
                }
                start += widths[l][b];
            }
        }
    }
    // Outputs are read after the last layer, which counts as reading them there.
    for (const rt::Output& o : m.outputs) {
        if (rowNonZero(o.readout, d)) use.lastRead = static_cast<int>(m.layers.size()) - 1;
    }
    return use;
}

/// The slot map: every s-op's slot, then the embedding's fixed dimensions and the scratch
/// dimensions no s-op claims, sorted by first dimension. S-ops without a slot come last.
std::vector<SlotRow> slotRows(const rt::Model& m, const Report& r) {
    std::vector<SlotRow> rows;
    std::set<int> claimed;
    for (const Slot& s : r.slots) {
        if (s.dims.empty()) continue;
        rows.push_back({s.dims, s.name, s.kind, s.where, s.layer, s.lastRead, s.loc, &s});
        claimed.insert(s.dims.begin(), s.dims.end());
    }

    std::map<std::string, SlotRow> fixed;
    std::vector<std::vector<int>> widths = blockWidths(m, r);
    std::vector<SlotRow> scratch;
    for (int d = 0; d < m.width; ++d) {
        if (claimed.count(d)) continue;
        std::string role = embeddingRole(m, d);
        static const std::map<std::string, std::string> kNames = {
            {"one", "one"},
            {"bos", "BOS flag"},
            {"token", "token one-hot"},
            {"position", "position one-hot"},
            {"position-number", "position numbers"},
        };
        if (role.empty()) {
            // Working space of a head or MLP block (not an s-op): neighbours written and read
            // alike share a row.
            ScratchUse use = scratchUse(m, widths, d);
            // Without the compiler's report, s-op slots cannot be told from working space.
            SlotRow row;
            row.dims = {d};
            row.name = r.present ? "(scratch)" : "(unnamed)";
            row.kind = "internal";
            row.where = use.where;
            row.layer = use.layer;
            row.lastRead = use.lastRead;
            row.loc = use.label;
            SlotRow* last = scratch.empty() ? nullptr : &scratch.back();
            if (last && last->dims.back() == d - 1 && last->where == row.where &&
                last->layer == row.layer && last->lastRead == row.lastRead &&
                last->loc == row.loc) {
                last->dims.push_back(d);
            } else {
                scratch.push_back(std::move(row));
            }
            continue;
        }
        SlotRow& row = fixed[role];
        row.dims.push_back(d);
        row.name = kNames.at(role);
        row.kind = "fixed";
        row.where = "embedding";
    }
    for (auto& [role, row] : fixed) rows.push_back(std::move(row));
    for (SlotRow& row : scratch) rows.push_back(std::move(row));
    std::stable_sort(rows.begin(), rows.end(), [](const SlotRow& a, const SlotRow& b) {
        return *std::min_element(a.dims.begin(), a.dims.end()) <
               *std::min_element(b.dims.begin(), b.dims.end());
    });

    for (const Slot& s : r.slots) {
        if (s.dims.empty()) {
            rows.push_back({{}, s.name, s.kind, s.where, s.layer, s.lastRead, s.loc, &s});
        }
    }
    return rows;
}

std::string outputText(const rt::Output& o) {
    std::string kind = o.kind == rt::OutputKind::Categorical ? "categorical"
                       : o.valueType == "int" || o.valueType == "float"
                           ? "numerical"
                           : "numerical (the index of its value)";
    return o.name + ": " + kind + ", " + std::to_string(o.table.size()) + " value" +
           (o.table.size() == 1 ? "" : "s") + " (" + o.valueType + ")";
}

std::string joined(const std::vector<std::string>& items, const std::string& sep) {
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
    return out;
}

int totalHeads(const rt::Model& m) {
    int n = 0;
    for (const rt::Layer& l : m.layers) n += static_cast<int>(l.heads.size());
    return n;
}

int totalHidden(const rt::Model& m) {
    int n = 0;
    for (const rt::Layer& l : m.layers) n += l.mlp.w1.cols;
    return n;
}

}  // namespace

std::string encodeReport(const CompileReport& report) {
    json placements = json::array();
    for (const CompileReport::Placement& p : report.placements) {
        placements.push_back({{"node", p.node},
                              {"name", p.name},
                              {"kind", p.kind},
                              {"where", p.where},
                              {"layer", p.layer},
                              {"dims", p.dims},
                              {"lastRead", p.lastRead},
                              {"loc", locText(p.loc)},
                              {"operands", p.operands}});
    }
    json blocks = json::array();
    for (const CompileReport::Block& b : report.blocks) {
        blocks.push_back({{"layer", b.layer}, {"hidden", b.hidden}});
    }
    return json{{"placements", placements}, {"mlpBlocks", blocks}}.dump();
}

rt::Model compileProgram(const Program& p, CompileReport& report) {
    rt::Model m = lower(p.graph, compileOptions(p), &report);
    printWarnings(report);
    m.reportJson = encodeReport(report);
    return m;
}

std::string inspectText(const rt::Model& m) {
    Report r = decodeReport(m.reportJson);
    std::ostringstream out;

    std::vector<std::string> outputs;
    for (const rt::Output& o : m.outputs) outputs.push_back(outputText(o));
    out << table({{"source", m.source + " (raspc " + m.version + ")"},
                  {"vocabulary", std::to_string(m.vocab.size()) + " tokens (" + m.tokenType +
                                     "): " + joined(m.vocab, " ")},
                  {"max length", std::to_string(m.maxLen)},
                  {"outputs", joined(outputs, "; ")},
                  {"layers", std::to_string(m.layers.size())},
                  {"heads", std::to_string(totalHeads(m))},
                  {"mlp hidden", std::to_string(totalHidden(m))},
                  {"width", std::to_string(m.width)},
                  {"parameters", std::to_string(m.parameterCount()) + " (" +
                                     std::to_string(m.nonZeroParameterCount()) + " non-zero)"},
                  {"float type", m.floatType}},
                 "");

    // Layers: one table for all, so columns line up from layer to layer. A causal model also
    // shows how the incremental decoder answers each head.
    std::vector<std::vector<std::string>> layerRows;
    std::vector<std::vector<int>> widths = blockWidths(m, r);
    const auto strategies = rt::chooseStrategies(m);
    for (size_t l = 0; l < m.layers.size(); ++l) {
        const rt::Layer& layer = m.layers[l];
        layerRows.push_back({"layer " + std::to_string(l)});
        for (size_t h = 0; h < layer.heads.size(); ++h) {
            const rt::Head& head = layer.heads[h];
            std::string shape =
                "q/k " + std::to_string(head.wq.cols) + ", v " + std::to_string(head.wv.cols);
            if (head.mask != rt::HeadMask::None)
                shape += ", mask key " + std::string(rt::maskOperator(head.mask)) + " query";
            if (m.causal) shape += ", " + std::string(rt::strategyName(strategies[l][h]));
            layerRows.push_back({"  head " + std::to_string(h), shape, head.label});
        }
        for (size_t b = 0; b < layer.mlp.labels.size(); ++b) {
            int hidden = widths[l][b];
            layerRows.push_back(
                {"  mlp " + std::to_string(b),
                 "hidden " + (hidden < 0 ? std::string("?") : std::to_string(hidden)),
                 layer.mlp.labels[b]});
        }
    }
    if (!layerRows.empty()) out << "\n" << table(layerRows, "");

    out << "\nresidual stream (" << m.width << " dimensions)\n";
    std::vector<std::vector<std::string>> slotTable = {
        {"dims", "s-op", "kind", "written", "last read", "source"}};
    for (const SlotRow& row : slotRows(m, r)) {
        slotTable.push_back({dimsText(row.dims), row.name, row.kind,
                             row.where.empty() ? "-" : stageText(row.where, row.layer),
                             row.kind == "fixed" ? "" : layerText(row.lastRead), row.loc});
    }
    out << table(slotTable, "  ");
    if (!r.present) {
        out << "  (this file predates the slot map: s-ops are not named)\n";
    }
    return out.str();
}

json inspectJson(const rt::Model& m) {
    Report r = decodeReport(m.reportJson);
    json j;
    j["source"] = m.source;
    j["version"] = m.version;
    j["vocab"] = m.vocab;
    j["tokenType"] = m.tokenType;
    j["maxLen"] = m.maxLen;
    j["floatType"] = m.floatType;
    j["layers"] = m.layers.size();
    j["heads"] = totalHeads(m);
    j["mlpHidden"] = totalHidden(m);
    j["width"] = m.width;
    j["parameters"] = m.parameterCount();
    j["nonZeroParameters"] = m.nonZeroParameterCount();

    j["outputs"] = json::array();
    for (const rt::Output& o : m.outputs) {
        j["outputs"].push_back(
            {{"name", o.name},
             {"kind", o.kind == rt::OutputKind::Numerical ? "numerical" : "categorical"},
             {"valueType", o.valueType},
             {"table", o.table}});
    }

    std::vector<std::vector<int>> widths = blockWidths(m, r);
    const auto strategies = rt::chooseStrategies(m);
    j["layerList"] = json::array();
    for (size_t l = 0; l < m.layers.size(); ++l) {
        const rt::Layer& layer = m.layers[l];
        json heads = json::array();
        for (size_t h = 0; h < layer.heads.size(); ++h) {
            const rt::Head& head = layer.heads[h];
            json entry = {{"label", head.label},
                          {"queryKeyWidth", head.wq.cols},
                          {"valueWidth", head.wv.cols}};
            if (head.hard) entry["hard"] = true;
            if (head.mask != rt::HeadMask::None) entry["mask"] = rt::maskOperator(head.mask);
            if (m.causal) entry["strategy"] = rt::strategyName(strategies[l][h]);
            heads.push_back(entry);
        }
        json blocks = json::array();
        for (size_t b = 0; b < layer.mlp.labels.size(); ++b) {
            json block = {{"label", layer.mlp.labels[b]}};
            block["hidden"] = widths[l][b] < 0 ? json(nullptr) : json(widths[l][b]);
            blocks.push_back(block);
        }
        j["layerList"].push_back(
            {{"heads", heads}, {"mlpBlocks", blocks}, {"mlpHidden", layer.mlp.w1.cols}});
    }

    j["slots"] = json::array();
    for (const SlotRow& row : slotRows(m, r)) {
        json s = {{"dims", row.dims}, {"name", row.name}, {"kind", row.kind}, {"where", row.where}};
        if (row.slot) {
            s["node"] = row.slot->node;
            s["operands"] = row.slot->operands;
        }
        if (row.where == "attention" || row.where == "mlp") s["layer"] = row.layer;
        if (row.kind != "fixed") s["lastRead"] = row.lastRead;
        // For scratch rows: the head or block that writes them.
        if (!row.loc.empty()) s[row.kind == "internal" ? "writer" : "source"] = row.loc;
        j["slots"].push_back(s);
    }
    j["hasSlotMap"] = r.present;
    return j;
}

std::string scheduleText(const rt::Model& m) {
    Report r = decodeReport(m.reportJson);
    std::map<int, std::string> names;
    for (const Slot& s : r.slots) names[s.node] = s.name;
    auto written = [&](const std::string& where, int layer) {
        std::vector<std::string> items;
        for (const Slot& s : r.slots) {
            if (s.where != where || (where != "embedding" && s.layer != layer)) continue;
            items.push_back(s.name + " [" + dimsText(s.dims) + "]");
        }
        return items;
    };
    auto writesRow = [&](std::vector<std::vector<std::string>>& rows,
                         const std::vector<std::string>& items) {
        if (r.present) rows.push_back({"  writes", items.empty() ? "-" : joined(items, ", ")});
    };

    std::vector<std::vector<std::string>> rows;
    rows.push_back({"embedding"});
    writesRow(rows, written("embedding", 0));
    std::vector<std::vector<int>> widths = blockWidths(m, r);
    for (size_t l = 0; l < m.layers.size(); ++l) {
        const rt::Layer& layer = m.layers[l];
        int li = static_cast<int>(l);
        std::vector<std::string> attnWrites = written("attention", li);
        if (!layer.heads.empty() || !attnWrites.empty()) {
            rows.push_back({"layer " + std::to_string(l) + " attention"});
        }
        for (size_t h = 0; h < layer.heads.size(); ++h) {
            const rt::Head& head = layer.heads[h];
            rows.push_back({"  head " + std::to_string(h),
                            head.label + "  [q/k " + std::to_string(head.wq.cols) + ", v " +
                                std::to_string(head.wv.cols) + "]"});
        }
        if (!layer.heads.empty() || !attnWrites.empty()) writesRow(rows, attnWrites);
        std::vector<std::string> mlpWrites = written("mlp", li);
        if (layer.mlp.labels.empty() && mlpWrites.empty()) continue;
        rows.push_back({"layer " + std::to_string(l) + " mlp"});
        for (size_t b = 0; b < layer.mlp.labels.size(); ++b) {
            int hidden = widths[l][b];
            rows.push_back({"  block " + std::to_string(b),
                            layer.mlp.labels[b] + "  [hidden " +
                                (hidden < 0 ? std::string("?") : std::to_string(hidden)) + "]"});
        }
        writesRow(rows, mlpWrites);
    }
    std::string out = table(rows, "");

    // S-ops without a slot: readers compute them from their operands on the fly.
    std::vector<std::vector<std::string>> folded;
    for (const Slot& s : r.slots) {
        if (s.where != "folded" && s.where != "constant") continue;
        std::vector<std::string> ops;
        for (int op : s.operands)
            ops.push_back(names.count(op) ? names[op] : "%" + std::to_string(op));
        folded.push_back(
            {"  " + s.name, s.where, s.kind, s.loc, ops.empty() ? "" : "<- " + joined(ops, ", ")});
    }
    if (!folded.empty()) out += "no slot (read through their operands)\n" + table(folded, "");
    return out;
}

}  // namespace raspc::cli
