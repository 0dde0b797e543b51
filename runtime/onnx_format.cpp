// Initializer names, metadata encoding and the consistency check shared by writer and reader.
#include "runtime/onnx_format.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <set>

#include <nlohmann/json.hpp>

#include "runtime/errors.h"

namespace raspc::rt::onnx_format {

using Json = nlohmann::json;

std::string headWeightName(int layer, int head, std::string_view which) {
    return "layer" + std::to_string(layer) + ".head" + std::to_string(head) + "." +
           std::string(which);
}

std::string mlpWeightName(int layer, std::string_view which) {
    return "layer" + std::to_string(layer) + ".mlp." + std::string(which);
}

std::string readoutName(std::string_view output) {
    return "output." + std::string(output) + ".readout";
}

std::string outputKey(std::string_view output, std::string_view field) {
    return "raspc.output." + std::string(output) + "." + std::string(field);
}

namespace {

constexpr std::string_view kCategorical = "categorical";
constexpr std::string_view kNumerical = "numerical";

// A double as JSON text: shortest form that reads back to the same double.
std::string numberText(double v) {
    return Json(v).dump();
}

class MetadataReader {
public:
    explicit MetadataReader(const std::map<std::string, std::string>& props) : props_(props) {}

    bool has(const std::string& key) const { return props_.count(key) > 0; }

    const std::string& text(const std::string& key) const {
        auto it = props_.find(key);
        if (it == props_.end()) throw ModelError("raspc metadata lacks the key '" + key + "'");
        return it->second;
    }

    int integer(const std::string& key) const {
        const std::string& t = text(key);
        int v = 0;
        auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        if (ec != std::errc() || end != t.data() + t.size() || v < 0)
            throw malformed(key, "a non-negative integer");
        return v;
    }

    double number(const std::string& key) const {
        Json j = json(key);
        if (!j.is_number()) throw malformed(key, "a number");
        return j.get<double>();
    }

    Json json(const std::string& key) const {
        Json j = Json::parse(text(key), nullptr, /*allow_exceptions=*/false);
        if (j.is_discarded()) throw malformed(key, "JSON");
        return j;
    }

    std::vector<std::string> strings(const std::string& key) const {
        return stringList(json(key), key);
    }

    std::vector<double> numbers(const std::string& key) const {
        Json j = json(key);
        if (!j.is_array()) throw malformed(key, "a JSON list of numbers");
        std::vector<double> out;
        for (const Json& e : j) {
            if (!e.is_number()) throw malformed(key, "a JSON list of numbers");
            out.push_back(e.get<double>());
        }
        return out;
    }

    static std::vector<std::string> stringList(const Json& j, const std::string& key) {
        if (!j.is_array()) throw malformed(key, "a JSON list of strings");
        std::vector<std::string> out;
        for (const Json& e : j) {
            if (!e.is_string()) throw malformed(key, "a JSON list of strings");
            out.push_back(e.get<std::string>());
        }
        return out;
    }

