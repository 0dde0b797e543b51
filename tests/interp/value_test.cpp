// Atoms follow Python 3: every operator, rounding, comparisons, display; and the select
// comparison from graph.h.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>

#include "ir/graph.h"
#include "ir/value.h"

using namespace raspc;

namespace {

/// Same value and same atom type: Python's `==` alone would not see 2 versus 2.0.
bool same(const Value& a, const Value& b) {
    return atomType(a) == atomType(b) && a == b;
}

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

}  // namespace

TEST_CASE("bool is an int") {
    CHECK(same(pyAdd(true, 1), Value(2)));
    CHECK(same(pyAdd(true, true), Value(2)));
    CHECK(Value(true) == Value(1));
    CHECK(Value(false) == Value(0.0));
    CHECK(same(pyMul(true, 2.5), Value(2.5)));
    CHECK(same(pyNeg(true), Value(-1)));
    CHECK(same(pyPos(true), Value(1)));
    CHECK(same(pySub(false, true), Value(-1)));
}

TEST_CASE("int and float mix") {
    CHECK(same(pyAdd(1, 2), Value(3)));
    CHECK(same(pyAdd(1, 2.0), Value(3.0)));
    CHECK(same(pySub(1.5, 2), Value(-0.5)));
    CHECK(same(pyMul(3, 4), Value(12)));
    CHECK(same(pyMul(3, 0.5), Value(1.5)));
    CHECK(Value(1) == Value(1.0));
    CHECK_FALSE(Value(1) == Value(1.5));
}

TEST_CASE("true division") {
    CHECK(same(pyDiv(1, 2), Value(0.5)));
    CHECK(same(pyDiv(4, 2), Value(2.0)));
    CHECK(same(pyDiv(true, 4), Value(0.25)));
    CHECK(same(pyDiv(-7, 2), Value(-3.5)));
    CHECK_THROWS_AS(pyDiv(1, 0), std::domain_error);
    CHECK_THROWS_AS(pyDiv(1.0, 0.0), std::domain_error);
    CHECK_THROWS_AS(pyDiv(1, false), std::domain_error);
    CHECK_THROWS_WITH_AS(pyDiv(1, -0.0), "division by zero", std::domain_error);
}

TEST_CASE("modulo takes the divisor's sign") {
    CHECK(same(pyMod(7, 3), Value(1)));
    CHECK(same(pyMod(-7, 3), Value(2)));
    CHECK(same(pyMod(7, -3), Value(-2)));
    CHECK(same(pyMod(-7, -3), Value(-1)));
    CHECK(same(pyMod(6, 3), Value(0)));
    CHECK(same(pyMod(7.5, 2), Value(1.5)));
    CHECK(same(pyMod(-7.5, 2), Value(0.5)));
    CHECK(same(pyMod(7.5, -2), Value(-0.5)));
    CHECK(same(pyMod(kMin, -1), Value(0)));
    Value negZero = pyMod(4.0, -2.0);  // zero takes the divisor's sign too
    CHECK(std::signbit(negZero.asFloat()));
    CHECK_THROWS_AS(pyMod(1, 0), std::domain_error);
    CHECK_THROWS_AS(pyMod(1.5, 0.0), std::domain_error);
}

TEST_CASE("power") {
    CHECK(same(pyPow(2, 3), Value(8)));
    CHECK(same(pyPow(-2, 3), Value(-8)));
    CHECK(same(pyPow(5, 0), Value(1)));
    CHECK(same(pyPow(0, 0), Value(1)));
    CHECK(same(pyPow(2, -1), Value(0.5)));
    CHECK(same(pyPow(2.0, 3), Value(8.0)));
    CHECK(same(pyPow(4, 0.5), Value(2.0)));
    CHECK(same(pyPow(true, 5), Value(1)));
    CHECK(same(pyPow(2, 62), Value(int64_t{1} << 62)));
    CHECK_THROWS_AS(pyPow(2, 63), std::domain_error);
    CHECK(same(pyPow(-2, 63), Value(kMin)));
    CHECK_THROWS_AS(pyPow(0, -1), std::domain_error);
    CHECK_THROWS_AS(pyPow(-8, 0.5), std::domain_error);
    CHECK_THROWS_AS(pyPow(10.0, 400), std::domain_error);
}

TEST_CASE("ints that overflow raise") {
    CHECK_THROWS_AS(pyAdd(kMax, 1), std::domain_error);
    CHECK_THROWS_AS(pySub(kMin, 1), std::domain_error);
    CHECK_THROWS_AS(pyMul(kMax, 2), std::domain_error);
    CHECK_THROWS_AS(pyNeg(kMin), std::domain_error);
    CHECK(same(pyAdd(kMax, 1.0), Value(9223372036854775808.0)));
}

