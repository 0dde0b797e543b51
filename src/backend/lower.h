// Lowering: turns an elaborated s-op graph into a Model (a transformer's weights).
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"
#include "passes/pipeline.h"
#include "runtime/model.h"

namespace raspc {

struct CompileOptions {
    std::vector<Value> vocab;     // the alphabet, in token-id order
    int maxLen = 0;               // longest input
    std::vector<NodeId> outputs;  // s-ops to compile, in output order
    std::vector<std::string> outputNames;
    std::string sourceName;  // recorded in the model's metadata
    int optLevel = 1;        // 0: no folding, fusing or merging (for comparison)
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
    /// Where one s-op of the program ended up.
    struct Placement {
        NodeId node = 0;
        std::string name;  // the program's name for it, or its kind
        std::string kind;  // OpKind name
        SourceLoc loc;
        std::string where;      // "embedding", "attention", "mlp", "folded" (read through
                                // its operands, no slot of its own) or "constant"
        int layer = 0;          // the layer that computes it (0 for embedding/constant)
        std::vector<int> dims;  // residual dimensions of its own slot (empty if folded)
        int lastRead = -1;      // last layer that reads it (layers - 1 for outputs), -1 never
        std::vector<NodeId> operands;  // s-op operands, selectors looked through
    };
    std::vector<Head> heads;
    std::vector<Block> blocks;
    std::vector<Placement> placements;  // in graph order, only s-ops the outputs need
    /// Things the user should know that do not stop compilation (e.g. a map that raises on
    /// some values: inputs reaching them fail in the interpreter, and the model gives an
    /// arbitrary value there).
    std::vector<Diagnostic> warnings;
    int layers = 0;
    int width = 0;         // residual dimensions of the model
    int virtualWidth = 0;  // dimensions before dead slots were reused
    std::string floatReason;  // why the model needs the float type it has ("" for float32)
};

/// The middle end's settings for compiling `g` with `options` (what lower() runs, for tools
/// that want to show the optimised graph).
PassOptions passOptions(const Graph& g, const CompileOptions& options);

/// Runs the middle end (passes/pipeline.h) and compiles the `outputs` of `g` into a Model whose
/// decoded outputs equal the interpreter's on every input over `vocab` up to `maxLen` tokens.
/// Throws UserError (located at the offending node) for programs it cannot compile exactly.
rt::Model lower(const Graph& g, const CompileOptions& options, CompileReport* report = nullptr);

}  // namespace raspc
