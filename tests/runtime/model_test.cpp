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
