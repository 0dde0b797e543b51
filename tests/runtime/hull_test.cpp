// The dynamic hull against a brute-force maximum over every inserted point.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

#include "runtime/hull.h"

using raspc::rt::dot2;
using raspc::rt::KeyHull;

namespace {

struct Point {
    double x, y, value;
};

// Every inserted point merged by position: the sum of its values (in arrival order) and count.
struct Merged {
    double sum = 0.0;
    int64_t count = 0;
};

// Checks one query against the brute force: the hull must name the unique best point with its
// exact sum and count, or decline when the best score is shared by two distinct points or the
// query is horizontal (q1 == 0).
void checkQuery(const KeyHull& hull, const std::map<std::pair<double, double>, Merged>& points,
                double q0, double q1) {
    double best = -INFINITY;
    for (const auto& [p, m] : points) best = std::max(best, dot2(q0, q1, p.first, p.second));
    int atBest = 0;
    std::pair<double, double> winner;
    for (const auto& [p, m] : points) {
        if (dot2(q0, q1, p.first, p.second) == best) {
            ++atBest;
            winner = p;
        }
    }

    CAPTURE(q0);
    CAPTURE(q1);
    auto got = hull.best(q0, q1);
    if (q1 == 0.0 || atBest > 1) {
        CHECK_FALSE(got.has_value());
        return;
    }
    REQUIRE(got.has_value());
    CHECK(got->score == best);
    CHECK(got->x == winner.first);
    CHECK(got->y == winner.second);
    CHECK(got->count == points.at(winner).count);
    CHECK(got->valueSum[0] == points.at(winner).sum);
}

// Inserts `pts` in order, checking random queries along the way.
void runAgainstBruteForce(const std::vector<Point>& pts, std::mt19937& rng, int queryRange,
                          size_t shiftLimit) {
    KeyHull hull(1, shiftLimit);
    std::map<std::pair<double, double>, Merged> points;
    std::uniform_int_distribution<int> coordinate(-queryRange, queryRange);
    for (size_t i = 0; i < pts.size(); ++i) {
        hull.insert(pts[i].x, pts[i].y, &pts[i].value);
        Merged& m = points[{pts[i].x, pts[i].y}];
        m.sum += pts[i].value;
        ++m.count;
        for (int q = 0; q < 4; ++q) checkQuery(hull, points, coordinate(rng), coordinate(rng));
    }
    CHECK(hull.size() == static_cast<int64_t>(pts.size()));
}

// The same with each chain kept as an array (unless insertions shift many vertices), and as a
// tree from the first insertion that is not an append.
void runAgainstBruteForce(const std::vector<Point>& pts, std::mt19937& rng, int queryRange) {
    for (size_t shiftLimit : {KeyHull::kDefaultShiftLimit, size_t{0}}) {
        CAPTURE(shiftLimit);
        runAgainstBruteForce(pts, rng, queryRange, shiftLimit);
    }
}

}  // namespace

TEST_CASE("hull: random small integer points, with many duplicates and collinear points") {
    std::mt19937 rng(11);
    for (int trial = 0; trial < 300; ++trial) {
        CAPTURE(trial);
        const int range = 1 + trial % 12;  // small ranges force duplicates and collinearity
        std::uniform_int_distribution<int> coordinate(-range, range);
        std::vector<Point> pts(1 + rng() % 60);
        for (Point& p : pts)
            p = {double(coordinate(rng)), double(coordinate(rng)), double(rng() % 100)};
        runAgainstBruteForce(pts, rng, 5);
    }
}

TEST_CASE("hull: points on a line, on a vertical, and the same point again and again") {
    std::mt19937 rng(12);
    std::vector<Point> line, vertical, same;
    for (int i = 0; i < 40; ++i) {
        line.push_back({double(i % 7 - 3), double(2 * (i % 7) - 1), double(i)});
        vertical.push_back({2.0, double(i % 9 - 4), double(i)});
        same.push_back({-1.0, 3.0, double(i)});
    }
    std::shuffle(line.begin(), line.end(), rng);
    runAgainstBruteForce(line, rng, 6);
    runAgainstBruteForce(vertical, rng, 6);
    runAgainstBruteForce(same, rng, 6);
}

TEST_CASE("hull: a parabola of lookup keys in random order keeps every point and finds each") {
    // Keys (2k, -k^2) as numerical lookups compile them; every point is a vertex of the upper
    // hull, and the query (a, 1) scores a^2 - (k - a)^2, largest at k = a.
    constexpr int kPoints = 20000;
    std::vector<int> ks(kPoints);
    std::iota(ks.begin(), ks.end(), -kPoints / 2);
    std::mt19937 rng(13);
    std::shuffle(ks.begin(), ks.end(), rng);
    KeyHull hull(1);
    for (int k : ks) {
        const double value = k;
        hull.insert(2.0 * k, -1.0 * k * k, &value);
    }
    CHECK(hull.vertexCount() >= kPoints);
    // Insertions all over the upper chain made it a tree; the lower one holds the two ends.
    CHECK(hull.treeChains() == 1);
    for (int i = 0; i < 2000; ++i) {
        const int a = static_cast<int>(rng() % kPoints) - kPoints / 2;
        auto best = hull.best(a + 0.25, 1.0);
        REQUIRE(best.has_value());
        CHECK(best->valueSum[0] == a);
        CHECK(best->count == 1);
    }
    // From below: the lower chain answers. x - y = 2k + k^2 is largest at the last k.
    auto low = hull.best(1.0, -1.0);
    REQUIRE(low.has_value());
    CHECK(low->valueSum[0] == kPoints / 2 - 1);
}

