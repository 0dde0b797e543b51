// The wall around ANTLR: runs the generated lexer and parser, turns their complaints into
// readable Diagnostics and their parse tree into our AST. No ANTLR type leaves this file.
#include "frontend/parser.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "RaspLexer.h"
#include "RaspParser.h"
#include "antlr4-runtime.h"

namespace raspc {

const char* ast::spelling(BinaryOp op) {
    switch (op) {
        case BinaryOp::Add:
            return "+";
        case BinaryOp::Sub:
            return "-";
        case BinaryOp::Mul:
            return "*";
        case BinaryOp::Div:
            return "/";
        case BinaryOp::Mod:
            return "%";
        case BinaryOp::Pow:
            return "^";
        case BinaryOp::Eq:
            return "==";
        case BinaryOp::Ne:
            return "!=";
        case BinaryOp::Lt:
            return "<";
        case BinaryOp::Le:
            return "<=";
        case BinaryOp::Gt:
            return ">";
        case BinaryOp::Ge:
            return ">=";
        case BinaryOp::And:
            return "and";
        case BinaryOp::Or:
            return "or";
    }
    return "?";
}

const char* ast::spelling(UnaryOp op) {
    switch (op) {
        case UnaryOp::Not:
            return "not";
        case UnaryOp::Neg:
            return "-";
        case UnaryOp::Pos:
            return "+";
    }
    return "?";
}

namespace {

using gen::RaspLexer;
using gen::RaspParser;

bool isContinuationByte(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

size_t codePointCount(std::string_view s) {
    size_t n = 0;
    for (char c : s) n += isContinuationByte(c) ? 0 : 1;
    return n;
}

/// The offset of the first byte of `s` that is not part of well-formed UTF-8 (no overlong
/// forms, surrogates or code points past U+10FFFF), or npos.
size_t firstBadUtf8(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
        const auto b = static_cast<unsigned char>(s[i]);
        size_t len = 0;
        uint32_t cp = 0, min = 0;
        if (b < 0x80) {
            ++i;
            continue;
        } else if ((b & 0xE0) == 0xC0) {
            len = 2, cp = b & 0x1F, min = 0x80;
        } else if ((b & 0xF0) == 0xE0) {
            len = 3, cp = b & 0x0F, min = 0x800;
        } else if ((b & 0xF8) == 0xF0) {
            len = 4, cp = b & 0x07, min = 0x10000;
        } else {
            return i;
        }
        if (i + len > s.size()) return i;
        for (size_t k = 1; k < len; ++k) {
            if (!isContinuationByte(s[i + k])) return i;
            cp = cp << 6 | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += len;
    }
    return std::string_view::npos;
}

/// Turns ANTLR positions (1-based line, 0-based column counted in code points) into
/// SourceLocs (1-based line and column, counted in bytes as the diagnostics printer counts).
class SourceMap {
public:
    SourceMap(std::string_view text, std::string file) : text_(text), file_(std::move(file)) {
        lineStarts_.push_back(0);
        lineCodePoints_.push_back(0);
        for (size_t i = 0; i < text_.size(); ++i) {
            if (!isContinuationByte(text_[i])) codePoints_.push_back(i);
            if (text_[i] == '\n') {
                lineStarts_.push_back(i + 1);
                lineCodePoints_.push_back(codePoints_.size());
            }
        }
        codePoints_.push_back(text_.size());
    }

    const std::string& file() const { return file_; }

    /// The byte offset of a position (the end of its line if past it), or npos when the line
    /// lies outside the text. Constant time: a long line costs no more per token.
    size_t offset(size_t line, size_t cpCol) const {
        if (line == 0 || line > lineStarts_.size()) return std::string_view::npos;
        // The line's last code point is its '\n' (or the text's end).
        const size_t last =
            line < lineStarts_.size() ? lineCodePoints_[line] - 1 : codePoints_.size() - 1;
        return codePoints_[std::min(lineCodePoints_[line - 1] + cpCol, last)];
    }

    SourceLoc at(size_t line, size_t cpCol) const {
        size_t pos = offset(line, cpCol);
        int col = pos == std::string_view::npos ? static_cast<int>(cpCol) + 1
                                                : static_cast<int>(pos - lineStarts_[line - 1]) + 1;
        return SourceLoc{file_, static_cast<int>(line), col};
    }

    /// The position of byte `offset`.
    SourceLoc atOffset(size_t offset) const {
        const auto next = std::upper_bound(lineStarts_.begin(), lineStarts_.end(), offset);
        const size_t line = static_cast<size_t>(next - lineStarts_.begin());
        return SourceLoc{file_, static_cast<int>(line),
                         static_cast<int>(offset - lineStarts_[line - 1]) + 1};
    }

    SourceLoc at(const antlr4::Token* t) const {
        return at(t->getLine(), t->getCharPositionInLine());
    }

    /// Just past the end of `t` (tokens never span lines: strings stop at a newline).
    SourceLoc after(const antlr4::Token* t) const {
        return at(t->getLine(), t->getCharPositionInLine() + codePointCount(t->getText()));
    }

    /// The one character (UTF-8 sequence) at a position, for messages.
    std::string charAt(size_t line, size_t cpCol) const {
        size_t pos = offset(line, cpCol);
        if (pos == std::string_view::npos || pos >= text_.size()) return {};
        size_t end = pos + 1;
        while (end < text_.size() && isContinuationByte(text_[end])) ++end;
        return std::string(text_.substr(pos, end - pos));
    }

private:
    std::string_view text_;
    std::string file_;
    std::vector<size_t> lineStarts_;
    std::vector<size_t> codePoints_;      // the byte offset of every code point, then the end
    std::vector<size_t> lineCodePoints_;  // each line's first code point (index in codePoints_)
};

/// Every syntax error of one file. Lexer errors are remembered so that the parser errors they
/// cause can be dropped: one mistake, one message.
struct SyntaxErrors {
    std::vector<Diagnostic> diagnostics;
    std::vector<SourceLoc> lexerErrors;

    void add(SourceLoc loc, std::string message) {
        diagnostics.push_back({std::move(loc), std::move(message)});
    }

    /// Records a parser error unless an error was already reported at the same spot, or a lexer
    /// error sits on the same line or in the gap between the offending token and the token
    /// before it (`from` .. `loc`).
    void addParserError(SourceLoc loc, std::string message, const SourceLoc& from) {
        auto key = [](const SourceLoc& l) { return std::pair(l.line, l.col); };
        // One spot, one message: recovery often fails again right where it last failed.
        for (const Diagnostic& d : diagnostics) {
            if (key(d.loc) == key(loc) || key(d.loc) == key(from)) return;
        }
        for (const SourceLoc& lexed : lexerErrors) {
            if (lexed.line == loc.line) return;
            if (key(from) <= key(lexed) && key(lexed) <= key(loc)) return;
        }
        add(std::move(loc), std::move(message));
    }
};

/// Reports characters no token can start with.
class LexerErrorListener : public antlr4::BaseErrorListener {
public:
    LexerErrorListener(const SourceMap& map, SyntaxErrors& errors) : map_(map), errors_(errors) {}

    void syntaxError(antlr4::Recognizer*, antlr4::Token*, size_t line, size_t charPos,
                     const std::string&, std::exception_ptr) override {
        std::string c = map_.charAt(line, charPos);
        std::string message;
        if (c.size() == 1 && (static_cast<unsigned char>(c[0]) < 0x20 || c[0] == 0x7F)) {
            std::ostringstream hex;
            hex << "unexpected control character (code " << static_cast<int>(c[0]) << ")";
            message = hex.str();
        } else {
            message = "unexpected character '" + c + "'";
        }
        errors_.add(map_.at(line, charPos), message);
        errors_.lexerErrors.push_back(map_.at(line, charPos));
    }

private:
    const SourceMap& map_;
    SyntaxErrors& errors_;
};

/// A fallback for parser errors that do not come through FriendlyErrorStrategy.
class ParserErrorListener : public antlr4::BaseErrorListener {
public:
    ParserErrorListener(const SourceMap& map, SyntaxErrors& errors) : map_(map), errors_(errors) {}

    void syntaxError(antlr4::Recognizer*, antlr4::Token*, size_t line, size_t charPos,
                     const std::string& msg, std::exception_ptr) override {
        SourceLoc loc = map_.at(line, charPos);
        errors_.addParserError(loc, msg, loc);
    }

private:
    const SourceMap& map_;
    SyntaxErrors& errors_;
};

std::string describeToken(const antlr4::Token* t) {
    if (t->getType() == antlr4::Token::EOF) return "end of file";
    return "'" + t->getText() + "'";
}

bool isSoftKeyword(ssize_t type) {
    return type == RaspParser::VOCAB || type == RaspParser::MAX_LEN || type == RaspParser::CAUSAL ||
           type == RaspParser::SET || type == RaspParser::EXAMPLE || type == RaspParser::LOAD;
}

/// "an expression", "';'", "')' or ','", ...; empty when the set is too large to help.
std::string describeExpected(const antlr4::misc::IntervalSet& set,
                             const antlr4::dfa::Vocabulary& vocab) {
    if (set.contains(static_cast<size_t>(RaspParser::ID)) &&
        set.contains(static_cast<size_t>(RaspParser::INT))) {
        return "an expression";
    }
    bool nameExpected = set.contains(static_cast<size_t>(RaspParser::ID));
    std::vector<std::string> items;
    auto addItem = [&](std::string s) {
        if (std::find(items.begin(), items.end(), s) == items.end()) items.push_back(s);
    };
    for (ssize_t type : set.toList()) {
        if (nameExpected && isSoftKeyword(type)) continue;
        if (type == static_cast<ssize_t>(antlr4::Token::EOF)) {
            addItem("end of file");
            continue;
        }
        switch (type) {
            case RaspParser::ID:
                addItem("a name");
                break;
            case RaspParser::INT:
            case RaspParser::FLOAT:
                addItem("a number");
                break;
            case RaspParser::STRING:
                addItem("a string");
                break;
            default:
                addItem(vocab.getLiteralName(static_cast<size_t>(type)));
                break;
        }
    }
    if (items.size() == 6 && set.contains(static_cast<size_t>(RaspParser::EQ)) &&
        set.contains(static_cast<size_t>(RaspParser::GE))) {
        return "a comparison (==, !=, <, <=, >, >=)";
    }
    if (items.empty() || items.size() > 4) return {};
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += i + 1 == items.size() ? " or " : ", ";
        out += items[i];
    }
    return out;
}

/// Rewords ANTLR's recovery reports ("missing ';' at 'y'", "extraneous input ... expecting
/// {...}") into messages a RASP programmer can act on, and places a missing token's caret
/// right after the token it should follow.
class FriendlyErrorStrategy : public antlr4::DefaultErrorStrategy {
public:
    FriendlyErrorStrategy(const SourceMap& map, SyntaxErrors& errors)
        : map_(map), errors_(errors) {}

protected:
    void reportNoViableAlternative(antlr4::Parser* p,
                                   const antlr4::NoViableAltException& e) override {
        reportUnexpected(p, e.getOffendingToken(), e.getExpectedTokens());
    }

