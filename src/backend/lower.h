// Lowering: turns an elaborated s-op graph into a Model (a transformer's weights).
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"
#include "runtime/model.h"

namespace raspc {

struct CompileOptions {
    std::vector<Value> vocab;       // the alphabet, in token-id order
    int maxLen = 0;                 // longest input
    std::vector<NodeId> outputs;    // s-ops to compile, in output order
    std::vector<std::string> outputNames;
    std::string sourceName;         // recorded in the model's metadata
};

/// What the compiler built, for `raspc compile`'s report and `--json`.
struct CompileReport {
    struct Head {
        int layer = 0;
        std::string label;
        int queryKeyWidth = 0;
        int valueWidth = 0;
    };
    struct Block {
        int layer = 0;
        std::string label;
        int hidden = 0;
    };
    std::vector<Head> heads;
    std::vector<Block> blocks;
    int layers = 0;
    int width = 0;
};

/// Compiles the `outputs` of `g` into a Model whose decoded outputs equal the interpreter's on
/// every input over `vocab` up to `maxLen` tokens. Throws UserError (located at the offending
/// node) for programs it cannot compile exactly.
rt::Model lower(const Graph& g, const CompileOptions& options, CompileReport* report = nullptr);

}  // namespace raspc
