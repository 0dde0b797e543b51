// A dynamic convex hull of 2-D key points: the maximum of q . k over all keys in O(log n).
#pragma once

#include <cstddef>
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
/// Each chain of the hull starts as a sorted array: keys that arrive left to right (lookups on
/// the position) only append and pop at its end, and a query binary-searches contiguous
/// memory. A chain whose insertions land far from its end, which would shift many vertices,
/// turns into a balanced tree for good. Insertion costs O(log n) amortised either way (each
/// point enters and leaves the hull at most once) and a query O(log n); both forms hold the
/// same vertices and give the same answers whenever scores along a chain rise, then fall,
/// without rounding breaking that order (see argmax). Orientation tests take the coordinates'
/// differences and an accurate difference of products, so the hull is exact whenever those
/// differences are (integer coordinates below 2^52, say: keys (2k, -k^2) up to k = 6 * 10^7) and
/// within rounding otherwise.
class KeyHull {
public:
    /// Vertices an insertion may shift in a chain's array before the chain becomes a tree.
    static constexpr size_t kDefaultShiftLimit = 64;

    /// `valueWidth` numbers per value vector. `shiftLimit`: see kDefaultShiftLimit (0 makes a
    /// chain a tree at its first insertion that is not past its last vertex; for tests).
    explicit KeyHull(int valueWidth, size_t shiftLimit = kDefaultShiftLimit);
    // A copy re-links its tree vertices to its own neighbours; a move keeps the nodes, and so
    // the links.
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
    /// Remembers where the answer was, to start the next search there: not for concurrent
    /// calls.
    std::optional<Best> best(double q0, double q1) const;

    /// Points inserted, and hull vertices now (upper and lower chain together).
    int64_t size() const { return inserted_; }
    size_t vertexCount() const { return upper_.size() + lower_.size(); }
    /// Chains (of two) kept as trees; for tests.
    int treeChains() const { return upper_.isTree + lower_.isTree; }

private:
    // One vertex of a chain. A chain is the upper hull of points (x, sign * y), sorted by x.
    struct Point {
        double x = 0.0, y = 0.0;  // y already multiplied by the chain's sign
        int64_t acc = 0;          // index of the merged point in sums_ / counts_
    };
    // A vertex of a chain kept as a tree. `next` points to the vertex on its right (nullptr
    // for the last), so that a query can compare a vertex's score with its neighbour's while
    // it descends the tree.
    struct Vertex {
        Point p;
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
        bool operator()(const Vertex& a, const Vertex& b) const { return a.p.x < b.p.x; }
        bool operator()(const Vertex& v, const Direction& q) const {
            return v.next != nullptr &&
                   dot2(q.q0, q.q1s, v.next->p.x, v.next->p.y) > dot2(q.q0, q.q1s, v.p.x, v.p.y);
        }
    };
    using Tree = std::set<Vertex, Order>;

    // One chain: a sorted array while insertions stay near its end, then a tree.
    struct Chain {
        std::vector<Point> flat;
        Tree tree;
        bool isTree = false;
        mutable size_t hint = 0;  // the array's last answer, where the next search starts
        size_t size() const { return isTree ? tree.size() : flat.size(); }
    };

    // The accumulator of the vertex of `chain` at exactly (x, sy), or -1.
    static int64_t accAt(const Chain& chain, double x, double sy);
    // Adds (x, sy) to `chain` unless it lies on or under the chain; false when rejected.
    bool insertInto(Chain& chain, double x, double sy, int64_t acc);
    static bool insertFlat(std::vector<Point>& chain, size_t at, double x, double sy, int64_t acc);
    static bool insertTree(Tree& chain, double x, double sy, int64_t acc);
    // Turns a chain's array into a tree.
    static void makeTree(Chain& chain);
    // Re-links the `next` pointer of the vertex before `it` and of `it` itself.
    static void relink(Tree& chain, Tree::iterator it);
    // Re-links every vertex of `chain`.
    static void relinkAll(Tree& chain);
    // The vertex of `chain` maximising q0 * x + q1s * y for q1s > 0, or nothing when a
    // neighbour ties with it.
    static std::optional<Point> argmax(const Chain& chain, double q0, double q1s);
    static std::optional<Point> argmaxFlat(const std::vector<Point>& chain, double q0, double q1s,
                                           size_t& hint);
    static std::optional<Point> argmaxTree(const Tree& chain, double q0, double q1s);

    int valueWidth_;
    size_t shiftLimit_;
    Chain upper_;               // sign +1: answers queries with q1 > 0
    Chain lower_;               // sign -1: answers queries with q1 < 0
    std::vector<double> sums_;  // per merged point, valueWidth numbers
    std::vector<int64_t> counts_;
    int64_t inserted_ = 0;
    bool usable_ = true;
};

}  // namespace raspc::rt
