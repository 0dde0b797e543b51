// Elaboration: runs the compile-time part of a RASP program (functions, loops, lists, loads)
// and builds the s-op graph that the interpreter and the compiler start from.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ir/graph.h"

namespace raspc {

struct LoadOptions {
    /// Directories searched, in order, for `load "name";` after the loading file's own
    /// directory, and for the standard library. The build's lib/ directory is searched last.
    std::vector<std::string> libraryPath;
    /// Load the standard library (rasplib.rasp) before the program.
    bool prelude = true;
};

/// Parses and elaborates the program in the file at `path`. Throws UserError (located at the
/// offending expression) for any syntax or elaboration error.
Graph loadProgram(const std::string& path, const LoadOptions& opts);

/// Like loadProgram, for program text that diagnostics call `fileName`; `load` statements look
/// beside `fileName` first.
Graph loadProgramText(std::string_view text, const std::string& fileName, const LoadOptions& opts);

}  // namespace raspc
