// Source locations, user-facing errors, and how they are printed.
#pragma once

#include <iosfwd>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace raspc {

/// A point in a program file. Lines and columns are 1-based; line 0 means "no location".
struct SourceLoc {
    std::string file;
    int line = 0;
    int col = 0;
};

struct Diagnostic {
    SourceLoc loc;
    std::string message;
};

/// One or more mistakes in the user's program or input. Thrown by any stage; the driver prints
/// each as `file:line:col: error: message`, the source line and a caret, and exits 1.
/// Internal compiler bugs are not UserErrors: they throw InternalError (exit 3).
class UserError : public std::runtime_error {
public:
    UserError(SourceLoc loc, const std::string& message);
    explicit UserError(const std::string& message);
    explicit UserError(std::vector<Diagnostic> diagnostics);

    const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
    const SourceLoc& loc() const { return diagnostics_.front().loc; }

private:
    std::vector<Diagnostic> diagnostics_;
};

/// A broken invariant inside raspc itself (never the user's fault).
class InternalError : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

/// Remembers the text of every file the front end read, so diagnostics can quote lines.
void registerSource(const std::string& file, std::string text);

/// `file:line:col: <severity>: message`, then the source line and a caret under the column
/// when the file's text is known. No location: `raspc: <severity>: message`.
std::string formatDiagnostic(const SourceLoc& loc, std::string_view severity,
                             std::string_view message);

/// Prints every diagnostic of `e` to `out`.
void printUserError(std::ostream& out, const UserError& e);

}  // namespace raspc
