// Compile-time values: dict lookup, scopes, descriptions for messages.
#include "elaborate/values.h"

#include <algorithm>

namespace raspc::elab {

const List* CtValue::list() const {
    auto* p = std::get_if<std::shared_ptr<const List>>(&v);
    return p != nullptr ? p->get() : nullptr;
}

const Dict* CtValue::dict() const {
    auto* p = std::get_if<std::shared_ptr<const Dict>>(&v);
    return p != nullptr ? p->get() : nullptr;
}

const CtValue* Dict::find(const Value& key) const {
    for (const auto& [k, value] : entries) {
        if (k == key) return &value;
    }
    return nullptr;
}

void Dict::set(Value key, CtValue value) {
    for (auto& [k, old] : entries) {
        if (k == key) {
            old = std::move(value);
            return;
        }
    }
    entries.emplace_back(std::move(key), std::move(value));
}

std::pair<const CtValue*, const Env*> Env::lookup(const std::string& name) const {
    for (const Env* env = this; env != nullptr; env = env->parent_.get()) {
        auto it = env->values_.find(name);
        if (it != env->values_.end()) return {&it->second, env};
    }
    return {nullptr, nullptr};
}

void Env::bind(const std::string& name, CtValue value) {
    auto [it, inserted] = values_.insert_or_assign(name, std::move(value));
    if (inserted) order_.push_back(name);
}

std::vector<std::string> Env::visibleNames() const {
    std::vector<std::string> names;
    for (const Env* env = this; env != nullptr; env = env->parent_.get()) {
        names.insert(names.end(), env->order_.begin(), env->order_.end());
    }
    return names;
}

std::string describe(const CtValue& v) {
    if (v.isAtom()) {
        switch (atomType(v.atom())) {
            case AtomType::Bool:
                return "a bool";
            case AtomType::Int:
                return "an int";
            case AtomType::Float:
                return "a float";
            case AtomType::String:
                return "a string";
        }
    }
    if (v.isSop() || std::holds_alternative<LazyPrimitive>(v.v)) return "an s-op";
    if (v.isSelector()) return "a selector";
    if (v.list() != nullptr) return "a list";
    if (v.dict() != nullptr) return "a dict";
    return "a function";
}

bool truthy(const CtValue& v) {
    if (v.isAtom()) return v.atom().truthy();
    if (const List* l = v.list()) return !l->items.empty();
    if (const Dict* d = v.dict()) return !d->entries.empty();
    return true;
}

std::vector<std::string> characters(const std::string& s) {
    std::vector<std::string> out;
    for (size_t i = 0; i < s.size();) {
        size_t end = i + 1;
        while (end < s.size() && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) ++end;
        out.push_back(s.substr(i, end - i));
        i = end;
    }
    return out;
}

void fail(const SourceLoc& loc, const std::string& message) {
    throw UserError(loc, message);
}

}  // namespace raspc::elab
