// Builds the ONNX graph of a Model: embeddings, attention heads and MLPs, readouts, in float32
// or float64 after the model's float type.
#include "backend/onnx_writer.h"

#include <unistd.h>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include "runtime/onnx_format.h"
#include "runtime/runner.h"
#include "support/diagnostics.h"

namespace raspc {

namespace fmt = rt::onnx_format;

namespace {

// Adds nodes, initializers and value declarations to one GraphProto. Every intermediate value
// gets a dotted name ("layer0.head1.scores"), which no output can take: output names are
// program identifiers.
class GraphBuilder {
public:
    /// Weights and float constants get the element type `floatType` (FLOAT or DOUBLE).
    GraphBuilder(onnx::GraphProto& g, int floatType) : g_(g), floatType_(floatType) {}

    int floatType() const { return floatType_; }

    /// Adds a node computing `output` from `inputs` and returns `output`.
    std::string node(const std::string& op, std::vector<std::string> inputs,
                     const std::string& output, std::vector<onnx::AttributeProto> attributes = {}) {
        onnx::NodeProto* n = g_.add_node();
        n->set_op_type(op);
        n->set_name(output);
        for (auto& in : inputs) n->add_input(in);
        n->add_output(output);
        for (auto& a : attributes) *n->add_attribute() = std::move(a);
        return output;
    }

    void matrix(const std::string& name, const rt::Matrix& w) {
        onnx::TensorProto* t = g_.add_initializer();
        t->set_name(name);
        t->set_data_type(floatType_);
        t->add_dims(w.rows);
        t->add_dims(w.cols);
        // Raw little-endian bytes: compact and read back with one copy. A float32 model holds
        // only values float32 represents (findInconsistency checks), so the cast loses nothing.
        if (floatType_ == onnx::TensorProto::DOUBLE) {
            t->set_raw_data(w.data.data(), w.data.size() * sizeof(double));
        } else {
            std::vector<float> narrow(w.data.begin(), w.data.end());
            t->set_raw_data(narrow.data(), narrow.size() * sizeof(float));
        }
    }

    /// A constant initializer of the float type; an empty `dims` makes a scalar.
    std::string floats(const std::string& name, std::vector<double> values,
                       std::vector<int64_t> dims) {
        onnx::TensorProto* t = g_.add_initializer();
        t->set_name(name);
        t->set_data_type(floatType_);
        for (int64_t d : dims) t->add_dims(d);
        for (double v : values) {
            if (floatType_ == onnx::TensorProto::DOUBLE)
                t->add_double_data(v);
            else
                t->add_float_data(static_cast<float>(v));
        }
        return name;
    }

    /// An int64 constant initializer; an empty `dims` makes a scalar.
    std::string int64s(const std::string& name, std::vector<int64_t> values,
                       std::vector<int64_t> dims) {
        onnx::TensorProto* t = g_.add_initializer();
        t->set_name(name);
        t->set_data_type(onnx::TensorProto::INT64);
        for (int64_t d : dims) t->add_dims(d);
        for (int64_t v : values) t->add_int64_data(v);
        return name;
    }

    static onnx::AttributeProto intAttr(const std::string& name, int64_t v) {
        onnx::AttributeProto a;
        a.set_name(name);
        a.set_type(onnx::AttributeProto::INT);
        a.set_i(v);
        return a;
    }

    static onnx::AttributeProto intsAttr(const std::string& name, std::vector<int64_t> vs) {
        onnx::AttributeProto a;
        a.set_name(name);
        a.set_type(onnx::AttributeProto::INTS);
        for (int64_t v : vs) a.add_ints(v);
        return a;
    }

