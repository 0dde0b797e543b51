// Compile-time values of the elaborator (atoms, lists, dicts, functions, s-ops, selectors) and
// the environments that bind names to them.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <variant>
#include <vector>

#include "frontend/ast.h"
#include "ir/graph.h"

namespace raspc::elab {

/// An s-op already in the graph.
struct SopRef {
    NodeId id;
};

/// A selector already in the graph.
struct SelectorRef {
    NodeId id;
};

/// A built-in s-op (`tokens`, `indices`, `length`, `tokens_int`, ...), put into the graph the
/// first time a program reads it, so that programs never carry primitives they do not use.
struct LazyPrimitive {
    OpKind kind;
    std::optional<TokenType> tokenType;  // `tokens_int` and friends choose how input is read
};

struct List;
struct Dict;
struct Closure;
struct Builtin;

/// Anything a name can be bound to while a program is elaborated. Lists and dicts are
/// immutable (RASP has no way to change one), so they are shared rather than copied.
struct CtValue {
    std::variant<Value, SopRef, SelectorRef, std::shared_ptr<const List>,
                 std::shared_ptr<const Dict>, std::shared_ptr<const Closure>,
                 std::shared_ptr<const Builtin>, LazyPrimitive>
        v;

    CtValue() = default;
    template <typename T>
    requires(!std::is_same_v<std::decay_t<T>, CtValue>) CtValue(T x) : v(std::move(x)) {}

    bool isAtom() const { return std::holds_alternative<Value>(v); }
    bool isSop() const { return std::holds_alternative<SopRef>(v); }
    bool isSelector() const { return std::holds_alternative<SelectorRef>(v); }
    const Value& atom() const { return std::get<Value>(v); }
    NodeId sop() const { return std::get<SopRef>(v).id; }
    NodeId selector() const { return std::get<SelectorRef>(v).id; }
    const List* list() const;
    const Dict* dict() const;
};

struct List {
    std::vector<CtValue> items;
};

/// A dict keyed by atoms, in insertion order; keys compare with Python equality (1 == 1.0).
struct Dict {
    std::vector<std::pair<Value, CtValue>> entries;

    const CtValue* find(const Value& key) const;
    /// Inserts or, for a key already present, replaces the value in place (as Python does).
    void set(Value key, CtValue value);
};

class Env;

/// A function defined with `def`, with the environment it was defined in.
struct Closure {
    const ast::FuncDef* def;
    std::shared_ptr<Env> env;
};

class GraphBuilder;

/// What a built-in function sees of its call.
struct BuiltinCall {
    GraphBuilder& graph;
    const ast::Expr& expr;  // the whole call
    std::vector<CtValue> args;
    std::vector<const ast::Expr*> argExprs;  // for locating errors in one argument
};

/// A function implemented in C++ (aggregate, selector_width, range, ...).
struct Builtin {
    std::string name;
    size_t minArgs;
    size_t maxArgs;
    std::function<CtValue(BuiltinCall&)> fn;
};

/// A scope: a file's top level, or one call of a function. Lookups fall back to the parent.
class Env {
public:
    explicit Env(std::shared_ptr<Env> parent = nullptr) : parent_(std::move(parent)) {}

    /// The value bound to `name` here or in an enclosing scope, and the scope that binds it.
    std::pair<const CtValue*, const Env*> lookup(const std::string& name) const;
    void bind(const std::string& name, CtValue value);

    /// Names bound in this scope itself, in the order they were first bound.
    const std::vector<std::string>& ownNames() const { return order_; }
    const CtValue& own(const std::string& name) const { return values_.at(name); }
    /// Every name visible from here (for "did you mean" suggestions).
    std::vector<std::string> visibleNames() const;

private:
    std::shared_ptr<Env> parent_;
    std::unordered_map<std::string, CtValue> values_;
    std::vector<std::string> order_;
};

/// "an s-op", "a selector", "a list", "an int", ... for messages.
std::string describe(const CtValue& v);

/// Python truthiness of a compile-time value (s-ops and selectors are not allowed here).
bool truthy(const CtValue& v);

/// The characters (UTF-8 code points) of a string, each as a string: what iterating,
/// indexing or `vocab` see, as Python's str would.
std::vector<std::string> characters(const std::string& s);

/// Throws a UserError at `loc`.
[[noreturn]] void fail(const SourceLoc& loc, const std::string& message);

}  // namespace raspc::elab
