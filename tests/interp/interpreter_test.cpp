// The reference interpreter on hand-built graphs: RASP's primitives, every reduction, empty
// selections, errors at the right node, and causal evaluation.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "interp/interpreter.h"
#include "test_util.h"

using namespace raspc;
using raspc::test::Builder;
using raspc::test::chars;
using raspc::test::show;

namespace {

std::vector<Value> ints(std::initializer_list<int> xs) {
    std::vector<Value> v;
    for (int x : xs) v.emplace_back(x);
    return v;
}

std::string run(const Graph& g, const std::vector<Value>& input, NodeId id) {
    NodeId wanted[] = {id};
    return show(interpret(g, input, wanted).front());
}

}  // namespace

TEST_CASE("tokens, indices, length, constants") {
    Builder b;
    auto in = chars("hello");
    CHECK(run(b.g, in, b.tokens) == "h e l l o");
    CHECK(run(b.g, in, b.indices) == "0 1 2 3 4");
    CHECK(run(b.g, in, b.length) == "5 5 5 5 5");
    CHECK(run(b.g, in, b.constant(2.5)) == "2.5 2.5 2.5 2.5 2.5");
}

TEST_CASE("reverse of hello") {
    Builder b;
    NodeId opp = b.map2(b.length, b.indices,
                        [](const Value& n, const Value& i) { return pySub(pySub(n, 1), i); });
    NodeId flip = b.select(b.indices, opp, Cmp::Eq);
    NodeId reverse = b.aggregate(flip, b.tokens);
    CHECK(run(b.g, chars("hello"), reverse) == "o l l e h");
    CHECK(run(b.g, chars("a"), reverse) == "a");
}

TEST_CASE("histogram of hello") {
    Builder b;
    NodeId hist = b.width(b.select(b.tokens, b.tokens, Cmp::Eq));
    CHECK(run(b.g, chars("hello"), hist) == "1 1 2 2 1");
}

TEST_CASE("empty selection yields the default, and chains") {
    Builder b;
    NodeId prev = b.map(b.indices, [](const Value& i) { return pyAdd(i, 1); });
    NodeId shift1 = b.select(prev, b.indices, Cmp::Eq);  // key k with k + 1 == q
    NodeId once = b.aggregate(shift1, b.tokens, "_");
    NodeId twice = b.aggregate(shift1, once, "#");
    CHECK(run(b.g, chars("hello"), once) == "_ h e l l");
    CHECK(run(b.g, chars("hello"), twice) == "# _ h e l");

    // A numeric default flows into a later mean like any other value.
    NodeId none = b.select(b.indices, b.constant(-1), Cmp::Eq);  // selects nothing
    NodeId seven = b.aggregate(none, b.indices, 7);
    NodeId all = b.select(b.constant(1), b.constant(1), Cmp::Eq);
    NodeId avg = b.aggregate(all, seven);
    CHECK(run(b.g, chars("abc"), seven) == "7 7 7");
    CHECK(run(b.g, chars("abc"), avg) == "7.0 7.0 7.0");
    NodeId avgOfEmpty = b.aggregate(none, seven, 0.5);
    CHECK(run(b.g, chars("ab"), avgOfEmpty) == "0.5 0.5");
}

TEST_CASE("mean: one value keeps its type, several numbers give a float") {
    Builder b;
    NodeId upTo = b.select(b.indices, b.indices, Cmp::Le);
    NodeId prefixMean = b.aggregate(upTo, b.indices);
    NodeId wanted[] = {prefixMean};
    auto out = interpret(b.g, chars("hello"), wanted).front();
    CHECK(show(out) == "0 0.5 1.0 1.5 2.0");
    CHECK(out[0].isInt());
    CHECK(out[2].isFloat());

    // Equal numbers still average to a float, as in the REPL (sum * 1.0 / count).
    NodeId all = b.select(b.constant(1), b.constant(1), Cmp::Eq);
    CHECK(run(b.g, chars("ab"), b.aggregate(all, b.constant(2))) == "2.0 2.0");
    // Bools count as numbers.
    NodeId isL = b.map(b.tokens, [](const Value& t) { return pyEq(t, "l"); });
    CHECK(run(b.g, chars("hello"), b.aggregate(all, isL)) == "0.4 0.4 0.4 0.4 0.4");
}

