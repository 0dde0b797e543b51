// Small text helpers shared by the printers.
#pragma once

#include <string>
#include <string_view>

namespace raspc {

/// `s` in double quotes, with quotes and backslashes escaped and newlines written as \n: the
/// form both the IR/AST dumps and graphviz DOT read.
inline std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

}  // namespace raspc
