// Lowering: value encodings, earliest-layer scheduling, residual slots and the weights of every
// head and MLP block. The scheme is DESIGN.md's "Compiling: the scheme"; the notes here say how
// each piece stays exact.
#include "backend/lower.h"

#include "backend/lowering.h"

#include <iomanip>
#include <sstream>

namespace raspc {
namespace lowering {

const Repr& Lowering::repr(NodeId id) {
    auto& slot = reprs_[static_cast<size_t>(id)];
    if (!slot) slot = lowerNode(id);
    return *slot;
}

Repr Lowering::lowerNode(NodeId id) {
    const Node& n = g_[id];
    Repr r;
    switch (n.kind) {
        case OpKind::Tokens:
            for (size_t i = 0; i < options_.vocab.size(); ++i) {
                r.values.push_back(options_.vocab[i]);
                r.cols.push_back({{tokenDims_[i], 1.0}});
            }
            return r;
        case OpKind::Indices:
            if (longInputs()) {
                r.numerical = true;
                r.cols.push_back({{indexPowerDims_[0], 1.0}});
                r.square = Form{{indexPowerDims_[1], 1.0}};
                r.set = sets_[static_cast<size_t>(id)];
                return r;
            }
            for (int i = 0; i < options_.maxLen; ++i) {
                r.values.push_back(Value(i));
                r.cols.push_back({{indexDims_[static_cast<size_t>(i)], 1.0}});
            }
            return r;
        case OpKind::Constant:
            r.values.push_back(n.constant);
            r.cols.push_back({{kOne, 1.0}});
            r.isConstant = true;
            return r;
        case OpKind::WidthInverse:
            return lowerWidthInverse(id);
        case OpKind::Length:
        case OpKind::SelectorWidth:
            throw InternalError("lowering needs split_width to have run");
        case OpKind::Map:
        case OpKind::SequenceMap:
            return lowerMap(id);
        case OpKind::Aggregate:
            return lowerAggregate(id);
        default:
            throw InternalError("lowerNode called on a selector");
    }
}

rt::Model Lowering::run(CompileReport* report) {
    // Fixed dimensions: one, BOS flag, token one-hot, position one-hot.
    newDim();     // kOne
    newDim(1.0);  // kBos
    for (size_t i = 0; i < options_.vocab.size(); ++i) tokenDims_.push_back(newDim());
    if (longInputs()) {
        indexPowerDims_ = {newDim(), newDim()};
    } else {
        for (int i = 0; i < options_.maxLen; ++i) indexDims_.push_back(newDim());
    }

    std::vector<const Repr*> outs;
    for (NodeId id : options_.outputs) {
        if (g_[id].isSelector()) fail(g_[id], "a selector cannot be an output; aggregate it first");
        outs.push_back(&repr(id));
    }

    int layers = 0;
    for (const HeadPlan& h : heads_) layers = std::max(layers, h.layer + 1);
    for (const BlockPlan& b : blocks_) layers = std::max(layers, b.layer + 1);

    // Weights are built on virtual dimensions, one per value of every slot; `phys` maps them
    // onto the residual stream, where a dead slot's dimensions are reused.
    std::vector<int> phys(bos_.size());
    for (size_t i = 0; i < phys.size(); ++i) phys[i] = static_cast<int>(i);
    if (options_.optLevel > 0) phys = reuseSlots(layers);
    int physWidth = 0;
    for (int p : phys) physWidth = std::max(physWidth, p + 1);
    auto remap = [&](std::vector<Entry>& entries, bool rows) {
        for (Entry& e : entries)
            (rows ? e.row : e.col) = phys[static_cast<size_t>(rows ? e.row : e.col)];
    };

    rt::Model m;
    const int d = physWidth;
    m.width = d;
    m.maxLen = options_.maxLen;
    for (const Value& v : options_.vocab) m.vocab.push_back(toDisplay(v));
    static const char* const kTokenTypes[] = {"str", "int", "float", "bool"};
    m.tokenType = kTokenTypes[static_cast<int>(g_.tokenType)];
    m.causal = g_.causal;
    // Lookups of long programs need float64 (lowerLookup says why); nothing else does.
    const bool float64 = !float64Reason_.empty();
    m.floatType = float64 ? "float64" : "float32";
    m.version = RASPC_VERSION;
    m.source = options_.sourceName;

    m.tokenEmbedding = rt::Matrix(static_cast<int>(options_.vocab.size()) + 1, d);
    for (size_t i = 0; i < options_.vocab.size(); ++i) {
        m.tokenEmbedding.at(static_cast<int>(i), kOne) = 1.0f;
        int dim = phys[static_cast<size_t>(tokenDims_[i])];
        if (dim >= 0) m.tokenEmbedding.at(static_cast<int>(i), dim) = 1.0f;
    }
    m.tokenEmbedding.at(static_cast<int>(options_.vocab.size()), kBos) = 1.0f;
    if (longInputs()) {
        m.positionEmbedding = rt::Matrix(0, d);
        m.positionPowers = rt::Matrix(static_cast<int>(indexPowerDims_.size()), d);
        for (size_t e = 0; e < indexPowerDims_.size(); ++e) {
            int dim = phys[static_cast<size_t>(indexPowerDims_[e])];
            if (dim >= 0) m.positionPowers.at(static_cast<int>(e), dim) = 1.0;
        }
    } else {
        m.positionEmbedding = rt::Matrix(options_.maxLen + 1, d);
        for (int p = 0; p < options_.maxLen; ++p) {
            int dim = phys[static_cast<size_t>(indexDims_[static_cast<size_t>(p)])];
            if (dim >= 0) m.positionEmbedding.at(p + 1, dim) = 1.0f;
        }
        for (const auto& [column, values] : positionColumns_) {
            int dim = phys[static_cast<size_t>(column)];
            for (int p = 0; dim >= 0 && p < options_.maxLen; ++p)
                m.positionEmbedding.at(p + 1, dim) = values[static_cast<size_t>(p)];
        }
    }

    // Sums in double, rounds once: large opposite terms (gates, BOS fixes) cancel exactly.
    auto dense = [&](const std::vector<Entry>& entries, int rows, int cols) {
        std::vector<double> acc(static_cast<size_t>(rows) * static_cast<size_t>(cols), 0.0);
        for (const Entry& e : entries) acc[static_cast<size_t>(e.row) * cols + e.col] += e.value;
        rt::Matrix mat(rows, cols);
        for (size_t i = 0; i < acc.size(); ++i) {
            mat.data[i] = float64 ? acc[i] : static_cast<double>(static_cast<float>(acc[i]));
            if (!std::isfinite(mat.data[i])) {
                throw InternalError("lowering produced a weight that is not finite in " +
                                    m.floatType);
            }
        }
        return mat;
    };

    m.layers.resize(static_cast<size_t>(layers));
    for (const HeadPlan& h : heads_) {
        rt::Head head;
        head.label = h.label;
        HeadPlan ph = h;
        remap(ph.q, true);
        remap(ph.k, true);
        remap(ph.v, true);
        remap(ph.o, false);
        head.wq = dense(ph.q, d, h.dk);
        head.wk = dense(ph.k, d, h.dk);
        head.wv = dense(ph.v, d, h.dv);
        head.wo = dense(ph.o, h.dv, d);
        head.hard = h.hard;
        head.mask = h.mask;
        m.layers[static_cast<size_t>(h.layer)].heads.push_back(std::move(head));
        if (report) report->heads.push_back({h.layer, h.label, h.dk, h.dv});
    }
    for (int l = 0; l < layers; ++l) {
        std::vector<Entry> w1, w2;
        int hidden = 0;
        rt::Mlp& mlp = m.layers[static_cast<size_t>(l)].mlp;
        for (const BlockPlan& b : blocks_) {
            if (b.layer != l) continue;
            for (const Unit& u : b.units) {
                emitColumn(w1, hidden, u.in, u.atBos.value_or(-kBosSilence));
                for (const Term& t : u.out) w2.push_back({hidden, t.dim, t.coeff});
                ++hidden;
            }
            mlp.labels.push_back(b.label);
            if (report) report->blocks.push_back({l, b.label, static_cast<int>(b.units.size())});
        }
        remap(w1, true);
        remap(w2, false);
        mlp.w1 = dense(w1, d, hidden);
        mlp.w2 = dense(w2, hidden, d);
    }

    // The readout of an output held as one number (cols[0]).
    auto numberReadout = [&](const Repr& r) {
        rt::Matrix readout(d, 1);
        for (const Term& t : r.cols[0]) {
            readout.at(phys[static_cast<size_t>(t.dim)], 0) += static_cast<float>(t.coeff);
        }
        return readout;
    };
    for (size_t i = 0; i < outs.size(); ++i) {
        const Repr& r = *outs[i];
        const Node& n = g_[options_.outputs[i]];
        rt::Output o;
        o.name = options_.outputNames.at(i);
        if (r.numerical) {
            o.kind = rt::OutputKind::Numerical;
            if (!r.set.bounded && r.set.rangeKnown && r.set.integral) {
                // Too many values for a table, but all whole: decoded by rounding.
                o.readout = numberReadout(r);
                o.tolerance = 0.25;
                o.valueType = "int";
                const double exact = float64 ? 0x1p50 : 0x1p22;
                if (std::max(std::abs(r.set.lo), std::abs(r.set.hi)) > exact) {
                    fail(n, "output '" + o.name + "' ranges over whole numbers too large for " +
                                m.floatType + " to keep exact");
                }
                m.outputs.push_back(std::move(o));
                continue;
            }
            if (!r.set.bounded || r.set.values.empty()) {
                // round() cannot help a long program: it would be a table of those values.
                const bool isLong = options_.maxLen > kLongInputLength;
                fail(n, "output '" + o.name +
                            "' is numerical with too many possible values to decode exactly; " +
                            (isLong ? "with max_len above " + std::to_string(kLongInputLength) +
                                          " an output of numbers must be whole numbers of "
                                          "known range (a mean of several values is not), or "
                                          "lower max_len"
                                    : std::string("lower max_len or the alphabet, or output an "
                                                  "s-op of fewer values")));
            }
            o.readout = numberReadout(r);
            // Values equal up to rounding noise share one entry (the interpreter may print
            // either; they are one number). The set keeps booleans apart from numbers, so
            // order all by value first; a boolean and a number of one value cannot share one,
            // as the interpreter shows them differently.
            std::vector<Value> byValue = r.set.values;
            std::stable_sort(byValue.begin(), byValue.end(), [](const Value& a, const Value& b) {
                return a.toDouble() < b.toDouble();
            });
            std::optional<Value> last;
            for (const Value& v : byValue) {
                if (last && nearlyEqual(last->toDouble(), v.toDouble())) {
                    if (last->isBool() != v.isBool()) {
                        fail(n, "output '" + o.name + "' may be " + toDisplay(*last) + " or " +
                                    toDisplay(v) +
                                    ", one number the model cannot show two ways; "
                                    "aggregate numbers, not booleans (indicator(...) of a "
                                    "condition is 1 or 0)");
                    }
                    continue;
                }
                last = v;
                o.table.push_back(toDisplay(v));
                o.numbers.push_back(v.toDouble());
            }
            double gap = std::numeric_limits<double>::infinity();
            double magnitude = 1.0;
            for (size_t j = 0; j + 1 < o.numbers.size(); ++j) {
                gap = std::min(gap, o.numbers[j + 1] - o.numbers[j]);
                magnitude =
                    std::max({magnitude, std::abs(o.numbers[j]), std::abs(o.numbers[j + 1])});
            }
            if (std::isfinite(gap) && gap < kFloat32Resolution * magnitude) {
                auto shown = [](double x) {
                    std::ostringstream text;
                    text << std::setprecision(4) << x;
                    return text.str();
                };
                fail(n, "output '" + o.name + "' takes values only " + shown(gap) +
                            " apart among values up to " + shown(magnitude) +
                            ", too close to tell apart in float32 (about 7 digits); output a "
                            "coarser s-op (round() of it, say), or lower max_len");
            }
            o.tolerance = std::isfinite(gap) ? gap * 0.45 : 0.5;
            o.valueType = valueTypeOf(r.set.values);
        } else if (r.coded) {
            // The index of the value in the table, as a number.
            o.kind = rt::OutputKind::Numerical;
            o.readout = numberReadout(r);
            for (size_t j = 0; j < r.values.size(); ++j) {
                o.table.push_back(toDisplay(r.values[j]));
                o.numbers.push_back(static_cast<double>(j));
            }
            o.tolerance = 0.45;
            o.valueType = valueTypeOf(r.values);
            o.textEntries = textEntries(r.values);
        } else {
            o.kind = rt::OutputKind::Categorical;
            o.readout = rt::Matrix(d, static_cast<int>(r.values.size()));
            for (size_t j = 0; j < r.values.size(); ++j) {
                for (const Term& t : r.cols[j]) {
                    o.readout.at(phys[static_cast<size_t>(t.dim)], static_cast<int>(j)) +=
                        static_cast<float>(t.coeff);
                }
                o.table.push_back(toDisplay(r.values[j]));
            }
            o.valueType = valueTypeOf(r.values);
            o.textEntries = textEntries(r.values);
        }
        m.outputs.push_back(std::move(o));
    }
    if (averageCheckDim_ >= 0) {
        m.averageCheck.readout = rt::Matrix(d, 1);
        m.averageCheck.readout.at(phys[static_cast<size_t>(averageCheckDim_)], 0) = 1.0;
        m.averageCheck.sources = averageChecks_;
    }

    if (report) {
        report->floatReason = float64Reason_;
        report->layers = layers;
        report->width = d;
        report->virtualWidth = static_cast<int>(bos_.size());
        reportPlacements(*report, layers);
        for (size_t id = 0; id < g_.nodes.size(); ++id) {
            const std::string& why = sets_[id].raises;
            if (why.empty() || !reprs_[id]) continue;
            report->warnings.push_back(
                {g_.nodes[id].loc, "this can raise: " + why +
                                       "; the interpreter fails on inputs that reach it, where "
                                       "the model gives an arbitrary value"});
        }
        // The interpreter refuses an s-op whose positions mix strings with other values. An
        // output's decoding refuses it too; inside the model nothing can tell.
        for (size_t id = 0; id < g_.nodes.size(); ++id) {
            if (!reprs_[id] || reprs_[id]->isConstant) continue;
            if (std::find(options_.outputs.begin(), options_.outputs.end(),
                          static_cast<NodeId>(id)) != options_.outputs.end()) {
                continue;
            }
            const std::vector<Value>& values = sets_[id].values;
            const auto text = std::find_if(values.begin(), values.end(),
                                           [](const Value& v) { return v.isString(); });
            const auto other = std::find_if(values.begin(), values.end(),
                                            [](const Value& v) { return !v.isString(); });
            if (text == values.end() || other == values.end()) continue;
            report->warnings.push_back(
                {g_.nodes[id].loc, "this may mix strings with other values (" + toDisplay(*text) +
                                       " and " + toDisplay(*other) +
                                       "): the interpreter fails on inputs where it does, "
                                       "where the model gives a value (a string default for "
                                       "an aggregate of strings avoids it)"});
        }
        for (auto& p : report->placements) {
            std::vector<int> dims;
            for (int dim : p.dims) {
                if (phys[static_cast<size_t>(dim)] >= 0)
                    dims.push_back(phys[static_cast<size_t>(dim)]);
            }
            p.dims = std::move(dims);
        }
    }
    return m;
}

}  // namespace lowering

PassOptions passOptions(const Graph& g, const CompileOptions& options) {
    PassOptions passes;
    passes.optLevel = options.optLevel;
    passes.domain = Domain{options.vocab, options.maxLen, g.causal};
    return passes;
}

rt::Model lower(const Graph& program, const CompileOptions& options, CompileReport* report) {
    if (options.vocab.empty()) {
        throw UserError("the program has no alphabet: add `vocab ...;` or pass --vocab");
    }
    if (options.maxLen <= 0) {
        throw UserError("the program has no maximum length: add `max_len N;` or pass --max-len");
    }
    // 1/(w+1) for neighbouring widths must stay apart in float32 (kFloat32Resolution).
    // Checked before any analysis, which would take long at such lengths.
    constexpr int kMaxWidthLength = 300;
    if (options.maxLen > kMaxWidthLength) {
        // `length` is one node for the whole program, made without a location: an error about
        // it points at the first expression (from the outputs down) that reads it.
        std::vector<bool> needed(program.nodes.size(), false);
        std::vector<SourceLoc> readBy(program.nodes.size());
        for (NodeId out : options.outputs) needed[static_cast<size_t>(out)] = true;
        for (size_t id = program.nodes.size(); id-- > 0;) {
            if (!needed[id]) continue;
            const Node& n = program.nodes[id];
            SourceLoc at = n.loc.line > 0 ? n.loc : readBy[id];
            if (n.kind == OpKind::SelectorWidth || n.kind == OpKind::Length) {
                if (at.line <= 0) at = SourceLoc{options.sourceName, 0, 0};
                const std::string what = n.kind == OpKind::Length ? "length" : "selector_width";
                if (options.maxLen > kLongInputLength) {
                    throw UserError(at, what + " cannot compile with max_len " +
                                            std::to_string(options.maxLen) + " (above " +
                                            std::to_string(kLongInputLength) +
                                            ", the long-trace scheme): reading a width back "
                                            "needs a threshold for every width up to max_len" +
                                            (n.kind == OpKind::Length && program.causal
                                                 ? "; in a causal program, indices + 1 is the "
                                                   "length of the prefix"
                                                 : ""));
                }
                throw UserError(at, what + " compiles up to max_len " +
                                        std::to_string(kMaxWidthLength) + ", not " +
                                        std::to_string(options.maxLen) +
                                        ": past that, 1/(w+1) of neighbouring widths are too "
                                        "close to tell apart in float32; lower max_len");
            }
            for (NodeId op : n.operands) {
                needed[static_cast<size_t>(op)] = true;
                if (readBy[static_cast<size_t>(op)].line <= 0) readBy[static_cast<size_t>(op)] = at;
            }
        }
    }
    CompileOptions lowered = options;
    Graph g = optimize(program, lowered.outputs, passOptions(program, options));

    lowering::Lowering lowering(g, lowered);
    CompileReport oneHotReport;
    rt::Model oneHot = lowering.run(report ? &oneHotReport : nullptr);

    // Equality selects against a function of the position can compare numbers (a code and its
    // square in the position table) instead of one-hots (lower_equality.cpp). That saves the
    // position one-hot only where nothing else reads it, and costs up to two columns: so the
    // program is compiled both ways and keeps the narrower model, never one with more layers
    // (an equal width keeps the one-hot way). A program the second way cannot compile keeps
    // the first.
    auto comparesPositions = [&] {
        for (const Node& n : g.nodes) {
            if (n.kind == OpKind::Select && n.cmp == Cmp::Eq) return true;
        }
        return false;
    };
    if (options.maxLen <= kLongInputLength && comparesPositions()) {
        try {
            lowering::Lowering numeric(g, lowered, true);
            CompileReport numericReport;
            rt::Model model = numeric.run(report ? &numericReport : nullptr);
            if (model.width < oneHot.width && model.layers.size() <= oneHot.layers.size()) {
                debugLine("equality", "position columns: width " + std::to_string(model.width) +
                                          ", one-hot positions " + std::to_string(oneHot.width));
                if (report) *report = std::move(numericReport);
                return model;
            }
        } catch (const UserError&) {
            debugLine("equality", "position columns do not compile; one-hot positions kept");
        }
    }
    if (report) *report = std::move(oneHotReport);
    return oneHot;
}

}  // namespace raspc
