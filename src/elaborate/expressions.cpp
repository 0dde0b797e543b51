// Evaluating expressions at compile time: atoms and lists compute now, s-ops and selectors
// become graph nodes, with the REPL's rules for mixing them.
#include <algorithm>

#include "elaborate/elaborator.h"

namespace raspc::elab {

namespace {

/// The deepest nesting of calls: a guard against recursion that never ends (each call also
/// costs stack in the elaborator itself).
constexpr int kMaxCallDepth = 200;

using AtomOp = Value (*)(const Value&, const Value&);

AtomOp atomOp(ast::BinaryOp op) {
    switch (op) {
        case ast::BinaryOp::Add:
            return pyAdd;
        case ast::BinaryOp::Sub:
            return pySub;
        case ast::BinaryOp::Mul:
            return pyMul;
        case ast::BinaryOp::Div:
            return pyDiv;
        case ast::BinaryOp::Mod:
            return pyMod;
        case ast::BinaryOp::Pow:
            return pyPow;
        case ast::BinaryOp::Eq:
            return pyEq;
        case ast::BinaryOp::Ne:
            return pyNe;
        case ast::BinaryOp::Lt:
            return pyLt;
        case ast::BinaryOp::Le:
            return pyLe;
        case ast::BinaryOp::Gt:
            return pyGt;
        case ast::BinaryOp::Ge:
            return pyGe;
        case ast::BinaryOp::And:
            return pyAnd;
        case ast::BinaryOp::Or:
            return pyOr;
    }
    throw InternalError("atomOp: unknown operator");
}

/// The structural name of an operator, for maps lowering may compile from their structure.
MapOp mapOp(ast::BinaryOp op) {
    switch (op) {
        case ast::BinaryOp::Add:
            return MapOp::Add;
        case ast::BinaryOp::Sub:
            return MapOp::Sub;
        case ast::BinaryOp::Mul:
            return MapOp::Mul;
        case ast::BinaryOp::Eq:
            return MapOp::Eq;
        case ast::BinaryOp::Ne:
            return MapOp::Ne;
        case ast::BinaryOp::Lt:
            return MapOp::Lt;
        case ast::BinaryOp::Le:
            return MapOp::Le;
        case ast::BinaryOp::Gt:
            return MapOp::Gt;
        case ast::BinaryOp::Ge:
            return MapOp::Ge;
        default:
            return MapOp::Opaque;
    }
}

GraphBuilder::AtomFn binaryFn(AtomOp op) {
    return [op](std::span<const Value> a) { return op(a[0], a[1]); };
}

Cmp selectCmp(ast::BinaryOp op) {
    switch (op) {
        case ast::BinaryOp::Eq:
            return Cmp::Eq;
        case ast::BinaryOp::Ne:
            return Cmp::Ne;
        case ast::BinaryOp::Lt:
            return Cmp::Lt;
        case ast::BinaryOp::Le:
            return Cmp::Le;
        case ast::BinaryOp::Gt:
            return Cmp::Gt;
        case ast::BinaryOp::Ge:
            return Cmp::Ge;
        default:
            throw InternalError("selectCmp: not a comparison");
    }
}

bool isAtomOrSop(const CtValue& v) {
    return v.isAtom() || v.isSop();
}

/// The atoms of a list or of a dict's values, for lookups compiled into a map; `what` names
/// the container in the error when an element is not an atom.
std::vector<Value> atomsOf(const std::vector<const CtValue*>& items, const SourceLoc& loc,
                           const std::string& what) {
    std::vector<Value> out;
    for (const CtValue* v : items) {
        if (!v->isAtom()) {
            fail(loc,
                 what + " may hold only atoms to be used with an s-op, but holds " + describe(*v));
        }
        out.push_back(v->atom());
    }
    return out;
}

std::shared_ptr<const List> makeList(std::vector<CtValue> items) {
    auto l = std::make_shared<List>();
    l->items = std::move(items);
    return l;
}

}  // namespace

CtValue Elaborator::eval(const ast::Expr& e, Frame& frame) {
    return std::visit(
        [&](const auto& node) -> CtValue {
            using T = std::decay_t<decltype(node)>;
            if constexpr (std::is_same_v<T, ast::Literal>) {
                return std::visit([](const auto& v) { return CtValue(Value(v)); }, node.value);
            } else if constexpr (std::is_same_v<T, ast::Name>) {
                return evalName(e, node, frame);
            } else if constexpr (std::is_same_v<T, ast::Unary>) {
                return evalUnary(e, node, frame);
            } else if constexpr (std::is_same_v<T, ast::Binary>) {
                return evalBinary(e, node, frame);
            } else if constexpr (std::is_same_v<T, ast::Conditional>) {
                return evalConditional(e, node, frame);
            } else if constexpr (std::is_same_v<T, ast::In>) {
                return evalIn(e, node, frame);
            } else if constexpr (std::is_same_v<T, ast::Index>) {
                return evalIndex(e, node, frame);
            } else if constexpr (std::is_same_v<T, ast::Call>) {
                return evalCall(e, node, frame);
            } else if constexpr (std::is_same_v<T, ast::Select>) {
                return evalSelect(e, node, frame);
            } else if constexpr (std::is_same_v<T, ast::ListLit>) {
                std::vector<CtValue> items;
                for (const ast::ExprPtr& x : node.elements) items.push_back(eval(*x, frame));
                return makeList(std::move(items));
            } else if constexpr (std::is_same_v<T, ast::DictLit>) {
                auto dict = std::make_shared<Dict>();
                for (const auto& [key, value] : node.entries) {
                    CtValue k = eval(*key, frame);
                    if (!k.isAtom()) fail(key->loc, "dict keys must be atoms, not " + describe(k));
                    dict->set(k.atom(), eval(*value, frame));
                }
                return std::shared_ptr<const Dict>(std::move(dict));
            } else if constexpr (std::is_same_v<T, ast::ListComp>) {
                return evalListComp(node, frame);
            } else {
                static_assert(std::is_same_v<T, ast::DictComp>);
                return evalDictComp(node, frame);
            }
        },
        e.node);
}

namespace {

size_t editDistance(const std::string& a, const std::string& b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t next =
                std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = row[j];
            row[j] = next;
        }
    }
    return row[b.size()];
}

