// The reference interpreter: evaluates an s-op graph on one input. Every compiled model is
// checked against it, so it follows RASP's semantics (LANGUAGE.md, the REPL) literally.
#pragma once

#include <span>
#include <vector>

#include "ir/graph.h"

namespace raspc {

/// Values of the `wanted` nodes on one input (one atom per position), in the order asked.
/// Only the nodes the wanted ones depend on are evaluated, each once.
///
/// A causal graph (g.causal) is evaluated as a causally masked model computes it: every
/// selector also requires key index <= query index, and `length` at position q is q + 1, so
/// each position's values depend on the input up to that position alone.
///
/// Throws UserError at a node's location when the program fails on this input (a map raising,
/// a mean over several non-numbers, an s-op mixing strings and numbers), and InternalError
/// when a wanted node is a selector or the graph is malformed.
std::vector<std::vector<Value>> interpret(const Graph& g, std::span<const Value> input,
                                          std::span<const NodeId> wanted);

/// The matrix of one selector node on one input: result[q][k] says whether query position q
/// selects key position k (causal masking included), for printing selectors as the REPL does.
std::vector<std::vector<bool>> interpretSelector(const Graph& g, std::span<const Value> input,
                                                 NodeId selector);

}  // namespace raspc