    void reportInputMismatch(antlr4::Parser* p, const antlr4::InputMismatchException& e) override {
        reportUnexpected(p, e.getOffendingToken(), e.getExpectedTokens());
    }

    void reportUnwantedToken(antlr4::Parser* p) override {
        if (inErrorRecoveryMode(p)) return;
        beginErrorCondition(p);
        reportUnexpected(p, p->getCurrentToken(), getExpectedTokens(p));
    }

    void reportMissingToken(antlr4::Parser* p) override {
        if (inErrorRecoveryMode(p)) return;
        beginErrorCondition(p);
        antlr4::Token* current = p->getCurrentToken();
        antlr4::Token* previous = previousToken(p, current);
        antlr4::misc::IntervalSet expected = getExpectedTokens(p);
        if (previous == nullptr || isBinaryOperator(p, current)) {
            reportUnexpected(p, current, expected);
            return;
        }
        if (expected.contains(static_cast<size_t>(RaspParser::SEMI))) {
            report(previous, current, map_.after(previous), "expected ';' after statement");
            return;
        }
        std::string what = describeExpected(expected, p->getVocabulary());
        std::string message = what.empty() ? "syntax error" : "expected " + what;
        report(previous, current, map_.after(previous),
               message + " before " + describeToken(current));
    }