TEST_CASE("round half to even, int result") {
    CHECK(same(pyRound(2.5), Value(2)));
    CHECK(same(pyRound(3.5), Value(4)));
    CHECK(same(pyRound(-0.5), Value(0)));
    CHECK(same(pyRound(-1.5), Value(-2)));
    CHECK(same(pyRound(0.5), Value(0)));
    CHECK(same(pyRound(1.5), Value(2)));
    CHECK(same(pyRound(2.4999), Value(2)));
    CHECK(same(pyRound(-2.6), Value(-3)));
    CHECK(same(pyRound(7), Value(7)));
    CHECK(same(pyRound(true), Value(1)));
    CHECK(same(pyRound(4503599627370497.0), Value(int64_t{4503599627370497})));
    CHECK_THROWS_AS(pyRound(std::nan("")), std::domain_error);
    CHECK_THROWS_AS(pyRound(INFINITY), std::domain_error);
    CHECK_THROWS_AS(pyRound(1e19), std::domain_error);
    CHECK_THROWS_AS(pyRound("a"), std::domain_error);
}

TEST_CASE("unary operators, not, indicator, and/or") {
    CHECK(same(pyNeg(2.5), Value(-2.5)));
    CHECK(same(pyNeg(3), Value(-3)));
    CHECK_THROWS_AS(pyNeg("a"), std::domain_error);
    CHECK_THROWS_AS(pyPos("a"), std::domain_error);
    CHECK(same(pyNot(0), Value(true)));
    CHECK(same(pyNot(""), Value(true)));
    CHECK(same(pyNot("x"), Value(false)));
    CHECK(same(pyNot(0.0), Value(true)));
    CHECK(same(pyIndicator(true), Value(1)));
    CHECK(same(pyIndicator(false), Value(0)));
    CHECK(same(pyIndicator(2.5), Value(1)));
    CHECK(same(pyIndicator(""), Value(0)));
    // Python's `and` / `or` return an operand, not a bool.
    CHECK(same(pyAnd(0, "x"), Value(0)));
    CHECK(same(pyAnd(2, "x"), Value("x")));
    CHECK(same(pyOr(0, "x"), Value("x")));
    CHECK(same(pyOr(2, "x"), Value(2)));
    CHECK(same(pyAnd(true, false), Value(false)));
}

TEST_CASE("strings") {
    CHECK(same(pyAdd("ab", "c"), Value("abc")));
    CHECK_THROWS_WITH_AS(pyAdd("a", 1), "unsupported operand types for +: 'str' and 'int'",
                         std::domain_error);
    CHECK_THROWS_AS(pySub("a", "b"), std::domain_error);
    CHECK(same(pyMul("ab", 3), Value("ababab")));
    CHECK(same(pyMul(2, "x"), Value("xx")));
    CHECK(same(pyMul("x", -1), Value("")));
    CHECK_THROWS_AS(pyMul("x", 1.5), std::domain_error);
    CHECK_THROWS_AS(pyDiv("a", 1), std::domain_error);
    CHECK_THROWS_AS(pyMod("a", 1), std::domain_error);
    CHECK_THROWS_AS(pyPow("a", 1), std::domain_error);
}

TEST_CASE("comparisons") {
    CHECK(pyLt(1, 2).asBool());
    CHECK(pyLt(1, 1.5).asBool());
    CHECK_FALSE(pyLt(2, 2.0).asBool());
    CHECK(pyLe(2, 2.0).asBool());
    CHECK(pyGt(true, 0).asBool());
    CHECK(pyGe(3, 3).asBool());
    CHECK(pyLt("a", "b").asBool());
    CHECK(pyLt("B", "a").asBool());
    CHECK(pyLt("ab", "b").asBool());
    CHECK(pyLt("a", "ab").asBool());
    CHECK_FALSE(pyLt("b", "ab").asBool());
    CHECK(pyGt("\xc3\xa9", "z").asBool());  // bytes compare unsigned, as code points do
    CHECK_THROWS_AS(pyLt("a", 1), std::domain_error);
    CHECK_THROWS_AS(pyGe(1.5, "a"), std::domain_error);
    CHECK(same(pyEq("a", 1), Value(false)));
    CHECK(same(pyNe("a", 1), Value(true)));
    CHECK(same(pyEq(1, 1.0), Value(true)));
    CHECK(same(pyEq(true, 1), Value(true)));
    CHECK(same(pyNe("a", "a"), Value(false)));
    // An int compares with a float exactly, not after rounding it to a double.
    int64_t big = (int64_t{1} << 53) + 1;
    CHECK_FALSE(Value(big) == Value(9007199254740992.0));
    CHECK(pyGt(big, 9007199254740992.0).asBool());
    CHECK(pyLt(kMax, 9223372036854775808.0).asBool());
    Value nan(std::nan(""));
    CHECK_FALSE(nan == nan);
    CHECK_FALSE(pyLt(nan, 1).asBool());
    CHECK_FALSE(pyGe(nan, 1).asBool());
}

