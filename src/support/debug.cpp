#include "support/debug.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <iostream>

namespace raspc {

namespace {

// The passes that print with debugLine.
constexpr std::array<std::string_view, 8> kPasses = {"cse",         "dead_code",    "equality",
                                                     "first_share", "fold_sources", "fuse",
                                                     "split_width", "value_sets"};

// Says once which names of RASPC_DEBUG name no pass (a typo would print nothing).
void warnUnknown(const std::string& spec) {
    if (spec == "all") return;
    size_t start = 0;
    while (start <= spec.size()) {
        size_t end = spec.find(',', start);
        if (end == std::string::npos) end = spec.size();
        const std::string_view name = std::string_view(spec).substr(start, end - start);
        if (std::find(kPasses.begin(), kPasses.end(), name) == kPasses.end()) {
            std::cerr << "raspc: warning: RASPC_DEBUG names '" << name << "', no pass; it knows";
            for (std::string_view p : kPasses) std::cerr << " " << p;
            std::cerr << " and all\n";
        }
        start = end + 1;
    }
}

}  // namespace

bool debugEnabled(std::string_view pass) {
    static const std::string spec = [] {
        const char* env = std::getenv("RASPC_DEBUG");
        std::string s = env ? env : "";
        if (!s.empty()) warnUnknown(s);
        return s;
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
