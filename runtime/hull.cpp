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

int64_t KeyHull::find(double x, double y) const {
    if (auto it = upper_.find(Vertex{x, y}); it != upper_.end() && it->y == y) return it->acc;
    if (auto it = lower_.find(Vertex{x, -y}); it != lower_.end() && it->y == -y) return it->acc;
    return -1;
}

void KeyHull::relink(Chain& chain, Chain::iterator it) {
    auto after = std::next(it);
    it->next = after == chain.end() ? nullptr : &*after;
    if (it != chain.begin()) std::prev(it)->next = &*it;
}

bool KeyHull::insertInto(Chain& chain, double x, double sy, int64_t acc) {
    // A vertex straight above (or at) the point hides it; one straight below it is hidden.
    auto at = chain.find(Vertex{x, sy});
    if (at != chain.end()) {
        if (sy <= at->y) return false;
        at = chain.erase(at);
        if (at != chain.begin()) {
            auto before = std::prev(at);
            before->next = at == chain.end() ? nullptr : &*at;
        }
    }

    // Between two vertices, the point must lie strictly above the edge joining them.
    auto right = chain.lower_bound(Vertex{x, sy});
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

    int64_t acc = find(x, y);
    const bool fresh = acc < 0;
    if (fresh) {
        acc = static_cast<int64_t>(counts_.size());
        counts_.push_back(0);
        sums_.resize(sums_.size() + static_cast<size_t>(valueWidth_), 0.0);
        // Both chains may take it (a point can be a vertex of both); the first insertion must
        // not decide the second, so both are tried.
        const bool inUpper = insertInto(upper_, x, y, acc);
        const bool inLower = insertInto(lower_, x, -y, acc);
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