TEST_CASE("mean of non-numbers: a move, or an error") {
    Builder b;
    NodeId all = b.select(b.constant(1), b.constant(1), Cmp::Eq);
    CHECK(run(b.g, chars("abc"), b.aggregate(all, b.constant("x"))) == "x x x");
    NodeId bad = b.aggregate(all, b.tokens);
    b.g[bad].loc = SourceLoc{"p.rasp", 3, 7};
    try {
        run(b.g, chars("ab"), bad);
        FAIL("expected a UserError");
    } catch (const UserError& e) {
        CHECK(e.loc().line == 3);
        CHECK(e.loc().col == 7);
        CHECK(std::string(e.what()).find("non-numeric") != std::string::npos);
    }
}

TEST_CASE("every reduction") {
    Builder b;
    auto in = ints({3, 1, 4, 1, 5});
    NodeId upTo = b.select(b.indices, b.indices, Cmp::Le);
    auto agg = [&](Reduction r) { return run(b.g, in, b.aggregate(upTo, b.tokens, 0, r)); };
    CHECK(agg(Reduction::Mean) == "3 2.0 2.6666666666666665 2.25 2.8");
    CHECK(agg(Reduction::Sum) == "3 4 8 9 14");
    CHECK(agg(Reduction::Max) == "3 3 4 4 5");
    CHECK(agg(Reduction::Min) == "3 1 1 1 1");
    CHECK(agg(Reduction::Latest) == "3 1 4 1 5");
    CHECK(agg(Reduction::Earliest) == "3 3 3 3 3");

    // Empty selections give the default for every reduction.
    NodeId before = b.select(b.indices, b.indices, Cmp::Lt);
    for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::Max, Reduction::Min,
                        Reduction::Latest, Reduction::Earliest}) {
        CHECK(run(b.g, in, b.aggregate(before, b.tokens, -1, r)).substr(0, 3) == "-1 ");
    }

    // Strings: max and min are lexicographic; latest and earliest move any type.
    NodeId all = b.select(b.constant(1), b.constant(1), Cmp::Eq);
    auto word = chars("hello");
    CHECK(run(b.g, word, b.aggregate(all, b.tokens, "", Reduction::Max)) == "o o o o o");
    CHECK(run(b.g, word, b.aggregate(all, b.tokens, "", Reduction::Min)) == "e e e e e");
    CHECK(run(b.g, word, b.aggregate(all, b.tokens, "", Reduction::Latest)) == "o o o o o");
    CHECK(run(b.g, word, b.aggregate(all, b.tokens, "", Reduction::Earliest)) == "h h h h h");
    CHECK_THROWS_AS(run(b.g, word, b.aggregate(all, b.tokens, "", Reduction::Sum)), UserError);

    // Sum of bools is an int, as Python's sum() makes it; a tie in max keeps the first.
    NodeId isL = b.map(b.tokens, [](const Value& t) { return pyEq(t, "l"); });
    CHECK(run(b.g, word, b.aggregate(all, isL, 0, Reduction::Sum)) == "2 2 2 2 2");
    std::vector<Value> tie{Value(1), Value(1.0)};
    CHECK(run(b.g, tie, b.aggregate(all, b.tokens, 0, Reduction::Max)) == "1 1");
}

TEST_CASE("selector combinations") {
    Builder b;
    NodeId lt = b.select(b.indices, b.indices, Cmp::Lt);
    NodeId eq = b.select(b.tokens, b.tokens, Cmp::Eq);
    auto in = chars("abab");
    CHECK(run(b.g, in, b.width(b.land(lt, eq))) == "0 0 1 1");
    CHECK(run(b.g, in, b.width(b.lor(lt, eq))) == "2 3 3 4");
    CHECK(run(b.g, in, b.width(b.lnot(lt))) == "4 3 2 1");
    auto m = interpretSelector(b.g, in, b.land(lt, eq));
    REQUIRE(m.size() == 4);
    CHECK(m[2] == std::vector<bool>{true, false, false, false});
    CHECK(m[0] == std::vector<bool>{false, false, false, false});
}