    /// Never drops a ';' to make the statement before it fit: the parser would then read
    /// the next statement as part of this one and report its errors there.
    antlr4::Token* singleTokenDeletion(antlr4::Parser* p) override {
        if (p->getCurrentToken()->getType() == RaspParser::SEMI) return nullptr;
        return antlr4::DefaultErrorStrategy::singleTokenDeletion(p);
    }

private:
    static bool isBinaryOperator(antlr4::Parser* p, const antlr4::Token* t) {
        static const std::set<std::string> kOperators = {
            "'+'", "'-'",  "'*'", "'/'",  "'%'",   "'^'",  "'=='", "'!='",
            "'<'", "'<='", "'>'", "'>='", "'and'", "'or'", "'in'",
        };
        return kOperators.count(p->getVocabulary().getLiteralName(t->getType())) != 0;
    }

    static antlr4::Token* previousToken(antlr4::Parser* p, antlr4::Token* t) {
        if (t == nullptr || t->getTokenIndex() == 0) return nullptr;
        return p->getTokenStream()->get(t->getTokenIndex() - 1);
    }

    void reportUnexpected(antlr4::Parser* p, antlr4::Token* offending,
                          const antlr4::misc::IntervalSet& expected) {
        antlr4::Token* previous = previousToken(p, offending);
        // The parser stops at an operator when what follows cannot be its right operand
        // (`x = 1 +;`): blame that operand, not the operator.
        if (isBinaryOperator(p, offending)) {
            antlr4::Token* next = p->getTokenStream()->get(offending->getTokenIndex() + 1);
            SourceLoc loc =
                next->getLine() > offending->getLine() || next->getType() == antlr4::Token::EOF
                    ? map_.after(offending)
                    : map_.at(next);
            report(offending, next, loc,
                   "expected an expression after " + describeToken(offending));
            return;
        }
        // A statement that ends where a new line starts something else almost always lacks
        // its ';': say so, after the statement, instead of complaining about the next line.
        if (previous != nullptr && expected.contains(static_cast<size_t>(RaspParser::SEMI)) &&
            offending->getLine() > previous->getLine()) {
            report(previous, offending, map_.after(previous), "expected ';' after statement");
            return;
        }
        std::string message = offending->getType() == antlr4::Token::EOF
                                  ? "unexpected end of file"
                                  : "unexpected " + describeToken(offending);
        std::string what = describeExpected(expected, p->getVocabulary());
        if (!what.empty()) message += "; expected " + what;
        report(previous, offending, map_.at(offending), message);
    }

