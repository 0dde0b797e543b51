// Golden diagnostics: each golden/NAME.rasp must fail with exactly the text in NAME.expected
// (file:line:col, the source line and the caret, as printed). RASPC_UPDATE_GOLDEN=1 rewrites
// the expected files instead of comparing.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "elaborate/elaborate.h"

namespace raspc {
namespace {

namespace fs = std::filesystem;

std::string readText(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Restores the working directory when a test leaves.
struct WorkingDirectory {
    fs::path saved = fs::current_path();
    explicit WorkingDirectory(const fs::path& p) { fs::current_path(p); }
    ~WorkingDirectory() { fs::current_path(saved); }
};

TEST_CASE("golden diagnostics") {
    // Run from the golden directory, so that diagnostics name files as the .expected do.
    WorkingDirectory cwd(RASPC_FRONTEND_GOLDEN_DIR);
    bool update = std::getenv("RASPC_UPDATE_GOLDEN") != nullptr;

    std::vector<fs::path> cases;
    for (const fs::directory_entry& entry : fs::directory_iterator(".")) {
        if (entry.path().extension() == ".rasp") cases.push_back(entry.path().filename());
    }
    std::sort(cases.begin(), cases.end());
    CHECK(cases.size() >= 5);

    for (const fs::path& source : cases) {
        CAPTURE(source.string());
        std::string actual = "no error\n";
        try {
            loadProgram(source.string(), LoadOptions{});
        } catch (const UserError& e) {
            actual.clear();
            for (const Diagnostic& d : e.diagnostics()) {
                actual += formatDiagnostic(d.loc, "error", d.message);
            }
        }
        fs::path expected = fs::path(source).replace_extension(".expected");
        if (update) {
            std::ofstream(expected, std::ios::binary) << actual;
            continue;
        }
        REQUIRE_MESSAGE(fs::exists(expected), "missing " << expected.string());
        CHECK(actual == readText(expected));
    }
}

}  // namespace
}  // namespace raspc
