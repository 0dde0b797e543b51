// The s-op graph: the program after elaboration. The elaborator builds it; the interpreter,
// the middle end and the back end all read it. Nodes are stored in topological order.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ir/value.h"
#include "support/diagnostics.h"

namespace raspc {

using NodeId = int32_t;

enum class OpKind {
    Tokens,         // the input; no operands
    Indices,        // 0, 1, ..., n-1; no operands
    Length,         // n at every position; no operands
    Constant,       // `constant` at every position; no operands
    Map,            // fn(operand) per position; one s-op operand
    SequenceMap,    // fn(op0, op1, ...) per position; two or more s-op operands
    Select,         // selector: operands {keys, queries}; query q selects key k iff cmp(keys[k], queries[q])
    SelectAnd,      // selector: operands {a, b}
    SelectOr,       // selector: operands {a, b}
    SelectNot,      // selector: operands {a}
    Aggregate,      // s-op: operands {selector, values}; `constant` is the default
    SelectorWidth,  // s-op: operands {selector}; number of selected keys
    WidthInverse,   // s-op: operands {selector}; 1 / (selected keys + 1), a float. Made by the
                    // split_width pass: what one attention head reads when BOS counts as a key.
};

/// The comparison of a select, applied as cmp(key, query).
enum class Cmp { Eq, Ne, Lt, Le, Gt, Ge };

/// How an aggregate combines the selected values. Mean is RASP's own; the rest are raspc's.
enum class Reduction { Mean, Sum, Max, Min, Latest, Earliest };

/// How an s-op is represented in the residual stream.
enum class Encoding { Inferred, Categorical, Numerical };

/// A function over atoms, one per position. Throws std::domain_error on bad operands.
using MapFn = std::function<Value(std::span<const Value>)>;

/// What a map computes when it is one operator of the language. Lowering reads it to compile
/// maps of whole numbers too many to tabulate (positions in long traces) from their structure;
/// any other map is Opaque and known only through `fn`.
enum class MapOp { Opaque, Add, Sub, Mul, Neg, Eq, Ne, Lt, Le, Gt, Ge, Cond };

/// One argument of a MapOp: operand number `slot` of the node, or `atom` when slot < 0.
struct MapArg {
    int slot = -1;
    Value atom;
};

struct Node {
    OpKind kind = OpKind::Constant;
    std::vector<NodeId> operands;
    SourceLoc loc;          // the expression that built the node
    std::string name;       // the name a program bound it to last ("" if none)
    Value constant;         // Constant: the value. Aggregate: the default.
    MapFn fn;               // Map, SequenceMap
    std::string fnText;     // Map, SequenceMap: source text of the function, for printing
    MapOp op = MapOp::Opaque;     // Map, SequenceMap: the operator `fn` applies, if one
    std::vector<MapArg> opArgs;   // its arguments in order (one for Neg; condition, then,
                                  // else for Cond; two for the rest)
    Cmp cmp = Cmp::Eq;      // Select
    Reduction reduction = Reduction::Mean;  // Aggregate
    Encoding encoding = Encoding::Inferred; // s-ops: an annotation from numerical()/categorical()

    bool isSelector() const {
        return kind == OpKind::Select || kind == OpKind::SelectAnd || kind == OpKind::SelectOr ||
               kind == OpKind::SelectNot;
    }
};

/// What the input tokens are: one string per character, or a list of numbers or booleans.
enum class TokenType { String, Int, Float, Bool };

/// A whole elaborated program.
struct Graph {
    std::vector<Node> nodes;  // topological: every operand id is smaller than its user's id

    TokenType tokenType = TokenType::String;
    std::optional<std::vector<Value>> vocab;  // from `vocab ...;`, in the order written
    std::optional<int> maxLen;                // from `max_len N;`
    std::optional<std::string> exampleInput;  // from `example "...";`, shown by --help-like output
    bool causal = false;

    /// S-ops the program names, in binding order (last binding of each name wins), so the
    /// command line can ask for `--output a,b`.
    std::vector<std::pair<std::string, NodeId>> named;
    /// The default output: the last s-op the main file evaluated or assigned.
    std::optional<NodeId> lastSop;

    NodeId add(Node n) {
        nodes.push_back(std::move(n));
        return static_cast<NodeId>(nodes.size() - 1);
    }
    const Node& operator[](NodeId id) const { return nodes[static_cast<size_t>(id)]; }
    Node& operator[](NodeId id) { return nodes[static_cast<size_t>(id)]; }
};

std::string_view toString(OpKind k);
std::string_view toString(Cmp c);
std::string_view toString(Reduction r);
/// Applies a select comparison to (key, query) atoms.
bool compare(Cmp c, const Value& key, const Value& query);

}  // namespace raspc