TEST_CASE("errors name the node, the position and the operands") {
    Builder b;
    NodeId x = b.map(b.indices, [](const Value& i) { return pySub(i, 3); });
    b.g[x].name = std::string("x");  // a temporary: GCC 12 warns falsely on a literal
    NodeId inv = b.map(x, [](const Value& v) { return pyDiv(1, v); });
    b.g[inv].loc = SourceLoc{"p.rasp", 4, 9};
    try {
        run(b.g, chars("hello"), inv);
        FAIL("expected a UserError");
    } catch (const UserError& e) {
        CHECK(std::string(e.what()) == "division by zero at position 3 (x = 0)");
        CHECK(e.loc().file == "p.rasp");
        CHECK(e.loc().line == 4);
    }

    // Only what the wanted nodes need is evaluated: the failing map is not.
    CHECK(run(b.g, chars("hello"), x) == "-3 -2 -1 0 1");

    NodeId cat =
        b.map2(b.tokens, b.indices, [](const Value& t, const Value& i) { return pyAdd(t, i); });
    CHECK_THROWS_WITH_AS(run(b.g, chars("ab"), cat),
                         "unsupported operand types for +: 'str' and 'int' at position 0 "
                         "(tokens = \"a\", indices = 0)",
                         UserError);

    NodeId badSelect = b.select(b.tokens, b.indices, Cmp::Lt);
    CHECK_THROWS_AS(run(b.g, chars("ab"), b.width(badSelect)), UserError);

    // The REPL refuses a sequence mixing strings and numbers: here the default 0 among
    // strings.
    NodeId before = b.select(b.indices, b.indices, Cmp::Lt);
    NodeId firstEarlier = b.aggregate(before, b.tokens, 0, Reduction::Earliest);
    CHECK_THROWS_AS(run(b.g, chars("ab"), firstEarlier), UserError);

    NodeId sel[] = {before};
    CHECK_THROWS_AS(interpret(b.g, chars("ab"), sel), InternalError);
}

TEST_CASE("empty input") {
    Builder b;
    NodeId hist = b.width(b.select(b.tokens, b.tokens, Cmp::Eq));
    CHECK(run(b.g, {}, hist).empty());
}

TEST_CASE("causal: every position sees its own prefix") {
    Builder b;
    b.g.causal = true;
    NodeId all = b.select(b.constant(1), b.constant(1), Cmp::Eq);
    NodeId isA = b.map(b.tokens, [](const Value& t) { return pyIndicator(pyEq(t, "a")); });
    NodeId fracA = b.aggregate(all, isA);
    NodeId countA = b.map2(fracA, b.length,
                           [](const Value& f, const Value& n) { return pyRound(pyMul(f, n)); });
    // Reverse within each prefix: position q reads key length - 1 - q = 0 (the first token).
    NodeId opp = b.map2(b.length, b.indices,
                        [](const Value& n, const Value& i) { return pySub(pySub(n, 1), i); });
    NodeId firstTok = b.aggregate(b.select(b.indices, opp, Cmp::Eq), b.tokens);
    // A selector that only looks ahead sees nothing under the mask; its complement sees the
    // prefix.
    NodeId ahead = b.select(b.indices, b.indices, Cmp::Gt);
    NodeId aheadWidth = b.width(ahead);
    NodeId notAheadWidth = b.width(b.lnot(ahead));
    // A second aggregate over values the first produced.
    NodeId meanOfCount = b.aggregate(all, countA);

    auto in = chars("abaab");
    CHECK(run(b.g, in, b.length) == "1 2 3 4 5");
    CHECK(run(b.g, in, fracA) == "1 0.5 0.6666666666666666 0.75 0.6");
    CHECK(run(b.g, in, countA) == "1 1 2 3 3");
    CHECK(run(b.g, in, firstTok) == "a a a a a");
    CHECK(run(b.g, in, aheadWidth) == "0 0 0 0 0");
    CHECK(run(b.g, in, notAheadWidth) == "1 2 3 4 5");
    CHECK(run(b.g, in, meanOfCount) == "1 1.0 1.3333333333333333 1.75 2.0");

    // Position q's value is what the whole program gives at the end of input[0..q].
    std::vector<NodeId> outs{b.length, fracA, countA, firstTok, notAheadWidth, meanOfCount};
    auto whole = interpret(b.g, in, outs);
    for (size_t q = 0; q < in.size(); ++q) {
        std::vector<Value> prefix(in.begin(), in.begin() + static_cast<long>(q) + 1);
        auto part = interpret(b.g, prefix, outs);
        for (size_t o = 0; o < outs.size(); ++o) {
            CHECK(toDisplay(part[o].back()) == toDisplay(whole[o][q]));
        }
    }
}

TEST_CASE("a long chain is evaluated without deep recursion") {
    Builder b;
    NodeId x = b.indices;
    for (int i = 0; i < 20000; ++i) x = b.map(x, [](const Value& v) { return pyAdd(v, 1); });
    CHECK(run(b.g, chars("abc"), x) == "20000 20001 20002");
}
