// Prints the syntax tree as an indented outline, one node a line, with source positions.
#include "frontend/ast_printer.h"

#include "support/text.h"

#include <charconv>
#include <ostream>
#include <string>
#include <type_traits>

namespace raspc {
namespace {

using namespace ast;

std::string literal(const std::string& s) {
    return quoted(s);
}
std::string literal(int64_t v) {
    return std::to_string(v);
}

/// The shortest text that reads back as the same double.
std::string literal(double v) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    std::string out(buf, ec == std::errc() ? end : buf);
    if (out.find_first_of(".eEn") == std::string::npos) out += ".0";  // keep it a float
    return out;
}

std::string names(const std::vector<Ident>& ids) {
    std::string out;
    for (size_t i = 0; i < ids.size(); ++i) out += (i ? ", " : "") + ids[i].name;
    return out;
}

class AstPrinter {
public:
    explicit AstPrinter(std::ostream& out) : out_(out) {}

    void program(const Program& p) {
        out_ << "program " << p.file << "\n";
        for (const StmtPtr& s : p.statements) stmt(*s, 1);
    }

private:
    void line(int depth, const std::string& role, const std::string& text, const SourceLoc& loc) {
        out_ << std::string(static_cast<size_t>(depth) * 2, ' ');
        if (!role.empty()) out_ << role << ": ";
        out_ << text;
        if (loc.line > 0) out_ << "  @" << loc.line << ":" << loc.col;
        out_ << "\n";
    }

    void block(const std::vector<StmtPtr>& body, int depth) {
        for (const StmtPtr& s : body) stmt(*s, depth);
    }

    void stmt(const Stmt& s, int depth) {
        std::visit(
            [&](const auto& n) {
                using T = std::decay_t<decltype(n)>;
                if constexpr (std::is_same_v<T, ExprStmt>) {
                    line(depth, "", "expr", s.loc);
                    expr(*n.expr, depth + 1, "");
                } else if constexpr (std::is_same_v<T, Assign>) {
                    line(depth, "", "assign " + names(n.targets), s.loc);
                    for (const ExprPtr& v : n.values) expr(*v, depth + 1, "");
                } else if constexpr (std::is_same_v<T, FuncDef>) {
                    line(depth, "", "def " + n.name.name + "(" + names(n.params) + ")", s.loc);
                    block(n.body, depth + 1);
                    line(depth + 1, "", "return", n.returnLoc);
                    for (const ExprPtr& r : n.results) expr(*r, depth + 2, "");
                } else if constexpr (std::is_same_v<T, ForLoop>) {
                    line(depth, "", "for " + names(n.vars), s.loc);
                    expr(*n.iterable, depth + 1, "in");
                    block(n.body, depth + 1);
                } else if constexpr (std::is_same_v<T, Load>) {
                    line(depth, "", "load " + quoted(n.name), s.loc);
                } else if constexpr (std::is_same_v<T, Vocab>) {
                    line(depth, "", "vocab", s.loc);
                    expr(*n.value, depth + 1, "");
                } else if constexpr (std::is_same_v<T, MaxLen>) {
                    line(depth, "", "max_len", s.loc);
                    expr(*n.value, depth + 1, "");
                } else if constexpr (std::is_same_v<T, Causal>) {
                    line(depth, "", "causal", s.loc);
                } else if constexpr (std::is_same_v<T, SetExample>) {
                    line(depth, "", "set example", s.loc);
                    expr(*n.value, depth + 1, "");
                }
            },
            s.node);
    }

    void expr(const Expr& e, int depth, const std::string& role) {
        std::visit(
            [&](const auto& n) {
                using T = std::decay_t<decltype(n)>;
                if constexpr (std::is_same_v<T, Literal>) {
                    std::string text =
                        std::visit([](const auto& v) { return literal(v); }, n.value);
                    line(depth, role, "literal " + text, e.loc);
                } else if constexpr (std::is_same_v<T, Name>) {
                    line(depth, role, "name " + n.name, e.loc);
                } else if constexpr (std::is_same_v<T, Unary>) {
                    line(depth, role, std::string("unary ") + spelling(n.op), e.loc);
                    expr(*n.operand, depth + 1, "");
                } else if constexpr (std::is_same_v<T, Binary>) {
                    line(depth, role, std::string("binary ") + spelling(n.op), e.loc);
                    expr(*n.lhs, depth + 1, "");
                    expr(*n.rhs, depth + 1, "");
                } else if constexpr (std::is_same_v<T, Conditional>) {
                    line(depth, role, "conditional", e.loc);
                    expr(*n.thenExpr, depth + 1, "then");
                    expr(*n.cond, depth + 1, "if");
                    expr(*n.elseExpr, depth + 1, "else");
                } else if constexpr (std::is_same_v<T, In>) {
                    line(depth, role, "in", e.loc);
                    expr(*n.element, depth + 1, "element");
                    expr(*n.container, depth + 1, "container");
                } else if constexpr (std::is_same_v<T, Index>) {
                    line(depth, role, "index", e.loc);
                    expr(*n.base, depth + 1, "base");
                    expr(*n.index, depth + 1, "index");
                } else if constexpr (std::is_same_v<T, Call>) {
                    line(depth, role, "call", e.loc);
                    expr(*n.callee, depth + 1, "callee");
                    for (const ExprPtr& a : n.args) expr(*a, depth + 1, "arg");
                } else if constexpr (std::is_same_v<T, Select>) {
                    line(depth, role, std::string("select ") + spelling(n.cmp), e.loc);
                    expr(*n.keys, depth + 1, "keys");
                    expr(*n.queries, depth + 1, "queries");
                } else if constexpr (std::is_same_v<T, ListLit>) {
                    line(depth, role, "list", e.loc);
                    for (const ExprPtr& el : n.elements) expr(*el, depth + 1, "");
                } else if constexpr (std::is_same_v<T, DictLit>) {
                    line(depth, role, "dict", e.loc);
                    for (const auto& [k, v] : n.entries) {
                        expr(*k, depth + 1, "key");
                        expr(*v, depth + 1, "value");
                    }
                } else if constexpr (std::is_same_v<T, ListComp>) {
                    line(depth, role, "list comprehension for " + names(n.vars), e.loc);
                    expr(*n.iterable, depth + 1, "in");
                    expr(*n.value, depth + 1, "value");
                } else if constexpr (std::is_same_v<T, DictComp>) {
                    line(depth, role, "dict comprehension for " + names(n.vars), e.loc);
                    expr(*n.iterable, depth + 1, "in");
                    expr(*n.key, depth + 1, "key");
                    expr(*n.value, depth + 1, "value");
                }
            },
            e.node);
    }

    std::ostream& out_;
};

}  // namespace

void printAst(std::ostream& out, const ast::Program& program) {
    AstPrinter(out).program(program);
}

}  // namespace raspc
