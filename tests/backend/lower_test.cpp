// Lowering tests on hand-built graphs: the compiled model, run natively, must decode to exactly
// what the interpreter says on every input up to a small length.
#include <doctest/doctest.h>

#include <functional>

#include "backend/lower.h"
#include "interp/interpreter.h"
#include "interp/test_util.h"
#include "runtime/runner.h"

namespace raspc {
namespace {

using test::Builder;

/// Every string over `vocab` of length 1..maxLen, checked interpreter-vs-model.
void checkAll(const Builder& b, NodeId out, const std::string& vocab, int maxLen,
              int enumerateUpTo) {
    CompileOptions opts;
    for (char c : vocab) opts.vocab.push_back(Value(std::string(1, c)));
    opts.maxLen = maxLen;
    opts.outputs = {out};
    opts.outputNames = {"out"};
    rt::Model m = lower(b.g, opts);
    rt::Runner runner(m);

    std::function<void(std::string)> visit = [&](std::string s) {
        if (!s.empty()) {
            std::vector<Value> in = test::chars(s);
            auto expected = interpret(b.g, in, opts.outputs)[0];
            std::vector<std::string> tokens;
            for (char c : s) tokens.push_back(std::string(1, c));
            auto got = rt::decode(m.outputs[0], runner.run({rt::encodeTokens(m, tokens)})[0][0]);
            std::vector<std::string> want;
            for (const Value& v : expected) want.push_back(toDisplay(v));
            // Numbers may print as 2 or 2.0 on either side; compare them as numbers.
            for (size_t i = 0; i < want.size(); ++i) {
                if (expected[i].isNumber() && !expected[i].isBool()) {
                    INFO("input " << s << " position " << i);
                    CHECK(std::stod(got[i]) == doctest::Approx(expected[i].toDouble()));
                } else {
                    INFO("input " << s << " position " << i);
                    CHECK(got[i] == want[i]);
                }
            }
        }
        if (static_cast<int>(s.size()) == enumerateUpTo) return;
        for (char c : vocab) visit(s + c);
    };
    visit("");
}

TEST_CASE("histogram: one selector_width head") {
    Builder b;
    NodeId hist = b.width(b.select(b.tokens, b.tokens, Cmp::Eq));
    checkAll(b, hist, "abc", 6, 6);
}

TEST_CASE("length and reverse") {
    Builder b;
    checkAll(b, b.length, "ab", 7, 7);
    NodeId opp = b.map2(b.length, b.indices, [](const Value& n, const Value& i) {
        return pySub(pySub(n, i), Value(1));
    });
    NodeId rev = b.aggregate(b.select(b.indices, opp, Cmp::Eq), b.tokens);
    checkAll(b, rev, "abc", 6, 6);
}

TEST_CASE("numerical mean and a comparison on it") {
    Builder b;
    NodeId isA = b.map(b.tokens, [](const Value& t) { return pyIndicator(pyEq(t, Value("a"))); });
    NodeId frac = b.aggregate(b.select(b.indices, b.indices, Cmp::Le), isA);
    checkAll(b, frac, "ab", 7, 7);
    NodeId half = b.map(frac, [](const Value& x) { return pyGt(x, Value(0.5)); });
    checkAll(b, half, "ab", 7, 7);
}

TEST_CASE("sum reduction with a default, then arithmetic") {
    Builder b;
    NodeId isA = b.map(b.tokens, [](const Value& t) { return pyIndicator(pyEq(t, Value("a"))); });
    NodeId before =
        b.aggregate(b.select(b.indices, b.indices, Cmp::Lt), isA, Value(7), Reduction::Sum);
    checkAll(b, before, "ab", 6, 6);
    NodeId isB = b.map(b.tokens, [](const Value& t) { return pyIndicator(pyEq(t, Value("b"))); });
    NodeId prefix = b.select(b.indices, b.indices, Cmp::Le);
    NodeId bal = b.map2(b.aggregate(prefix, isA, Value(0), Reduction::Sum),
                        b.aggregate(prefix, isB, Value(0), Reduction::Sum),
                        [](const Value& x, const Value& y) { return pySub(x, y); });
    NodeId verdict = b.map2(bal, b.tokens, [](const Value& x, const Value& t) {
        return pyLt(x, Value(0)).truthy() ? Value("neg") : t;
    });
    checkAll(b, verdict, "ab", 6, 6);
}

TEST_CASE("selector and/or/not, and an empty selection's default chained") {
    Builder b;
    NodeId sameEarlier =
        b.land(b.select(b.tokens, b.tokens, Cmp::Eq), b.select(b.indices, b.indices, Cmp::Lt));
    checkAll(b, b.width(sameEarlier), "abc", 6, 6);
    NodeId sortSel = b.lor(b.select(b.tokens, b.tokens, Cmp::Lt), sameEarlier);
    NodeId target = b.width(sortSel);
    NodeId sorted = b.aggregate(b.select(target, b.indices, Cmp::Eq), b.tokens);
    checkAll(b, sorted, "abc", 6, 6);
    // The previous token when it differs from this one, else "-"; then where it occurs.
    NodeId notSame = b.lnot(b.select(b.tokens, b.tokens, Cmp::Eq));
    NodeId before = b.map(b.indices, [](const Value& i) { return pySub(i, Value(1)); });
    NodeId other =
        b.aggregate(b.land(notSame, b.select(b.indices, before, Cmp::Eq)), b.tokens, Value("-"));
    NodeId again = b.aggregate(
        b.land(b.select(b.tokens, other, Cmp::Eq), b.select(b.indices, b.indices, Cmp::Lt)),
        b.indices, Value(9));
    checkAll(b, again, "abc", 5, 5);
}

TEST_CASE("a map of two numerical s-ops and a categorical one") {
    Builder b;
    NodeId isA = b.map(b.tokens, [](const Value& t) { return pyIndicator(pyEq(t, Value("a"))); });
    NodeId isB = b.map(b.tokens, [](const Value& t) { return pyIndicator(pyEq(t, Value("b"))); });
    NodeId prefix = b.select(b.indices, b.indices, Cmp::Le);
    NodeId fracA = b.aggregate(prefix, isA);
    NodeId fracB = b.aggregate(prefix, isB);
    NodeId f = b.add(OpKind::SequenceMap, {fracA, fracB, b.tokens});
    b.g[f].fn = [](std::span<const Value> a) {
        if (pyGt(a[0], a[1]).truthy()) return Value("A");
        return pyEq(a[0], a[1]).truthy() ? a[2] : Value("B");
    };
    checkAll(b, f, "abc", 6, 6);
}

TEST_CASE("max, min, latest and earliest pick one key exactly") {
    for (Reduction r : {Reduction::Max, Reduction::Min, Reduction::Latest, Reduction::Earliest}) {
        Builder b;
        NodeId before = b.select(b.indices, b.indices, Cmp::Le);
        // Earlier tokens other than "b": sometimes none, so the default shows too.
        NodeId notB = b.lnot(b.select(b.tokens, b.constant(Value("b")), Cmp::Eq));
        NodeId cat = b.aggregate(b.land(before, notB), b.tokens, Value("-"), r);
        INFO("reduction " << toString(r));
        checkAll(b, cat, "abc", 6, 6);
        NodeId num = b.aggregate(before, b.indices, Value(-1), r);
        checkAll(b, num, "abc", 5, 5);
    }
}

// The model of `out` over "ab" with the given maximum length.
rt::Model compileAb(const Builder& b, NodeId out, int maxLen) {
    CompileOptions opts;
    opts.vocab = {Value("a"), Value("b")};
    opts.maxLen = maxLen;
    opts.outputs = {out};
    opts.outputNames = {"out"};
    return lower(b.g, opts);
}

TEST_CASE("order comparisons of indices become head masks, and the position one-hot goes") {
    const std::pair<Cmp, rt::HeadMask> kinds[] = {{Cmp::Le, rt::HeadMask::KeyAtMost},
                                                  {Cmp::Lt, rt::HeadMask::KeyBefore},
                                                  {Cmp::Ge, rt::HeadMask::KeyAtLeast},
                                                  {Cmp::Gt, rt::HeadMask::KeyAfter}};
    for (auto [cmp, mask] : kinds) {
        INFO("mask " << rt::maskOperator(mask));
        Builder b;
        NodeId isA =
            b.map(b.tokens, [](const Value& t) { return pyIndicator(pyEq(t, Value("a"))); });
        NodeId frac = b.aggregate(b.select(b.indices, b.indices, cmp), isA, Value(-1));
        rt::Model m = compileAb(b, frac, 8);
        REQUIRE(m.layers.size() == 1);
        REQUIRE(m.layers[0].heads.size() == 1);
        CHECK(m.layers[0].heads[0].mask == mask);
        // one, BOS, the token "a" and the result: no position dimensions.
        CHECK(m.width == 4);
        for (double w : m.positionEmbedding.data) CHECK(w == 0.0);
        checkAll(b, frac, "ab", 8, 7);

        // In a conjunction, on either side: the mask does the comparison, the scores the rest.
        Builder c;
        NodeId isB = c.select(c.tokens, c.constant(Value("b")), Cmp::Eq);
        NodeId order = c.select(c.indices, c.indices, cmp);
        for (NodeId sel : {c.land(order, isB), c.land(isB, order)}) {
            NodeId width = c.width(sel);
            rt::Model w = compileAb(c, width, 8);
            CHECK(w.layers[0].heads[0].mask == mask);
            checkAll(c, width, "ab", 8, 7);
        }
    }
}

// True when the position table holds a column that is not a one-hot (a number per position).
bool hasPositionNumbers(const rt::Model& m) {
    for (double w : m.positionEmbedding.data) {
        if (w != 0.0 && w != 1.0) return true;
    }
    return false;
}

TEST_CASE("equality against the position compares numbers from the position table") {
    // shift by one: the key is index + 1, the query the index; position 0 selects nothing.
    Builder b;
    NodeId next = b.map(b.indices, [](const Value& i) { return Value(i.asInt() + 1); });
    NodeId shifted = b.aggregate(b.select(next, b.indices, Cmp::Eq), b.tokens, Value("_"));
    rt::Model m = compileAb(b, shifted, 8);
    CHECK(m.layers.size() == 1);
    CHECK(hasPositionNumbers(m));
    // one, BOS, two tokens, the index and its square, and the result as one number (the
    // index of its value: it moves one key's token, and only the readout reads it): not
    // eight position one-hot dimensions, nor a one-hot of the three values.
    CHECK(m.width == 7);
    REQUIRE(m.outputs.size() == 1);
    CHECK(m.outputs[0].kind == rt::OutputKind::Numerical);
    CHECK(m.outputs[0].table == std::vector<std::string>{"_", "a", "b"});
    checkAll(b, shifted, "ab", 8, 7);

    // With "latest", the tie-break reads the index's column too: query 1 selects every "a"
    // and "b" (the latest of them wins), query 2 every "c", the others nothing (the default).
    Builder c;
    NodeId code =
        c.map(c.tokens, [](const Value& t) { return Value(t.asString() == "c" ? 2 : 1); });
    NodeId last =
        c.aggregate(c.select(code, c.indices, Cmp::Eq), c.tokens, Value("-"), Reduction::Latest);
    CompileOptions opts;
    opts.vocab = {Value("a"), Value("b"), Value("c")};
    opts.maxLen = 6;
    opts.outputs = {last};
    opts.outputNames = {"out"};
    CHECK(hasPositionNumbers(lower(c.g, opts)));
    checkAll(c, last, "abc", 6, 5);
}

TEST_CASE("equality against the position keeps the one-hot where that is narrower") {
    // The index one-hot is read anyway (the output is a one-hot over indices): two more
    // columns would only widen the model.
    Builder b;
    NodeId prev = b.map(b.indices, [](const Value& i) { return Value(i.asInt() - 1); });
    NodeId moved =
        b.aggregate(b.select(prev, b.indices, Cmp::Eq), b.indices, Value(-1), Reduction::Latest);
    NodeId both = b.map(moved, [](const Value& v) { return v; });
    rt::Model m = compileAb(b, both, 6);
    CHECK_FALSE(hasPositionNumbers(m));
    checkAll(b, both, "ab", 6, 6);
}

TEST_CASE("one mask per head: a second order comparison, or one under not, stays in the scores") {
    Builder b;
    // key >= query and key <= query: only the query's own position.
    NodeId self =
        b.land(b.select(b.indices, b.indices, Cmp::Ge), b.select(b.indices, b.indices, Cmp::Le));
    NodeId own = b.aggregate(self, b.tokens, Value("-"));
    rt::Model m = compileAb(b, own, 6);
    CHECK(m.layers[0].heads[0].mask == rt::HeadMask::KeyAtLeast);
    checkAll(b, own, "ab", 6, 6);

    NodeId notAfter = b.lnot(b.select(b.indices, b.indices, Cmp::Gt));
    NodeId count = b.width(notAfter);
    CHECK(compileAb(b, count, 6).layers[0].heads[0].mask == rt::HeadMask::None);
    checkAll(b, count, "ab", 6, 6);
}

TEST_CASE("an order comparison of a map that orders as a pair does is two widths") {
    // tracr's sort keys: the token's code first, ties by position. No one-hot of the keys: one
    // head compares codes, one compares codes for equality under a key-before-query mask.
    Builder b;
    NodeId keys = b.map2(b.tokens, b.indices, [](const Value& t, const Value& i) {
        return Value(static_cast<int64_t>(t.asString()[0] - 'a') * 10 + i.asInt());
    });
    NodeId target = b.width(b.select(keys, keys, Cmp::Lt));
    NodeId sorted = b.aggregate(b.select(target, b.indices, Cmp::Eq), b.tokens, Value("-"));
    rt::Model m = compileAb(b, sorted, 6);
    REQUIRE(m.layers.size() == 2);
    REQUIRE(m.layers[0].heads.size() == 2);
    CHECK(m.layers[0].heads[0].mask == rt::HeadMask::None);
    CHECK(m.layers[0].heads[1].mask == rt::HeadMask::KeyBefore);
    checkAll(b, sorted, "abc", 6, 6);

    // A map that is no pair order (the position can outweigh the token) keeps one head.
    Builder c;
    NodeId mixed = c.map2(c.tokens, c.indices, [](const Value& t, const Value& i) {
        return Value(static_cast<int64_t>(t.asString()[0] - 'a') + i.asInt());
    });
    NodeId below = c.width(c.select(mixed, mixed, Cmp::Lt));
    size_t heads = 0;
    for (const rt::Layer& l : compileAb(c, below, 6).layers) heads += l.heads.size();
    CHECK(heads == 1);
    checkAll(c, below, "abc", 6, 6);
}

}  // namespace
}  // namespace raspc
