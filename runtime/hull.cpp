// The dynamic hull: two chains of vertices, each a sorted array while keys arrive left to right
// and a std::set after, whose vertices link to their right neighbour so that a query
// binary-searches the chain by comparing neighbouring scores.
#include "runtime/hull.h"

#include <algorithm>
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

KeyHull::KeyHull(int valueWidth, size_t shiftLimit)
    : valueWidth_(valueWidth), shiftLimit_(shiftLimit) {}

KeyHull::KeyHull(const KeyHull& other)
    : valueWidth_(other.valueWidth_),
      shiftLimit_(other.shiftLimit_),
      upper_(other.upper_),
      lower_(other.lower_),
      sums_(other.sums_),
      counts_(other.counts_),
      inserted_(other.inserted_),
      usable_(other.usable_) {
    relinkAll(upper_.tree);
    relinkAll(lower_.tree);
}

KeyHull& KeyHull::operator=(const KeyHull& other) {
    if (this != &other) *this = KeyHull(other);
    return *this;
}

void KeyHull::relinkAll(Tree& chain) {
    const Vertex* after = nullptr;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        it->next = after;
        after = &*it;
    }
}

void KeyHull::relink(Tree& chain, Tree::iterator it) {
    auto after = std::next(it);
    it->next = after == chain.end() ? nullptr : &*after;
    if (it != chain.begin()) std::prev(it)->next = &*it;
}

void KeyHull::makeTree(Chain& chain) {
    for (const Point& p : chain.flat) chain.tree.insert(chain.tree.end(), Vertex{p});
    relinkAll(chain.tree);
    chain.flat = std::vector<Point>();
    chain.isTree = true;
}

int64_t KeyHull::accAt(const Chain& chain, double x, double sy) {
    if (chain.isTree) {
        const Tree& t = chain.tree;
        if (t.empty() || t.rbegin()->p.x < x) return -1;
        auto it = t.lower_bound(Vertex{Point{x, 0.0, 0}});
        return it != t.end() && it->p.x == x && it->p.y == sy ? it->p.acc : -1;
    }
    const std::vector<Point>& v = chain.flat;
    if (v.empty() || v.back().x < x) return -1;
    auto it =
        std::lower_bound(v.begin(), v.end(), x, [](const Point& p, double at) { return p.x < at; });
    return it != v.end() && it->x == x && it->y == sy ? it->acc : -1;
}

bool KeyHull::insertInto(Chain& chain, double x, double sy, int64_t acc) {
    if (!chain.isTree) {
        std::vector<Point>& v = chain.flat;
        // Keys often arrive left to right (positions, growing values): no search for those.
        size_t at = v.size();
        if (!v.empty() && v.back().x >= x) {
            at = static_cast<size_t>(
                std::lower_bound(v.begin(), v.end(), x,
                                 [](const Point& p, double to) { return p.x < to; }) -
                v.begin());
        }
        if (v.size() - at <= shiftLimit_) return insertFlat(v, at, x, sy, acc);
        makeTree(chain);
    }
    return insertTree(chain.tree, x, sy, acc);
}

bool KeyHull::insertFlat(std::vector<Point>& v, size_t at, double x, double sy, int64_t acc) {
    // The same steps as insertTree, on indices: `at` is the first vertex at or right of x.
    const size_t n = v.size();
    size_t right = at;
    const bool above = at < n && v[at].x == x;
    if (above) {
        if (sy <= v[at].y) return false;
        right = at + 1;  // the vertex straight below goes
    }
    if (right < n && at > 0 &&
        orientation(v[at - 1].x, v[at - 1].y, v[right].x, v[right].y, x, sy) <= 0) {
        if (above) v.erase(v.begin() + static_cast<std::ptrdiff_t>(at));
        return false;
    }

    // The neighbours the new vertex makes redundant: [first, at) on the left, [right, last)
    // on the right.
    size_t last = right;
    while (last + 1 < n &&
           orientation(x, sy, v[last].x, v[last].y, v[last + 1].x, v[last + 1].y) >= 0)
        ++last;
    size_t first = at;
    while (first >= 2 &&
           orientation(v[first - 2].x, v[first - 2].y, v[first - 1].x, v[first - 1].y, x, sy) >= 0)
        --first;

    const Point p{x, sy, acc};
    const auto begin = v.begin() + static_cast<std::ptrdiff_t>(first);
    if (first == last) {
        v.insert(begin, p);
    } else {
        *begin = p;
        v.erase(begin + 1, v.begin() + static_cast<std::ptrdiff_t>(last));
    }
    return true;
}

