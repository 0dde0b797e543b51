// Model sizes and layer layout.
#include <doctest/doctest.h>

#include "bench/toy_models.h"

using namespace raspc;

TEST_CASE("parameter counts include zeros or not") {
    rt::Model m = toy::identityModel({"a", "b"}, 3);
    // Embeddings 3x3 and 4x3, readout 3x2; only the three token-embedding ones and the two
    // readout ones are not zero.
    CHECK(m.parameterCount() == 9 + 12 + 6);
    CHECK(m.nonZeroParameterCount() == 3 + 2);
}

TEST_CASE("layer layout names heads and MLP widths") {
    CHECK(toy::identityModel({"a"}, 2).layerLayout() == "no layers");
    CHECK(toy::shiftModel({"a", "b", "c"}, 4).layerLayout() == "L0: 2 heads; L1: MLP 4");
    rt::Model dense = toy::denseModel(3, 4, 8, 2, 1, 2, 5, 1);
    CHECK(dense.layerLayout() == "L0: 1 head + MLP 5; L1: 1 head + MLP 5");
    dense.layers.push_back(rt::Layer{});
    CHECK(dense.layerLayout() == "L0: 1 head + MLP 5; L1: 1 head + MLP 5; L2: empty");
}

TEST_CASE("head masks: names, and the keys each leaves visible") {
    using M = rt::HeadMask;
    const std::vector<M> all = {M::None, M::KeyAtMost, M::KeyBefore, M::KeyAtLeast, M::KeyAfter};
    for (M m : all) {
        CAPTURE(rt::maskOperator(m));
        if (m == M::None) {
            CHECK(rt::maskOperator(m) == "");
            CHECK_FALSE(rt::maskFromOperator("").has_value());
        } else {
            CHECK(rt::maskFromOperator(rt::maskOperator(m)) == m);
        }
    }
    CHECK_FALSE(rt::maskFromOperator("==").has_value());

    // Against the predicate written out, for every query of sequences of up to 6 positions
    // (BOS included): key k (k >= 1) is visible exactly when `k op q` holds (and k <= q when
    // causal). BOS is visible always and is not part of the range.
    auto holds = [](M m, int k, int q) {
        switch (m) {
            case M::None:
                return true;
            case M::KeyAtMost:
                return k <= q;
            case M::KeyBefore:
                return k < q;
            case M::KeyAtLeast:
                return k >= q;
            case M::KeyAfter:
                return k > q;
        }
        return false;
    };
    for (M m : all)
        for (bool causal : {false, true})
            for (int rows = 1; rows <= 6; ++rows)
                for (int q = 0; q < rows; ++q) {
                    CAPTURE(rt::maskOperator(m));
                    CAPTURE(causal);
                    CAPTURE(q);
                    rt::KeyRange r = rt::visibleKeys(m, causal, q, rows);
                    for (int k = 1; k < rows; ++k) {
                        bool want = holds(m, k, q) && (!causal || k <= q);
                        CHECK((k >= r.first && k < r.end) == want);
                    }
                    CHECK(r.first >= 1);
                    CHECK(r.end <= rows);
                }
}
