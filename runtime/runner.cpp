// The native runner's kernels: sparse-aware row-major products, softmax attention, ReLU MLP.
#include "runtime/runner.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <type_traits>
#include <unordered_map>

#include "runtime/embedding.h"

namespace raspc::rt {

namespace {

// A sequence's rows inside the stacked batch: BOS at `offset`, then its tokens.
struct Segment {
    size_t offset = 0;
    int rows = 0;
};

std::string numberText(double v) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc() ? std::string(buf, end) : std::string("?");
}

// Every id must index the vocabulary; BOS is never part of an input.
std::string vocabularyList(const Model& m) {
    constexpr size_t kShown = 40;
    std::string out;
    for (size_t i = 0; i < m.vocab.size() && i < kShown; ++i) out += (i ? ", " : "") + m.vocab[i];
    if (m.vocab.size() > kShown)
        out += ", ... (" + std::to_string(m.vocab.size() - kShown) + " more)";
    return out;
}

}  // namespace

std::vector<int32_t> encodeTokens(const Model& m, std::span<const std::string> tokens) {
    if (tokens.empty()) throw InputError("empty input: a sequence needs at least one token");
    if (tokens.size() > static_cast<size_t>(m.maxLen))
        throw InputError("input has " + std::to_string(tokens.size()) +
                         " tokens, more than the model's maximum length " +
                         std::to_string(m.maxLen));
    std::unordered_map<std::string_view, int32_t> ids;
    for (size_t i = 0; i < m.vocab.size(); ++i) ids.emplace(m.vocab[i], static_cast<int32_t>(i));

    std::vector<int32_t> out;
    out.reserve(tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) {
        auto it = ids.find(tokens[i]);
        if (it == ids.end())
            throw InputError("unknown token '" + tokens[i] + "' at position " + std::to_string(i) +
                             "; the vocabulary is: " + vocabularyList(m));
        out.push_back(it->second);
    }
    return out;
}

namespace {

// Below this, exp(shifted) is exactly 0 in T (float: under 2^-150 near -103.97; double: near
// -745.13). Skipping exp there avoids glibc's slow underflow path, which hard attention would
// take for almost every key, and changes no result.
template <typename T>
constexpr T kExpUnderflow = sizeof(T) == sizeof(float) ? T(-104) : T(-745.2);

// Softmax of s[0, n) in place, the way onnxruntime computes it: exp(s - max), then each
// term times the reciprocal of their sum. With the compiler's hard-attention scales every
// losing key becomes exactly 0 and the winners exactly 1/count.
template <typename T>
void softmax(T* s, int n) {
    T max = *std::max_element(s, s + n);
    T sum = 0;
    for (int j = 0; j < n; ++j) {
        const T shifted = s[j] - max;
        s[j] = shifted < kExpUnderflow<T> ? T(0) : std::exp(shifted);
        sum += s[j];
    }
    const T scale = T(1) / sum;
    for (int j = 0; j < n; ++j) s[j] *= scale;
}

// One head over one sequence: h = softmax(q k^T) v for the segment's rows. Query i sees BOS
// (row 0) and the keys its mask and the causal mask leave visible.
template <typename T>
void attend(const T* q, const T* k, const T* v, int dk, int dv, Segment seg, T* h,
            std::vector<T>& kt, std::vector<T>& scores, HeadMask mask, bool causal) {
    const int n = seg.rows;
    q += seg.offset * dk;
    k += seg.offset * dk;
    v += seg.offset * dv;
    h += seg.offset * dv;

    // Transposed keys make the score loop run over contiguous memory.
    kt.assign(static_cast<size_t>(dk) * n, T(0));
    for (int j = 0; j < n; ++j)
        for (int c = 0; c < dk; ++c) kt[static_cast<size_t>(c) * n + j] = k[j * dk + c];
    scores.resize(n);

    for (int i = 0; i < n; ++i) {
        // scores[0] is BOS's, scores[1 + j - first] key j's for j in [first, end).
        const KeyRange r = visibleKeys(mask, causal, i, n);
        const int first = r.first;
        const int count = 1 + std::max(0, r.end - first);
        std::fill(scores.begin(), scores.begin() + count, T(0));
        const T* qi = q + static_cast<size_t>(i) * dk;
        for (int c = 0; c < dk; ++c) {
            const T qc = qi[c];
            if (qc == T(0)) continue;
            const T* row = kt.data() + static_cast<size_t>(c) * n;
            scores[0] += qc * row[0];
            for (int j = 1; j < count; ++j) scores[j] += qc * row[first + j - 1];
        }
        softmax(scores.data(), count);

        T* hi = h + static_cast<size_t>(i) * dv;
        std::fill(hi, hi + dv, T(0));
        for (int j = 0; j < count; ++j) {
            const T a = scores[j];
            if (a == T(0)) continue;  // hard attention: almost every weight is exactly 0
            const T* vj = v + static_cast<size_t>(j == 0 ? 0 : first + j - 1) * dv;
            for (int c = 0; c < dv; ++c) hi[c] += a * vj[c];
        }
    }
}

}  // namespace

