// Parser tests: statement forms, the REPL's precedence quirks, source locations and text, and
// the wording and placement of syntax errors.
#include <doctest/doctest.h>

#include <sstream>

#include "frontend/parser.h"

namespace raspc {
namespace {

/// An expression, fully parenthesised, so that tests can state how it grouped.
std::string show(const ast::Expr& e) {
    return std::visit(
        [](const auto& n) -> std::string {
            using T = std::decay_t<decltype(n)>;
            if constexpr (std::is_same_v<T, ast::Literal>) {
                if (auto* i = std::get_if<int64_t>(&n.value)) return std::to_string(*i);
                if (auto* d = std::get_if<double>(&n.value)) {
                    std::ostringstream out;
                    out << *d;
                    return out.str();
                }
                return "\"" + std::get<std::string>(n.value) + "\"";
            } else if constexpr (std::is_same_v<T, ast::Name>) {
                return n.name;
            } else if constexpr (std::is_same_v<T, ast::Unary>) {
                return std::string("(") + ast::spelling(n.op) + " " + show(*n.operand) + ")";
            } else if constexpr (std::is_same_v<T, ast::Binary>) {
                return "(" + show(*n.lhs) + " " + ast::spelling(n.op) + " " + show(*n.rhs) + ")";
            } else if constexpr (std::is_same_v<T, ast::Conditional>) {
                return "(" + show(*n.thenExpr) + " if " + show(*n.cond) + " else " +
                       show(*n.elseExpr) + ")";
            } else if constexpr (std::is_same_v<T, ast::In>) {
                return "(" + show(*n.element) + " in " + show(*n.container) + ")";
            } else if constexpr (std::is_same_v<T, ast::Index>) {
                return show(*n.base) + "[" + show(*n.index) + "]";
            } else if constexpr (std::is_same_v<T, ast::Call>) {
                std::string s = show(*n.callee) + "(";
                for (size_t i = 0; i < n.args.size(); ++i) {
                    s += (i ? ", " : "") + show(*n.args[i]);
                }
                return s + ")";
            } else if constexpr (std::is_same_v<T, ast::Select>) {
                return "select(" + show(*n.keys) + ", " + show(*n.queries) + ", " +
                       ast::spelling(n.cmp) + ")";
            } else if constexpr (std::is_same_v<T, ast::ListLit>) {
                std::string s = "[";
                for (size_t i = 0; i < n.elements.size(); ++i) {
                    s += (i ? ", " : "") + show(*n.elements[i]);
                }
                return s + "]";
            } else if constexpr (std::is_same_v<T, ast::DictLit>) {
                std::string s = "{";
                for (size_t i = 0; i < n.entries.size(); ++i) {
                    s += (i ? ", " : "") + show(*n.entries[i].first) + ": " +
                         show(*n.entries[i].second);
                }
                return s + "}";
            } else if constexpr (std::is_same_v<T, ast::ListComp>) {
                return "[" + show(*n.value) + " for " + n.vars[0].name + " in " +
                       show(*n.iterable) + "]";
            } else {
                return "{" + show(*n.key) + ": " + show(*n.value) + " for " + n.vars[0].name +
                       " in " + show(*n.iterable) + "}";
            }
        },
        e.node);
}

ast::Program parse(std::string_view text) {
    return parseString(text, "test.rasp");
}

/// The one expression statement of `text`, shown.
std::string grouping(const std::string& text) {
    ast::Program p = parse(text + ";");
    REQUIRE(p.statements.size() == 1);
    auto* stmt = std::get_if<ast::ExprStmt>(&p.statements[0]->node);
    REQUIRE(stmt != nullptr);
    return show(*stmt->expr);
}

/// Every diagnostic of a failing parse as `line:col: message` lines.
std::string errors(std::string_view text) {
    try {
        parse(text);
    } catch (const UserError& e) {
        std::string out;
        for (const Diagnostic& d : e.diagnostics()) {
            out += std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " + d.message +
                   "\n";
        }
        return out;
    }
    return "no error";
}

TEST_CASE("precedence follows the REPL, quirks included") {
    CHECK(grouping("2 ^ 3 ^ 2") == "((2 ^ 3) ^ 2)");
    CHECK(grouping("-t ^ 2") == "((- t) ^ 2)");
    CHECK(grouping("t % 2 * 3") == "(t % (2 * 3))");
    CHECK(grouping("a + b * c") == "(a + (b * c))");
    CHECK(grouping("a - b - c") == "((a - b) - c)");
    CHECK(grouping("not t == 2") == "((not t) == 2)");
    CHECK(grouping("a or b and c") == "((a or b) and c)");
    CHECK(grouping("a == b and c < d") == "((a == b) and (c < d))");
    CHECK(grouping("10 if t == 1 else 20 if t == 2 else 30") ==
          "((10 if (t == 1) else 20) if (t == 2) else 30)");
    CHECK(grouping("m + t in pairs") == "((m + t) in pairs)");
    CHECK(grouping("-f(x)[0]") == "(- f(x)[0])");
    CHECK(grouping("a != b") == "(a != b)");
    CHECK(grouping("round(x / 2)") == "round((x / 2))");
}

TEST_CASE("primary forms") {
    CHECK(grouping("select(indices, 0, ==)") == "select(indices, 0, ==)");
    CHECK(grouping("select(k, q, !=) and not select(k, q, <=)") ==
          "(select(k, q, !=) and (not select(k, q, <=)))");
    CHECK(grouping("[1, 2.5, \"a\",]") == "[1, 2.5, \"a\"]");
    CHECK(grouping("{\"a\": 1, 2: x}") == "{\"a\": 1, 2: x}");
    CHECK(grouping("[p[0] for p in pairs]") == "[p[0] for p in pairs]");
    CHECK(grouping("{k: v for k in ks}") == "{k: v for k in ks}");
    CHECK(grouping("aggregate(s, t, 0, \"max\")") == "aggregate(s, t, 0, \"max\")");
    CHECK(grouping("f()") == "f()");
}

TEST_CASE("statements") {
    ast::Program p = parse(R"rasp(# a comment
vocab "abc";   # trailing comment
max_len 8;
causal;
set example "hello"
load "lib";
a, b = 1, 2;
def f(x, y) {
    z = x + y;
    return z, x;
}
for i in range(3) { q = i; }
out;
)rasp");
    REQUIRE(p.statements.size() == 9);
    CHECK(std::holds_alternative<ast::Vocab>(p.statements[0]->node));
    CHECK(std::holds_alternative<ast::MaxLen>(p.statements[1]->node));
    CHECK(std::holds_alternative<ast::Causal>(p.statements[2]->node));
    CHECK(std::holds_alternative<ast::SetExample>(p.statements[3]->node));
    CHECK(std::get<ast::Load>(p.statements[4]->node).name == "lib");
    const auto& assign = std::get<ast::Assign>(p.statements[5]->node);
    CHECK(assign.targets.size() == 2);
    CHECK(assign.values.size() == 2);
    const auto& def = std::get<ast::FuncDef>(p.statements[6]->node);
    CHECK(def.name.name == "f");
    CHECK(def.params.size() == 2);
    CHECK(def.body.size() == 1);
    CHECK(def.results.size() == 2);
    CHECK(def.returnLoc.line == 10);
    CHECK(std::get<ast::ForLoop>(p.statements[7]->node).body.size() == 1);
    CHECK(std::holds_alternative<ast::ExprStmt>(p.statements[8]->node));
}

TEST_CASE("directive words stay usable as names") {
    ast::Program p = parse(
        "def f(max_len, vocab) { return max_len * vocab; }\n"
        "x = load + example;\nset s-op example \"ab\";\n");
    REQUIRE(p.statements.size() == 3);
    CHECK(std::get<ast::FuncDef>(p.statements[0]->node).params[0].name == "max_len");
}

TEST_CASE("locations and source text") {
    ast::Program p = parse("x = 1;\n  y = (tokens +  1) * 2;\n");
    const auto& assign = std::get<ast::Assign>(p.statements[1]->node);
    CHECK(p.statements[1]->loc.line == 2);
    CHECK(p.statements[1]->loc.col == 3);
    CHECK(assign.targets[0].loc.col == 3);
    const ast::Expr& e = *assign.values[0];
    CHECK(e.text == "(tokens +  1) * 2");
    CHECK(e.loc.col == 7);
    const auto& mul = std::get<ast::Binary>(e.node);
    CHECK(mul.opLoc.col == 21);
    CHECK(mul.lhs->text == "tokens +  1");  // the parentheses leave no node
    CHECK(mul.lhs->loc.col == 8);
}

TEST_CASE("columns count bytes after non-ASCII text") {
    // "§" is two bytes: the caret printer counts bytes, so the column must too.
    CHECK(errors("x = \"§\" @;\n") == "1:10: unexpected character '@'\n");
}

TEST_CASE("syntax error messages") {
    CHECK(errors("x = 1\ny = 2;\n") == "1:6: expected ';' after statement\n");
    CHECK(errors("x = 1 2;\n") == "1:7: unexpected '2'; expected ';'\n");
    CHECK(errors("x = select(a, b, =);\n") ==
          "1:18: unexpected '='; expected a comparison (==, !=, <, <=, >, >=)\n");
    CHECK(errors("z = f(1, 2;\n") == "1:11: unexpected ';'; expected ')' or ','\n");
    CHECK(errors("x = ;\n") == "1:5: unexpected ';'; expected an expression\n");
    CHECK(errors("x = (1;\n") == "1:7: expected ')' before ';'\n");
    CHECK(errors("x = 1 +;\n") == "1:8: expected an expression after '+'\n");
    CHECK(errors("x = (1 + ;\n") == "1:10: expected an expression after '+'\n");
    CHECK(errors("x = tokens +\n") == "1:13: expected an expression after '+'\n");
    CHECK(errors("x = a and\n;\n") == "2:1: unexpected ';'; expected an expression\n");
    CHECK(errors("def f(x) { y = x; }\n") ==
          "1:19: function 'f' must end with a 'return' statement\n");
    CHECK(errors("return 1;\n") == "1:1: 'return' outside a function\n");
    CHECK(errors("def f() { return 1; return 2; }\n") ==
          "1:11: 'return' must be the last statement of a function\n");
    CHECK(errors("x = 99999999999999999999;\n") ==
          "1:5: integer 99999999999999999999 is too large (the limit is 2^63 - 1)\n");
    CHECK(errors("set foo example 1;\n") ==
          "1:5: expected 's-op' or 'selector' after 'set', or 'example' alone\n");
}

TEST_CASE("lexer errors, one message per mistake") {
    CHECK(errors("x = tokens @ 2;\n") == "1:12: unexpected character '@'\n");
    CHECK(errors("x = \"abc\ny = 1;\n") ==
          "1:5: unterminated string: a string must end with '\"' on the same line\n");
    CHECK(errors("a = 1 $ 2;\nb = 3\nc = 4;\n") ==
          "1:7: unexpected character '$'\n2:6: expected ';' after statement\n");
}

TEST_CASE("several errors in one file") {
    CHECK(errors("x = ;\ny = 2\nz = 3;\nw = (1;\n") ==
          "1:5: unexpected ';'; expected an expression\n"
          "2:6: expected ';' after statement\n"
          "4:7: expected ')' before ';'\n");
}

TEST_CASE("parseFile reports an unreadable file without a location") {
    try {
        parseFile("/nonexistent/dir/prog.rasp");
        FAIL("no error");
    } catch (const UserError& e) {
        CHECK(e.loc().line == 0);
        CHECK(std::string(e.what()).find("cannot read '/nonexistent/dir/prog.rasp'") == 0);
    }
}

}  // namespace
}  // namespace raspc