/// The visible name closest to a misspelt one, if one is close enough to be a likely typo.
std::string suggestion(const Env& env, const std::string& name) {
    std::string best;
    size_t bestDistance = name.size() <= 3 ? 1 : 2;
    for (const std::string& candidate : env.visibleNames()) {
        size_t d = editDistance(name, candidate);
        if (d <= bestDistance && (best.empty() || d < bestDistance)) {
            best = candidate;
            bestDistance = d;
        }
    }
    return best;
}

}  // namespace

CtValue Elaborator::evalName(const ast::Expr& e, const ast::Name& n, Frame& frame) {
    auto [value, scope] = frame.env->lookup(n.name);
    if (value == nullptr) {
        std::string message = "undefined name '" + n.name + "'";
        std::string close = suggestion(*frame.env, n.name);
        if (!close.empty()) message += "; did you mean '" + close + "'?";
        fail(e.loc, message);
    }
    if (const auto* lazy = std::get_if<LazyPrimitive>(&value->v)) {
        if (lazy->tokenType) chooseTokenType(*lazy->tokenType, n.name, e.loc);
        return SopRef{graph_.primitive(lazy->kind)};
    }
    return *value;
}

CtValue Elaborator::evalUnary(const ast::Expr& e, const ast::Unary& u, Frame& frame) {
    CtValue x = eval(*u.operand, frame);
    if (u.op == ast::UnaryOp::Not) {
        if (x.isSelector()) {
            return SelectorRef{graph_.selectorOp(OpKind::SelectNot, {x.selector()}, e.loc)};
        }
        if (!isAtomOrSop(x)) return Value(!truthy(x));
        return graph_.elementwise(
            {x}, [](std::span<const Value> a) { return pyNot(a[0]); }, e.text, e.loc);
    }
    if (!isAtomOrSop(x)) {
        fail(e.loc,
             std::string("cannot apply unary '") + ast::spelling(u.op) + "' to " + describe(x));
    }
    Value (*fn)(const Value&) = u.op == ast::UnaryOp::Neg ? pyNeg : pyPos;
    return graph_.elementwise(
        {x}, [fn](std::span<const Value> a) { return fn(a[0]); }, e.text, e.loc,
        u.op == ast::UnaryOp::Neg ? MapOp::Neg : MapOp::Opaque);
}