template <typename T>
class Runner::Engine {
public:
    explicit Engine(const Model& m);

    // Buffers a forward pass reuses from one call to the next on the same thread: a fresh
    // allocation of a batch-sized buffer costs more in page faults than the product itself.
    struct Workspace {
        std::vector<T> x, layerIn, q, k, v, h, delta, hidden, kt, scores, logits, embedding;
    };

    // The final residual of all sequences stacked, each as (length + 1) rows, BOS first; it
    // lives in `ws` until the next forward pass with it. The ids are checked already.
    const std::vector<T>& forward(const std::vector<std::vector<int32_t>>& batch,
                                  Workspace& ws) const;
    std::vector<std::vector<OutputValues>> run(
        const std::vector<std::vector<int32_t>>& batch) const;

private:
    struct PreparedHead {
        SparseWeights<T> wq, wk, wv, wo;
        HeadMask mask = HeadMask::None;
    };
    struct PreparedLayer {
        std::vector<PreparedHead> heads;
        SparseWeights<T> w1, w2;
        bool hasMlp = false;
    };

    const Model& model_;
    std::vector<PreparedLayer> layers_;
    std::vector<SparseWeights<T>> readouts_;
    std::optional<SparseWeights<T>> averageCheck_;
};

template <typename T>
Runner::Engine<T>::Engine(const Model& m) : model_(m) {
    for (const Layer& l : m.layers) {
        PreparedLayer p;
        for (const Head& h : l.heads)
            p.heads.push_back({SparseWeights<T>::from(h.wq), SparseWeights<T>::from(h.wk),
                               SparseWeights<T>::from(h.wv), SparseWeights<T>::from(h.wo), h.mask});
        p.hasMlp = l.mlp.w1.cols > 0;
        if (p.hasMlp) {
            p.w1 = SparseWeights<T>::from(l.mlp.w1);
            p.w2 = SparseWeights<T>::from(l.mlp.w2);
        }
        layers_.push_back(std::move(p));
    }
    for (const Output& o : m.outputs) readouts_.push_back(SparseWeights<T>::from(o.readout));
    if (m.averageCheck.present()) averageCheck_ = SparseWeights<T>::from(m.averageCheck.readout);
}

Runner::Runner(const Model& m) : model_(m) {
    if (m.floatType == "float64")
        float64_ = std::make_shared<const Engine<double>>(m);
    else
        float32_ = std::make_shared<const Engine<float>>(m);
}

void Runner::checkIds(std::span<const int32_t> ids, size_t index) const {
    std::string which = "sequence " + std::to_string(index) + ": ";
    if (ids.empty()) throw InputError(which + "empty input: a sequence needs at least one token");
    if (ids.size() > static_cast<size_t>(model_.maxLen))
        throw InputError(which + "length " + std::to_string(ids.size()) +
                         " exceeds the model's maximum length " + std::to_string(model_.maxLen));
    const auto vocab = static_cast<int32_t>(model_.vocab.size());
    for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || ids[i] >= vocab)
            throw InputError(which + "token id " + std::to_string(ids[i]) + " at position " +
                             std::to_string(i) + " is outside the vocabulary (0.." +
                             std::to_string(vocab - 1) + ")");
}