bool KeyHull::insertTree(Tree& chain, double x, double sy, int64_t acc) {
    auto right = chain.end();
    if (!chain.empty() && chain.rbegin()->p.x >= x) right = chain.lower_bound(Vertex{Point{x}});

    // A vertex straight above the point hides it; one straight below it is hidden.
    if (right != chain.end() && right->p.x == x) {
        if (sy <= right->p.y) return false;
        right = chain.erase(right);
        if (right != chain.begin()) relink(chain, std::prev(right));
    }

    // Between two vertices, the point must lie strictly above the edge joining them.
    if (right != chain.end() && right != chain.begin()) {
        auto left = std::prev(right);
        if (orientation(left->p.x, left->p.y, right->p.x, right->p.y, x, sy) <= 0) return false;
    }

    auto it = chain.insert(right, Vertex{Point{x, sy, acc}});
    // Drop the neighbours the new vertex makes redundant: those no longer turning clockwise.
    while (true) {
        auto a = std::next(it);
        if (a == chain.end()) break;
        auto b = std::next(a);
        if (b == chain.end() || orientation(x, sy, a->p.x, a->p.y, b->p.x, b->p.y) < 0) break;
        chain.erase(a);
    }
    while (it != chain.begin()) {
        auto a = std::prev(it);
        if (a == chain.begin()) break;
        auto b = std::prev(a);
        if (orientation(b->p.x, b->p.y, a->p.x, a->p.y, x, sy) < 0) break;
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
    int64_t acc = accAt(upper_, x, y);
    if (acc < 0) acc = accAt(lower_, x, -y);

    if (acc < 0) {
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

// Both forms search for the first vertex whose right neighbour does not score higher, then
// climb to a local maximum: rounding can make the scores not quite unimodal near the top.
// Where it does, the two searches (and the array's from different last answers) may stop at
// different local maxima.

std::optional<KeyHull::Point> KeyHull::argmaxFlat(const std::vector<Point>& v, double q0,
                                                  double q1s, size_t& hint) {
    auto score = [&](size_t i) { return dot2(q0, q1s, v[i].x, v[i].y); };
    const size_t n = v.size();
    // The answer is the first vertex whose right neighbour does not score higher. Queries of
    // one head tend to repeat or move little, so the search gallops out from the last answer
    // to bracket it, then halves the bracket: O(log d) for an answer d vertices away, within
    // memory the last queries warmed.
    auto rising = [&](size_t i) { return i + 1 < n && score(i + 1) > score(i); };
    const size_t from = std::min(hint, n - 1);
    size_t lo = 0, hi = n - 1;  // rising(lo - 1) (or lo == 0), !rising(hi)
    if (rising(from)) {
        lo = from + 1;
        for (size_t step = 1; from + step < n - 1; step *= 2) {
            if (!rising(from + step)) {
                hi = from + step;
                break;
            }
            lo = from + step + 1;
        }
    } else {
        hi = from;
        for (size_t step = 1; step <= from; step *= 2) {
            if (rising(from - step)) {
                lo = from - step + 1;
                break;
            }
            hi = from - step;
        }
    }
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (rising(mid))
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t it = lo;
    while (it > 0 && score(it - 1) > score(it)) --it;
    while (it + 1 < n && score(it + 1) > score(it)) ++it;
    hint = it;

    // A neighbour with the same score ties: the mean would span two points.
    const double best = score(it);
    if ((it > 0 && score(it - 1) == best) || (it + 1 < n && score(it + 1) == best))
        return std::nullopt;
    return v[it];
}

std::optional<KeyHull::Point> KeyHull::argmaxTree(const Tree& chain, double q0, double q1s) {
    auto it = chain.lower_bound(Direction{q0, q1s});
    if (it == chain.end()) it = std::prev(it);  // only if rounding broke the order

    auto score = [&](Tree::const_iterator v) { return dot2(q0, q1s, v->p.x, v->p.y); };
    while (it != chain.begin() && score(std::prev(it)) > score(it)) --it;
    while (std::next(it) != chain.end() && score(std::next(it)) > score(it)) ++it;

    const double best = score(it);
    if (it != chain.begin() && score(std::prev(it)) == best) return std::nullopt;
    if (std::next(it) != chain.end() && score(std::next(it)) == best) return std::nullopt;
    return it->p;
}

std::optional<KeyHull::Point> KeyHull::argmax(const Chain& chain, double q0, double q1s) {
    return chain.isTree ? argmaxTree(chain.tree, q0, q1s)
                        : argmaxFlat(chain.flat, q0, q1s, chain.hint);
}

std::optional<KeyHull::Best> KeyHull::best(double q0, double q1) const {
    if (!usable_ || counts_.empty() || q1 == 0.0 || !std::isfinite(q0) || !std::isfinite(q1))
        return std::nullopt;
    // The lower chain stores -y, so q0 * x + (-q1) * (-y) is the same score, to the bit.
    const bool up = q1 > 0.0;
    const Chain& chain = up ? upper_ : lower_;
    const double q1s = up ? q1 : -q1;
    if (chain.size() == 0) return std::nullopt;

    std::optional<Point> p = argmax(chain, q0, q1s);
    if (!p) return std::nullopt;
    const double score = dot2(q0, q1s, p->x, p->y);
    if (!std::isfinite(score)) return std::nullopt;

    Best b;
    b.score = score;
    b.x = p->x;
    b.y = up ? p->y : -p->y;
    b.valueSum = sums_.data() + static_cast<size_t>(p->acc) * valueWidth_;
    b.count = counts_[static_cast<size_t>(p->acc)];
    return b;
}

}  // namespace raspc::rt
