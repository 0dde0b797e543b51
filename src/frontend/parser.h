// Parsing RASP source into the AST. The only entry points to the generated ANTLR parser.
#pragma once

#include <string>
#include <string_view>

#include "frontend/ast.h"

namespace raspc {

/// Reads and parses the file at `path`; diagnostics name the file as `path`. Throws UserError
/// holding every syntax error found (the parser recovers and keeps going where it can), or one
/// error without a location when the file cannot be read.
ast::Program parseFile(const std::string& path);

/// Parses `text` as if it were the file `fileName`. Registers the text with the diagnostics
/// printer so that errors can quote it. Throws UserError like parseFile.
ast::Program parseString(std::string_view text, const std::string& fileName);

}  // namespace raspc