template <typename T>
const std::vector<T>& Runner::Engine<T>::forward(const std::vector<std::vector<int32_t>>& batch,
                                                 Workspace& ws) const {
    const Model& m = model_;
    const size_t d = static_cast<size_t>(m.width);

    // All sequences stacked row-wise: the projections and the MLP act on rows alone, so they
    // run once over the whole batch; only attention works per sequence.
    std::vector<Segment> segments;
    size_t totalRows = 0;
    for (const auto& ids : batch) {
        segments.push_back({totalRows, static_cast<int>(ids.size()) + 1});
        totalRows += ids.size() + 1;
    }

    // Embedding: BOS is token id vocab.size() at position 0.
    std::vector<T>& x = ws.x;
    x.resize(totalRows * d);
    const auto bos = static_cast<int32_t>(m.vocab.size());
    for (size_t s = 0; s < batch.size(); ++s) {
        for (int p = 0; p < segments[s].rows; ++p) {
            int32_t token = p == 0 ? bos : batch[s][p - 1];
            embed(m, token, p, x.data() + (segments[s].offset + p) * d, ws.embedding);
        }
    }

    std::vector<T>&layerIn = ws.layerIn, &q = ws.q, &k = ws.k, &v = ws.v, &h = ws.h;
    std::vector<T>&delta = ws.delta, &hidden = ws.hidden, &kt = ws.kt, &scores = ws.scores;
    for (const PreparedLayer& layer : layers_) {
        // Heads all read the layer's input; their outputs are added one after another, as
        // the graph's chain of Add nodes does. A single head reads x itself, which it changes
        // only after its products.
        if (layer.heads.size() > 1) layerIn = x;
        const std::vector<T>& in = layer.heads.size() > 1 ? layerIn : x;
        const bool inSparse = mostlyZero(in);
        for (const PreparedHead& head : layer.heads) {
            const int dk = head.wq.cols;
            const int dv = head.wv.cols;
            q.resize(totalRows * dk);
            k.resize(totalRows * dk);
            v.resize(totalRows * dv);
            h.resize(totalRows * dv);
            multiply(in.data(), totalRows, inSparse, head.wq, q.data());
            multiply(in.data(), totalRows, inSparse, head.wk, k.data());
            multiply(in.data(), totalRows, inSparse, head.wv, v.data());
            for (const Segment& seg : segments)
                attend(q.data(), k.data(), v.data(), dk, dv, seg, h.data(), kt, scores, head.mask,
                       model_.causal);
            multiplyAdd(h.data(), totalRows, mostlyZero(h), head.wo, x.data(), delta);
        }

        if (layer.hasMlp) {
            const int width = layer.w1.cols;
            hidden.resize(totalRows * width);
            multiply(x.data(), totalRows, mostlyZero(x), layer.w1, hidden.data());
            for (T& e : hidden) e = std::max(e, T(0));
            multiplyAdd(hidden.data(), totalRows, mostlyZero(hidden), layer.w2, x.data(), delta);
        }
    }
    return x;
}

Matrix Runner::residual(std::span<const int32_t> ids) const {
    checkIds(ids, 0);
    std::vector<std::vector<int32_t>> batch{std::vector<int32_t>(ids.begin(), ids.end())};
    Matrix out(static_cast<int>(ids.size()) + 1, model_.width);
    auto copy = [&](const auto& engine) {
        typename std::remove_cvref_t<decltype(engine)>::Workspace ws;
        const auto& x = engine.forward(batch, ws);
        std::copy(x.begin(), x.end(), out.data.begin());
    };
    if (float64_)
        copy(*float64_);
    else
        copy(*float32_);
    return out;
}

std::vector<std::vector<OutputValues>> Runner::run(
    const std::vector<std::vector<int32_t>>& batch) const {
    for (size_t s = 0; s < batch.size(); ++s) checkIds(batch[s], s);
    return float64_ ? float64_->run(batch) : float32_->run(batch);
}

template <typename T>
std::vector<std::vector<OutputValues>> Runner::Engine<T>::run(
    const std::vector<std::vector<int32_t>>& batch) const {
    thread_local Workspace ws;
    const std::vector<T>& x = forward(batch, ws);
    const size_t d = static_cast<size_t>(model_.width);

    std::vector<std::vector<OutputValues>> results(batch.size());
    for (auto& r : results) r.resize(model_.outputs.size());

    std::vector<T>& logits = ws.logits;
    const double minMargin = minCategoricalMargin(model_);
    const bool xSparse = mostlyZero(x);
    for (size_t o = 0; o < model_.outputs.size(); ++o) {
        const Output& out = model_.outputs[o];
        const SparseWeights<T>& readout = readouts_[o];
        const size_t cols = static_cast<size_t>(readout.cols);
        const size_t totalRows = x.size() / d;
        logits.resize(totalRows * cols);
        multiply(x.data(), totalRows, xSparse, readout, logits.data());

        size_t row = 0;
        for (size_t s = 0; s < batch.size(); ++s) {
            OutputValues& values = results[s][o];
            values.minMargin = minMargin;
            if (out.kind == OutputKind::Categorical) {
                values.ids.reserve(batch[s].size());
                values.margins.reserve(batch[s].size());
            } else {
                values.values.reserve(batch[s].size());
            }
            ++row;  // BOS carries no output
            for (size_t p = 0; p < batch[s].size(); ++p, ++row) {
                const T* l = logits.data() + row * cols;
                if (out.kind == OutputKind::Categorical) {
                    // The first maximum wins, as ONNX ArgMax does by default.
                    const T* best = std::max_element(l, l + cols);
                    values.ids.push_back(best - l);
                    values.margins.push_back(oneHotMargin(l, cols, best - l));
                } else {
                    values.values.push_back(l[0]);
                }
            }
        }
    }
    if (averageCheck_) {
        const size_t totalRows = x.size() / d;
        logits.resize(totalRows);
        multiply(x.data(), totalRows, xSparse, *averageCheck_, logits.data());
        size_t row = 0;
        for (size_t s = 0; s < batch.size(); ++s) {
            ++row;  // BOS
            std::vector<double> check(
                logits.begin() + static_cast<std::ptrdiff_t>(row),
                logits.begin() + static_cast<std::ptrdiff_t>(row + batch[s].size()));
            row += batch[s].size();
            for (OutputValues& values : results[s]) {
                values.averageCheck = check;
                values.averageSources = &model_.averageCheck.sources;
            }
        }
    }
    return results;
}

