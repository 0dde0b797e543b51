#include "support/diagnostics.h"

#include <map>
#include <mutex>
#include <ostream>
#include <sstream>

namespace raspc {

namespace {

std::mutex& sourcesMutex() {
    static std::mutex m;
    return m;
}

std::map<std::string, std::string>& sources() {
    static std::map<std::string, std::string> s;
    return s;
}

std::string sourceLine(const std::string& file, int line) {
    std::lock_guard lock(sourcesMutex());
    auto it = sources().find(file);
    if (it == sources().end() || line <= 0) return {};
    std::istringstream in(it->second);
    std::string text;
    for (int i = 0; i < line; ++i) {
        if (!std::getline(in, text)) return {};
    }
    if (!text.empty() && text.back() == '\r') text.pop_back();
    return text;
}

}  // namespace

UserError::UserError(SourceLoc loc, const std::string& message)
    : std::runtime_error(message), diagnostics_{{std::move(loc), message}} {}

UserError::UserError(const std::string& message)
    : std::runtime_error(message), diagnostics_{{SourceLoc{}, message}} {}

UserError::UserError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(diagnostics.empty() ? "error" : diagnostics.front().message),
      diagnostics_(std::move(diagnostics)) {
    if (diagnostics_.empty()) diagnostics_.push_back({SourceLoc{}, "error"});
}

void registerSource(const std::string& file, std::string text) {
    std::lock_guard lock(sourcesMutex());
    sources()[file] = std::move(text);
}

std::string formatDiagnostic(const SourceLoc& loc, std::string_view severity,
                             std::string_view message) {
    std::ostringstream out;
    if (loc.file.empty()) {
        out << "raspc: " << severity << ": " << message << "\n";
        return out.str();
    }
    out << loc.file;
    if (loc.line > 0) out << ":" << loc.line << ":" << loc.col;
    out << ": " << severity << ": " << message << "\n";

    std::string text = sourceLine(loc.file, loc.line);
    if (!text.empty()) {
        out << "    " << text << "\n    ";
        // Keep tabs so the caret lines up under the same column in a terminal.
        for (int i = 0; i + 1 < loc.col && i < static_cast<int>(text.size()); ++i) {
            out << (text[static_cast<size_t>(i)] == '\t' ? '\t' : ' ');
        }
        out << "^\n";
    }
    return out.str();
}

void printUserError(std::ostream& out, const UserError& e) {
    for (const Diagnostic& d : e.diagnostics()) out << formatDiagnostic(d.loc, "error", d.message);
}

}  // namespace raspc