    /// Declares a graph input or output of element type `type` and shape [batch, seq].
    static void batchBySeq(onnx::ValueInfoProto* v, const std::string& name, int type) {
        v->set_name(name);
        onnx::TypeProto_Tensor* t = v->mutable_type()->mutable_tensor_type();
        t->set_elem_type(type);
        t->mutable_shape()->add_dim()->set_dim_param("batch");
        t->mutable_shape()->add_dim()->set_dim_param("seq");
    }

private:
    onnx::GraphProto& g_;
    int floatType_;
};

// j^1 .. j^P times the position powers' rows, for index j = max(position - 1, 0) (so BOS gets
// nothing): [seq, d]. The powers come by repeated Mul, as the native runner computes them.
std::string buildPositionPowers(GraphBuilder& b, const rt::Model& m, const std::string& positions) {
    std::string real = b.node("Cast", {positions}, "embed.powers.positions",
                              {GraphBuilder::intAttr("to", b.floatType())});
    std::string one = b.floats("const.powers_one", {1.0}, {});
    std::string shifted = b.node("Sub", {real, one}, "embed.powers.shifted");
    std::string index = b.node("Relu", {shifted}, "embed.powers.index");
    std::string axis1 = b.int64s("const.powers_axis1", {1}, {1});
    std::string column = b.node("Unsqueeze", {index, axis1}, "embed.powers.p1");  // [seq, 1]
    std::vector<std::string> powers = {column};
    for (int e = 1; e < m.positionPowers.rows; ++e) {
        powers.push_back(
            b.node("Mul", {powers.back(), column}, "embed.powers.p" + std::to_string(e + 1)));
    }
    std::string all = powers.size() == 1 ? powers.front()
                                         : b.node("Concat", powers, "embed.powers.all",
                                                  {GraphBuilder::intAttr("axis", 1)});
    b.matrix(std::string(fmt::kPositionPowers), m.positionPowers);
    return b.node("MatMul", {all, std::string(fmt::kPositionPowers)}, "embed.powers.term");
}

bool anyHeadMask(const rt::Model& m) {
    for (const rt::Layer& l : m.layers)
        for (const rt::Head& h : l.heads)
            if (h.mask != rt::HeadMask::None) return true;
    return false;
}

// tokens -> x0 = token embedding of [BOS, tokens...] + position embedding of 0..seq
// + position powers.
std::string buildEmbedding(GraphBuilder& b, const rt::Model& m) {
    const std::string tokens(fmt::kTokensInput);
    const auto bos = static_cast<int64_t>(m.vocab.size());

    // A [batch, 1] column of BOS ids, put in front of the tokens.
    std::string batch =
        b.node("Shape", {tokens}, "embed.batch",
               {GraphBuilder::intAttr("start", 0), GraphBuilder::intAttr("end", 1)});
    std::string one = b.int64s("const.one_1d", {1}, {1});
    std::string columnShape =
        b.node("Concat", {batch, one}, "embed.bos_shape", {GraphBuilder::intAttr("axis", 0)});
    std::string bosId = b.int64s("const.bos_id", {bos}, {1, 1});
    std::string bosColumn = b.node("Expand", {bosId, columnShape}, "embed.bos_column");
    std::string ids =
        b.node("Concat", {bosColumn, tokens}, "embed.ids", {GraphBuilder::intAttr("axis", 1)});
    std::string x = b.node("Gather", {std::string(fmt::kTokenEmbedding), ids}, "embed.tokens",
                           {GraphBuilder::intAttr("axis", 0)});

    // Positions 0..seq (BOS included), for the position table, the powers and the mask.
    const bool table = m.positionEmbedding.rows > 0;
    const bool powers = m.positionPowers.rows > 0;
    if (!table && !powers && !m.causal && !anyHeadMask(m)) return x;
    std::string length =
        b.node("Shape", {ids}, "embed.length_1d",
               {GraphBuilder::intAttr("start", 1), GraphBuilder::intAttr("end", 2)});
    std::string length0 = b.node("Squeeze", {length}, "embed.length");
    std::string zero = b.int64s("const.zero", {0}, {});
    std::string step = b.int64s("const.one", {1}, {});
    std::string positions = b.node("Range", {zero, length0, step}, "embed.positions");

    if (table) {
        // A sequence longer than maxLen fails in this Gather.
        b.matrix(std::string(fmt::kPositionEmbedding), m.positionEmbedding);
        std::string pos = b.node("Gather", {std::string(fmt::kPositionEmbedding), positions},
                                 "embed.position_rows", {GraphBuilder::intAttr("axis", 0)});
        x = b.node("Add", {x, pos}, "embed.with_positions");
    }
    if (powers) x = b.node("Add", {x, buildPositionPowers(b, m, positions)}, "embed.with_powers");
    return x;
}

// The attention masks of one model, [seq, seq] over positions BOS included: 0 where a query
// may attend to a key (rt::keyVisible), -infinity elsewhere. Each distinct mask is built once,
// from the embedding's Range of positions, and shared by the heads that use it.
class MaskBuilder {
public:
    MaskBuilder(GraphBuilder& b, bool causal) : b_(b), causal_(causal) {}