double minCategoricalMargin(const Model& m) {
    const double positions = std::max(m.maxLen, 1);
    const double roundoff = m.floatType == "float64" ? 0x1p-53 : 0x1p-24;
    return 1.0 - std::max(0.5 / positions, 2.0 * positions * roundoff);
}

std::vector<std::string> decode(const Output& out, const OutputValues& values) {
    std::vector<std::string> decoded;
    auto at = [&](size_t p) {
        return "output '" + out.name + "' at position " + std::to_string(values.firstPosition + p);
    };
    // An aggregate that averaged different values fails the interpreter on the whole input.
    const double allowance = 1.0 - values.minMargin;
    for (size_t p = 0; p < values.averageCheck.size(); ++p) {
        if (values.averageCheck[p] > allowance) {
            std::string sources;
            if (values.averageSources != nullptr) {
                for (const std::string& s : *values.averageSources)
                    sources += (sources.empty() ? "" : ", ") + s;
            }
            throw DecodeError("output '" + out.name + "': at position " +
                              std::to_string(values.firstPosition + p) +
                              " an aggregate averaged different values, which no categorical "
                              "s-op can hold and the interpreter refuses (one of: " +
                              sources + ")");
        }
    }
    // A table mixing strings with other values: the first entry's kind, to refuse a sequence
    // holding both, as the interpreter does.
    std::optional<size_t> firstEntry;
    auto checkKind = [&](size_t p, size_t entry) {
        if (out.textEntries.empty()) return;
        if (!firstEntry) {
            firstEntry = entry;
            return;
        }
        if (out.textEntries[entry] != out.textEntries[*firstEntry]) {
            throw DecodeError("output '" + out.name + "' mixes strings with other values (" +
                              out.table[*firstEntry] + " at position " +
                              std::to_string(values.firstPosition) + ", " + out.table[entry] +
                              " at position " + std::to_string(values.firstPosition + p) +
                              "), which the interpreter refuses");
        }
    };
    if (out.kind == OutputKind::Categorical) {
        for (size_t p = 0; p < values.ids.size(); ++p) {
            int64_t id = values.ids[p];
            if (id < 0 || id >= static_cast<int64_t>(out.table.size()))
                throw DecodeError(at(p) + ": id " + std::to_string(id) +
                                  " is outside its value table");
            if (p < values.margins.size() && !(values.margins[p] >= values.minMargin)) {
                throw DecodeError(at(p) + " is ambiguous (score margin " +
                                  numberText(values.margins[p]) + ", below " +
                                  numberText(values.minMargin) +
                                  "): an aggregate averaged different values on this input, "
                                  "which a categorical s-op cannot hold exactly, or a map was "
                                  "given values it fails on (compile warns where one can)");
            }
            checkKind(p, static_cast<size_t>(id));
            decoded.push_back(out.table[id]);
        }
        return decoded;
    }

    for (size_t p = 0; p < values.values.size(); ++p) {
        const double v = values.values[p];
        if (out.numbers.empty()) {
            // Whole numbers too many for a table: the nearest integer, within the tolerance.
            const double whole = std::round(v);
            if (!(std::abs(v - whole) <= out.tolerance))
                throw DecodeError(at(p) + ": value " + numberText(v) + " is not within " +
                                  numberText(out.tolerance) + " of a whole number");
            decoded.push_back(std::to_string(static_cast<long long>(whole)));
            continue;
        }
        size_t best = 0;
        double bestDistance = std::numeric_limits<double>::infinity();
        for (size_t i = 0; i < out.numbers.size(); ++i) {
            double distance = std::abs(out.numbers[i] - v);
            if (distance < bestDistance) {
                best = i;
                bestDistance = distance;
            }
        }
        // Written so that NaN (no distance is < infinity) fails too.
        if (!(bestDistance <= out.tolerance))
            throw DecodeError(at(p) + ": value " + numberText(v) + " is not within " +
                              numberText(out.tolerance) + " of any table value");
        checkKind(p, best);
        decoded.push_back(out.table[best]);
    }
    return decoded;
}

}  // namespace raspc::rt
