// The ONNX writer and reader: a written model passes ONNX's checker and reads back unchanged.
#include <doctest/doctest.h>

#include <filesystem>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include "backend/onnx_writer.h"
#include "bench/toy_models.h"
#include "lookup_model.h"
#include "runtime/onnx_format.h"
#include "runtime/onnx_reader.h"
#include "support/diagnostics.h"
#include "test_util.h"

using namespace raspc;
using testing::ScratchDir;

namespace {

onnx::ModelProto readProto(const std::string& path) {
    onnx::ModelProto p;
    REQUIRE(p.ParseFromString(testing::readBytes(path)));
    return p;
}

std::string metadata(const onnx::ModelProto& p, const std::string& key) {
    for (const auto& e : p.metadata_props())
        if (e.key() == key) return e.value();
    return "<missing>";
}

}  // namespace

TEST_CASE("round trip: identity, shift and dense models read back equal") {
    ScratchDir dir;
    std::vector<rt::Model> models = {
        toy::identityModel({"a", "b", "c"}, 5),
        toy::shiftModel({"x", "y", "\"quoted\"", "ü"}, 7),
        toy::denseModel(5, 6, 16, 2, 3, 4, 10, 42),
    };
    for (size_t i = 0; i < models.size(); ++i) {
        CAPTURE(i);
        std::string path = dir.file(std::to_string(i) + ".onnx");
        writeOnnx(models[i], path);
        rt::Model back = rt::loadModel(path);
        CHECK(testing::modelDifference(models[i], back) == "");
    }
}

TEST_CASE("round trip: float64 and float32 models with hard heads and position powers") {
    ScratchDir dir;
    for (const char* type : {"float64", "float32"}) {
        CAPTURE(type);
        rt::Model m = testing::lookupModel(6, 50, type, true, 9);
        // Weights float32 cannot hold, which only a float64 file keeps.
        if (std::string(type) == "float64") m.layers[0].heads[3].wq.at(4, 0) = 0.1;
        std::string path = dir.file(std::string(type) + ".onnx");
        writeOnnx(m, path);
        rt::Model back = rt::loadModel(path);
        CHECK(testing::modelDifference(m, back) == "");
        CHECK(back.layers[0].heads[0].hard);
        CHECK_FALSE(back.layers[0].heads[2].hard);
        CHECK(back.positionEmbedding.rows == 0);

        onnx::ModelProto p = readProto(path);
        CHECK_NOTHROW(onnx::checker::check_model(p));
        const int want =
            std::string(type) == "float64" ? onnx::TensorProto::DOUBLE : onnx::TensorProto::FLOAT;
        for (const auto& t : p.graph().initializer()) {
            if (t.data_type() != onnx::TensorProto::INT64) CHECK(t.data_type() == want);
            CHECK(t.name() != "position_embedding");
        }
        CHECK(p.graph().output(1).type().tensor_type().elem_type() == want);
        CHECK(metadata(p, "raspc.float_type") == type);
        CHECK(metadata(p, "raspc.hard_heads") == "[[0,0],[0,1],[1,1]]");
    }
}

TEST_CASE("round trip: head masks, and files without them") {
    ScratchDir dir;
    using M = rt::HeadMask;
    for (bool causal : {false, true}) {
        CAPTURE(causal);
        rt::Model m = testing::lookupModel(6, 50, "float32", true, 9);
        m.causal = causal;
        m.layers[0].heads[0].mask = M::KeyAtMost;
        m.layers[0].heads[1].mask = M::KeyBefore;
        m.layers[0].heads[3].mask = M::KeyAtLeast;
        m.layers[1].heads[0].mask = M::KeyAfter;
        std::string path = dir.file("masked.onnx");
        writeOnnx(m, path);
        rt::Model back = rt::loadModel(path);
        CHECK(testing::modelDifference(m, back) == "");
        CHECK(back.layers[0].heads[2].mask == M::None);

        onnx::ModelProto p = readProto(path);
        CHECK_NOTHROW(onnx::checker::check_model(p));
        CHECK(metadata(p, "raspc.head_masks") == R"([[0,0,"<="],[0,1,"<"],[0,3,">="],[1,0,">"]])");
        // Every masked head adds a bias to its scores; so does every head of a causal model.
        int biased = 0;
        for (const auto& node : p.graph().node())
            if (node.name().ends_with(".masked_scores")) ++biased;
        CHECK(biased == (causal ? 6 : 4));
    }

    // A file without the key (as before masks existed) reads as unmasked.
    rt::Model plain = testing::lookupModel(6, 50, "float32", true, 9);
    writeOnnx(plain, dir.file("plain.onnx"));
    CHECK(metadata(readProto(dir.file("plain.onnx")), "raspc.head_masks") == "<missing>");
    for (const rt::Layer& l : rt::loadModel(dir.file("plain.onnx")).layers)
        for (const rt::Head& h : l.heads) CHECK(h.mask == M::None);
}