    void report(antlr4::Token* previous, antlr4::Token* offending, SourceLoc loc,
                std::string message) {
        SourceLoc from = previous != nullptr ? map_.after(previous) : map_.at(offending);
        errors_.addParserError(std::move(loc), std::move(message), from);
    }

    const SourceMap& map_;
    SyntaxErrors& errors_;
};

/// Builds the AST from a parse tree that has no syntax errors. Collects the few mistakes the
/// grammar lets through (a misplaced `return`, an integer too large) as diagnostics.
class AstBuilder {
public:
    AstBuilder(const SourceMap& map, antlr4::CharStream& input, std::vector<Diagnostic>& errors)
        : map_(map), input_(input), errors_(errors) {}

    ast::Program program(RaspParser::ProgramContext* ctx) {
        ast::Program prog;
        prog.file = map_.file();
        prog.statements = statements(ctx->statement(), /*inFunction=*/false);
        return prog;
    }

private:
    std::vector<ast::StmtPtr> statements(const std::vector<RaspParser::StatementContext*>& list,
                                         bool inFunction) {
        std::vector<ast::StmtPtr> out;
        for (auto* s : list) {
            if (auto* ret = dynamic_cast<RaspParser::ReturnStmtContext*>(s)) {
                error(map_.at(ret->getStart()),
                      inFunction ? "'return' must be the last statement of a function"
                                 : "'return' outside a function");
                continue;
            }
            if (ast::StmtPtr stmt = statement(s, inFunction)) out.push_back(std::move(stmt));
        }
        return out;
    }

