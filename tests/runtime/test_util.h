// Helpers shared by the runtime tests: scratch files and Model comparison.
#pragma once

#include <filesystem>
#include <string>

#include "runtime/model.h"

namespace raspc::testing {

/// A fresh directory under the system's temporary directory, removed when destroyed.
class ScratchDir {
public:
    ScratchDir();
    ~ScratchDir();
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;

    /// The path of `name` inside the directory.
    std::string file(const std::string& name) const { return (dir_ / name).string(); }

private:
    std::filesystem::path dir_;
};

/// Writes `bytes` to `path` as they are.
void writeBytes(const std::string& path, const std::string& bytes);
/// The bytes of the file at `path`.
std::string readBytes(const std::string& path);

/// Describes the first difference between two Models ("" when they are equal), comparing
/// every field and every weight bit for bit.
std::string modelDifference(const rt::Model& a, const rt::Model& b);

}  // namespace raspc::testing
