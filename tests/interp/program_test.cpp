// The interpreter from program text: LANGUAGE.md's reference outputs, through the front end and
// the elaborator.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "elaborate/elaborate.h"
#include "interp/interpreter.h"
#include "test_util.h"

using namespace raspc;
using raspc::test::chars;
using raspc::test::show;

namespace {

/// Elaborates `program` and shows the s-op bound to `name` (the program's last s-op when
/// `name` is empty) on a string input.
std::string evalProgram(const std::string& program, const std::string& input,
                        const std::string& name = "") {
    Graph g = loadProgramText(program, "test.rasp", LoadOptions{});
    NodeId id = -1;
    if (name.empty()) {
        REQUIRE(g.lastSop.has_value());
        id = *g.lastSop;
    } else {
        for (const auto& [n, node] : g.named) {
            if (n == name) id = node;  // the last binding of a name wins
        }
        REQUIRE_MESSAGE(id >= 0, "no s-op named " << name);
    }
    auto tokens = chars(input);
    NodeId wanted[] = {id};
    return show(interpret(g, tokens, wanted).front());
}

// Dyck verdicts per prefix (P: could still balance, T: balanced, F: can never balance),
// written for these tests: `level` is the nesting depth after each token.
const char* kDyck1 = R"rasp(
seen = select(indices, indices, <=);
level = round((indices + 1) * (aggregate(seen, indicator(tokens == "(")) -
                               aggregate(seen, indicator(tokens == ")"))));
ever_below = aggregate(seen, indicator(level < 0)) > 0;
dyck1 = "F" if ever_below else ("T" if level == 0 else "P");
)rasp";

// A closer's partner is the latest earlier opener that reached the level just above the
// closer's own: everything between them is balanced.
const char* kDyck2 = R"rasp(
seen = select(indices, indices, <=);
opens = indicator(tokens in ["(", "{"]);
closes = indicator(tokens in [")", "}"]);
level = round((indices + 1) * (aggregate(seen, opens) - aggregate(seen, closes)));
candidates = select(level, level + 1, ==) and select(opens, 1, ==) and
             select(indices, indices, <);
partner = aggregate(candidates, tokens, "-", "latest");
pair_ok = partner + tokens in ["()", "{}"];
bad = (closes == 1) and not pair_ok;
broken = aggregate(seen, indicator(bad or level < 0)) > 0;
dyck2 = "F" if broken else ("T" if level == 0 else "P");
)rasp";

/// Verdict strings as the REPL's own test expectations list them, without separators.
std::string spaced(const std::string& letters) {
    std::string out;
    for (char c : letters) {
        if (!out.empty()) out += ' ';
        out += c;
    }
    return out;
}

}  // namespace

TEST_CASE("program: reverse") {
    const char* program = R"rasp(
opp_index = length - indices - 1;
flip = select(indices, opp_index, ==);
reverse = aggregate(flip, tokens);
)rasp";
    CHECK(evalProgram(program, "hello", "reverse") == "o l l e h");
}

TEST_CASE("program: histogram and length") {
    CHECK(evalProgram("hist = selector_width(select(tokens, tokens, ==));", "hello") ==
          "1 1 2 2 1");
    CHECK(evalProgram("length;", "hello") == "5 5 5 5 5");
    CHECK(evalProgram("hist = selector_width(select(tokens, tokens, ==));",
                      "hiya howdy doodly doo") == "2 1 3 1 3 2 5 1 4 3 3 4 5 5 4 1 3 3 4 5 5");
}

TEST_CASE("program: sort of banana") {
    CHECK(evalProgram("sorted = sort(tokens, tokens);", "banana") == "a a a b n n");
}

TEST_CASE("program: Dyck-1 and Dyck-2") {
    CHECK(evalProgram(kDyck1, "(()))(", "dyck1") == "P P P T F F");
    CHECK(evalProgram(kDyck2, "({)}", "dyck2") == "P P F F");
    CHECK(evalProgram(kDyck2, "({})", "dyck2") == "P P P T");

    // Longer inputs, with the verdicts the REPL's test suite records for them.
    CHECK(evalProgram(kDyck1, "()(()())(((())(()(()))))((())((()()))(()))))(())((", "dyck1") ==
          spaced("PTPPPPPTPPPPPPPPPPPPPPPTPPPPPPPPPPPPPPPPPTFFFFFFFF"));
    CHECK(evalProgram(kDyck2, "{{({(){}()})}({}){}{}}{(({}(){}))}{}(){}({}(){()(){}}){)()}",
                      "dyck2") ==
          spaced("PPPPPPPPPPPPPPPPPPPPPTPPPPPPPPPPPTPTPTPTPPPPPPPPPPPPPTPFFFF"));
}

TEST_CASE("program: shift and count") {
    CHECK(evalProgram("shifted = shift(tokens, 1, \"_\");", "hello") == "_ h e l l");
    CHECK(evalProgram("n = count(tokens, \"l\");", "hello") == "2 2 2 2 2");
}

TEST_CASE("program: round half to even over s-ops") {
    CHECK(evalProgram("r = round(indices / 2);", "abcdef") == "0 0 1 2 2 2");
}

TEST_CASE("program: a failing map points at its expression") {
    try {
        evalProgram("x = indices - 3;\ny = 1 / x;", "hello", "y");
        FAIL("expected a UserError");
    } catch (const UserError& e) {
        CHECK(e.loc().line == 2);
        CHECK(std::string(e.what()).find("division by zero at position 3") != std::string::npos);
    }
}

TEST_CASE("program: means show as floats once several keys are averaged") {
    CHECK(evalProgram("m = aggregate(select(indices, indices, <=), indices * 2);", "abcd") ==
          "0 1.0 2.0 3.0");
}

TEST_CASE("program: causal evaluation") {
    const char* program = R"rasp(
causal;
frac_a = aggregate(select(indices, indices, ==) or select(indices, indices, !=),
                   indicator(tokens == "a"));
n_a = round(frac_a * length);
)rasp";
    CHECK(evalProgram(program, "abaab", "n_a") == "1 1 2 3 3");
    CHECK(evalProgram("causal;\nn = length;", "abc", "n") == "1 2 3");
}
