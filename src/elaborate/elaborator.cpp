// Executing statements: bindings, functions, loops, loads and the compile directives
// (vocab, max_len, causal, set example), and what the finished graph records about them.
#include "elaborate/elaborator.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "elaborate/builtins.h"
#include "frontend/parser.h"

namespace raspc::elab {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPreludeName = "rasplib";

const char* tokenTypeName(TokenType t) {
    switch (t) {
        case TokenType::String:
            return "strings";
        case TokenType::Int:
            return "ints";
        case TokenType::Float:
            return "floats";
        case TokenType::Bool:
            return "bools";
    }
    return "?";
}

std::string where(const SourceLoc& loc) {
    return loc.file + ":" + std::to_string(loc.line) + ":" + std::to_string(loc.col);
}

}  // namespace

Elaborator::Elaborator(LoadOptions opts) : opts_(std::move(opts)), builtins_(makeBuiltinScope()) {
#ifdef RASPC_LIB_DIR
    // The library shipped with this build: the last place to look.
    opts_.libraryPath.push_back(RASPC_LIB_DIR);
#endif
}

Graph Elaborator::run(ast::Program program) {
    programs_.push_back(std::make_unique<ast::Program>(std::move(program)));
    const ast::Program& main = *programs_.back();

    Frame frame{std::make_shared<Env>(builtins_), true};
    if (opts_.prelude) {
        std::string path = findFile(kPreludeName, std::nullopt, SourceLoc{});
        // The prelude is not a statement of the main file: its names are not the program's.
        importPublicNames(*loadFile(path, SourceLoc{}), frame.env, false);
    }
    loading_.push_back(fs::weakly_canonical(fs::path(main.file)).string());
    execAll(main.statements, frame);
    loading_.pop_back();

    finish();
    return std::move(graph_.graph());
}

void Elaborator::execAll(const std::vector<ast::StmtPtr>& stmts, Frame& frame) {
    for (const ast::StmtPtr& s : stmts) exec(*s, frame);
}

void Elaborator::exec(const ast::Stmt& stmt, Frame& frame) {
    std::visit(
        [&](const auto& node) {
            using T = std::decay_t<decltype(node)>;
            if constexpr (std::is_same_v<T, ast::ExprStmt>) {
                CtValue v = eval(*node.expr, frame);
                bindResult(frame, ast::Ident{"out", stmt.loc}, std::move(v), false);
            } else if constexpr (std::is_same_v<T, ast::Assign>) {
                assign(node, stmt.loc, frame);
            } else if constexpr (std::is_same_v<T, ast::FuncDef>) {
                frame.env->bind(node.name.name,
                                std::make_shared<const Closure>(Closure{&node, frame.env}));
            } else if constexpr (std::is_same_v<T, ast::ForLoop>) {
                forLoop(node, frame);
            } else if constexpr (std::is_same_v<T, ast::Load>) {
                load(node, stmt.loc, frame);
            } else if constexpr (std::is_same_v<T, ast::Vocab>) {
                vocab(node, frame);
            } else if constexpr (std::is_same_v<T, ast::MaxLen>) {
                maxLen(node, frame);
            } else if constexpr (std::is_same_v<T, ast::Causal>) {
                graph_.graph().causal = true;
            } else {
                static_assert(std::is_same_v<T, ast::SetExample>);
                setExample(node, frame);
            }
        },
        stmt.node);
}

void Elaborator::assign(const ast::Assign& a, const SourceLoc& loc, Frame& frame) {
    std::vector<CtValue> values;
    for (const ast::ExprPtr& e : a.values) values.push_back(eval(*e, frame));

    // `a, b = f(x);` unpacks the list a function with several results returns; `a = 1, 2;`
    // binds a list, as Python binds a tuple.
    if (values.size() == 1 && a.targets.size() > 1) {
        const List* l = values.front().list();
        if (l == nullptr || l->items.size() != a.targets.size()) {
            fail(loc,
                 "cannot assign " + describe(values.front()) +
                     (l != nullptr ? " of " + std::to_string(l->items.size()) + " elements" : "") +
                     " to " + std::to_string(a.targets.size()) + " names");
        }
        values = l->items;
    } else if (values.size() > 1 && a.targets.size() == 1) {
        auto l = std::make_shared<List>();
        l->items = std::move(values);
        values = {CtValue(std::shared_ptr<const List>(std::move(l)))};
    } else if (values.size() != a.targets.size()) {
        fail(loc, "cannot assign " + std::to_string(values.size()) + " values to " +
                      std::to_string(a.targets.size()) + " names");
    }
    for (size_t i = 0; i < a.targets.size(); ++i) {
        bindResult(frame, a.targets[i], std::move(values[i]), true);
    }
}

