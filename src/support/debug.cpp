#include "support/debug.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace raspc {

namespace {

// The passes that print with debugLine.
constexpr std::array<std::string_view, 8> kPasses = {"cse",         "dead_code",    "equality",
                                                     "first_share", "fold_sources", "fuse",
                                                     "split_width", "value_sets"};

// The names RASPC_DEBUG lists, split at commas once; a warning for each that names no pass
// (a typo would print nothing).
std::vector<std::string> selectedPasses() {
    const char* env = std::getenv("RASPC_DEBUG");
    const std::string spec = env ? env : "";
    std::vector<std::string> names;
    for (size_t start = 0; !spec.empty() && start <= spec.size();) {
        size_t end = spec.find(',', start);
        if (end == std::string::npos) end = spec.size();
        names.push_back(spec.substr(start, end - start));
        start = end + 1;
    }
    for (const std::string& name : names) {
        if (name == "all" || std::find(kPasses.begin(), kPasses.end(), name) != kPasses.end())
            continue;
        std::cerr << "raspc: warning: RASPC_DEBUG names '" << name << "', no pass; it knows";
        for (std::string_view p : kPasses) std::cerr << " " << p;
        std::cerr << " and all\n";
    }
    return names;
}

}  // namespace

bool debugEnabled(std::string_view pass) {
    static const std::vector<std::string> selected = selectedPasses();
    return std::any_of(selected.begin(), selected.end(),
                       [&](const std::string& name) { return name == "all" || name == pass; });
}

void debugLine(std::string_view pass, const std::string& text) {
    if (debugEnabled(pass)) std::cerr << "[" << pass << "] " << text << "\n";
}

}  // namespace raspc