TEST_CASE("a float32 model must hold float32 values, and a hard head 2-D keys") {
    ScratchDir dir;
    rt::Model m = testing::lookupModel(6, 50, "float32", false, 9);
    m.layers[0].heads[0].wq.at(4, 0) = 0.1;
    CHECK_THROWS_WITH_AS(writeOnnx(m, dir.file("a.onnx")),
                         doctest::Contains("which float32 cannot represent"), InternalError);
    rt::Model wide = testing::lookupModel(6, 50, "float32", false, 9);
    wide.layers[0].heads[2].hard = true;  // the mean head has 1-D keys
    CHECK_THROWS_WITH_AS(writeOnnx(wide, dir.file("b.onnx")),
                         doctest::Contains("a hard head needs 2-dimensional keys"), InternalError);
}

TEST_CASE("written files follow the ONNX form of DESIGN.md") {
    ScratchDir dir;
    std::string path = dir.file("shift.onnx");
    rt::Model m = toy::shiftModel({"a", "b"}, 4);
    writeOnnx(m, path);
    onnx::ModelProto p = readProto(path);
    CHECK_NOTHROW(onnx::checker::check_model(p));
    CHECK(p.ir_version() == 8);
    CHECK(p.opset_import(0).version() == 17);
    CHECK(p.producer_name() == "raspc");
    REQUIRE(p.graph().input_size() == 1);
    CHECK(p.graph().input(0).name() == "tokens");
    CHECK(p.graph().input(0).type().tensor_type().elem_type() == onnx::TensorProto::INT64);
    REQUIRE(p.graph().output_size() == 3);
    CHECK(p.graph().output(0).name() == "prev");
    CHECK(p.graph().output(0).type().tensor_type().elem_type() == onnx::TensorProto::INT64);
    CHECK(p.graph().output(1).name() == "frac");
    CHECK(p.graph().output(1).type().tensor_type().elem_type() == onnx::TensorProto::FLOAT);
    CHECK(metadata(p, "raspc.vocab") == R"(["a","b"])");
    CHECK(metadata(p, "raspc.max_len") == "4");
    CHECK(metadata(p, "raspc.layer_layout") == "L0: 2 heads; L1: MLP 3");
    CHECK(metadata(p, "raspc.output.prev.table") == R"(["a","b","-"])");
    CHECK(metadata(p, "raspc.output.frac.kind") == "numerical");
}

TEST_CASE("the writer rejects an inconsistent model as a compiler bug") {
    ScratchDir dir;
    rt::Model m = toy::shiftModel({"a", "b"}, 4);
    m.layers[0].heads[0].wo = rt::Matrix(2, m.width);  // should be 3 rows (dv)
    std::string path = dir.file("bad.onnx");
    CHECK_THROWS_WITH_AS(writeOnnx(m, path), doctest::Contains("layer 0 head 0: wo is 2 x"),
                         InternalError);
    CHECK_FALSE(std::filesystem::exists(path));

    rt::Model named = toy::identityModel({"a"}, 2);
    named.outputs[0].name = "tokens";
    CHECK_THROWS_AS(writeOnnx(named, path), InternalError);
}

TEST_CASE("a write error is a user error naming the path, and leaves no file") {
    ScratchDir dir;
    std::string path = dir.file("no_such_dir/model.onnx");
    CHECK_THROWS_WITH_AS(writeOnnx(toy::identityModel({"a"}, 2), path),
                         doctest::Contains(path.c_str()), UserError);
    CHECK(std::filesystem::is_empty(dir.file("")));
}

TEST_CASE("an existing file is replaced whole") {
    ScratchDir dir;
    std::string path = dir.file("m.onnx");
    testing::writeBytes(path, "old contents");
    writeOnnx(toy::identityModel({"a", "b"}, 3), path);
    CHECK(rt::loadModel(path).vocab == std::vector<std::string>{"a", "b"});
    // Only the model is left: no temporary beside it.
    int files = 0;
    for (auto& e : std::filesystem::directory_iterator(dir.file(""))) files += e.exists();
    CHECK(files == 1);
}
