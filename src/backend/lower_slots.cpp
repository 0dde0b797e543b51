// Residual slots after lowering: reuse of dead slots' dimensions, and where each s-op lives.
#include "backend/lowering.h"

namespace raspc::lowering {

namespace {

/// The label of the MLP blocks that erase dead slots: they read a slot only to clear it.
constexpr const char* kEraserLabel = "free dead slots";

}  // namespace

/// Maps every virtual dimension to a residual dimension, reusing the dimensions of slots no
/// one reads any more (greedy interval colouring in order of writing). A reused dimension is
/// first erased by two MLP units (relu(x) and relu(-x), written back negated), in the first
/// MLP after its last read, BOS included, so the next occupant starts from zero everywhere.
std::vector<int> Lowering::reuseSlots(int layers) {
    const size_t count = bos_.size();
    constexpr int kNever = -1;
    const int kForever = 2 * layers + 3;  // read by an output
    std::vector<int> written(count, kNever), lastRead(count, kNever);
    for (int d : tokenDims_) written[static_cast<size_t>(d)] = 0;
    for (int d : indexDims_) written[static_cast<size_t>(d)] = 0;
    for (int d : indexPowerDims_) written[static_cast<size_t>(d)] = 0;
    for (const auto& column : positionColumns_) written[static_cast<size_t>(column.first)] = 0;
    auto read = [&](int dim, int at) {
        int& r = lastRead[static_cast<size_t>(dim)];
        r = std::max(r, at);
    };
    // The first write counts (the average check's dimension has several writers).
    auto write = [&](int dim, int at) {
        int& w = written[static_cast<size_t>(dim)];
        w = w == kNever ? at : std::min(w, at);
    };
    for (const HeadPlan& h : heads_) {
        for (const auto* m : {&h.q, &h.k, &h.v}) {
            for (const Entry& e : *m) {
                if (e.value != 0.0) read(e.row, 2 * h.layer + 1);
            }
        }
        for (const Entry& e : h.o) write(e.col, 2 * h.layer + 1);
    }
    for (const BlockPlan& b : blocks_) {
        for (const Unit& u : b.units) {
            for (const Term& t : u.in) read(t.dim, 2 * b.layer + 2);
            for (const Term& t : u.out) write(t.dim, 2 * b.layer + 2);
        }
    }
    if (averageCheckDim_ >= 0) read(averageCheckDim_, kForever);
    for (NodeId id : options_.outputs) {
        for (const Form& f : reprs_[static_cast<size_t>(id)]->cols) {
            for (const Term& t : f) read(t.dim, kForever);
        }
    }

    std::vector<int> order;
    for (size_t v = 2; v < count; ++v) {
        if (written[v] != kNever) order.push_back(static_cast<int>(v));
    }
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        return written[static_cast<size_t>(a)] < written[static_cast<size_t>(b)];
    });

    std::vector<int> phys(count);
    phys[kOne] = kOne;
    phys[kBos] = kBos;
    struct Occupied {
        int dim;       // residual dimension
        int occupant;  // virtual dimension living there
        int freeAt;    // sublayer of the MLP that erases it (kForever: never)
    };
    std::vector<Occupied> slots;
    std::map<int, BlockPlan> erasers;  // per layer
    int next = 2;
    for (int v : order) {
        const size_t vi = static_cast<size_t>(v);
        // A token or position no one reads needs no dimension at all.
        if (written[vi] == 0 && lastRead[vi] == kNever) {
            phys[vi] = -1;
            continue;
        }
        auto free = std::find_if(slots.begin(), slots.end(),
                                 [&](const Occupied& o) { return o.freeAt < written[vi]; });
        if (free == slots.end()) {
            phys[vi] = next;
            slots.push_back({next++, v, 0});
            free = slots.end() - 1;
        } else {
            // Erase the previous occupant where it was last needed.
            int u = free->occupant;
            int eraseLayer = (free->freeAt - 2) / 2;
            BlockPlan& eraser = erasers[eraseLayer];
            double b = bos_[static_cast<size_t>(u)];
            eraser.units.push_back({{{u, 1.0}}, {{u, -1.0}}, b});
            eraser.units.push_back({{{u, -1.0}}, {{u, 1.0}}, -b});
            phys[vi] = free->dim;
            free->occupant = v;
        }
        // Free once read for the last time, and never in the sublayer that writes it.
        int last = std::max(lastRead[vi], written[vi] + 1);
        int eraseLayer = (last - 1) / 2;
        free->freeAt =
            lastRead[vi] >= kForever || eraseLayer >= layers ? kForever : 2 * eraseLayer + 2;
    }
    for (auto& [layer, eraser] : erasers) {
        eraser.layer = layer;
        eraser.label = kEraserLabel;
        blocks_.push_back(std::move(eraser));
    }
    return phys;
}