TEST_CASE("hull: keys arriving left to right keep both chains as arrays") {
    // Lookups on the position: keys (2j, -j^2) for j = 0, 1, 2, ... Every point is a vertex of
    // the upper chain, appended at its end; the lower chain keeps the two ends.
    constexpr int kPoints = 50000;
    KeyHull hull(1);
    for (int j = 0; j < kPoints; ++j) {
        const double value = j;
        hull.insert(2.0 * j, -1.0 * j * j, &value);
    }
    CHECK(hull.treeChains() == 0);
    CHECK(hull.vertexCount() == kPoints + 2);
    std::mt19937 rng(15);
    for (int i = 0; i < 2000; ++i) {
        const int a = static_cast<int>(rng() % kPoints);
        auto best = hull.best(a + 0.25, 1.0);
        REQUIRE(best.has_value());
        CHECK(best->valueSum[0] == a);
        CHECK(best->score == dot2(a + 0.25, 1.0, 2.0 * a, -1.0 * a * a));
    }
}

TEST_CASE("hull: arrays and trees give the same answers") {
    // "Latest" lookups on a few values (x from a small set, y growing with the position) stay
    // small arrays; random points in a wide range make large ones. Each is checked against a
    // hull whose chains are trees from the start, and one whose chains never are.
    std::mt19937 rng(16);
    for (int trial = 0; trial < 40; ++trial) {
        CAPTURE(trial);
        const bool latest = trial % 2 == 0;
        KeyHull flat(1, SIZE_MAX), tree(1, 0), standard(1);
        for (int i = 0; i < 3000; ++i) {
            const int k = static_cast<int>(rng() % (latest ? 5 : 2001)) - (latest ? 0 : 1000);
            const double x = 2.0 * k;
            const double y = latest ? -1.0 * k * k + i / 4096.0 : double(rng() % 2001) - 1000.0;
            const double value = i;
            flat.insert(x, y, &value);
            tree.insert(x, y, &value);
            standard.insert(x, y, &value);
        }
        CHECK(flat.treeChains() == 0);
        CHECK(tree.treeChains() == 2);
        CHECK(flat.vertexCount() == tree.vertexCount());
        CHECK(standard.vertexCount() == tree.vertexCount());
        for (int q = 0; q < 500; ++q) {
            const double q0 = double(rng() % 4001) - 2000.0 + 0.25;
            const double q1 = double(rng() % 201) - 100.0;
            auto a = flat.best(q0, q1), b = tree.best(q0, q1), c = standard.best(q0, q1);
            REQUIRE(a.has_value() == b.has_value());
            REQUIRE(c.has_value() == b.has_value());
            if (!a) continue;
            CHECK(a->score == b->score);
            CHECK(a->x == b->x);
            CHECK(a->y == b->y);
            CHECK(a->count == b->count);
            CHECK(a->valueSum[0] == b->valueSum[0]);
            CHECK(c->valueSum[0] == b->valueSum[0]);
        }
    }
}

TEST_CASE("hull: large coordinates keep their orientation exact") {
    // Neighbouring keys (2k, -k^2) near k = 10^6: products of coordinates pass 2^53, but their
    // differences do not, so the hull must keep every point.
    KeyHull hull(1);
    std::mt19937 rng(14);
    std::vector<int> ks;
    for (int k = 1000000; k < 1000400; ++k) ks.push_back(k);
    std::shuffle(ks.begin(), ks.end(), rng);
    for (int k : ks) {
        const double value = k;
        hull.insert(2.0 * k, -1.0 * k * k, &value);
    }
    for (int k = 1000000; k < 1000400; ++k) {
        auto best = hull.best(k + 0.25, 1.0);
        REQUIRE(best.has_value());
        CHECK(best->valueSum[0] == k);
    }
}

TEST_CASE("hull: non-finite points make it decline every query") {
    KeyHull hull(1);
    const double value = 1.0;
    hull.insert(0.0, 0.0, &value);
    CHECK(hull.best(1.0, 1.0).has_value());
    hull.insert(NAN, 0.0, &value);
    CHECK_FALSE(hull.best(1.0, 1.0).has_value());
    CHECK_FALSE(KeyHull(1).best(1.0, 1.0).has_value());
}