CtValue Elaborator::evalBinary(const ast::Expr& e, const ast::Binary& b, Frame& frame) {
    CtValue lhs = eval(*b.lhs, frame);
    CtValue rhs = eval(*b.rhs, frame);
    if (b.op == ast::BinaryOp::And || b.op == ast::BinaryOp::Or) {
        return evalLogic(e, b, lhs, rhs);
    }
    std::string op = std::string("'") + ast::spelling(b.op) + "'";
    if (lhs.isSelector() || rhs.isSelector()) {
        fail(b.opLoc, "cannot apply " + op + " to a selector (selectors combine with and, or, " +
                          "not; aggregate or selector_width turn them into s-ops)");
    }
    // Lists concatenate, as in Python; everything else on lists is an error.
    if (b.op == ast::BinaryOp::Add && lhs.list() != nullptr && rhs.list() != nullptr) {
        std::vector<CtValue> items = lhs.list()->items;
        items.insert(items.end(), rhs.list()->items.begin(), rhs.list()->items.end());
        return makeList(std::move(items));
    }
    if (!isAtomOrSop(lhs) || !isAtomOrSop(rhs)) {
        fail(b.opLoc, "cannot apply " + op + " to " + describe(lhs) + " and " + describe(rhs));
    }
    return graph_.elementwise({lhs, rhs}, binaryFn(atomOp(b.op)), e.text, b.opLoc, mapOp(b.op));
}

CtValue Elaborator::evalLogic(const ast::Expr& e, const ast::Binary& b, const CtValue& lhs,
                              const CtValue& rhs) {
    const char* op = ast::spelling(b.op);
    if (lhs.isSelector() && rhs.isSelector()) {
        OpKind kind = b.op == ast::BinaryOp::And ? OpKind::SelectAnd : OpKind::SelectOr;
        return SelectorRef{graph_.selectorOp(kind, {lhs.selector(), rhs.selector()}, b.opLoc)};
    }
    if (lhs.isSelector() || rhs.isSelector()) {
        const CtValue& other = lhs.isSelector() ? rhs : lhs;
        fail(b.opLoc, std::string("cannot combine a selector with ") + describe(other) +
                          " using '" + op + "'");
    }
    if (lhs.isSop() || rhs.isSop()) {
        if (!isAtomOrSop(lhs) || !isAtomOrSop(rhs)) {
            fail(b.opLoc, std::string("cannot apply '") + op + "' to " + describe(lhs) + " and " +
                              describe(rhs));
        }
        return graph_.elementwise({lhs, rhs}, binaryFn(atomOp(b.op)), e.text, b.opLoc);
    }
    // Compile-time values: Python's `and`/`or` give back one operand. (Both sides were
    // evaluated, as in the REPL.)
    bool left = truthy(lhs);
    if (b.op == ast::BinaryOp::And) return left ? rhs : lhs;
    return left ? lhs : rhs;
}

CtValue Elaborator::evalConditional(const ast::Expr& e, const ast::Conditional& c, Frame& frame) {
    CtValue cond = eval(*c.cond, frame);
    if (cond.isSelector()) fail(c.cond->loc, "a selector cannot be a condition");
    if (!cond.isSop()) {
        // Only the chosen branch runs, which lets a recursive function stop.
        return truthy(cond) ? eval(*c.thenExpr, frame) : eval(*c.elseExpr, frame);
    }
    CtValue yes = eval(*c.thenExpr, frame);
    CtValue no = eval(*c.elseExpr, frame);
    for (const auto& [v, x] : {std::pair{&yes, &c.thenExpr}, std::pair{&no, &c.elseExpr}}) {
        if (!isAtomOrSop(*v)) {
            fail((*x)->loc,
                 "with an s-op as condition, both branches must be s-ops or atoms, "
                 "not " +
                     describe(*v));
        }
    }
    return graph_.elementwise(
        {cond, yes, no}, [](std::span<const Value> a) { return a[0].truthy() ? a[1] : a[2]; },
        e.text, e.loc, MapOp::Cond);
}

