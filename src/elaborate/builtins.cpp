// Built-in functions: the RASP primitives that take ordinary arguments (aggregate,
// selector_width), elementwise helpers (round, indicator), encoding annotations, and the
// compile-time list helpers (range, zip, len).
#include "elaborate/builtins.h"

#include "elaborate/graph_builder.h"

namespace raspc::elab {

namespace {

/// The most elements `range` may produce: loops run at compile time, and a range this long
/// is a mistake rather than a program.
constexpr int64_t kMaxRangeLength = 1'000'000;

const SourceLoc& argLoc(const BuiltinCall& call, size_t i) {
    return call.argExprs[i]->loc;
}

NodeId selectorArg(const BuiltinCall& call, size_t i, const std::string& fnName) {
    const CtValue& v = call.args[i];
    if (!v.isSelector()) {
        fail(argLoc(call, i), fnName + " expects a selector here, not " + describe(v));
    }
    return v.selector();
}

int64_t intArg(const BuiltinCall& call, size_t i, const std::string& fnName) {
    const CtValue& v = call.args[i];
    if (!v.isAtom() || !(v.atom().isInt() || v.atom().isBool())) {
        fail(argLoc(call, i), fnName + " expects an int here, not " + describe(v));
    }
    return v.atom().isBool() ? int64_t{v.atom().asBool()} : v.atom().asInt();
}

const List& listArg(const BuiltinCall& call, size_t i, const std::string& fnName) {
    const List* l = call.args[i].list();
    if (l == nullptr) {
        fail(argLoc(call, i), fnName + " expects a list here, not " + describe(call.args[i]));
    }
    return *l;
}

CtValue aggregate(BuiltinCall& call) {
    NodeId selector = selectorArg(call, 0, "aggregate");
    NodeId values = call.graph.sopOperand(call.args[1], argLoc(call, 1), "the values aggregated");

    Value fallback(0);
    if (call.args.size() > 2) {
        if (!call.args[2].isAtom()) {
            fail(argLoc(call, 2),
                 "the default of aggregate must be an atom, not " + describe(call.args[2]));
        }
        fallback = call.args[2].atom();
    }

    Reduction reduction = Reduction::Mean;
    if (call.args.size() > 3) {
        static const std::pair<const char*, Reduction> kReductions[] = {
            {"mean", Reduction::Mean},     {"sum", Reduction::Sum},
            {"max", Reduction::Max},       {"min", Reduction::Min},
            {"latest", Reduction::Latest}, {"earliest", Reduction::Earliest},
        };
        const CtValue& r = call.args[3];
        bool found = false;
        if (r.isAtom() && r.atom().isString()) {
            for (const auto& [name, value] : kReductions) {
                if (r.atom().asString() == name) {
                    reduction = value;
                    found = true;
                }
            }
        }
        if (!found) {
            fail(argLoc(call, 3),
                 "the reduction of aggregate must be one of \"mean\", \"sum\", "
                 "\"max\", \"min\", \"latest\", \"earliest\"");
        }
    }
    return SopRef{call.graph.aggregate(selector, values, fallback, reduction, call.expr.loc)};
}

CtValue selectorWidth(BuiltinCall& call) {
    NodeId selector = selectorArg(call, 0, "selector_width");
    return SopRef{call.graph.selectorWidth(selector, call.expr.loc)};
}

/// round(x) and indicator(x): on an atom now, on an s-op as a map.
Builtin elementwiseBuiltin(std::string name, Value (*fn)(const Value&)) {
    return Builtin{name, 1, 1, [name, fn](BuiltinCall& call) {
                       const CtValue& x = call.args[0];
                       if (!x.isAtom() && !x.isSop()) {
                           fail(argLoc(call, 0),
                                name + " expects an s-op or an atom, not " + describe(x));
                       }
                       return call.graph.elementwise(
                           {x}, [fn](std::span<const Value> a) { return fn(a[0]); }, call.expr.text,
                           call.expr.loc);
                   }};
}

Builtin encodingBuiltin(std::string name, Encoding encoding) {
    return Builtin{name, 1, 1, [name, encoding](BuiltinCall& call) {
                       const CtValue& x = call.args[0];
                       if (!x.isSop()) {
                           fail(argLoc(call, 0), name + " annotates an s-op, not " + describe(x));
                       }
                       Node& node = call.graph[x.sop()];
                       if (node.encoding != Encoding::Inferred && node.encoding != encoding) {
                           fail(call.expr.loc, "this s-op is already annotated as " +
                                                   std::string(node.encoding == Encoding::Numerical
                                                                   ? "numerical"
                                                                   : "categorical"));
                       }
                       node.encoding = encoding;
                       return x;
                   }};
}

CtValue range(BuiltinCall& call) {
    int64_t start = 0, stop = 0, step = 1;
    if (call.args.size() == 1) {
        stop = intArg(call, 0, "range");
    } else {
        start = intArg(call, 0, "range");
        stop = intArg(call, 1, "range");
        if (call.args.size() == 3) step = intArg(call, 2, "range");
    }
    if (step == 0) fail(argLoc(call, 2), "the step of range must not be zero");

    auto list = std::make_shared<List>();
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (static_cast<int64_t>(list->items.size()) == kMaxRangeLength) {
            fail(call.expr.loc, "range longer than " + std::to_string(kMaxRangeLength) +
                                    " elements: loops run at compile time");
        }
        list->items.emplace_back().v.emplace<Value>(i);
    }
    return std::shared_ptr<const List>(std::move(list));
}

CtValue zip(BuiltinCall& call) {
    size_t n = listArg(call, 0, "zip").items.size();
    for (size_t i = 1; i < call.args.size(); ++i) {
        if (listArg(call, i, "zip").items.size() != n) {
            fail(argLoc(call, i), "zip expects lists of one length: the first has " +
                                      std::to_string(n) + " elements, this one " +
                                      std::to_string(listArg(call, i, "zip").items.size()));
        }
    }
    auto out = std::make_shared<List>();
    for (size_t k = 0; k < n; ++k) {
        auto tuple = std::make_shared<List>();
        for (size_t i = 0; i < call.args.size(); ++i) {
            tuple->items.push_back(call.args[i].list()->items[k]);
        }
        out->items.push_back(std::shared_ptr<const List>(std::move(tuple)));
    }
    return std::shared_ptr<const List>(std::move(out));
}

CtValue len(BuiltinCall& call) {
    const CtValue& x = call.args[0];
    if (const List* l = x.list()) return Value(static_cast<int64_t>(l->items.size()));
    if (const Dict* d = x.dict()) return Value(static_cast<int64_t>(d->entries.size()));
    if (x.isAtom() && x.atom().isString()) {
        return Value(static_cast<int64_t>(characters(x.atom().asString()).size()));
    }
    fail(argLoc(call, 0), "len expects a list, a dict or a string, not " + describe(x));
}

}  // namespace

