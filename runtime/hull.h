// A dynamic convex hull of 2-D key points: the maximum of q . k over all keys in O(log n).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <vector>

namespace raspc::rt {

/// The score q0 * k0 + q1 * k1, the one formula every attention strategy uses for 2-D keys,
/// so that the hull and the scan agree to the bit.
inline double dot2(double q0, double q1, double k0, double k1) {
    return q0 * k0 + q1 * k1;
}

/// The keys of a 2-D hard head as a convex hull, for "which key point maximises q . k".
/// Points arrive one by one in any x order. Points that coincide merge into one, keeping the
/// sum of their value vectors (in arrival order) and their count, which is what a hard head's
/// mean needs; a point that is not a hull vertex can never be the unique best, so it is dropped
/// (a later point at the same place is dropped too: it cannot become a vertex either).
///
/// Insertion costs O(log n) amortised (each point enters and leaves the hull at most once; a
/// point right of all others costs no search) and a query O(log n). Orientation tests take the
/// coordinates' differences and an accurate difference of products, so the hull is exact
/// whenever those differences are (integer coordinates below 2^52, say: keys (2k, -k^2) up to
/// k = 6 * 10^7) and within rounding otherwise.
class KeyHull {
public:
    /// `valueWidth` numbers per value vector.
    explicit KeyHull(int valueWidth);
    // A copy re-links its vertices to its own neighbours; a move keeps the nodes, and so the links.
    KeyHull(const KeyHull& other);
    KeyHull& operator=(const KeyHull& other);
    KeyHull(KeyHull&&) = default;
    KeyHull& operator=(KeyHull&&) = default;

    /// Adds the point (x, y) with `value` (valueWidth numbers). A NaN or infinite coordinate
    /// makes the hull unusable: every later query returns nothing, so callers scan instead.
    void insert(double x, double y, const double* value);

    /// The point with the largest score q0 * x + q1 * y (computed exactly so, as dot2 does).
    struct Best {
        double score = 0.0;
        double x = 0.0, y = 0.0;
        const double* valueSum = nullptr;  // valueWidth numbers: the sum over merged keys
        int64_t count = 0;                 // keys merged at this point
    };

    /// The best point for the query direction (q0, q1), or nothing when the hull cannot
    /// answer: no points, q1 == 0 (a vertical stack of points may tie), a non-finite query, a
    /// tie between two hull vertices (the mean would span several points), or an unusable hull.
    std::optional<Best> best(double q0, double q1) const;

    /// Points inserted, and hull vertices now (upper and lower chain together).
    int64_t size() const { return inserted_; }
    size_t vertexCount() const { return upper_.size() + lower_.size(); }

private:
    // One vertex of a chain. The chain is the upper hull of points (x, sign * y), sorted by x.
    // `next` points to the vertex on its right (nullptr for the last), so that a query can
    // compare a vertex's score with its neighbour's while it descends the tree.
    struct Vertex {
        double x = 0.0, y = 0.0;  // y already multiplied by the chain's sign
        int64_t acc = 0;          // index of the merged point in sums_ / counts_
        mutable const Vertex* next = nullptr;
    };
    // A query direction (q0, q1s) with q1s > 0, as a search key: a vertex orders before it
    // while its right neighbour scores higher, so lower_bound stops at the first vertex no
    // neighbour beats, the maximum of the scores along the chain (which rise, then fall).
    struct Direction {
        double q0, q1s;
    };
    struct Order {
        using is_transparent = void;
        bool operator()(const Vertex& a, const Vertex& b) const { return a.x < b.x; }
        bool operator()(const Vertex& v, const Direction& q) const {
            return v.next != nullptr &&
                   dot2(q.q0, q.q1s, v.next->x, v.next->y) > dot2(q.q0, q.q1s, v.x, v.y);
        }
    };
    using Chain = std::set<Vertex, Order>;

    // The first vertex of `chain` at or right of x.
    static Chain::iterator seek(Chain& chain, double x);
    // Adds (x, sy) to `chain` (sy is y times the chain's sign; `right` is seek(chain, x))
    // unless it lies on or under the chain. Returns false when it was rejected.
    static bool insertInto(Chain& chain, Chain::iterator right, double x, double sy, int64_t acc);
    // Re-links the `next` pointer of the vertex before `it` and of `it` itself.
    static void relink(Chain& chain, Chain::iterator it);
    // Re-links every vertex of `chain`.
    static void relinkAll(Chain& chain);
    // The vertex of `chain` maximising q0 * x + q1s * y for q1s > 0.
    static Chain::const_iterator argmax(const Chain& chain, double q0, double q1s);

    int valueWidth_;
    Chain upper_;               // sign +1: answers queries with q1 > 0
    Chain lower_;               // sign -1: answers queries with q1 < 0
    std::vector<double> sums_;  // per merged point, valueWidth numbers
    std::vector<int64_t> counts_;
    int64_t inserted_ = 0;
    bool usable_ = true;
};

}  // namespace raspc::rt
