// The Model: a compiled transformer's weights and the tables to decode its outputs.
// The back end builds it, the ONNX writer serialises it, and the runtime reads it back from
// the ONNX file. It is the contract between compiler and runtime and holds no compiler types.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace raspc::rt {

/// A dense row-major matrix. It stores doubles whatever the model's float type: a float32
/// model holds only values that float32 represents exactly, so nothing is lost either way.
struct Matrix {
    int rows = 0;
    int cols = 0;
    std::vector<double> data;

    Matrix() = default;
    Matrix(int r, int c) : rows(r), cols(c), data(static_cast<size_t>(r) * c, 0.0) {}
    double& at(int r, int c) { return data[static_cast<size_t>(r) * cols + c]; }
    double at(int r, int c) const { return data[static_cast<size_t>(r) * cols + c]; }
};

/// Which keys a head's queries may attend to, by position (BOS is position 0, the input's
/// index i is position i + 1). The BOS key stays visible under every mask, so a query whose
/// mask leaves no other key (position 0 under KeyBefore, say) attends to BOS and reads the
/// default it carries. A causal model's mask (key <= query) applies on top of a head's own.
enum class HeadMask {
    None,
    KeyAtMost,   // key <= query
    KeyBefore,   // key < query
    KeyAtLeast,  // key >= query
    KeyAfter,    // key > query
};

/// The comparison a mask makes, as written between key and query: "<=", "<", ">=", ">"; ""
/// for HeadMask::None. Also the mask's name in the ONNX metadata.
std::string_view maskOperator(HeadMask mask);
/// The mask named by maskOperator's text; nullopt for any other text (and for "").
std::optional<HeadMask> maskFromOperator(std::string_view op);

/// The keys besides BOS that a query at position `query` sees in a sequence of `rows`
/// positions (BOS included), under a head's mask and, for a causal model, the causal mask:
/// the positions [first, end), none when first >= end. Every mask leaves one such range.
struct KeyRange {
    int first = 1;
    int end = 1;
};

inline KeyRange visibleKeys(HeadMask mask, bool causal, int query, int rows) {
    KeyRange r{1, causal ? query + 1 : rows};
    switch (mask) {
        case HeadMask::None:
            break;
        case HeadMask::KeyAtMost:
            r.end = std::min(r.end, query + 1);
            break;
        case HeadMask::KeyBefore:
            r.end = std::min(r.end, query);
            break;
        case HeadMask::KeyAtLeast:
            r.first = std::max(r.first, query);
            break;
        case HeadMask::KeyAfter:
            r.first = std::max(r.first, query + 1);
            break;
    }
    return r;
}

/// One attention head reading and writing the residual stream (width d).
/// scores = (x Wq)(x Wk)^T, already scaled for hard attention; weights = softmax over keys;
/// out = weights (x Wv) Wo, added to the residual. Keys the mask hides get weight 0 (their
/// score counts as -infinity).
struct Head {
    std::string label;  // what it computes, e.g. "aggregate reverse (reverse.rasp:4)"
    Matrix wq;          // d x dk
    Matrix wk;          // d x dk
    Matrix wv;          // d x dv
    Matrix wo;          // dv x d
    /// A 2-D hard head, which a runner may answer with a convex hull of its keys instead of a
    /// scan. The compiler sets it only when it guarantees, at every query: one key point (the
    /// 2-D key vector, dk == 2) scores highest; keys at every other point score so far below
    /// it that softmax gives them exactly zero weight in the model's float type; and keys that
    /// coincide with the best point share its score. The head's output is then the mean of the
    /// values of the keys at the best point.
    bool hard = false;
    HeadMask mask = HeadMask::None;
};

/// The MLP sublayer of a layer: all blocks side by side. out = relu(x W1) W2, no biases
/// (constants come from the residual's constant-one dimension).
struct Mlp {
    std::vector<std::string> labels;  // one per block, in order
    Matrix w1;                        // d x hidden (hidden may be 0: no MLP in this layer)
    Matrix w2;                        // hidden x d
};

struct Layer {
    std::vector<Head> heads;
    Mlp mlp;
};

/// How an output is read from the final residual stream.
enum class OutputKind {
    Categorical,  // argmax over (x Readout) picks an index into `table`
    Numerical,    // (x Readout) is one number; decoded to the nearest `table` entry
};

struct Output {
    std::string name;
    OutputKind kind = OutputKind::Categorical;
    Matrix readout;                  // d x table.size() (categorical) or d x 1 (numerical)
    std::string valueType;           // atom type of the values: "str", "int", "float", "bool"
    std::vector<std::string> table;  // the values as the REPL shows them
    std::vector<double> numbers;     // numerical: the numeric value of each table entry; empty
                                     // (with an empty table) means any whole number
    double tolerance = 0.0;          // numerical: largest allowed distance to a table entry
    /// For a table mixing strings with other values: which entries are strings (else empty).
    /// A sequence holding both kinds is refused, as the interpreter refuses it.
    std::vector<bool> textEntries;
};

/// How far from clean one-hots the categorical s-ops are that may average different values
/// (aggregates whose selector may pick keys holding different values): their MLPs add
/// min(c, 1 - c) over the one-hot's entries c into one dimension, which `readout` (d x 1)
/// reads at every position. 0 there when every such average was of equal values; at least
/// 1/n (n keys) where one was not, which the interpreter refuses. Only outputs' own
/// aggregates are not in it: their readout margin tells.
struct AverageCheck {
    Matrix readout;                    // 0 x 0 when the model has nothing to check
    std::vector<std::string> sources;  // the aggregates, as "name (file:line)"
    bool present() const { return readout.rows > 0; }
};

/// A compiled program. Position 0 of every sequence is the beginning-of-sequence (BOS)
/// position, which the ONNX graph and the runner prepend themselves; token id vocab.size()
/// is BOS.
struct Model {
    std::vector<std::string> vocab;  // token id -> token as written (one char, or an atom)
    std::string tokenType = "str";   // "str", "int", "float", "bool"
    int maxLen = 0;                  // longest input, BOS not counted
    int width = 0;                   // residual width d
    Matrix tokenEmbedding;           // (vocab.size() + 1) x d; last row is BOS
    /// (maxLen + 1) x d with row 0 for BOS, or 0 x d: no position table (models for inputs
    /// of millions of positions use positionPowers instead).
    Matrix positionEmbedding;
    /// P x d (P may be 0). At a real position with index j (position - 1; BOS is position 0)
    /// the embedding adds the sum over e of j^(e+1) times row e. Nothing is added at BOS.
    Matrix positionPowers;
    std::vector<Layer> layers;
    std::vector<Output> outputs;
    AverageCheck averageCheck;

    std::string version;  // raspc version that wrote it
    std::string source;   // program file it was compiled from
    /// "float32" or "float64": the type the ONNX graph computes in. Runners may compute a
    /// float32 model in float32 and must compute a float64 model in double.
    std::string floatType = "float32";
    /// Every query attends only to keys at its own position or before (BOS included).
    bool causal = false;
    /// The compiler's account of where each s-op lives in the residual stream and how wide each
    /// MLP block is, as JSON, for `raspc inspect`. Informative only: the runner ignores it, and
    /// "" (files from before it existed) just means inspect shows less.
    std::string reportJson;

    /// Every weight, counting zeros.
    int64_t parameterCount() const;
    /// Weights that are not zero.
    int64_t nonZeroParameterCount() const;
    /// "L0: 2 heads + MLP 12; L1: ..." for metadata and reports.
    std::string layerLayout() const;
};

}  // namespace raspc::rt