    ast::StmtPtr statement(RaspParser::StatementContext* ctx, bool inFunction) {
        auto stmt = std::make_unique<ast::Stmt>();
        stmt->loc = map_.at(ctx->getStart());
        if (auto* c = dynamic_cast<RaspParser::ExprStmtContext*>(ctx)) {
            stmt->node = ast::ExprStmt{expr(c->expr())};
        } else if (auto* c = dynamic_cast<RaspParser::AssignStmtContext*>(ctx)) {
            stmt->node = ast::Assign{names(c->names()), exprs(c->exprs())};
        } else if (auto* c = dynamic_cast<RaspParser::DefStmtContext*>(ctx)) {
            stmt->node = funcDef(c);
        } else if (auto* c = dynamic_cast<RaspParser::ForStmtContext*>(ctx)) {
            stmt->node = ast::ForLoop{names(c->names()), expr(c->expr()),
                                      statements(c->statement(), inFunction)};
        } else if (auto* c = dynamic_cast<RaspParser::LoadStmtContext*>(ctx)) {
            stmt->node = ast::Load{unquote(c->STRING()->getText())};
        } else if (auto* c = dynamic_cast<RaspParser::VocabStmtContext*>(ctx)) {
            stmt->node = ast::Vocab{expr(c->expr())};
        } else if (auto* c = dynamic_cast<RaspParser::MaxLenStmtContext*>(ctx)) {
            stmt->node = ast::MaxLen{expr(c->expr())};
        } else if (dynamic_cast<RaspParser::CausalStmtContext*>(ctx) != nullptr) {
            stmt->node = ast::Causal{};
        } else if (auto* c = dynamic_cast<RaspParser::SetExampleStmtContext*>(ctx)) {
            std::string kind = c->exampleKind() != nullptr ? c->exampleKind()->getText() : "";
            if (kind != "" && kind != "s-op" && kind != "selector") {
                error(map_.at(c->exampleKind()->getStart()),
                      "expected 's-op' or 'selector' after 'set', or 'example' alone");
                return nullptr;
            }
            // Selector examples only steer the REPL's display; they mean nothing here.
            if (kind == "selector") return nullptr;
            stmt->node = ast::SetExample{expr(c->expr())};
        } else {
            throw InternalError("parser: unknown statement form");
        }
        return stmt;
    }

    ast::FuncDef funcDef(RaspParser::DefStmtContext* ctx) {
        ast::FuncDef def;
        def.name = ident(ctx->name());
        if (ctx->names() != nullptr) def.params = names(ctx->names());

        std::vector<RaspParser::StatementContext*> body = ctx->statement();
        auto* ret =
            body.empty() ? nullptr : dynamic_cast<RaspParser::ReturnStmtContext*>(body.back());
        if (ret == nullptr) {
            error(map_.at(ctx->getStop()),
                  "function '" + def.name.name + "' must end with a 'return' statement");
        } else {
            body.pop_back();
            def.results = exprs(ret->exprs());
            def.returnLoc = map_.at(ret->getStart());
        }
        def.body = statements(body, /*inFunction=*/true);
        return def;
    }

    std::vector<ast::Ident> names(RaspParser::NamesContext* ctx) {
        std::vector<ast::Ident> out;
        for (auto* n : ctx->name()) out.push_back(ident(n));
        return out;
    }

    ast::Ident ident(RaspParser::NameContext* ctx) {
        return ast::Ident{ctx->getText(), map_.at(ctx->getStart())};
    }

    std::vector<ast::ExprPtr> exprs(RaspParser::ExprsContext* ctx) { return exprList(ctx->expr()); }

    std::vector<ast::ExprPtr> exprList(const std::vector<RaspParser::ExprContext*>& list) {
        std::vector<ast::ExprPtr> out;
        for (auto* e : list) out.push_back(expr(e));
        return out;
    }