void Elaborator::bindResult(Frame& frame, const ast::Ident& target, CtValue value, bool nameNodes) {
    // A node is named after the last assignment that binds it (function locals included:
    // they make IR dumps readable); `out` never renames a node.
    if (nameNodes && (value.isSop() || value.isSelector())) {
        graph_[value.isSop() ? value.sop() : value.selector()].name = target.name;
    }
    if (frame.mainTopLevel && value.isSop()) {
        Graph& g = graph_.graph();
        std::erase_if(g.named, [&](const auto& entry) { return entry.first == target.name; });
        g.named.emplace_back(target.name, value.sop());
        g.lastSop = value.sop();
    }
    frame.env->bind(target.name, std::move(value));
}

void Elaborator::forLoop(const ast::ForLoop& loop, Frame& frame) {
    // The loop body runs in the enclosing scope, so its assignments (and the loop names)
    // remain visible after it, as in Python and the REPL.
    for (const CtValue& item : iterate(eval(*loop.iterable, frame), loop.iterable->loc)) {
        bindLoopVars(*frame.env, loop.vars, item);
        execAll(loop.body, frame);
    }
}

std::string Elaborator::findFile(const std::string& name,
                                 const std::optional<std::string>& besideFile,
                                 const SourceLoc& loc) const {
    std::string fileName = name.ends_with(".rasp") ? name : name + ".rasp";
    std::vector<fs::path> dirs;
    if (besideFile) dirs.push_back(fs::path(*besideFile).parent_path());
    for (const std::string& dir : opts_.libraryPath) dirs.emplace_back(dir);

    for (const fs::path& dir : dirs) {
        fs::path candidate = dir / fileName;
        std::error_code ec;
        if (fs::is_regular_file(candidate, ec)) return candidate.string();
    }
    // The message names no absolute directories, so that it reads the same on every machine.
    if (!besideFile) {
        fail(loc, "cannot find the standard library '" + fileName +
                      "' on the library path (pass its directory, or turn the prelude off)");
    }
    fail(loc, "cannot find '" + fileName + "' beside " + *besideFile + " or on the library path");
}

std::shared_ptr<Env> Elaborator::loadFile(const std::string& path, const SourceLoc& loc) {
    std::string key = fs::weakly_canonical(fs::path(path)).string();
    if (auto it = loaded_.find(key); it != loaded_.end()) return it->second;
    if (std::find(loading_.begin(), loading_.end(), key) != loading_.end()) {
        fail(loc, "'" + path + "' is already being loaded: loads must not form a cycle");
    }

    programs_.push_back(std::make_unique<ast::Program>(parseFile(path)));
    const ast::Program& program = *programs_.back();
    Frame frame{std::make_shared<Env>(builtins_), false};
    loading_.push_back(key);
    execAll(program.statements, frame);
    loading_.pop_back();

    loaded_[key] = frame.env;
    return frame.env;
}

void Elaborator::importPublicNames(const Env& from, const std::shared_ptr<Env>& into,
                                   bool intoMain) {
    for (const std::string& name : from.ownNames()) {
        // Names with a leading underscore are private to their file; `out` is scratch.
        if (name.starts_with("_") || name == "out") continue;
        const CtValue& value = from.own(name);
        // Imported s-ops can be asked for by name, but they are not the main file's output.
        if (intoMain && value.isSop()) {
            Graph& g = graph_.graph();
            std::erase_if(g.named, [&](const auto& entry) { return entry.first == name; });
            g.named.emplace_back(name, value.sop());
        }
        into->bind(name, value);
    }
}

void Elaborator::load(const ast::Load& l, const SourceLoc& loc, Frame& frame) {
    std::string path = findFile(l.name, loc.file, loc);
    importPublicNames(*loadFile(path, loc), frame.env, frame.mainTopLevel);
}

