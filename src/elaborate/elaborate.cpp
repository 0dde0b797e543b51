// The elaborator's entry points: parse, then run the program on a fresh Elaborator.
#include "elaborate/elaborate.h"

#include "elaborate/elaborator.h"
#include "frontend/parser.h"

namespace raspc {

Graph loadProgram(const std::string& path, const LoadOptions& opts) {
    return elab::Elaborator(opts).run(parseFile(path));
}

Graph loadProgramText(std::string_view text, const std::string& fileName, const LoadOptions& opts) {
    return elab::Elaborator(opts).run(parseString(text, fileName));
}

}  // namespace raspc