CtValue Elaborator::evalIn(const ast::Expr& e, const ast::In& in, Frame& frame) {
    CtValue x = eval(*in.element, frame);
    CtValue container = eval(*in.container, frame);
    const List* list = container.list();
    const Dict* dict = container.dict();

    if (x.isSop()) {
        std::vector<Value> atoms;
        if (list != nullptr) {
            std::vector<const CtValue*> items;
            for (const CtValue& v : list->items) items.push_back(&v);
            atoms = atomsOf(items, in.container->loc, "the list");
        } else if (dict != nullptr) {
            for (const auto& entry : dict->entries) atoms.push_back(entry.first);
        } else {
            fail(in.container->loc,
                 "'s-op in X' needs X to be a list or a dict, not " + describe(container));
        }
        return graph_.elementwise(
            {x},
            [atoms](std::span<const Value> a) {
                return Value(std::any_of(atoms.begin(), atoms.end(),
                                         [&](const Value& v) { return v == a[0]; }));
            },
            e.text, e.loc);
    }

    if (!x.isAtom()) {
        fail(in.element->loc, "'A in X' needs A to be an s-op or an atom, not " + describe(x));
    }
    const Value& atom = x.atom();
    if (list != nullptr) {
        return Value(std::any_of(list->items.begin(), list->items.end(),
                                 [&](const CtValue& v) { return v.isAtom() && v.atom() == atom; }));
    }
    if (dict != nullptr) return Value(dict->find(atom) != nullptr);
    if (container.isAtom() && container.atom().isString() && atom.isString()) {
        return Value(container.atom().asString().find(atom.asString()) != std::string::npos);
    }
    if (container.isSop()) {
        // Whether any position holds the atom: the REPL's construction, a mean over all
        // positions of an indicator, compared with zero.
        SourceLoc loc = e.loc;
        NodeId one = graph_.constant(Value(1), loc);
        NodeId all = graph_.select(one, one, Cmp::Eq, loc);
        CtValue hits = graph_.elementwise(
            {container, x}, [](std::span<const Value> a) { return pyIndicator(pyEq(a[0], a[1])); },
            e.text, loc);
        NodeId share = graph_.aggregate(all, hits.sop(), Value(0), Reduction::Mean, loc);
        return graph_.elementwise({SopRef{share}, Value(0)}, binaryFn(pyGt), e.text, loc);
    }
    fail(in.container->loc, "'atom in X' needs X to be a list, a dict, a string or an s-op, not " +
                                describe(container));
}

