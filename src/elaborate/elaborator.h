// The elaborator proper: executes statements and evaluates expressions at compile time,
// handing every operation on s-ops and selectors to the GraphBuilder.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "elaborate/elaborate.h"
#include "elaborate/graph_builder.h"
#include "elaborate/values.h"
#include "frontend/ast.h"

namespace raspc::elab {

/// Where statements run: a scope, and whether it is the main file's own top level (whose
/// bindings become the program's named s-ops and default output).
struct Frame {
    std::shared_ptr<Env> env;
    bool mainTopLevel = false;
};

class Elaborator {
public:
    explicit Elaborator(LoadOptions opts);

    /// Elaborates `program` as the main file (after the prelude, if asked for) and returns
    /// the finished graph.
    Graph run(ast::Program program);

private:
    // Statements (elaborator.cpp).
    void exec(const ast::Stmt& stmt, Frame& frame);
    void execAll(const std::vector<ast::StmtPtr>& stmts, Frame& frame);
    void assign(const ast::Assign& a, const SourceLoc& loc, Frame& frame);
    void bindResult(Frame& frame, const ast::Ident& target, CtValue value, bool nameNodes);
    void forLoop(const ast::ForLoop& loop, Frame& frame);
    void load(const ast::Load& l, const SourceLoc& loc, Frame& frame);
    void vocab(const ast::Vocab& v, Frame& frame);
    void maxLen(const ast::MaxLen& m, Frame& frame);
    void setExample(const ast::SetExample& s, Frame& frame);
    /// Runs a file once (later loads reuse its scope) and returns its top-level scope.
    std::shared_ptr<Env> loadFile(const std::string& path, const SourceLoc& loc);
    /// The path of `name`(.rasp): beside `besideFile` if given, else on the library path.
    std::string findFile(const std::string& name, const std::optional<std::string>& besideFile,
                         const SourceLoc& loc) const;
    void importPublicNames(const Env& from, const std::shared_ptr<Env>& into, bool intoMain);
    void finish();

    // Expressions (expressions.cpp).
    CtValue eval(const ast::Expr& e, Frame& frame);
    CtValue evalName(const ast::Expr& e, const ast::Name& n, Frame& frame);
    CtValue evalUnary(const ast::Expr& e, const ast::Unary& u, Frame& frame);
    CtValue evalBinary(const ast::Expr& e, const ast::Binary& b, Frame& frame);
    CtValue evalLogic(const ast::Expr& e, const ast::Binary& b, const CtValue& lhs,
                      const CtValue& rhs);
    CtValue evalConditional(const ast::Expr& e, const ast::Conditional& c, Frame& frame);
    CtValue evalIn(const ast::Expr& e, const ast::In& in, Frame& frame);
    CtValue evalIndex(const ast::Expr& e, const ast::Index& ix, Frame& frame);
    CtValue evalCall(const ast::Expr& e, const ast::Call& c, Frame& frame);
    CtValue callClosure(const Closure& fn, std::vector<CtValue> args, const ast::Expr& call);
    CtValue evalSelect(const ast::Expr& e, const ast::Select& s, Frame& frame);
    CtValue evalListComp(const ast::ListComp& c, Frame& frame);
    CtValue evalDictComp(const ast::DictComp& c, Frame& frame);
    std::vector<CtValue> iterate(const CtValue& v, const SourceLoc& loc);
    void bindLoopVars(Env& env, const std::vector<ast::Ident>& vars, const CtValue& item);

    void chooseTokenType(TokenType type, const std::string& name, const SourceLoc& loc);

    LoadOptions opts_;
    GraphBuilder graph_;
    std::shared_ptr<Env> builtins_;
    std::vector<std::unique_ptr<ast::Program>> programs_;  // closures point into these
    std::map<std::string, std::shared_ptr<Env>> loaded_;   // by canonical path
    std::vector<std::string> loading_;                     // the chain of loads in progress
    int callDepth_ = 0;

    std::optional<std::pair<std::string, SourceLoc>> tokenChoice_;  // e.g. "tokens_int"
    std::optional<SourceLoc> vocabLoc_;
};

}  // namespace raspc::elab
