// The syntax tree as indented text, for `raspc compile --emit=ast`.
#pragma once

#include <iosfwd>

#include "frontend/ast.h"

namespace raspc {

/// Prints `program` one node a line, children indented under their parent and prefixed by
/// their role where it is not obvious (`keys:`, `cond:`), each line ending with `@line:col`.
void printAst(std::ostream& out, const ast::Program& program);

}  // namespace raspc
