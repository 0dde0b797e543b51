// The syntax tree of a RASP program: what the parser produces and the elaborator executes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "support/diagnostics.h"

namespace raspc::ast {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;

/// A name as written, with where it was written.
struct Ident {
    std::string name;
    SourceLoc loc;
};

enum class UnaryOp { Not, Neg, Pos };

/// Binary operators, including the comparisons a `select` takes as its third argument.
enum class BinaryOp { Add, Sub, Mul, Div, Mod, Pow, Eq, Ne, Lt, Le, Gt, Ge, And, Or };

/// The operator as written in the source ("+", "==", "and", ...).
const char* spelling(BinaryOp op);
const char* spelling(UnaryOp op);

/// A literal atom. Booleans are not literals: `True` and `False` are predefined names.
struct Literal {
    std::variant<int64_t, double, std::string> value;
};

struct Name {
    std::string name;
};

struct Unary {
    UnaryOp op;
    ExprPtr operand;
};

struct Binary {
    BinaryOp op;
    ExprPtr lhs;
    ExprPtr rhs;
    SourceLoc opLoc;  // the operator itself, where errors of the operation point
};

/// `thenExpr if cond else elseExpr`.
struct Conditional {
    ExprPtr thenExpr;
    ExprPtr cond;
    ExprPtr elseExpr;
};

/// `element in container`.
struct In {
    ExprPtr element;
    ExprPtr container;
};

struct Index {
    ExprPtr base;
    ExprPtr index;
};

struct Call {
    ExprPtr callee;
    std::vector<ExprPtr> args;
};

/// `select(keys, queries, cmp)`; cmp is one of the six comparisons.
struct Select {
    ExprPtr keys;
    ExprPtr queries;
    BinaryOp cmp;
};

struct ListLit {
    std::vector<ExprPtr> elements;
};

struct DictLit {
    std::vector<std::pair<ExprPtr, ExprPtr>> entries;
};

/// `[value for vars in iterable]`.
struct ListComp {
    ExprPtr value;
    std::vector<Ident> vars;
    ExprPtr iterable;
};

/// `{key: value for vars in iterable}`.
struct DictComp {
    ExprPtr key;
    ExprPtr value;
    std::vector<Ident> vars;
    ExprPtr iterable;
};

struct Expr {
    SourceLoc loc;     // where the expression starts
    std::string text;  // its source text, as written (for IR printing and messages)
    std::variant<Literal, Name, Unary, Binary, Conditional, In, Index, Call, Select, ListLit,
                 DictLit, ListComp, DictComp>
        node;
};

/// `expr;`: evaluates and binds the result to `out`.
struct ExprStmt {
    ExprPtr expr;
};

/// `a, b = e1, e2;` or `a, b = f(x);` (one expression yielding a list of values).
struct Assign {
    std::vector<Ident> targets;
    std::vector<ExprPtr> values;
};

/// `def name(params) { body; return results; }`. The parser guarantees that the body ends
/// with the return and holds no other.
struct FuncDef {
    Ident name;
    std::vector<Ident> params;
    std::vector<StmtPtr> body;
    std::vector<ExprPtr> results;
    SourceLoc returnLoc;
};

struct ForLoop {
    std::vector<Ident> vars;
    ExprPtr iterable;
    std::vector<StmtPtr> body;
};

/// `load "name";`: runs name.rasp.
struct Load {
    std::string name;
};

/// `vocab "abc";` or `vocab [1, 2, 3];`.
struct Vocab {
    ExprPtr value;
};

/// `max_len 16;`.
struct MaxLen {
    ExprPtr value;
};

/// `causal;`.
struct Causal {};

/// The REPL's `set example <expr>`: the program's example input.
struct SetExample {
    ExprPtr value;
};

struct Stmt {
    SourceLoc loc;
    std::variant<ExprStmt, Assign, FuncDef, ForLoop, Load, Vocab, MaxLen, Causal, SetExample> node;
};

/// One parsed file.
struct Program {
    std::string file;  // the name diagnostics use
    std::vector<StmtPtr> statements;
};

}  // namespace raspc::ast