CtValue Elaborator::evalIndex(const ast::Expr& e, const ast::Index& ix, Frame& frame) {
    CtValue base = eval(*ix.base, frame);
    CtValue index = eval(*ix.index, frame);
    const SourceLoc& indexLoc = ix.index->loc;
    bool intIndex = index.isAtom() && (index.atom().isInt() || index.atom().isBool());

    // Lists and strings: a compile-time element, or a lookup table applied to an s-op.
    std::vector<CtValue> chars;
    const std::vector<CtValue>* items = nullptr;
    if (const List* l = base.list()) {
        items = &l->items;
    } else if (base.isAtom() && base.atom().isString()) {
        for (std::string& c : characters(base.atom().asString())) chars.push_back(Value(c));
        items = &chars;
    }
    if (items != nullptr) {
        if (intIndex) {
            int64_t i = index.atom().isBool() ? index.atom().asBool() : index.atom().asInt();
            int64_t n = static_cast<int64_t>(items->size());
            if (i < -n || i >= n) {
                fail(indexLoc, "index " + std::to_string(i) + " is out of range for " +
                                   describe(base) + " of length " + std::to_string(n));
            }
            return (*items)[static_cast<size_t>(i < 0 ? i + n : i)];
        }
        if (index.isSop()) {
            std::vector<const CtValue*> ptrs;
            for (const CtValue& v : *items) ptrs.push_back(&v);
            std::vector<Value> table = atomsOf(ptrs, ix.base->loc, "the list");
            return graph_.elementwise(
                {index},
                [table](std::span<const Value> a) {
                    if (!a[0].isInt() && !a[0].isBool()) {
                        throw std::domain_error("list indices must be integers");
                    }
                    int64_t n = static_cast<int64_t>(table.size());
                    int64_t i = a[0].isBool() ? a[0].asBool() : a[0].asInt();
                    if (i < -n || i >= n) throw std::domain_error("list index out of range");
                    return table[static_cast<size_t>(i < 0 ? i + n : i)];
                },
                e.text, e.loc);
        }
        fail(indexLoc, "an index into " + describe(base) + " must be an int or an s-op, not " +
                           describe(index));
    }

    if (const Dict* d = base.dict()) {
        if (index.isAtom()) {
            const CtValue* v = d->find(index.atom());
            if (v == nullptr)
                fail(indexLoc, "key " + toDisplay(index.atom()) + " is not in the dict");
            return *v;
        }
        if (index.isSop()) {
            std::vector<const CtValue*> values;
            for (const auto& entry : d->entries) values.push_back(&entry.second);
            std::vector<Value> atoms = atomsOf(values, ix.base->loc, "the dict");
            std::vector<std::pair<Value, Value>> table;
            for (size_t i = 0; i < atoms.size(); ++i)
                table.emplace_back(d->entries[i].first, atoms[i]);
            return graph_.elementwise(
                {index},
                [table](std::span<const Value> a) {
                    for (const auto& [key, value] : table) {
                        if (key == a[0]) return value;
                    }
                    throw std::domain_error("key " + toDisplay(a[0]) + " is not in the dict");
                },
                e.text, e.loc);
        }
        fail(indexLoc, "a dict key must be an atom or an s-op, not " + describe(index));
    }

    if (base.isSop()) {
        // The REPL's s[i]: every position reads position i (counted from the end when
        // negative), through a select on indices.
        if (!intIndex)
            fail(indexLoc, "an s-op can only be indexed by an int, not " + describe(index));
        int64_t i = index.atom().isBool() ? index.atom().asBool() : index.atom().asInt();
        NodeId indices = graph_.primitive(OpKind::Indices);
        NodeId target;
        if (i >= 0) {
            target = graph_.constant(Value(i), e.loc);
        } else {
            CtValue fromEnd =
                graph_.elementwise({SopRef{graph_.primitive(OpKind::Length)}, Value(i)},
                                   binaryFn(pyAdd), e.text, e.loc);
            target = fromEnd.sop();
        }
        NodeId at = graph_.select(indices, target, Cmp::Eq, e.loc);
        return SopRef{graph_.aggregate(at, base.sop(), Value(0), Reduction::Mean, e.loc)};
    }
    fail(ix.base->loc, "cannot index into " + describe(base));
}

CtValue Elaborator::evalCall(const ast::Expr& e, const ast::Call& c, Frame& frame) {
    CtValue callee = eval(*c.callee, frame);
    std::vector<CtValue> args;
    std::vector<const ast::Expr*> argExprs;
    for (const ast::ExprPtr& a : c.args) {
        args.push_back(eval(*a, frame));
        argExprs.push_back(a.get());
    }

    if (const auto* fn = std::get_if<std::shared_ptr<const Closure>>(&callee.v)) {
        return callClosure(**fn, std::move(args), e);
    }
    if (const auto* b = std::get_if<std::shared_ptr<const Builtin>>(&callee.v)) {
        const Builtin& builtin = **b;
        if (args.size() < builtin.minArgs || args.size() > builtin.maxArgs) {
            std::string expected =
                builtin.minArgs == builtin.maxArgs ? std::to_string(builtin.minArgs)
                : builtin.maxArgs == SIZE_MAX
                    ? "at least " + std::to_string(builtin.minArgs)
                    : std::to_string(builtin.minArgs) + " to " + std::to_string(builtin.maxArgs);
            fail(e.loc, builtin.name + " takes " + expected + " argument" +
                            (expected == "1" ? "" : "s") + ", but " + std::to_string(args.size()) +
                            (args.size() == 1 ? " was" : " were") + " given");
        }
        BuiltinCall call{graph_, e, std::move(args), std::move(argExprs)};
        return builtin.fn(call);
    }
    if (callee.isSop() || callee.isSelector()) {
        fail(e.loc, "cannot apply " + describe(callee) +
                        " to an input inside a program (the REPL's way of showing a value); "
                        "run the program with `raspc eval` instead");
    }
    fail(c.callee->loc, "'" + c.callee->text + "' is " + describe(callee) + ", not a function");
}