    ast::ExprPtr expr(RaspParser::ExprContext* ctx) {
        // Parentheses leave no node, but the inner expression keeps the outer text so that a
        // printed map reads as written.
        if (auto* c = dynamic_cast<RaspParser::ParenExprContext*>(ctx)) return expr(c->expr());

        auto e = std::make_unique<ast::Expr>();
        e->loc = map_.at(ctx->getStart());
        e->text = input_.getText(antlr4::misc::Interval(ctx->getStart()->getStartIndex(),
                                                        ctx->getStop()->getStopIndex()));
        e->node = exprNode(ctx);
        return e;
    }

    decltype(ast::Expr::node) exprNode(RaspParser::ExprContext* ctx) {
        if (auto* c = dynamic_cast<RaspParser::NameExprContext*>(ctx)) {
            return ast::Name{c->getText()};
        }
        if (auto* c = dynamic_cast<RaspParser::IntExprContext*>(ctx)) {
            return ast::Literal{parseInt(c->INT()->getSymbol())};
        }
        if (auto* c = dynamic_cast<RaspParser::FloatExprContext*>(ctx)) {
            return ast::Literal{std::strtod(c->getText().c_str(), nullptr)};
        }
        if (auto* c = dynamic_cast<RaspParser::StringExprContext*>(ctx)) {
            return ast::Literal{unquote(c->getText())};
        }
        if (auto* c = dynamic_cast<RaspParser::UnaryExprContext*>(ctx)) {
            ast::UnaryOp op = c->op->getType() == RaspParser::NOT ? ast::UnaryOp::Not
                              : c->op->getText() == "-"           ? ast::UnaryOp::Neg
                                                                  : ast::UnaryOp::Pos;
            return ast::Unary{op, expr(c->expr())};
        }
        if (auto* c = dynamic_cast<RaspParser::BinaryExprContext*>(ctx)) {
            return ast::Binary{binaryOp(c->op->getText()), expr(c->expr(0)), expr(c->expr(1)),
                               map_.at(c->op)};
        }
        if (auto* c = dynamic_cast<RaspParser::CondExprContext*>(ctx)) {
            return ast::Conditional{expr(c->expr(0)), expr(c->expr(1)), expr(c->expr(2))};
        }
        if (auto* c = dynamic_cast<RaspParser::InExprContext*>(ctx)) {
            return ast::In{expr(c->expr(0)), expr(c->expr(1))};
        }
        if (auto* c = dynamic_cast<RaspParser::IndexExprContext*>(ctx)) {
            return ast::Index{expr(c->expr(0)), expr(c->expr(1))};
        }
        if (auto* c = dynamic_cast<RaspParser::CallExprContext*>(ctx)) {
            std::vector<RaspParser::ExprContext*> parts = c->expr();
            ast::ExprPtr callee = expr(parts.front());
            parts.erase(parts.begin());
            return ast::Call{std::move(callee), exprList(parts)};
        }
        if (auto* c = dynamic_cast<RaspParser::SelectExprContext*>(ctx)) {
            return ast::Select{expr(c->expr(0)), expr(c->expr(1)), binaryOp(c->cmpOp()->getText())};
        }
        if (auto* c = dynamic_cast<RaspParser::ListExprContext*>(ctx)) {
            return ast::ListLit{exprList(c->expr())};
        }
        if (auto* c = dynamic_cast<RaspParser::DictExprContext*>(ctx)) {
            ast::DictLit dict;
            for (auto* entry : c->dictEntry()) {
                dict.entries.emplace_back(expr(entry->expr(0)), expr(entry->expr(1)));
            }
            return dict;
        }
        if (auto* c = dynamic_cast<RaspParser::ListCompExprContext*>(ctx)) {
            return ast::ListComp{expr(c->expr(0)), names(c->names()), expr(c->expr(1))};
        }
        if (auto* c = dynamic_cast<RaspParser::DictCompExprContext*>(ctx)) {
            return ast::DictComp{expr(c->expr(0)), expr(c->expr(1)), names(c->names()),
                                 expr(c->expr(2))};
        }
        throw InternalError("parser: unknown expression form");
    }

