// Atoms: the values an s-op holds at one position, with Python 3 semantics.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace raspc {

/// One atom. Python semantics: bool is a kind of int (True + 1 == 2), ints and floats compare
/// by numeric value (1 == 1.0 == True), strings compare lexicographically.
class Value {
public:
    using Storage = std::variant<bool, int64_t, double, std::string>;

    Value() : v_(int64_t{0}) {}
    Value(bool b) : v_(b) {}
    Value(int i) : v_(int64_t{i}) {}
    Value(int64_t i) : v_(i) {}
    Value(double d) : v_(d) {}
    Value(std::string s) : v_(std::move(s)) {}
    Value(const char* s) : v_(std::string(s)) {}

    bool isBool() const { return std::holds_alternative<bool>(v_); }
    bool isInt() const { return std::holds_alternative<int64_t>(v_); }
    bool isFloat() const { return std::holds_alternative<double>(v_); }
    bool isString() const { return std::holds_alternative<std::string>(v_); }
    /// True for bool, int and float: the values arithmetic and means accept.
    bool isNumber() const { return !isString(); }

    bool asBool() const { return std::get<bool>(v_); }
    int64_t asInt() const { return std::get<int64_t>(v_); }
    double asFloat() const { return std::get<double>(v_); }
    const std::string& asString() const { return std::get<std::string>(v_); }
    /// The numeric value of a bool, int or float. Throws InternalError on a string.
    double toDouble() const;
    /// Python truthiness: 0, 0.0, False and "" are false.
    bool truthy() const;

    const Storage& storage() const { return v_; }

    /// Python equality (1 == 1.0 == True; a string never equals a number).
    friend bool operator==(const Value& a, const Value& b);
    /// A total order for sets and tables: numbers (by numeric value) before strings.
    friend bool operator<(const Value& a, const Value& b);

private:
    Storage v_;
};

/// An order for value tables: like operator<, but booleans sort apart from numbers, because
/// False and 0 print differently and a compiled model must say which one the program made.
/// Ints and floats of equal value stay one entry (a mean of 2 and 2 is 2.0, the same number).
struct TableLess {
    bool operator()(const Value& a, const Value& b) const;
};

/// Equal under TableLess.
bool sameTableEntry(const Value& a, const Value& b);

/// The type name the REPL shows after a sequence: "ints", "floats", "bools", "strings".
enum class AtomType { Bool, Int, Float, String };
AtomType atomType(const Value& v);
const char* atomTypePlural(AtomType t);
const char* atomTypeName(AtomType t);  // "bool", "int", "float", "str"

/// How the REPL prints one atom: ints plainly, floats as Python's repr (2.0, 0.5), bools as
/// True/False, strings without quotes.
std::string toDisplay(const Value& v);

/// Python 3 binary operators on atoms. Each throws UserError-free std::domain_error with a
/// short reason ("division by zero", "unsupported operand types for -: 'str' and 'int'") that
/// the caller turns into a located diagnostic.
Value pyAdd(const Value& a, const Value& b);
Value pySub(const Value& a, const Value& b);
Value pyMul(const Value& a, const Value& b);
Value pyDiv(const Value& a, const Value& b);    // true division, always float
Value pyMod(const Value& a, const Value& b);    // result takes the divisor's sign
Value pyPow(const Value& a, const Value& b);
Value pyNeg(const Value& a);
Value pyPos(const Value& a);
Value pyNot(const Value& a);                    // logical not, always bool
Value pyRound(const Value& a);                  // half to even, int result
Value pyIndicator(const Value& a);              // 1 if truthy else 0
Value pyLt(const Value& a, const Value& b);     // and the rest of the comparisons: bool results
Value pyLe(const Value& a, const Value& b);
Value pyGt(const Value& a, const Value& b);
Value pyGe(const Value& a, const Value& b);
Value pyEq(const Value& a, const Value& b);
Value pyNe(const Value& a, const Value& b);
Value pyAnd(const Value& a, const Value& b);    // Python `a and b`: returns an operand
Value pyOr(const Value& a, const Value& b);

}  // namespace raspc
