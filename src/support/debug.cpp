#include "support/debug.h"

#include <cstdlib>
#include <iostream>

namespace raspc {

bool debugEnabled(std::string_view pass) {
    static const std::string spec = [] {
        const char* env = std::getenv("RASPC_DEBUG");
        return std::string(env ? env : "");
    }();
    if (spec.empty()) return false;
    if (spec == "all") return true;
    size_t start = 0;
    while (start <= spec.size()) {
        size_t end = spec.find(',', start);
        if (end == std::string::npos) end = spec.size();
        if (std::string_view(spec).substr(start, end - start) == pass) return true;
        start = end + 1;
    }
    return false;
}

void debugLine(std::string_view pass, const std::string& text) {
    if (debugEnabled(pass)) std::cerr << "[" << pass << "] " << text << "\n";
}

}  // namespace raspc
