// The dynamic hull: two chains of vertices in std::set, each vertex linked to its right
// neighbour so that a query binary-searches the chain by comparing neighbouring scores.
#include "runtime/hull.h"

#include <cmath>
#include <iterator>

namespace raspc::rt {

namespace {

// a * b - c * d with one rounding at most of the result's size (Kahan's method with fma): the
// sign is right even when the two products nearly cancel, as they do for neighbouring points.
double differenceOfProducts(double a, double b, double c, double d) {
    const double cd = c * d;
    const double cdError = std::fma(-c, d, cd);  // cd - c * d, exactly
    return std::fma(a, b, -cd) + cdError;
}

// Above 0 when c lies left of the line from a to b (a counter-clockwise turn), 0 on it.
double orientation(double ax, double ay, double bx, double by, double cx, double cy) {
    return differenceOfProducts(bx - ax, cy - ay, by - ay, cx - ax);
}

}  // namespace

KeyHull::KeyHull(int valueWidth) : valueWidth_(valueWidth) {}

KeyHull::KeyHull(const KeyHull& other)
    : valueWidth_(other.valueWidth_),
      upper_(other.upper_),
      lower_(other.lower_),
      sums_(other.sums_),
      counts_(other.counts_),
      inserted_(other.inserted_),
      usable_(other.usable_) {
    relinkAll(upper_);
    relinkAll(lower_);
}

KeyHull& KeyHull::operator=(const KeyHull& other) {
    if (this != &other) *this = KeyHull(other);
    return *this;
}

void KeyHull::relinkAll(Chain& chain) {
    const Vertex* after = nullptr;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        it->next = after;
        after = &*it;
    }
}

KeyHull::Chain::iterator KeyHull::seek(Chain& chain, double x) {
    // Keys often arrive left to right (positions, growing values): no tree walk for those.
    if (chain.empty() || chain.rbegin()->x < x) return chain.end();
    return chain.lower_bound(Vertex{x, 0.0});
}

void KeyHull::relink(Chain& chain, Chain::iterator it) {
    auto after = std::next(it);
    it->next = after == chain.end() ? nullptr : &*after;
    if (it != chain.begin()) std::prev(it)->next = &*it;
}

bool KeyHull::insertInto(Chain& chain, Chain::iterator right, double x, double sy, int64_t acc) {
    // A vertex straight above the point hides it; one straight below it is hidden.
    if (right != chain.end() && right->x == x) {
        if (sy <= right->y) return false;
        right = chain.erase(right);
        if (right != chain.begin()) relink(chain, std::prev(right));
    }

    // Between two vertices, the point must lie strictly above the edge joining them.
    if (right != chain.end() && right != chain.begin()) {
        auto left = std::prev(right);
        if (orientation(left->x, left->y, right->x, right->y, x, sy) <= 0) return false;
    }

    auto it = chain.insert(right, Vertex{x, sy, acc});
    // Drop the neighbours the new vertex makes redundant: those no longer turning clockwise.
    while (true) {
        auto a = std::next(it);
        if (a == chain.end()) break;
        auto b = std::next(a);
        if (b == chain.end() || orientation(x, sy, a->x, a->y, b->x, b->y) < 0) break;
        chain.erase(a);
    }
    while (it != chain.begin()) {
        auto a = std::prev(it);
        if (a == chain.begin()) break;
        auto b = std::prev(a);
        if (orientation(b->x, b->y, a->x, a->y, x, sy) < 0) break;
        chain.erase(a);
    }
    relink(chain, it);
    return true;
}

void KeyHull::insert(double x, double y, const double* value) {
    ++inserted_;
    if (!std::isfinite(x) || !std::isfinite(y)) usable_ = false;
    if (!usable_) return;

    // A point already merged at (x, y) is a vertex of one chain or both.
    auto upperAt = seek(upper_, x);
    auto lowerAt = seek(lower_, x);
    int64_t acc = -1;
    if (upperAt != upper_.end() && upperAt->x == x && upperAt->y == y) acc = upperAt->acc;
    if (lowerAt != lower_.end() && lowerAt->x == x && lowerAt->y == -y) acc = lowerAt->acc;

    if (acc < 0) {
        acc = static_cast<int64_t>(counts_.size());
        counts_.push_back(0);
        sums_.resize(sums_.size() + static_cast<size_t>(valueWidth_), 0.0);
        // Both chains may take it (a point can be a vertex of both); the first insertion must
        // not decide the second, so both are tried.
        const bool inUpper = insertInto(upper_, upperAt, x, y, acc);
        const bool inLower = insertInto(lower_, lowerAt, x, -y, acc);
        if (!inUpper && !inLower) {
            // Inside the hull: it can never be the best, now or later.
            counts_.pop_back();
            sums_.resize(sums_.size() - static_cast<size_t>(valueWidth_));
            return;
        }
    }
    double* sum = sums_.data() + static_cast<size_t>(acc) * valueWidth_;
    for (int c = 0; c < valueWidth_; ++c) sum[c] += value[c];
    ++counts_[static_cast<size_t>(acc)];
}

KeyHull::Chain::const_iterator KeyHull::argmax(const Chain& chain, double q0, double q1s) {
    auto it = chain.lower_bound(Direction{q0, q1s});
    if (it == chain.end()) it = std::prev(it);  // only if rounding broke the order

    // Rounding can make the scores not quite unimodal near the top: climb to a local maximum.
    auto score = [&](Chain::const_iterator v) { return dot2(q0, q1s, v->x, v->y); };
    while (it != chain.begin() && score(std::prev(it)) > score(it)) --it;
    while (std::next(it) != chain.end() && score(std::next(it)) > score(it)) ++it;
    return it;
}

std::optional<KeyHull::Best> KeyHull::best(double q0, double q1) const {
    if (!usable_ || counts_.empty() || q1 == 0.0 || !std::isfinite(q0) || !std::isfinite(q1))
        return std::nullopt;
    // The lower chain stores -y, so q0 * x + (-q1) * (-y) is the same score, to the bit.
    const bool up = q1 > 0.0;
    const Chain& chain = up ? upper_ : lower_;
    const double q1s = up ? q1 : -q1;
    if (chain.empty()) return std::nullopt;

    auto it = argmax(chain, q0, q1s);
    const double score = dot2(q0, q1s, it->x, it->y);
    if (!std::isfinite(score)) return std::nullopt;
    // A neighbour with the same score ties: the mean would span two points.
    if (it != chain.begin() && dot2(q0, q1s, std::prev(it)->x, std::prev(it)->y) == score)
        return std::nullopt;
    if (std::next(it) != chain.end() && dot2(q0, q1s, std::next(it)->x, std::next(it)->y) == score)
        return std::nullopt;

    Best b;
    b.score = score;
    b.x = it->x;
    b.y = up ? it->y : -it->y;
    b.valueSum = sums_.data() + static_cast<size_t>(it->acc) * valueWidth_;
    b.count = counts_[static_cast<size_t>(it->acc)];
    return b;
}

}  // namespace raspc::rt