TEST_CASE("total order for sets") {
    std::set<Value> s{Value("b"), Value(2),   Value(1.0), Value(true),
                      Value(0.5), Value("a"), Value(2.0), Value(false)};
    // 1.0 and True are one element, 2 and 2.0 are one: equal numbers of different types.
    std::vector<Value> got(s.begin(), s.end());
    REQUIRE(got.size() == 6);
    CHECK(got[0] == Value(0));
    CHECK(got[1] == Value(0.5));
    CHECK(got[2] == Value(1));
    CHECK(got[3] == Value(2));
    CHECK(same(got[4], Value("a")));
    CHECK(same(got[5], Value("b")));
    CHECK(Value(100) < Value(""));
    CHECK_FALSE(Value("") < Value(100));
    CHECK(Value(1.5) < Value(std::nan("")));
}

TEST_CASE("display") {
    CHECK(toDisplay(3) == "3");
    CHECK(toDisplay(-12) == "-12");
    CHECK(toDisplay(true) == "True");
    CHECK(toDisplay(false) == "False");
    CHECK(toDisplay("hi") == "hi");
    CHECK(toDisplay(2.0) == "2.0");
    CHECK(toDisplay(0.5) == "0.5");
    CHECK(toDisplay(0.1) == "0.1");
    CHECK(toDisplay(1e-05) == "1e-05");
    CHECK(toDisplay(0.0001) == "0.0001");
    CHECK(toDisplay(1.0 / 3) == "0.3333333333333333");
    CHECK(toDisplay(2.0 / 3) == "0.6666666666666666");
    CHECK(toDisplay(0.1 + 0.2) == "0.30000000000000004");
    CHECK(toDisplay(1e16) == "1e+16");
    CHECK(toDisplay(1e15) == "1000000000000000.0");
    CHECK(toDisplay(123.456) == "123.456");
    CHECK(toDisplay(1.5e300) == "1.5e+300");
    CHECK(toDisplay(-2.5e-7) == "-2.5e-07");
    CHECK(toDisplay(0.0) == "0.0");
    CHECK(toDisplay(-0.0) == "-0.0");
    CHECK(toDisplay(INFINITY) == "inf");
    CHECK(toDisplay(-INFINITY) == "-inf");
    CHECK(toDisplay(std::nan("")) == "nan");
    CHECK(toDisplay(kMin) == "-9223372036854775808");
}

TEST_CASE("atom type names") {
    CHECK(std::string(atomTypePlural(atomType(1))) == "ints");
    CHECK(std::string(atomTypePlural(atomType(1.0))) == "floats");
    CHECK(std::string(atomTypePlural(atomType(true))) == "bools");
    CHECK(std::string(atomTypePlural(atomType("a"))) == "strings");
    CHECK(std::string(atomTypeName(AtomType::String)) == "str");
    CHECK(Value(1.5).toDouble() == 1.5);
    CHECK(Value(true).toDouble() == 1.0);
    CHECK(Value(std::nan("")).truthy());
}

TEST_CASE("select comparison is cmp(key, query)") {
    CHECK(compare(Cmp::Lt, 1, 2));  // key 1 before query 2
    CHECK_FALSE(compare(Cmp::Lt, 2, 1));
    CHECK(compare(Cmp::Gt, 2, 1));
    CHECK(compare(Cmp::Le, 2, 2.0));
    CHECK(compare(Cmp::Ge, "b", "a"));
    CHECK(compare(Cmp::Eq, true, 1));
    CHECK(compare(Cmp::Ne, "1", 1));
    CHECK_FALSE(compare(Cmp::Eq, "1", 1));
    CHECK_THROWS_AS(compare(Cmp::Lt, "a", 1), std::domain_error);
    CHECK(toString(Cmp::Le) == "<=");
    CHECK(toString(OpKind::SelectorWidth) == "selector_width");
    CHECK(toString(Reduction::Latest) == "latest");
}
