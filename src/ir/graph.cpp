// Names of the IR enums and the comparison a select applies to (key, query) atoms.
#include "ir/graph.h"

namespace raspc {

std::string_view toString(OpKind k) {
    switch (k) {
        case OpKind::Tokens:
            return "tokens";
        case OpKind::Indices:
            return "indices";
        case OpKind::Length:
            return "length";
        case OpKind::Constant:
            return "constant";
        case OpKind::Map:
            return "map";
        case OpKind::SequenceMap:
            return "sequence_map";
        case OpKind::Select:
            return "select";
        case OpKind::SelectAnd:
            return "select_and";
        case OpKind::SelectOr:
            return "select_or";
        case OpKind::SelectNot:
            return "select_not";
        case OpKind::Aggregate:
            return "aggregate";
        case OpKind::SelectorWidth:
            return "selector_width";
        case OpKind::WidthInverse:
            return "width_inverse";
    }
    return "?";
}

std::string_view toString(Cmp c) {
    switch (c) {
        case Cmp::Eq:
            return "==";
        case Cmp::Ne:
            return "!=";
        case Cmp::Lt:
            return "<";
        case Cmp::Le:
            return "<=";
        case Cmp::Gt:
            return ">";
        case Cmp::Ge:
            return ">=";
    }
    return "?";
}

std::string_view toString(Reduction r) {
    switch (r) {
        case Reduction::Mean:
            return "mean";
        case Reduction::Sum:
            return "sum";
        case Reduction::Max:
            return "max";
        case Reduction::Min:
            return "min";
        case Reduction::Latest:
            return "latest";
        case Reduction::Earliest:
            return "earliest";
    }
    return "?";
}

bool compare(Cmp c, const Value& key, const Value& query) {
    // The key is the left operand: select(indices, indices, <) picks keys before the query.
    switch (c) {
        case Cmp::Eq:
            return key == query;
        case Cmp::Ne:
            return !(key == query);
        case Cmp::Lt:
            return pyLt(key, query).asBool();
        case Cmp::Le:
            return pyLe(key, query).asBool();
        case Cmp::Gt:
            return pyGt(key, query).asBool();
        case Cmp::Ge:
            return pyGe(key, query).asBool();
    }
    return false;
}

}  // namespace raspc