    /// The bias to add to the scores of a head with `mask`; "" when nothing is hidden.
    std::string bias(rt::HeadMask mask) {
        if (mask == rt::HeadMask::None && !causal_) return "";
        auto found = built_.find(mask);
        if (found != built_.end()) return found->second;
        // A causal model's key <= query mask is the causal mask itself.
        if (mask == rt::HeadMask::KeyAtMost && causal_)
            return built_[mask] = bias(rt::HeadMask::None);

        std::string blocked;  // bool [seq, seq]: true where the key is hidden
        const std::string at = "mask." + maskName(mask);
        if (mask != rt::HeadMask::None) {
            // key > query for <=, key >= query for <, and so on: the complement of the mask.
            static const std::map<rt::HeadMask, const char*> kHidden = {
                {rt::HeadMask::KeyAtMost, "Greater"},
                {rt::HeadMask::KeyBefore, "GreaterOrEqual"},
                {rt::HeadMask::KeyAtLeast, "Less"},
                {rt::HeadMask::KeyAfter, "LessOrEqual"}};
            std::string hidden = b_.node(kHidden.at(mask), {keys(), queries()}, at + ".compare");
            // BOS, key position 0, stays visible under every mask.
            blocked = b_.node("And", {hidden, realKeys()}, at + ".hidden");
        }
        if (causal_) {
            std::string ahead = causalHidden();
            blocked = blocked.empty() ? ahead : b_.node("Or", {blocked, ahead}, at + ".or_causal");
        }
        if (hiddenScore_.empty()) {
            // -infinity, not a large negative number: lookup heads' scores can pass 10^12,
            // and a hidden key must get weight exactly 0 whatever its score (BOS keeps every
            // row's maximum finite).
            hiddenScore_ =
                b_.floats("const.mask_blocked", {-std::numeric_limits<double>::infinity()}, {});
            openScore_ = b_.floats("const.mask_open", {0.0}, {});
        }
        return built_[mask] = b_.node("Where", {blocked, hiddenScore_, openScore_}, at + ".bias");
    }

private:
    static std::string maskName(rt::HeadMask mask) {
        switch (mask) {
            case rt::HeadMask::None:
                return "causal";
            case rt::HeadMask::KeyAtMost:
                return "key_at_most";
            case rt::HeadMask::KeyBefore:
                return "key_before";
            case rt::HeadMask::KeyAtLeast:
                return "key_at_least";
            case rt::HeadMask::KeyAfter:
                return "key_after";
        }
        return "unknown";
    }

