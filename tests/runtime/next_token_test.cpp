// The next token from a numerical output with a table: NextToken's search against decode().
#include <doctest/doctest.h>

#include <limits>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/next_token.h"
#include "runtime/runner.h"

using namespace raspc;

TEST_CASE("next token: a numerical output picks the table entry decode() picks") {
    // A table out of order, with a repeated number (the first entry wins), a tie between two
    // neighbours (the earlier wins), and an entry that is not a token.
    rt::Model m;
    m.vocab = {"-3", "0", "1", "2", "5", "7", "x"};
    rt::Output& out = m.outputs.emplace_back();
    out.name = "next";
    out.kind = rt::OutputKind::Numerical;
    out.valueType = "int";
    out.table = {"5", "0", "2", "-3", "1", "7", "x", "2"};
    out.numbers = {5.0, 0.0, 2.0, -3.0, 1.0, 7.0, 9.0, 2.0};
    out.tolerance = 1.5;
    const rt::NextToken next(m);
    std::unordered_map<std::string, int32_t> id;
    for (size_t i = 0; i < m.vocab.size(); ++i) id[m.vocab[i]] = static_cast<int32_t>(i);

    std::mt19937 rng(31);
    std::uniform_real_distribution<double> value(-6.0, 12.0);
    std::vector<double> values = {-3.0,
                                  1.5,
                                  3.5,
                                  6.0,
                                  8.0,
                                  9.0,
                                  10.5,
                                  10.6,
                                  -4.5,
                                  -4.6,
                                  2.0,
                                  std::numeric_limits<double>::quiet_NaN(),
                                  std::numeric_limits<double>::infinity()};
    for (int i = 0; i < 2000; ++i) values.push_back(value(rng));
    for (double v : values) {
        CAPTURE(v);
        rt::OutputValues ov;
        ov.values = {v};
        std::string want;
        try {
            want = rt::decode(out, ov).front();
        } catch (const rt::DecodeError&) {
            CHECK_THROWS_AS(next(ov), rt::DecodeError);
            continue;
        }
        auto it = id.find(want);
        CHECK(next(ov) == (it == id.end() ? -1 : it->second));
    }
}
