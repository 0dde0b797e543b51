// The reader never crashes on a bad file and says what is wrong with it.
#include <doctest/doctest.h>

#include <random>

#include <onnx/onnx_pb.h>

#include "backend/onnx_writer.h"
#include "bench/toy_models.h"
#include "runtime/onnx_reader.h"
#include "test_util.h"

using namespace raspc;
using testing::ScratchDir;

namespace {

// A valid shift model's bytes, as the reader's tests' raw material.
std::string goodModelBytes(const ScratchDir& dir, int maxLen = 4) {
    std::string path = dir.file("good.onnx");
    writeOnnx(toy::shiftModel({"a", "b", "c"}, maxLen), path);
    return testing::readBytes(path);
}

// Writes the proto to a file and loads it, returning the ModelError's message.
std::string loadError(const ScratchDir& dir, const onnx::ModelProto& p) {
    std::string path = dir.file("edited.onnx");
    testing::writeBytes(path, p.SerializeAsString());
    try {
        rt::loadModel(path);
    } catch (const rt::ModelError& e) {
        return e.what();
    }
    return "<loaded>";
}

}  // namespace

TEST_CASE("a missing file, a directory and an empty file") {
    ScratchDir dir;
    CHECK_THROWS_WITH_AS(rt::loadModel(dir.file("nope.onnx")),
                         doctest::Contains("cannot open model file"), rt::ModelError);
    CHECK_THROWS_WITH_AS(rt::loadModel(dir.file("")), doctest::Contains("directory"),
                         rt::ModelError);
    testing::writeBytes(dir.file("empty.onnx"), "");
    CHECK_THROWS_WITH_AS(rt::loadModel(dir.file("empty.onnx")),
                         doctest::Contains("not an ONNX model file"), rt::ModelError);
}

TEST_CASE("every truncation of a model is rejected cleanly") {
    ScratchDir dir;
    std::string bytes = goodModelBytes(dir, 1);
    std::string path = dir.file("cut.onnx");
    // Every cut in the metadata at the end, where a cut can fall between two whole entries;
    // a sample of cuts in the weights before it (every one would take seconds of file I/O).
    const size_t tail = bytes.size() > 2000 ? bytes.size() - 2000 : 0;
    for (size_t n = 1; n < bytes.size(); n += n < tail ? 13 : 1) {
        CAPTURE(n);
        testing::writeBytes(path, bytes.substr(0, n));
        CHECK_THROWS_AS(rt::loadModel(path), rt::ModelError);
    }
}

TEST_CASE("random bytes are rejected cleanly") {
    ScratchDir dir;
    std::mt19937 rng(7);
    std::string path = dir.file("noise.onnx");
    for (int trial = 0; trial < 200; ++trial) {
        std::string bytes(1 + rng() % 3000, '\0');
        for (char& c : bytes) c = static_cast<char>(rng());
        testing::writeBytes(path, bytes);
        CHECK_THROWS_AS(rt::loadModel(path), rt::ModelError);
    }
}

TEST_CASE("flipped bytes inside a model never crash the reader") {
    ScratchDir dir;
    std::string good = goodModelBytes(dir);
    std::mt19937 rng(11);
    std::string path = dir.file("flipped.onnx");
    for (int trial = 0; trial < 300; ++trial) {
        std::string bytes = good;
        for (int k = 0; k < 4; ++k)
            bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);
        testing::writeBytes(path, bytes);
        // Either a clean error or a model that passed every consistency check.
        try {
            rt::loadModel(path);
        } catch (const rt::ModelError&) {
        }
    }
}

TEST_CASE("a valid ONNX model not written by raspc is a foreign model") {
    ScratchDir dir;
    onnx::ModelProto p;
    p.set_ir_version(8);
    p.set_producer_name("elsewhere");
    p.add_opset_import()->set_version(17);
    onnx::GraphProto* g = p.mutable_graph();
    g->set_name("identity");
    onnx::NodeProto* n = g->add_node();
    n->set_op_type("Identity");
    const std::string x = "x", y = "y";  // string literals here trip a false g++ -Wrestrict
    n->add_input(x);
    n->add_output(y);
    auto declare = [](onnx::ValueInfoProto* v, const char* name) {
        v->set_name(name);
        auto* t = v->mutable_type()->mutable_tensor_type();
        t->set_elem_type(onnx::TensorProto::FLOAT);
        t->mutable_shape()->add_dim()->set_dim_value(3);
    };
    declare(g->add_input(), "x");
    declare(g->add_output(), "y");
    CHECK(loadError(dir, p).find("foreign model: no raspc metadata (producer: elsewhere)") !=
          std::string::npos);
}

TEST_CASE("raspc metadata with missing or misshapen weights is inconsistent") {
    ScratchDir dir;
    onnx::ModelProto good;
    REQUIRE(good.ParseFromString(goodModelBytes(dir)));

    SUBCASE("a missing head weight") {
        onnx::ModelProto p = good;
        auto* inits = p.mutable_graph()->mutable_initializer();
        for (int i = 0; i < inits->size(); ++i)
            if (inits->Get(i).name() == "layer0.head1.wv") inits->DeleteSubrange(i, 1);
        CHECK(loadError(dir, p).find("missing weight 'layer0.head1.wv'") != std::string::npos);
    }
    SUBCASE("a readout of the wrong width") {
        onnx::ModelProto p = good;
        for (auto& t : *p.mutable_graph()->mutable_initializer())
            if (t.name() == "output.prev.readout") {
                t.set_dims(1, t.dims(1) - 1);
                t.mutable_raw_data()->resize(t.dims(0) * t.dims(1) * sizeof(float));
            }
        CHECK(loadError(dir, p).find("output 'prev': readout is") != std::string::npos);
    }
    SUBCASE("a shape that disagrees with the stored data") {
        onnx::ModelProto p = good;
        for (auto& t : *p.mutable_graph()->mutable_initializer())
            if (t.name() == "token_embedding") t.set_dims(0, 1'000'000'000);
        CHECK(loadError(dir, p).find("wrong number of values") != std::string::npos);
    }
    SUBCASE("a vocabulary that is not a JSON list") {
        onnx::ModelProto p = good;
        for (auto& e : *p.mutable_metadata_props())
            if (e.key() == "raspc.vocab") e.set_value("[\"a\", 3");
        CHECK(loadError(dir, p).find("'raspc.vocab' is not JSON") != std::string::npos);
    }
    SUBCASE("a vocabulary of another size than the embedding") {
        onnx::ModelProto p = good;
        for (auto& e : *p.mutable_metadata_props())
            if (e.key() == "raspc.vocab") e.set_value(R"(["a","b"])");
        CHECK(loadError(dir, p).find("token embedding is 4 x") != std::string::npos);
    }
    SUBCASE("a missing output key") {
        onnx::ModelProto p = good;
        auto* props = p.mutable_metadata_props();
        for (int i = 0; i < props->size(); ++i)
            if (props->Get(i).key() == "raspc.output.frac.numbers") props->DeleteSubrange(i, 1);
        CHECK(loadError(dir, p).find("lacks the key 'raspc.output.frac.numbers'") !=
              std::string::npos);
    }
    SUBCASE("head masks that name no head or no mask") {
        for (const char* bad : {R"([[0,5,"<"]])", R"([[0,0,"=="]])", R"([[0,0]])", R"({"a":1})"}) {
            CAPTURE(bad);
            onnx::ModelProto p = good;
            auto* e = p.add_metadata_props();
            e->set_key("raspc.head_masks");
            e->set_value(bad);
            CHECK(loadError(dir, p).find("'raspc.head_masks' is not") != std::string::npos);
        }
    }
}