CtValue Elaborator::callClosure(const Closure& fn, std::vector<CtValue> args,
                                const ast::Expr& call) {
    const ast::FuncDef& def = *fn.def;
    if (args.size() != def.params.size()) {
        size_t n = def.params.size();
        fail(call.loc, "'" + def.name.name + "' takes " + std::to_string(n) + " argument" +
                           (n == 1 ? "" : "s") + ", but " + std::to_string(args.size()) +
                           (args.size() == 1 ? " was" : " were") + " given");
    }
    if (callDepth_ >= kMaxCallDepth) {
        fail(call.loc, "calls nested more than " + std::to_string(kMaxCallDepth) +
                           " deep: does a recursion never stop?");
    }
    struct DepthGuard {
        int& depth;
        explicit DepthGuard(int& d) : depth(d) { ++depth; }
        ~DepthGuard() { --depth; }
    } guard(callDepth_);

    Frame inner{std::make_shared<Env>(fn.env), false};
    for (size_t i = 0; i < args.size(); ++i) inner.env->bind(def.params[i].name, args[i]);
    execAll(def.body, inner);

    std::vector<CtValue> results;
    for (const ast::ExprPtr& r : def.results) results.push_back(eval(*r, inner));
    if (results.size() == 1) return results.front();
    return makeList(std::move(results));
}

CtValue Elaborator::evalSelect(const ast::Expr& e, const ast::Select& s, Frame& frame) {
    CtValue keys = eval(*s.keys, frame);
    CtValue queries = eval(*s.queries, frame);
    NodeId k = graph_.sopOperand(keys, s.keys->loc, "the keys of select");
    NodeId q = graph_.sopOperand(queries, s.queries->loc, "the queries of select");
    return SelectorRef{graph_.select(k, q, selectCmp(s.cmp), e.loc)};
}

std::vector<CtValue> Elaborator::iterate(const CtValue& v, const SourceLoc& loc) {
    if (const List* l = v.list()) return l->items;
    std::vector<CtValue> out;
    if (const Dict* d = v.dict()) {
        for (const auto& entry : d->entries) out.push_back(entry.first);
        return out;
    }
    if (v.isAtom() && v.atom().isString()) {
        for (std::string& c : characters(v.atom().asString())) out.push_back(Value(c));
        return out;
    }
    fail(loc, "cannot iterate over " + describe(v) +
                  ": loops run at compile time, over lists, dicts, strings and ranges");
}

void Elaborator::bindLoopVars(Env& env, const std::vector<ast::Ident>& vars, const CtValue& item) {
    if (vars.size() == 1) {
        env.bind(vars.front().name, item);
        return;
    }
    const List* l = item.list();
    if (l == nullptr || l->items.size() != vars.size()) {
        fail(vars.front().loc,
             "cannot unpack " + describe(item) +
                 (l != nullptr ? " of " + std::to_string(l->items.size()) + " elements" : "") +
                 " into " + std::to_string(vars.size()) + " names");
    }
    for (size_t i = 0; i < vars.size(); ++i) env.bind(vars[i].name, l->items[i]);
}

CtValue Elaborator::evalListComp(const ast::ListComp& c, Frame& frame) {
    std::vector<CtValue> out;
    for (const CtValue& item : iterate(eval(*c.iterable, frame), c.iterable->loc)) {
        // Each element gets its own scope: the loop names do not leak out, as in the REPL.
        Frame inner{std::make_shared<Env>(frame.env), false};
        bindLoopVars(*inner.env, c.vars, item);
        out.push_back(eval(*c.value, inner));
    }
    return makeList(std::move(out));
}

CtValue Elaborator::evalDictComp(const ast::DictComp& c, Frame& frame) {
    auto dict = std::make_shared<Dict>();
    for (const CtValue& item : iterate(eval(*c.iterable, frame), c.iterable->loc)) {
        Frame inner{std::make_shared<Env>(frame.env), false};
        bindLoopVars(*inner.env, c.vars, item);
        CtValue key = eval(*c.key, inner);
        if (!key.isAtom()) fail(c.key->loc, "dict keys must be atoms, not " + describe(key));
        dict->set(key.atom(), eval(*c.value, inner));
    }
    return std::shared_ptr<const Dict>(std::move(dict));
}

}  // namespace raspc::elab
