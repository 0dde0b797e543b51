// raspc_bench_slots: where each s-op of a program lands in the residual stream, as JSON, so that
// bench/sizes.mjs can say what a model's width is spent on. `raspc compile --json` reports the
// total width only.
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "backend/lower.h"
#include "cli/driver.h"

int main(int argc, char** argv) {
    using namespace raspc;
    cli::ProgramSettings settings;
    std::string path;
    CLI::App app{"Residual slots of a compiled program, as JSON"};
    app.add_option("program", path, "The .rasp program")->required();
    app.add_option("--vocab", settings.vocab, "Alphabet, overriding the program's");
    app.add_option("--max-len", settings.maxLen, "Maximum input length, overriding the program's");
    app.add_option("--opt-level", settings.optLevel, "Middle-end optimisation level (0 or 1)");
    CLI11_PARSE(app, argc, argv);

    try {
        cli::Program p = cli::loadProgram(path, settings);
        CompileReport report;
        rt::Model m = lower(p.graph, cli::compileOptions(p), &report);
        // Numeric columns of the position table (the index and its square, for equality
        // selects compiled as numbers): no s-op's slot.
        int positionNumbers = 0;
        for (int d = 0; d < m.positionEmbedding.cols; ++d) {
            bool number = false;
            for (int r = 0; r < m.positionEmbedding.rows; ++r) {
                double v = m.positionEmbedding.at(r, d);
                number = number || (v != 0.0 && v != 1.0);
            }
            positionNumbers += number ? 1 : 0;
        }

        nlohmann::json j;
        j["width"] = report.width;
        j["layers"] = report.layers;
        j["positionNumbers"] = positionNumbers;
        j["slots"] = nlohmann::json::array();
        for (const auto& s : report.placements) {
            j["slots"].push_back({{"name", s.name}, {"kind", s.kind}, {"where", s.where},
                                  {"layer", s.layer}, {"dims", s.dims.size()},
                                  {"lastRead", s.lastRead}, {"line", s.loc.line}});
        }
        std::cout << j.dump() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "raspc_bench_slots: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