    static ModelError malformed(const std::string& key, const std::string& expected) {
        return ModelError("raspc metadata '" + key + "' is not " + expected);
    }

private:
    const std::map<std::string, std::string>& props_;
};

std::string shapeText(const Matrix& w) {
    return std::to_string(w.rows) + " x " + std::to_string(w.cols);
}

// "" when `w` is rows x cols with matching storage, else what is wrong with it.
std::string checkShape(const Matrix& w, int rows, int cols, const std::string& what) {
    if (w.rows != rows || w.cols != cols)
        return what + " is " + shapeText(w) + ", expected " + std::to_string(rows) + " x " +
               std::to_string(cols);
    if (w.data.size() != static_cast<size_t>(rows) * static_cast<size_t>(cols))
        return what + " holds " + std::to_string(w.data.size()) + " numbers, not " +
               std::to_string(static_cast<size_t>(rows) * static_cast<size_t>(cols));
    return "";
}

// "" when every weight of `m` is a float32 value, else the first matrix holding one that is not.
std::string firstInexactWeight(const Model& m) {
    auto check = [](const Matrix& w, const std::string& what) -> std::string {
        for (double v : w.data) {
            if (std::isnan(v) || std::isinf(v)) continue;
            // Checked first: converting a double beyond float's range is undefined.
            bool fits = std::abs(v) <= std::numeric_limits<float>::max() &&
                        static_cast<double>(static_cast<float>(v)) == v;
            if (!fits) return what + " holds " + numberText(v) + ", which float32 cannot represent";
        }
        return "";
    };
    std::string e = check(m.tokenEmbedding, "token embedding");
    if (e.empty()) e = check(m.positionEmbedding, "position embedding");
    if (e.empty()) e = check(m.positionPowers, "position powers");
    for (size_t l = 0; l < m.layers.size() && e.empty(); ++l) {
        const std::string at = "layer " + std::to_string(l);
        for (size_t h = 0; h < m.layers[l].heads.size() && e.empty(); ++h) {
            const Head& head = m.layers[l].heads[h];
            const std::string where = at + " head " + std::to_string(h) + ": ";
            for (const auto& [w, name] : {std::pair{&head.wq, "wq"}, std::pair{&head.wk, "wk"},
                                          std::pair{&head.wv, "wv"}, std::pair{&head.wo, "wo"}})
                if (e.empty()) e = check(*w, where + name);
        }
        if (e.empty()) e = check(m.layers[l].mlp.w1, at + " mlp: w1");
        if (e.empty()) e = check(m.layers[l].mlp.w2, at + " mlp: w2");
    }
    for (const Output& o : m.outputs)
        if (e.empty()) e = check(o.readout, "output '" + o.name + "': readout");
    if (e.empty() && m.averageCheck.present()) e = check(m.averageCheck.readout, "average check");
    return e;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> encodeMetadata(const Model& m) {
    std::vector<std::pair<std::string, std::string>> props;
    props.emplace_back(kKeyVersion, m.version);
    props.emplace_back(kKeyVocab, Json(m.vocab).dump());
    props.emplace_back(kKeyTokenType, m.tokenType);
    props.emplace_back(kKeyMaxLen, std::to_string(m.maxLen));
    props.emplace_back(kKeyWidth, std::to_string(m.width));

    Json names = Json::array();
    for (const Output& o : m.outputs) names.push_back(o.name);
    props.emplace_back(kKeyOutputs, names.dump());
    for (const Output& o : m.outputs) {
        bool numerical = o.kind == OutputKind::Numerical;
        props.emplace_back(outputKey(o.name, "kind"), numerical ? kNumerical : kCategorical);
        props.emplace_back(outputKey(o.name, "value_type"), o.valueType);
        props.emplace_back(outputKey(o.name, "table"), Json(o.table).dump());
        if (numerical) {
            props.emplace_back(outputKey(o.name, "numbers"), Json(o.numbers).dump());
            props.emplace_back(outputKey(o.name, "tolerance"), numberText(o.tolerance));
        }
        if (!o.textEntries.empty()) {
            props.emplace_back(outputKey(o.name, "text_entries"), Json(o.textEntries).dump());
        }
    }
    if (m.averageCheck.present()) {
        props.emplace_back(kKeyAverageCheck, Json(m.averageCheck.sources).dump());
    }

    Json layers = Json::array();
    for (const Layer& l : m.layers) {
        Json heads = Json::array();
        for (const Head& h : l.heads) heads.push_back(h.label);
        layers.push_back({{"heads", heads}, {"mlp", l.mlp.labels}});
    }
    props.emplace_back(kKeyLayers, layers.dump());
    props.emplace_back(kKeyLayerLayout, m.layerLayout());
    props.emplace_back(kKeyFloatType, m.floatType);
    Json hard = Json::array();
    for (size_t l = 0; l < m.layers.size(); ++l)
        for (size_t h = 0; h < m.layers[l].heads.size(); ++h)
            if (m.layers[l].heads[h].hard) hard.push_back({l, h});
    if (!hard.empty()) props.emplace_back(kKeyHardHeads, hard.dump());
    Json masks = Json::array();
    for (size_t l = 0; l < m.layers.size(); ++l)
        for (size_t h = 0; h < m.layers[l].heads.size(); ++h)
            if (HeadMask mask = m.layers[l].heads[h].mask; mask != HeadMask::None)
                masks.push_back({l, h, maskOperator(mask)});
    if (!masks.empty()) props.emplace_back(kKeyHeadMasks, masks.dump());
    props.emplace_back(kKeySource, m.source);
    if (!m.reportJson.empty()) props.emplace_back(kKeyReport, m.reportJson);
    if (m.causal) props.emplace_back(kKeyCausal, "true");
    return props;
}

void decodeMetadata(const std::map<std::string, std::string>& props, Model& m) {
    MetadataReader r(props);
    m.version = r.text(std::string(kKeyVersion));
    m.vocab = r.strings(std::string(kKeyVocab));
    m.tokenType = r.text(std::string(kKeyTokenType));
    m.maxLen = r.integer(std::string(kKeyMaxLen));
    m.width = r.integer(std::string(kKeyWidth));
    m.floatType = r.text(std::string(kKeyFloatType));
    // Required although only informative: metadata comes last in the file, so a file cut off
    // between two entries shows as a missing key.
    m.source = r.text(std::string(kKeySource));
    // Optional: older files lack it, and nothing but `raspc inspect` reads it.
    auto report = props.find(std::string(kKeyReport));
    m.reportJson = report == props.end() ? "" : report->second;
    auto causal = props.find(std::string(kKeyCausal));
    m.causal = causal != props.end() && causal->second == "true";

    m.outputs.clear();
    for (const std::string& name : r.strings(std::string(kKeyOutputs))) {
        Output o;
        o.name = name;
        std::string kind = r.text(outputKey(name, "kind"));
        if (kind == kCategorical) {
            o.kind = OutputKind::Categorical;
        } else if (kind == kNumerical) {
            o.kind = OutputKind::Numerical;
            o.numbers = r.numbers(outputKey(name, "numbers"));
            o.tolerance = r.number(outputKey(name, "tolerance"));
        } else {
            throw MetadataReader::malformed(outputKey(name, "kind"),
                                            "\"categorical\" or \"numerical\"");
        }
        o.valueType = r.text(outputKey(name, "value_type"));
        o.table = r.strings(outputKey(name, "table"));
        if (r.has(outputKey(name, "text_entries"))) {
            const std::string key = outputKey(name, "text_entries");
            const Json j = r.json(key);
            if (!j.is_array()) throw MetadataReader::malformed(key, "a JSON list of booleans");
            for (const Json& e : j) {
                if (!e.is_boolean())
                    throw MetadataReader::malformed(key, "a JSON list of booleans");
                o.textEntries.push_back(e.get<bool>());
            }
        }
        m.outputs.push_back(std::move(o));
    }

    if (r.has(std::string(kKeyAverageCheck))) {
        m.averageCheck.sources = r.strings(std::string(kKeyAverageCheck));
        // The readout comes with the weights; 1 x 1 marks it present until then.
        m.averageCheck.readout = Matrix(1, 1);
    }

    std::string layersKey(kKeyLayers);
    Json layers = r.json(layersKey);
    if (!layers.is_array()) throw MetadataReader::malformed(layersKey, "a JSON list of layers");
    m.layers.clear();
    for (const Json& l : layers) {
        if (!l.is_object() || !l.contains("heads") || !l.contains("mlp"))
            throw MetadataReader::malformed(layersKey, "a list of {\"heads\", \"mlp\"} objects");
        Layer layer;
        for (std::string& label : MetadataReader::stringList(l["heads"], layersKey)) {
            Head h;
            h.label = std::move(label);
            layer.heads.push_back(std::move(h));
        }
        layer.mlp.labels = MetadataReader::stringList(l["mlp"], layersKey);
        m.layers.push_back(std::move(layer));
    }

    // Optional: files from before hard heads existed have none.
    const std::string hardKey(kKeyHardHeads);
    if (props.count(hardKey)) {
        for (const Json& e : r.json(hardKey)) {
            if (!e.is_array() || e.size() != 2 || !e[0].is_number_unsigned() ||
                !e[1].is_number_unsigned())
                throw MetadataReader::malformed(hardKey, "a JSON list of [layer, head] pairs");
            const auto l = e[0].get<size_t>(), h = e[1].get<size_t>();
            if (l >= m.layers.size() || h >= m.layers[l].heads.size())
                throw MetadataReader::malformed(hardKey, "a list of existing heads");
            m.layers[l].heads[h].hard = true;
        }
    }

    // Optional: files from before head masks existed have none.
    const std::string masksKey(kKeyHeadMasks);
    if (props.count(masksKey)) {
        Json masks = r.json(masksKey);
        if (!masks.is_array()) throw MetadataReader::malformed(masksKey, "a JSON list");
        for (const Json& e : masks) {
            if (!e.is_array() || e.size() != 3 || !e[0].is_number_unsigned() ||
                !e[1].is_number_unsigned() || !e[2].is_string())
                throw MetadataReader::malformed(masksKey,
                                                "a JSON list of [layer, head, operator] entries");
            const auto l = e[0].get<size_t>(), h = e[1].get<size_t>();
            if (l >= m.layers.size() || h >= m.layers[l].heads.size())
                throw MetadataReader::malformed(masksKey, "a list of existing heads");
            std::optional<HeadMask> mask = maskFromOperator(e[2].get<std::string>());
            if (!mask)
                throw MetadataReader::malformed(masksKey,
                                                "a list of masks \"<=\", \"<\", \">=\" or \">\"");
            m.layers[l].heads[h].mask = *mask;
        }
    }
}

std::string findInconsistency(const Model& m) {
    const int d = m.width;
    if (m.floatType != "float32" && m.floatType != "float64")
        return "float type '" + m.floatType + "' is neither float32 nor float64";
    if (d <= 0) return "residual width is " + std::to_string(d);
    if (m.vocab.empty()) return "the vocabulary is empty";
    if (m.maxLen <= 0) return "maximum length is " + std::to_string(m.maxLen);

    int vocabRows = static_cast<int>(m.vocab.size()) + 1;
    if (auto e = checkShape(m.tokenEmbedding, vocabRows, d, "token embedding"); !e.empty())
        return e;
    // No position table at all is allowed (long-input models); a table covers every position.
    if (m.positionEmbedding.rows != 0 || !m.positionEmbedding.data.empty()) {
        if (auto e = checkShape(m.positionEmbedding, m.maxLen + 1, d, "position embedding");
            !e.empty())
            return e;
    }
    const Matrix& powers = m.positionPowers;
    if (powers.rows != 0 || !powers.data.empty()) {
        if (auto e = checkShape(powers, powers.rows, d, "position powers"); !e.empty()) return e;
    }

    for (size_t li = 0; li < m.layers.size(); ++li) {
        const Layer& layer = m.layers[li];
        std::string where = "layer " + std::to_string(li);
        for (size_t hi = 0; hi < layer.heads.size(); ++hi) {
            const Head& h = layer.heads[hi];
            std::string at = where + " head " + std::to_string(hi) + ": ";
            int dk = h.wq.cols;
            int dv = h.wv.cols;
            for (auto e : {checkShape(h.wq, d, dk, at + "wq"), checkShape(h.wk, d, dk, at + "wk"),
                           checkShape(h.wv, d, dv, at + "wv"), checkShape(h.wo, dv, d, at + "wo")})
                if (!e.empty()) return e;
            if (h.hard && dk != 2)
                return at + "a hard head needs 2-dimensional keys, not " + std::to_string(dk);
        }
        int hidden = m.layers[li].mlp.w1.cols;
        const Mlp& mlp = layer.mlp;
        if (hidden == 0 && mlp.w2.rows == 0 && mlp.w1.data.empty() && mlp.w2.data.empty())
            continue;  // no MLP; either 0 x 0 or d x 0 shapes are fine
        if (auto e = checkShape(mlp.w1, d, hidden, where + " mlp: w1"); !e.empty()) return e;
        if (auto e = checkShape(mlp.w2, hidden, d, where + " mlp: w2"); !e.empty()) return e;
    }

    if (m.outputs.empty()) return "the model has no outputs";
    std::set<std::string> names;
    for (const Output& o : m.outputs) {
        std::string at = "output '" + o.name + "': ";
        if (o.name.empty()) return "an output has no name";
        if (o.name == kTokensInput) return at + "its name is the input's name";
        if (!names.insert(o.name).second) return at + "the name appears twice";
        // Only a numerical output of whole numbers may go without a table (decoded by rounding).
        if (o.table.empty() && o.kind == OutputKind::Categorical)
            return at + "the value table is empty";
        if (!o.textEntries.empty() && o.textEntries.size() != o.table.size())
            return at + std::to_string(o.textEntries.size()) + " string marks for " +
                   std::to_string(o.table.size()) + " table entries";
        if (o.kind == OutputKind::Categorical) {
            int n = static_cast<int>(o.table.size());
            if (auto e = checkShape(o.readout, d, n, at + "readout"); !e.empty()) return e;
        } else {
            if (auto e = checkShape(o.readout, d, 1, at + "readout"); !e.empty()) return e;
            if (o.numbers.size() != o.table.size())
                return at + std::to_string(o.numbers.size()) + " numbers for " +
                       std::to_string(o.table.size()) + " table entries";
            for (double v : o.numbers)
                if (!std::isfinite(v)) return at + "a table number is not finite";
            if (!std::isfinite(o.tolerance) || o.tolerance < 0)
                return at + "tolerance " + numberText(o.tolerance) + " is not a distance";
        }
    }
    if (m.averageCheck.present()) {
        if (auto e = checkShape(m.averageCheck.readout, d, 1, "average check readout"); !e.empty())
            return e;
    }
    // A float32 file stores its weights as float32: they must survive the conversion.
    if (m.floatType == "float32") return firstInexactWeight(m);
    return "";
}

}  // namespace raspc::rt::onnx_format