    int64_t parseInt(antlr4::Token* t) {
        std::string text = t->getText();
        int64_t value = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || end != text.data() + text.size()) {
            error(map_.at(t), "integer " + text + " is too large (the limit is 2^63 - 1)");
        }
        return value;
    }

    static ast::BinaryOp binaryOp(const std::string& op) {
        static const std::pair<const char*, ast::BinaryOp> kOps[] = {
            {"+", ast::BinaryOp::Add},   {"-", ast::BinaryOp::Sub}, {"*", ast::BinaryOp::Mul},
            {"/", ast::BinaryOp::Div},   {"%", ast::BinaryOp::Mod}, {"^", ast::BinaryOp::Pow},
            {"==", ast::BinaryOp::Eq},   {"!=", ast::BinaryOp::Ne}, {"<", ast::BinaryOp::Lt},
            {"<=", ast::BinaryOp::Le},   {">", ast::BinaryOp::Gt},  {">=", ast::BinaryOp::Ge},
            {"and", ast::BinaryOp::And}, {"or", ast::BinaryOp::Or},
        };
        for (const auto& [text, value] : kOps) {
            if (op == text) return value;
        }
        throw InternalError("parser: unknown operator " + op);
    }

    static std::string unquote(const std::string& s) {
        return s.size() >= 2 ? s.substr(1, s.size() - 2) : s;
    }

    void error(SourceLoc loc, std::string message) {
        errors_.push_back({std::move(loc), std::move(message)});
    }

    const SourceMap& map_;
    antlr4::CharStream& input_;
    std::vector<Diagnostic>& errors_;
};

}  // namespace

ast::Program parseString(std::string_view text, const std::string& fileName) {
    registerSource(fileName, std::string(text));
    SourceMap map(text, fileName);
    SyntaxErrors errors;

    // ANTLR's stream decodes UTF-8 and throws on anything else.
    if (const size_t bad = firstBadUtf8(text); bad != std::string_view::npos) {
        throw UserError(map.atOffset(bad), "this byte is not UTF-8 text; save the program as UTF-8");
    }
    antlr4::ANTLRInputStream input(text.data(), text.size());
    RaspLexer lexer(&input);
    LexerErrorListener lexerListener(map, errors);
    lexer.removeErrorListeners();
    lexer.addErrorListener(&lexerListener);

    antlr4::CommonTokenStream tokens(&lexer);
    // Lex everything first, so that each line's lexer errors are known before the parser
    // reports the errors they cause.
    tokens.fill();
    for (antlr4::Token* t : tokens.getTokens()) {
        if (t->getType() != RaspParser::UNTERMINATED_STRING) continue;
        SourceLoc loc = map.at(t);
        errors.add(loc, "unterminated string: a string must end with '\"' on the same line");
        errors.lexerErrors.push_back(loc);
        // To the parser it is a string, so that the rest of the line parses as intended.
        static_cast<antlr4::CommonToken*>(t)->setType(RaspParser::STRING);
    }
    RaspParser parser(&tokens);
    ParserErrorListener parserListener(map, errors);
    parser.removeErrorListeners();
    parser.addErrorListener(&parserListener);
    parser.setErrorHandler(std::make_shared<FriendlyErrorStrategy>(map, errors));

    RaspParser::ProgramContext* tree = parser.program();
    // Lexer errors were all recorded before the parser's.
    std::stable_sort(errors.diagnostics.begin(), errors.diagnostics.end(),
                     [](const Diagnostic& a, const Diagnostic& b) {
                         return std::tie(a.loc.line, a.loc.col) < std::tie(b.loc.line, b.loc.col);
                     });
    if (!errors.diagnostics.empty()) throw UserError(std::move(errors.diagnostics));

    std::vector<Diagnostic> astErrors;
    ast::Program program = AstBuilder(map, input, astErrors).program(tree);
    if (!astErrors.empty()) throw UserError(std::move(astErrors));
    return program;
}

ast::Program parseFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UserError("cannot read '" + path + "': " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    return parseString(text.str(), path);
}

}  // namespace raspc