void Elaborator::vocab(const ast::Vocab& v, Frame& frame) {
    CtValue value = eval(*v.value, frame);
    std::vector<Value> symbols;
    if (value.isAtom() && value.atom().isString()) {
        for (std::string& c : characters(value.atom().asString())) symbols.emplace_back(c);
    } else if (const List* l = value.list()) {
        for (const CtValue& item : l->items) {
            if (!item.isAtom()) {
                fail(v.value->loc, "a vocab list may hold only atoms, not " + describe(item));
            }
            symbols.push_back(item.atom());
        }
    } else {
        fail(v.value->loc, "vocab expects a string or a list of atoms, not " + describe(value));
    }
    if (symbols.empty()) fail(v.value->loc, "the vocab must not be empty");
    for (size_t i = 0; i < symbols.size(); ++i) {
        for (size_t j = 0; j < i; ++j) {
            if (symbols[i].storage() == symbols[j].storage()) {
                fail(v.value->loc, "the vocab lists " + toDisplay(symbols[i]) + " twice");
            }
        }
    }
    if (vocabLoc_) {
        fail(v.value->loc, "the vocab is set twice (first at " + vocabLoc_->file + ":" +
                               std::to_string(vocabLoc_->line) + "); keep one `vocab` statement");
    }
    graph_.graph().vocab = std::move(symbols);
    vocabLoc_ = v.value->loc;
}

void Elaborator::maxLen(const ast::MaxLen& m, Frame& frame) {
    CtValue value = eval(*m.value, frame);
    if (!value.isAtom() || !value.atom().isInt() || value.atom().asInt() < 1 ||
        value.atom().asInt() > INT32_MAX) {
        fail(m.value->loc, "max_len expects a positive int, not " +
                               (value.isAtom() ? toDisplay(value.atom()) : describe(value)));
    }
    graph_.graph().maxLen = static_cast<int>(value.atom().asInt());
}

void Elaborator::setExample(const ast::SetExample& s, Frame& frame) {
    CtValue value = eval(*s.value, frame);
    if (value.isAtom() && value.atom().isString()) {
        graph_.graph().exampleInput = value.atom().asString();
        return;
    }
    // A list of atoms is kept as its elements separated by spaces, the way input is typed.
    if (const List* l = value.list()) {
        std::string text;
        for (const CtValue& item : l->items) {
            if (!item.isAtom()) {
                fail(s.value->loc, "an example list may hold only atoms, not " + describe(item));
            }
            text += (text.empty() ? "" : " ") + toDisplay(item.atom());
        }
        graph_.graph().exampleInput = text;
        return;
    }
    fail(s.value->loc, "an example is a string or a list of atoms, not " + describe(value));
}

void Elaborator::chooseTokenType(TokenType type, const std::string& name, const SourceLoc& loc) {
    if (tokenChoice_ && graph_.graph().tokenType != type) {
        fail(loc, "'" + name + "' reads the input as " + tokenTypeName(type) + ", but '" +
                      tokenChoice_->first + "' at " + where(tokenChoice_->second) +
                      " already reads it as " + tokenTypeName(graph_.graph().tokenType));
    }
    if (!tokenChoice_) tokenChoice_ = {name, loc};
    graph_.graph().tokenType = type;
}

void Elaborator::finish() {
    Graph& g = graph_.graph();
    if (!g.vocab) return;

    // The type the vocab's atoms imply: all strings, all bools, ints, or numbers with a float.
    bool strings = false, numbers = false, floats = false, allBools = true;
    for (const Value& v : *g.vocab) {
        strings |= v.isString();
        numbers |= v.isNumber();
        floats |= v.isFloat();
        allBools &= v.isBool();
    }
    if (strings && numbers) fail(*vocabLoc_, "the vocab mixes strings and numbers");
    TokenType implied = strings    ? TokenType::String
                        : allBools ? TokenType::Bool
                        : floats   ? TokenType::Float
                                   : TokenType::Int;

    // A vocab of numbers alone makes the input numbers; an explicit tokens_* must agree.
    if (!tokenChoice_) {
        g.tokenType = implied;
    } else if (implied != g.tokenType &&
               !(g.tokenType == TokenType::Float && implied == TokenType::Int)) {
        fail(*vocabLoc_, std::string("the vocab holds ") + tokenTypeName(implied) + ", but '" +
                             tokenChoice_->first + "' at " + where(tokenChoice_->second) +
                             " reads the input as " + tokenTypeName(g.tokenType));
    }
}

}  // namespace raspc::elab
