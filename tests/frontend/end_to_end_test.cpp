// End to end through the front end: program text -> graph -> reference interpreter, checked
// against the reference outputs of LANGUAGE.md and the standard library's meanings.
#include <doctest/doctest.h>

#include "elaborate/elaborate.h"
#include "interp/interpreter.h"

namespace raspc {
namespace {

std::vector<Value> chars(const std::string& s) {
    std::vector<Value> out;
    for (char c : s) out.emplace_back(std::string(1, c));
    return out;
}

/// The program's default output (or the s-op named `output`) on `input`, space-separated.
std::string run(const std::string& program, const std::vector<Value>& input,
                const std::string& output = "") {
    Graph g = loadProgramText(program, "e2e.rasp", LoadOptions{});
    NodeId wanted = -1;
    if (output.empty()) {
        REQUIRE(g.lastSop.has_value());
        wanted = *g.lastSop;
    } else {
        for (const auto& [name, id] : g.named) {
            if (name == output) wanted = id;
        }
        REQUIRE_MESSAGE(wanted >= 0, "no s-op named " << output);
    }
    std::vector<std::vector<Value>> result = interpret(g, input, std::span(&wanted, 1));
    std::string text;
    for (const Value& v : result.at(0)) text += (text.empty() ? "" : " ") + toDisplay(v);
    return text;
}

std::string run(const std::string& program, const std::string& input) {
    return run(program, chars(input));
}

TEST_CASE("reference outputs") {
    CHECK(run("reverse = aggregate(select(indices, length - indices - 1, ==), tokens);", "hello") ==
          "o l l e h");
    CHECK(run("hist = selector_width(select(tokens, tokens, ==));", "hello") == "1 1 2 2 1");
    CHECK(run("length;", "hello") == "5 5 5 5 5");
    CHECK(run("sort(tokens, tokens);", "banana") == "a a a b n n");
    CHECK(run("shift(tokens, 1, \"_\");", "hello") == "_ h e l l");
    CHECK(run("count(tokens, \"l\");", "hello") == "2 2 2 2 2");
    CHECK(run("round(indices / 2);", "abcdef") == "0 0 1 2 2 2");
}

TEST_CASE("Dyck languages, as the RASP paper writes them") {
    const char* dyck1 = R"rasp(
def dyck1() {
    up_to_self = select(indices, indices, <=);
    n_opens = (indices + 1) * aggregate(up_to_self, indicator(tokens == "("));
    n_closes = (indices + 1) * aggregate(up_to_self, indicator(tokens == ")"));
    balance = n_opens - n_closes;
    prev_imbalances = aggregate(up_to_self, indicator(balance < 0));
    return "F" if prev_imbalances > 0 else ("T" if balance == 0 else "P");
}
verdict = dyck1();
)rasp";
    CHECK(run(dyck1, "(()))(") == "P P P T F F");

    const char* dyckk = R"rasp(
def dyckk(pairs) {
    opens = indicator(tokens in [p[0] for p in pairs]);
    closes = indicator(tokens in [p[1] for p in pairs]);
    up_to_self = select(indices, indices, <=);
    depth = (indices + 1) * aggregate(up_to_self, opens)
          - (indices + 1) * aggregate(up_to_self, closes);
    delay_closer = depth + closes;
    depth_index = selector_width(select(delay_closer, delay_closer, ==) and up_to_self);
    open_for_close = select(opens, True, ==) and select(delay_closer, delay_closer, ==) and
                     select(depth_index, depth_index - 1, ==);
    matched_opener = aggregate(open_for_close, tokens, "-");
    opener_matches = matched_opener + tokens in pairs;
    mismatch = closes and not opener_matches;
    had_problem = aggregate(up_to_self, indicator(mismatch or (depth < 0))) > 0;
    return "F" if had_problem else ("T" if depth == 0 else "P");
}
verdict = dyckk(["()", "{}"]);
)rasp";
    CHECK(run(dyckk, "({)}") == "P P F F");
    CHECK(run(dyckk, "({})") == "P P P T");
}

TEST_CASE("standard library meanings") {
    CHECK(run("contains(tokens, \"z\");", "abc") == "False False False");
    CHECK(run("contains(tokens, \"b\");", "abc") == "True True True");
    CHECK(run("max(indices, 2);", "abcd") == "2 2 2 3");
    CHECK(run("min(indices, 2);", "abcd") == "0 1 2 2");
    CHECK(run("average(indices);", "abcd") == "1.5 1.5 1.5 1.5");
    CHECK(run("load_from_location(tokens, 2);", "abcd") == "c c c c");
    CHECK(run("has_focus(select(tokens, \"b\", ==));", "abc") == "True True True");
    CHECK(run("mark_last_instance(tokens, \"a\");", "abab") == "False False True False");
    CHECK(run("mark_first_instance(tokens, \"a\");", "abab") == "True False False False");
    CHECK(run("aggregate(select_from_last(tokens, \"a\"), indices);", "abab") == "2 2 2 2");
    CHECK(run("aggregate(select_from_first(tokens, \"b\"), indices);", "abab") == "1 1 1 1");
    CHECK(run("aggregate(select_next_identical(tokens), indices, -1);", "abab") == "2 3 -1 -1");
    CHECK(run("full_width = selector_width(full_s);", "abc") == "3 3 3");
}

TEST_CASE("language corners") {
    CHECK(run("tokens[-1];", "abc") == "c c c");
    CHECK(run("tokens[0] + tokens;", "abc") == "aa ab ac");
    CHECK(run("\"a\" in tokens;", "xyz") == "False False False");
    CHECK(run("{\"a\": 1, \"b\": 2}[tokens];", "abba") == "1 2 2 1");
    CHECK(run("x = indices; y = x + 1; x = tokens; y;", "ab") == "1 2");
    CHECK(run("tokens = tokens_int; tokens * 2 + 1;", {Value(1), Value(5)}) == "3 11");
    CHECK(run("aggregate(select(indices, indices, <=), indices, 0, \"sum\");", "abcd") ==
          "0 1 3 6");
    CHECK(run("a = tokens == \"a\"; b = not a; a != b;", "ab") == "True True");
}

}  // namespace
}  // namespace raspc
