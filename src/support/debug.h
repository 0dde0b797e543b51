// Per-pass debug output: RASPC_DEBUG=<pass>[,<pass>...] (or "all") prints what passes did.
#pragma once

#include <string>
#include <string_view>

namespace raspc {

/// True when the RASPC_DEBUG environment variable names `pass` or is "all".
bool debugEnabled(std::string_view pass);

/// Writes "[pass] text" to stderr when debugEnabled(pass).
void debugLine(std::string_view pass, const std::string& text);

}  // namespace raspc