void Lowering::reportPlacements(CompileReport& report, int layers) const {
    // The s-op operands of a node, looking through selectors to what they compare.
    std::function<void(NodeId, std::vector<NodeId>&)> sopOperands = [&](NodeId id,
                                                                        std::vector<NodeId>& out) {
        for (NodeId op : g_[id].operands) {
            if (g_[op].isSelector()) {
                sopOperands(op, out);
            } else if (std::find(out.begin(), out.end(), op) == out.end()) {
                out.push_back(op);
            }
        }
    };
    std::map<NodeId, size_t> index;
    for (size_t id = 0; id < reprs_.size(); ++id) {
        const auto& r = reprs_[id];
        if (!r) continue;
        const Node& n = g_[static_cast<NodeId>(id)];
        CompileReport::Placement p;
        p.node = static_cast<NodeId>(id);
        p.name = n.name.empty() ? std::string(toString(n.kind)) : n.name;
        p.kind = std::string(toString(n.kind));
        p.loc = n.loc;
        if (r->isConstant) {
            p.where = "constant";
        } else if (n.kind == OpKind::Tokens || n.kind == OpKind::Indices) {
            p.where = "embedding";
        } else if (!r->materialized) {
            p.where = "folded";
        } else {
            p.where = r->ready % 2 == 1 ? "attention" : "mlp";
        }
        p.layer = r->ready == 0 ? 0 : (r->ready - 1) / 2;
        if (r->materialized || p.where == "embedding") {
            for (const Form& f : r->cols) {
                for (const Term& t : f) p.dims.push_back(t.dim);
            }
        }
        sopOperands(p.node, p.operands);
        index[p.node] = report.placements.size();
        report.placements.push_back(std::move(p));
    }
    // Last reads, from the weights: the last layer whose heads or MLP blocks read one of an
    // s-op's dimensions (a lookup's default MLP, a fused map chain read s-ops the graph's
    // edges do not show), and the readout after the last layer.
    std::map<int, int> dimRead;
    auto read = [&](int dim, int layer) {
        auto [it, fresh] = dimRead.emplace(dim, layer);
        if (!fresh) it->second = std::max(it->second, layer);
    };
    for (const HeadPlan& h : heads_) {
        for (const auto* m : {&h.q, &h.k, &h.v}) {
            for (const Entry& e : *m) {
                if (e.value != 0.0) read(e.row, h.layer);
            }
        }
    }
    for (const BlockPlan& b : blocks_) {
        if (b.label == kEraserLabel) continue;
        for (const Unit& u : b.units) {
            for (const Term& t : u.in) {
                if (t.coeff != 0.0) read(t.dim, b.layer);
            }
        }
    }
    for (NodeId id : options_.outputs) {
        for (const Form& f : reprs_[static_cast<size_t>(id)]->cols) {
            for (const Term& t : f) read(t.dim, layers - 1);
        }
    }
    for (CompileReport::Placement& p : report.placements) {
        for (int dim : p.dims) {
            if (auto it = dimRead.find(dim); it != dimRead.end())
                p.lastRead = std::max(p.lastRead, it->second);
        }
    }

    // Then the graph, users before operands: a folded s-op is read wherever its readers are.
    for (NodeId out : options_.outputs) report.placements[index.at(out)].lastRead = layers - 1;
    for (auto it = report.placements.rbegin(); it != report.placements.rend(); ++it) {
        int readAt = it->where == "folded" ? it->lastRead : it->layer;
        for (NodeId op : it->operands) {
            auto found = index.find(op);
            if (found == index.end()) continue;
            int& last = report.placements[found->second].lastRead;
            last = std::max(last, readAt);
        }
    }
}

}  // namespace raspc::lowering
