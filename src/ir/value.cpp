// Atoms with Python 3 semantics: arithmetic, comparison, rounding and display.
#include "ir/value.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "support/diagnostics.h"

namespace raspc {

namespace {

constexpr double kTwoPow63 = 9223372036854775808.0;  // 2^63, exactly representable
constexpr double kTwoPow53 = 9007199254740992.0;     // beyond this, int64 -> double rounds
constexpr size_t kMaxStringBytes = size_t{1} << 24;  // repetition larger than this is a mistake

/// Bools and ints are both Python ints; this is their common integer value.
int64_t intOf(const Value& v) {
    return v.isBool() ? int64_t{v.asBool()} : v.asInt();
}

bool isIntegral(const Value& v) {
    return v.isBool() || v.isInt();
}

std::string typeName(const Value& v) {
    return atomTypeName(atomType(v));
}

[[noreturn]] void unsupported(const char* op, const Value& a, const Value& b) {
    throw std::domain_error("unsupported operand types for " + std::string(op) + ": '" +
                            typeName(a) + "' and '" + typeName(b) + "'");
}

[[noreturn]] void intOverflow() {
    throw std::domain_error("integer overflow");
}

/// Three-way comparison of two numbers by exact mathematical value (Python compares an int
/// with a float exactly, never by rounding the int). Returns -1, 0, 1, or 2 when unordered (NaN).
int compareNumbers(const Value& a, const Value& b) {
    if (isIntegral(a) && isIntegral(b)) {
        int64_t x = intOf(a), y = intOf(b);
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    if (a.isFloat() && b.isFloat()) {
        double x = a.asFloat(), y = b.asFloat();
        if (std::isnan(x) || std::isnan(y)) return 2;
        return x < y ? -1 : (x > y ? 1 : 0);
    }
    // One int, one float.
    bool flip = a.isFloat();
    int64_t i = flip ? intOf(b) : intOf(a);
    double d = flip ? a.asFloat() : b.asFloat();
    int r;
    if (std::isnan(d)) return 2;
    if (d >= kTwoPow63) {
        r = -1;
    } else if (d < -kTwoPow63) {
        r = 1;
    } else {
        // d is within int64 range: compare the integer parts exactly, then the fraction.
        double whole = std::trunc(d);
        auto w = static_cast<int64_t>(whole);
        if (i != w) {
            r = i < w ? -1 : 1;
        } else {
            double frac = d - whole;
            r = frac > 0 ? -1 : (frac < 0 ? 1 : 0);
        }
    }
    return flip ? -r : r;
}

/// Python's `<`-family on atoms; strings only compare with strings.
int orderedCompare(const char* op, const Value& a, const Value& b) {
    if (a.isString() && b.isString()) {
        int c = a.asString().compare(b.asString());
        return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    if (a.isString() || b.isString()) {
        throw std::domain_error("'" + std::string(op) + "' not supported between '" + typeName(a) +
                                "' and '" + typeName(b) + "'");
    }
    return compareNumbers(a, b);
}

/// Exact int64 power by squaring; throws on overflow.
int64_t intPow(int64_t base, int64_t exp) {
    int64_t result = 1;
    while (exp > 0) {
        if (exp & 1) {
            if (__builtin_mul_overflow(result, base, &result)) intOverflow();
        }
        exp >>= 1;
        // Squaring happens only when a higher exponent bit still needs it, so an overflow
        // here means the result itself overflows.
        if (exp > 0 && __builtin_mul_overflow(base, base, &base)) intOverflow();
    }
    return result;
}

/// Integers as doubles for true division. Below 2^53 both conversions are exact, so one
/// IEEE division is correctly rounded as Python's is; above it, long double keeps more bits.
double intDivide(int64_t x, int64_t y) {
    auto small = [](int64_t v) { return std::fabs(static_cast<double>(v)) <= kTwoPow53; };
    if (small(x) && small(y)) return static_cast<double>(x) / static_cast<double>(y);
    return static_cast<double>(static_cast<long double>(x) / static_cast<long double>(y));
}

std::string repeatString(const std::string& s, int64_t times) {
    if (times <= 0 || s.empty()) return {};
    if (static_cast<uint64_t>(times) > kMaxStringBytes / s.size()) {
        throw std::domain_error("repeated string too long");
    }
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(times));
    for (int64_t i = 0; i < times; ++i) out += s;
    return out;
}

/// Python's repr of a float: the shortest round-trip digits, fixed notation for decimal
/// exponents in [-4, 16), scientific otherwise, and always a visible ".0" or exponent.
std::string floatRepr(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
    if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";

    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string sci(buf, res.ptr);

    // Split "-d.ddde+XX" into sign, digits and exponent.
    std::string sign;
    size_t pos = 0;
    if (sci[0] == '-') {
        sign = "-";
        pos = 1;
    }
    size_t ePos = sci.find('e');
    std::string digits;
    for (size_t i = pos; i < ePos; ++i) {
        if (sci[i] != '.') digits += sci[i];
    }
    int exp = std::stoi(sci.substr(ePos + 1));

    if (exp < -4 || exp >= 16) {
        std::string out = sign + digits.substr(0, 1);
        if (digits.size() > 1) out += "." + digits.substr(1);
        out += exp < 0 ? "e-" : "e+";
        std::string e = std::to_string(std::abs(exp));
        if (e.size() < 2) e = "0" + e;
        return out + e;
    }
    if (exp < 0) return sign + "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    auto intDigits = static_cast<size_t>(exp + 1);
    if (digits.size() <= intDigits) {
        return sign + digits + std::string(intDigits - digits.size(), '0') + ".0";
    }
    return sign + digits.substr(0, intDigits) + "." + digits.substr(intDigits);
}

}  // namespace

double Value::toDouble() const {
    if (isBool()) return asBool() ? 1.0 : 0.0;
    if (isInt()) return static_cast<double>(asInt());
    if (isFloat()) return asFloat();
    throw InternalError("Value::toDouble on a string");
}

bool Value::truthy() const {
    if (isBool()) return asBool();
    if (isInt()) return asInt() != 0;
    if (isFloat()) return asFloat() != 0.0;  // NaN is truthy, as in Python
    return !asString().empty();
}

bool operator==(const Value& a, const Value& b) {
    if (a.isString() || b.isString()) {
        return a.isString() && b.isString() && a.asString() == b.asString();
    }
    return compareNumbers(a, b) == 0;
}

bool operator<(const Value& a, const Value& b) {
    // Strings after numbers; NaN after every other number so the order stays strict-weak.
    if (a.isString() != b.isString()) return b.isString();
    if (a.isString()) return a.asString() < b.asString();
    bool aNan = a.isFloat() && std::isnan(a.asFloat());
    bool bNan = b.isFloat() && std::isnan(b.asFloat());
    if (aNan || bNan) return !aNan && bNan;
    return compareNumbers(a, b) < 0;
}

AtomType atomType(const Value& v) {
    if (v.isBool()) return AtomType::Bool;
    if (v.isInt()) return AtomType::Int;
    if (v.isFloat()) return AtomType::Float;
    return AtomType::String;
}

const char* atomTypePlural(AtomType t) {
    switch (t) {
        case AtomType::Bool:
            return "bools";
        case AtomType::Int:
            return "ints";
        case AtomType::Float:
            return "floats";
        case AtomType::String:
            return "strings";
    }
    return "?";
}

const char* atomTypeName(AtomType t) {
    switch (t) {
        case AtomType::Bool:
            return "bool";
        case AtomType::Int:
            return "int";
        case AtomType::Float:
            return "float";
        case AtomType::String:
            return "str";
    }
    return "?";
}

std::string toDisplay(const Value& v) {
    if (v.isBool()) return v.asBool() ? "True" : "False";
    if (v.isInt()) return std::to_string(v.asInt());
    if (v.isFloat()) return floatRepr(v.asFloat());
    return v.asString();
}

Value pyAdd(const Value& a, const Value& b) {
    if (a.isString() && b.isString()) return Value(a.asString() + b.asString());
    if (a.isString() || b.isString()) unsupported("+", a, b);
    if (a.isFloat() || b.isFloat()) return Value(a.toDouble() + b.toDouble());
    int64_t r;
    if (__builtin_add_overflow(intOf(a), intOf(b), &r)) intOverflow();
    return Value(r);
}

Value pySub(const Value& a, const Value& b) {
    if (a.isString() || b.isString()) unsupported("-", a, b);
    if (a.isFloat() || b.isFloat()) return Value(a.toDouble() - b.toDouble());
    int64_t r;
    if (__builtin_sub_overflow(intOf(a), intOf(b), &r)) intOverflow();
    return Value(r);
}

Value pyMul(const Value& a, const Value& b) {
    // Python repeats a string by an int (bools included): "ab" * 2 == "abab".
    if (a.isString() && isIntegral(b)) return Value(repeatString(a.asString(), intOf(b)));
    if (b.isString() && isIntegral(a)) return Value(repeatString(b.asString(), intOf(a)));
    if (a.isString() || b.isString()) unsupported("*", a, b);
    if (a.isFloat() || b.isFloat()) return Value(a.toDouble() * b.toDouble());
    int64_t r;
    if (__builtin_mul_overflow(intOf(a), intOf(b), &r)) intOverflow();
    return Value(r);
}

Value pyDiv(const Value& a, const Value& b) {
    if (a.isString() || b.isString()) unsupported("/", a, b);
    if (b.toDouble() == 0.0) throw std::domain_error("division by zero");
    if (isIntegral(a) && isIntegral(b)) return Value(intDivide(intOf(a), intOf(b)));
    return Value(a.toDouble() / b.toDouble());
}

Value pyMod(const Value& a, const Value& b) {
    if (a.isString() || b.isString()) unsupported("%", a, b);
    if (b.toDouble() == 0.0) throw std::domain_error("modulo by zero");
    if (isIntegral(a) && isIntegral(b)) {
        int64_t x = intOf(a), y = intOf(b);
        if (y == -1) return Value(int64_t{0});  // INT64_MIN % -1 is undefined in C++
        int64_t r = x % y;
        if (r != 0 && ((r < 0) != (y < 0))) r += y;
        return Value(r);
    }
    // CPython's float remainder: fmod, then move into the divisor's sign; a zero result
    // carries the divisor's sign too.
    double x = a.toDouble(), y = b.toDouble();
    double r = std::fmod(x, y);
    if (r != 0) {
        if ((y < 0) != (r < 0)) r += y;
    } else {
        r = std::copysign(0.0, y);
    }
    return Value(r);
}

Value pyPow(const Value& a, const Value& b) {
    if (a.isString() || b.isString()) unsupported("^", a, b);
    if (isIntegral(a) && isIntegral(b) && intOf(b) >= 0) {
        return Value(intPow(intOf(a), intOf(b)));
    }
    double x = a.toDouble(), y = b.toDouble();
    if (x == 0.0 && y < 0 && std::isfinite(y)) {
        throw std::domain_error("zero cannot be raised to a negative power");
    }
    if (x < 0 && std::isfinite(x) && std::isfinite(y) && y != std::floor(y)) {
        // Python would return a complex number here; atoms have no complex type.
        throw std::domain_error("negative number cannot be raised to a fractional power");
    }
    double r = std::pow(x, y);
    if (std::isinf(r) && std::isfinite(x) && std::isfinite(y)) {
        throw std::domain_error("numerical result out of range");
    }
    return Value(r);
}

Value pyNeg(const Value& a) {
    if (a.isString()) throw std::domain_error("bad operand type for unary -: 'str'");
    if (a.isFloat()) return Value(-a.asFloat());
    int64_t x = intOf(a);
    if (x == std::numeric_limits<int64_t>::min()) intOverflow();
    return Value(-x);
}

Value pyPos(const Value& a) {
    if (a.isString()) throw std::domain_error("bad operand type for unary +: 'str'");
    if (a.isFloat()) return a;
    return Value(intOf(a));  // +True == 1, an int
}

Value pyNot(const Value& a) {
    return Value(!a.truthy());
}

Value pyRound(const Value& a) {
    if (a.isString()) throw std::domain_error("type str cannot be rounded");
    if (isIntegral(a)) return Value(intOf(a));
    double x = a.asFloat();
    if (std::isnan(x)) throw std::domain_error("cannot convert float NaN to integer");
    if (std::isinf(x)) throw std::domain_error("cannot convert float infinity to integer");

    // Round half to even, as Python does, independent of the FPU rounding mode.
    double r = std::round(x);
    if (std::fabs(x - r) == 0.5) r = 2.0 * std::round(x / 2.0);
    if (r < -kTwoPow63 || r >= kTwoPow63) intOverflow();
    return Value(static_cast<int64_t>(r));
}

Value pyIndicator(const Value& a) {
    return Value(int64_t{a.truthy() ? 1 : 0});
}

Value pyLt(const Value& a, const Value& b) {
    return Value(orderedCompare("<", a, b) == -1);
}

Value pyLe(const Value& a, const Value& b) {
    int c = orderedCompare("<=", a, b);
    return Value(c == -1 || c == 0);
}

Value pyGt(const Value& a, const Value& b) {
    return Value(orderedCompare(">", a, b) == 1);
}

Value pyGe(const Value& a, const Value& b) {
    int c = orderedCompare(">=", a, b);
    return Value(c == 1 || c == 0);
}

Value pyEq(const Value& a, const Value& b) {
    return Value(a == b);
}

Value pyNe(const Value& a, const Value& b) {
    return Value(!(a == b));
}

Value pyAnd(const Value& a, const Value& b) {
    return a.truthy() ? b : a;
}

Value pyOr(const Value& a, const Value& b) {
    return a.truthy() ? a : b;
}

bool TableLess::operator()(const Value& a, const Value& b) const {
    // Booleans first, then numbers, then strings; within a group, operator< decides.
    auto group = [](const Value& v) { return v.isBool() ? 0 : v.isString() ? 2 : 1; };
    if (group(a) != group(b)) return group(a) < group(b);
    return a < b;
}

bool sameTableEntry(const Value& a, const Value& b) {
    TableLess less;
    return !less(a, b) && !less(b, a);
}

}  // namespace raspc
