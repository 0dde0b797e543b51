// The names every program starts with: the primitives (tokens, indices, length), True and
// False, and the built-in functions (aggregate, selector_width, round, range, ...).
#pragma once

#include <memory>

#include "elaborate/values.h"

namespace raspc::elab {

/// A fresh outermost scope holding the built-in names. Files run in scopes nested in it, so a
/// program may shadow any of them.
std::shared_ptr<Env> makeBuiltinScope();

}  // namespace raspc::elab
