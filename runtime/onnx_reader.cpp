// Reads a raspc ONNX file: metadata first, then each weight by its initializer name.
#include "runtime/onnx_reader.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <type_traits>
#include <unordered_map>

#include <onnx/onnx_pb.h>

#include "runtime/onnx_format.h"

namespace raspc::rt {

namespace fmt = onnx_format;

namespace {

std::string readFile(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw ModelError("cannot read model file '" + path + "': it is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ModelError("cannot open model file '" + path + "': " + std::strerror(errno));
    std::ostringstream bytes;
    bytes << in.rdbuf();
    if (in.bad()) throw ModelError("cannot read model file '" + path + "'");
    return std::move(bytes).str();
}

class InitializerTable {
public:
    /// Weights must be stored as `type` (FLOAT or DOUBLE, after the model's float type).
    InitializerTable(const onnx::GraphProto& g, int type) : type_(type) {
        for (const onnx::TensorProto& t : g.initializer()) byName_.emplace(t.name(), &t);
    }

    /// The matrix named `name`, which must exist.
    Matrix matrix(const std::string& name) const {
        auto it = byName_.find(name);
        if (it == byName_.end()) throw ModelError("missing weight '" + name + "'");
        return type_ == onnx::TensorProto::DOUBLE ? toMatrix<double>(*it->second)
                                                  : toMatrix<float>(*it->second);
    }

    /// The matrix named `name`, or a 0 x cols one when the file has none.
    Matrix optionalMatrix(const std::string& name, int cols) const {
        return has(name) ? matrix(name) : Matrix(0, cols);
    }

    bool has(const std::string& name) const { return byName_.count(name) > 0; }

private:
    // Reads a tensor stored as S (float or double) into a Matrix of doubles.
    template <typename S>
    static Matrix toMatrix(const onnx::TensorProto& t) {
        constexpr bool kDouble = std::is_same_v<S, double>;
        const std::string& name = t.name();
        if (t.data_type() != (kDouble ? onnx::TensorProto::DOUBLE : onnx::TensorProto::FLOAT))
            throw ModelError("weight '" + name + "' is not " + (kDouble ? "float64" : "float32") +
                             " like the model");
        if (t.dims_size() != 2) throw ModelError("weight '" + name + "' is not a matrix");
        if (t.data_location() == onnx::TensorProto::EXTERNAL)
            throw ModelError("weight '" + name + "' is stored outside the file (unsupported)");
        int64_t rows = t.dims(0);
        int64_t cols = t.dims(1);
        constexpr int64_t kMaxDim = 1 << 30;
        if (rows < 0 || cols < 0 || rows > kMaxDim || cols > kMaxDim)
            throw ModelError("weight '" + name + "' has a bad shape");

        // Compare the stored count with the shape before allocating: a corrupt shape must not
        // become a huge allocation.
        uint64_t count = static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols);
        uint64_t typed = kDouble ? static_cast<uint64_t>(t.double_data_size())
                                 : static_cast<uint64_t>(t.float_data_size());
        uint64_t stored = t.has_raw_data() ? t.raw_data().size() / sizeof(S) : typed;
        bool rawMisaligned = t.has_raw_data() && t.raw_data().size() % sizeof(S) != 0;
        if (stored != count || rawMisaligned)
            throw ModelError("weight '" + name + "' holds the wrong number of values for its " +
                             std::to_string(rows) + " x " + std::to_string(cols) + " shape");

        Matrix w(static_cast<int>(rows), static_cast<int>(cols));
        if (t.has_raw_data()) {
            // ONNX raw data is little-endian, as is every host this runtime targets.
            std::vector<S> raw(count);
            std::memcpy(raw.data(), t.raw_data().data(), count * sizeof(S));
            std::copy(raw.begin(), raw.end(), w.data.begin());
        } else if constexpr (kDouble) {
            std::copy(t.double_data().begin(), t.double_data().end(), w.data.begin());
        } else {
            std::copy(t.float_data().begin(), t.float_data().end(), w.data.begin());
        }
        return w;
    }

    int type_;
    std::unordered_map<std::string, const onnx::TensorProto*> byName_;
};

Model modelFromProto(const onnx::ModelProto& proto) {
    std::map<std::string, std::string> props;
    for (const onnx::StringStringEntryProto& p : proto.metadata_props()) props[p.key()] = p.value();
    if (!props.count(std::string(fmt::kKeyVersion))) {
        std::string producer = proto.producer_name().empty() ? "unknown" : proto.producer_name();
        throw ModelError("foreign model: no raspc metadata (producer: " + producer + ")");
    }

    Model m;
    fmt::decodeMetadata(props, m);

    if (m.floatType != "float32" && m.floatType != "float64")
        throw ModelError("inconsistent raspc model: float type '" + m.floatType +
                         "' is neither float32 nor float64");
    InitializerTable weights(proto.graph(), m.floatType == "float64" ? onnx::TensorProto::DOUBLE
                                                                     : onnx::TensorProto::FLOAT);
    m.tokenEmbedding = weights.matrix(std::string(fmt::kTokenEmbedding));
    m.positionEmbedding = weights.optionalMatrix(std::string(fmt::kPositionEmbedding), m.width);
    m.positionPowers = weights.optionalMatrix(std::string(fmt::kPositionPowers), m.width);
    for (size_t li = 0; li < m.layers.size(); ++li) {
        int l = static_cast<int>(li);
        Layer& layer = m.layers[li];
        for (size_t hi = 0; hi < layer.heads.size(); ++hi) {
            int h = static_cast<int>(hi);
            Head& head = layer.heads[hi];
            head.wq = weights.matrix(fmt::headWeightName(l, h, "wq"));
            head.wk = weights.matrix(fmt::headWeightName(l, h, "wk"));
            head.wv = weights.matrix(fmt::headWeightName(l, h, "wv"));
            head.wo = weights.matrix(fmt::headWeightName(l, h, "wo"));
        }
        if (weights.has(fmt::mlpWeightName(l, "w1"))) {
            layer.mlp.w1 = weights.matrix(fmt::mlpWeightName(l, "w1"));
            layer.mlp.w2 = weights.matrix(fmt::mlpWeightName(l, "w2"));
        } else {
            layer.mlp.w1 = Matrix(m.width, 0);
            layer.mlp.w2 = Matrix(0, m.width);
        }
    }
    for (Output& o : m.outputs) o.readout = weights.matrix(fmt::readoutName(o.name));
    if (m.averageCheck.present())
        m.averageCheck.readout = weights.matrix(std::string(fmt::kAverageCheckReadout));

    if (std::string problem = fmt::findInconsistency(m); !problem.empty())
        throw ModelError("inconsistent raspc model: " + problem);
    return m;
}

}  // namespace

Model loadModel(const std::string& path) {
    std::string bytes = readFile(path);
    onnx::ModelProto proto;
    if (bytes.empty() || !proto.ParseFromString(bytes) || !proto.has_graph())
        throw ModelError("'" + path + "' is not an ONNX model file (truncated or not ONNX)");
    try {
        return modelFromProto(proto);
    } catch (const ModelError& e) {
        throw ModelError("'" + path + "': " + e.what());
    }
}

}  // namespace raspc::rt