    std::string queries() {  // [seq, 1]
        if (queries_.empty()) {
            std::string axis1 = b_.int64s("const.axis1", {1}, {1});
            queries_ = b_.node("Unsqueeze", {"embed.positions", axis1}, "mask.queries");
        }
        return queries_;
    }
    std::string keys() {  // [1, seq]
        if (keys_.empty()) {
            std::string axis0 = b_.int64s("const.axis0", {0}, {1});
            keys_ = b_.node("Unsqueeze", {"embed.positions", axis0}, "mask.keys");
        }
        return keys_;
    }
    std::string realKeys() {  // [1, seq]: key position > 0
        if (realKeys_.empty())
            realKeys_ = b_.node("Greater", {keys(), "const.zero"}, "mask.real_keys");
        return realKeys_;
    }
    std::string causalHidden() {  // [seq, seq]: key > query
        if (ahead_.empty()) ahead_ = b_.node("Greater", {keys(), queries()}, "mask.ahead");
        return ahead_;
    }

    GraphBuilder& b_;
    bool causal_;
    std::map<rt::HeadMask, std::string> built_;
    std::string queries_, keys_, realKeys_, ahead_, hiddenScore_, openScore_;
};

// One attention head reading `x`; returns its contribution to the residual.
std::string buildHead(GraphBuilder& b, const rt::Head& h, int l, int hi, const std::string& x,
                      const std::string& mask) {
    std::string at = "layer" + std::to_string(l) + ".head" + std::to_string(hi) + ".";
    std::string wq = fmt::headWeightName(l, hi, "wq");
    std::string wk = fmt::headWeightName(l, hi, "wk");
    std::string wv = fmt::headWeightName(l, hi, "wv");
    std::string wo = fmt::headWeightName(l, hi, "wo");
    b.matrix(wq, h.wq);
    b.matrix(wk, h.wk);
    b.matrix(wv, h.wv);
    b.matrix(wo, h.wo);

    std::string q = b.node("MatMul", {x, wq}, at + "q");
    std::string k = b.node("MatMul", {x, wk}, at + "k");
    std::string v = b.node("MatMul", {x, wv}, at + "v");
    std::string kT =
        b.node("Transpose", {k}, at + "k_t", {GraphBuilder::intsAttr("perm", {0, 2, 1})});
    std::string scores = b.node("MatMul", {q, kT}, at + "scores");
    // A masked head adds its mask's bias (0, or -infinity where the key is hidden).
    if (!mask.empty()) scores = b.node("Add", {scores, mask}, at + "masked_scores");
    std::string weights =
        b.node("Softmax", {scores}, at + "weights", {GraphBuilder::intAttr("axis", -1)});
    std::string mixed = b.node("MatMul", {weights, v}, at + "mixed");
    return b.node("MatMul", {mixed, wo}, at + "out");
}

// The MLP of layer l reading `x`; returns its contribution to the residual.
std::string buildMlp(GraphBuilder& b, const rt::Mlp& mlp, int l, const std::string& x) {
    std::string at = "layer" + std::to_string(l) + ".mlp.";
    std::string w1 = fmt::mlpWeightName(l, "w1");
    std::string w2 = fmt::mlpWeightName(l, "w2");
    b.matrix(w1, mlp.w1);
    b.matrix(w2, mlp.w2);
    std::string pre = b.node("MatMul", {x, w1}, at + "pre");
    std::string act = b.node("Relu", {pre}, at + "act");
    return b.node("MatMul", {act, w2}, at + "out");
}

void buildGraph(const rt::Model& m, onnx::GraphProto& g) {
    // A float64 model computes in double throughout; only the token ids stay int64.
    const int floatType =
        m.floatType == "float64" ? onnx::TensorProto::DOUBLE : onnx::TensorProto::FLOAT;
    GraphBuilder b(g, floatType);
    g.set_name("raspc");
    GraphBuilder::batchBySeq(g.add_input(), std::string(fmt::kTokensInput),
                             onnx::TensorProto::INT64);
    b.matrix(std::string(fmt::kTokenEmbedding), m.tokenEmbedding);
    std::string x = buildEmbedding(b, m);
    MaskBuilder masks(b, m.causal);

    for (size_t li = 0; li < m.layers.size(); ++li) {
        const rt::Layer& layer = m.layers[li];
        const int l = static_cast<int>(li);
        // Every head reads the layer's input; their outputs join the residual in head order.
        const std::string layerIn = x;
        for (size_t hi = 0; hi < layer.heads.size(); ++hi) {
            const rt::Head& head = layer.heads[hi];
            std::string out =
                buildHead(b, head, l, static_cast<int>(hi), layerIn, masks.bias(head.mask));
            x = b.node("Add", {x, out},
                       "layer" + std::to_string(l) + ".after_head" + std::to_string(hi));
        }
        if (layer.mlp.w1.cols > 0) {
            std::string out = buildMlp(b, layer.mlp, l, x);
            x = b.node("Add", {x, out}, "layer" + std::to_string(l) + ".after_mlp");
        }
    }

    // Outputs are read at the input positions only: drop the BOS row.
    std::string start = b.int64s("const.slice_start", {1}, {1});
    std::string end = b.int64s("const.slice_end", {std::numeric_limits<int64_t>::max()}, {1});
    std::string axis = b.int64s("const.slice_axis", {1}, {1});
    std::string body = b.node("Slice", {x, start, end, axis}, "final.body");
    // What the native runner refuses, the graph marks in the outputs themselves (one output
    // per s-op, as DESIGN.md has it): an id of -1 or a NaN where the average check shows an
    // aggregate averaged different values, and an id of -1 where a categorical output's
    // scores are no clean one-hot. Both limits are the native decoder's (minCategoricalMargin).
    const double allowance = 1.0 - rt::minCategoricalMargin(m);
    std::string allowed;
    std::optional<std::string> averaged;  // bool [batch, seq]
    if (m.averageCheck.present() ||
        std::any_of(m.outputs.begin(), m.outputs.end(), [](const rt::Output& o) {
            return o.kind == rt::OutputKind::Categorical && o.readout.cols > 1;
        })) {
        allowed = b.floats("final.allowance", {allowance}, {});
    }
    if (m.averageCheck.present()) {
        const std::string readout(fmt::kAverageCheckReadout);
        b.matrix(readout, m.averageCheck.readout);
        std::string sum = b.node("MatMul", {body, readout}, "final.average_check.sum");
        std::string lastAxis = b.int64s("final.average_check.squeeze_axis", {-1}, {1});
        std::string check = b.node("Squeeze", {sum, lastAxis}, "final.average_check");
        averaged = b.node("Greater", {check, allowed}, "final.averaged");
    }
    for (const rt::Output& o : m.outputs) {
        const std::string at = "final." + o.name;
        std::string readout = fmt::readoutName(o.name);
        b.matrix(readout, o.readout);
        std::string logits = b.node("MatMul", {body, readout}, at + ".logits");
        if (o.kind == rt::OutputKind::Categorical) {
            const bool refuses = averaged || o.readout.cols > 1;
            std::string ids =
                b.node("ArgMax", {logits}, refuses ? at + ".ids" : o.name,
                       {GraphBuilder::intAttr("axis", -1), GraphBuilder::intAttr("keepdims", 0)});
            std::optional<std::string> bad = averaged;
            if (o.readout.cols > 1) {
                // The scores' distance from the one-hot of their maximum (built by Equal and
                // Cast: onnxruntime has no double OneHot).
                std::vector<int64_t> columns(static_cast<size_t>(o.readout.cols));
                for (size_t c = 0; c < columns.size(); ++c) columns[c] = static_cast<int64_t>(c);
                std::string range = b.int64s(at + ".columns", columns, {o.readout.cols});
                std::string lastAxis = b.int64s(at + ".unsqueeze_axis", {-1}, {1});
                std::string idColumn = b.node("Unsqueeze", {ids, lastAxis}, at + ".id_column");
                std::string isBest = b.node("Equal", {idColumn, range}, at + ".is_best");
                std::string hot = b.node("Cast", {isBest}, at + ".hot",
                                         {GraphBuilder::intAttr("to", b.floatType())});
                std::string off = b.node("Sub", {logits, hot}, at + ".off");
                std::string size = b.node("Abs", {off}, at + ".off_size");
                std::string distance = b.node(
                    "ReduceMax", {size}, at + ".distance",
                    {GraphBuilder::intsAttr("axes", {-1}), GraphBuilder::intAttr("keepdims", 0)});
                std::string blurred = b.node("Greater", {distance, allowed}, at + ".blurred");
                bad = averaged ? b.node("Or", {blurred, *averaged}, at + ".refused") : blurred;
            }
            if (refuses) {
                std::string none = b.int64s(at + ".none", {-1}, {});
                b.node("Where", {*bad, none, ids}, o.name);
            }
            GraphBuilder::batchBySeq(g.add_output(), o.name, onnx::TensorProto::INT64);
        } else {
            // One shared axes constant would be left unused (and warned about by onnxruntime)
            // in a model with no numerical output.
            std::string lastAxis = b.int64s(at + ".squeeze_axis", {-1}, {1});
            if (averaged) {
                std::string v = b.node("Squeeze", {logits, lastAxis}, at + ".value");
                std::string nan =
                    b.floats(at + ".nan", {std::numeric_limits<double>::quiet_NaN()}, {});
                b.node("Where", {*averaged, nan, v}, o.name);
            } else {
                b.node("Squeeze", {logits, lastAxis}, o.name);
            }
            GraphBuilder::batchBySeq(g.add_output(), o.name, floatType);
        }
    }
}

// Runs ONNX's own validation so that no file raspc writes is rejected by a runtime.
void checkProto(onnx::ModelProto& proto) {
    try {
        onnx::ShapeInferenceOptions strict(/*check_type_val=*/true, /*strict_mode_val=*/1);
        onnx::shape_inference::InferShapes(proto, onnx::OpSchemaRegistry::Instance(), strict);
        onnx::checker::check_model(proto);
    } catch (const std::exception& e) {
        throw InternalError(std::string("the ONNX model fails ONNX's checks: ") + e.what());
    }
}

void writeFileAtomically(const std::string& bytes, const std::string& path) {
    // The temporary sits next to the target, so the rename stays within one file system.
    std::string temp = path + ".tmp" + std::to_string(::getpid());
    {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        if (!out) throw UserError("cannot write '" + path + "': " + std::strerror(errno));
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.close();
        if (!out) {
            std::error_code ignored;
            std::filesystem::remove(temp, ignored);
            throw UserError("cannot write '" + path + "': writing failed (disk full?)");
        }
    }
    std::error_code ec;
    std::filesystem::rename(temp, path, ec);
    if (ec) {
        std::error_code ignored;
        std::filesystem::remove(temp, ignored);
        throw UserError("cannot write '" + path + "': " + ec.message());
    }
}

}  // namespace

void writeOnnx(const rt::Model& m, const std::string& path) {
    if (std::string problem = fmt::findInconsistency(m); !problem.empty())
        throw InternalError("cannot write an inconsistent model: " + problem);

    onnx::ModelProto proto;
    proto.set_ir_version(fmt::kIrVersion);
    proto.set_producer_name(std::string(fmt::kProducer));
    proto.set_producer_version(m.version);
    proto.set_doc_string("RASP program " + m.source + " compiled by raspc " + m.version);
    onnx::OperatorSetIdProto* opset = proto.add_opset_import();
    opset->set_domain("");
    opset->set_version(fmt::kOpsetVersion);
    for (auto& [key, value] : fmt::encodeMetadata(m)) {
        onnx::StringStringEntryProto* p = proto.add_metadata_props();
        p->set_key(key);
        p->set_value(value);
    }
    buildGraph(m, *proto.mutable_graph());
    checkProto(proto);

    std::string bytes;
    if (!proto.SerializeToString(&bytes))
        throw UserError("cannot write '" + path + "': the model exceeds the 2 GB that a " +
                        "single ONNX file can hold");
    writeFileAtomically(bytes, path);
}

}  // namespace raspc