std::shared_ptr<Env> makeBuiltinScope() {
    auto env = std::make_shared<Env>();

    env->bind("tokens", LazyPrimitive{OpKind::Tokens, std::nullopt});
    env->bind("tokens_str", LazyPrimitive{OpKind::Tokens, TokenType::String});
    env->bind("tokens_int", LazyPrimitive{OpKind::Tokens, TokenType::Int});
    env->bind("tokens_float", LazyPrimitive{OpKind::Tokens, TokenType::Float});
    env->bind("tokens_bool", LazyPrimitive{OpKind::Tokens, TokenType::Bool});
    env->bind("indices", LazyPrimitive{OpKind::Indices, std::nullopt});
    env->bind("length", LazyPrimitive{OpKind::Length, std::nullopt});
    env->bind("True", Value(true));
    env->bind("False", Value(false));

    auto add = [&env](Builtin b) {
        std::string name = b.name;
        env->bind(name, std::make_shared<const Builtin>(std::move(b)));
    };
    add(Builtin{"aggregate", 2, 4, aggregate});
    add(Builtin{"selector_width", 1, 1, selectorWidth});
    add(elementwiseBuiltin("round", pyRound));
    add(elementwiseBuiltin("indicator", pyIndicator));
    add(encodingBuiltin("numerical", Encoding::Numerical));
    add(encodingBuiltin("categorical", Encoding::Categorical));
    add(Builtin{"range", 1, 3, range});
    add(Builtin{"zip", 1, SIZE_MAX, zip});
    add(Builtin{"len", 1, 1, len});
    return env;
}

}  // namespace raspc::elab
