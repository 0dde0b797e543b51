// Scratch directories, file helpers and a field-by-field Model comparison for the tests.
#include "test_util.h"

#include <unistd.h>
#include <atomic>
#include <cstring>
#include <fstream>
#include <sstream>

namespace raspc::testing {

ScratchDir::ScratchDir() {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("raspc_rt_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);
}

ScratchDir::~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

void writeBytes(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string readBytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

namespace {

std::string matrixDifference(const rt::Matrix& a, const rt::Matrix& b, const std::string& what) {
    // An absent matrix (no position powers, say) reads back as 0 x width: the same nothing.
    if (a.rows == 0 && b.rows == 0 && a.data.empty() && b.data.empty()) return "";
    if (a.rows != b.rows || a.cols != b.cols)
        return what + ": shape " + std::to_string(a.rows) + "x" + std::to_string(a.cols) + " vs " +
               std::to_string(b.rows) + "x" + std::to_string(b.cols);
    if (a.data.size() != b.data.size() ||
        std::memcmp(a.data.data(), b.data.data(), a.data.size() * sizeof(double)) != 0)
        return what + ": values differ";
    return "";
}

}  // namespace

std::string modelDifference(const rt::Model& a, const rt::Model& b) {
    if (a.vocab != b.vocab) return "vocab";
    if (a.tokenType != b.tokenType) return "tokenType";
    if (a.maxLen != b.maxLen) return "maxLen";
    if (a.width != b.width) return "width";
    if (a.version != b.version) return "version";
    if (a.source != b.source) return "source";
    if (a.floatType != b.floatType) return "floatType";
    if (a.causal != b.causal) return "causal";
    if (auto d = matrixDifference(a.tokenEmbedding, b.tokenEmbedding, "token embedding");
        !d.empty())
        return d;
    if (auto d = matrixDifference(a.positionEmbedding, b.positionEmbedding, "position embedding");
        !d.empty())
        return d;
    if (auto d = matrixDifference(a.positionPowers, b.positionPowers, "position powers");
        !d.empty())
        return d;
    if (a.layers.size() != b.layers.size()) return "layer count";
    for (size_t l = 0; l < a.layers.size(); ++l) {
        const rt::Layer& la = a.layers[l];
        const rt::Layer& lb = b.layers[l];
        std::string at = "layer " + std::to_string(l);
        if (la.heads.size() != lb.heads.size()) return at + ": head count";
        for (size_t h = 0; h < la.heads.size(); ++h) {
            const rt::Head& ha = la.heads[h];
            const rt::Head& hb = lb.heads[h];
            std::string ah = at + " head " + std::to_string(h);
            if (ha.label != hb.label) return ah + ": label";
            if (ha.hard != hb.hard) return ah + ": hard";
            if (ha.mask != hb.mask) return ah + ": mask";
            for (auto d : {matrixDifference(ha.wq, hb.wq, ah + " wq"),
                           matrixDifference(ha.wk, hb.wk, ah + " wk"),
                           matrixDifference(ha.wv, hb.wv, ah + " wv"),
                           matrixDifference(ha.wo, hb.wo, ah + " wo")})
                if (!d.empty()) return d;
        }
        if (la.mlp.labels != lb.mlp.labels) return at + ": mlp labels";
        if (auto d = matrixDifference(la.mlp.w1, lb.mlp.w1, at + " w1"); !d.empty()) return d;
        if (auto d = matrixDifference(la.mlp.w2, lb.mlp.w2, at + " w2"); !d.empty()) return d;
    }
    if (a.outputs.size() != b.outputs.size()) return "output count";
    for (size_t o = 0; o < a.outputs.size(); ++o) {
        const rt::Output& oa = a.outputs[o];
        const rt::Output& ob = b.outputs[o];
        std::string at = "output " + oa.name;
        if (oa.name != ob.name) return at + ": name";
        if (oa.kind != ob.kind) return at + ": kind";
        if (oa.valueType != ob.valueType) return at + ": valueType";
        if (oa.table != ob.table) return at + ": table";
        if (oa.numbers != ob.numbers) return at + ": numbers";
        if (oa.tolerance != ob.tolerance) return at + ": tolerance";
        if (auto d = matrixDifference(oa.readout, ob.readout, at + " readout"); !d.empty())
            return d;
    }
    return "";
}

}  // namespace raspc::testing
