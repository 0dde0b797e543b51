// What a compiled model holds, for people and scripts: `raspc inspect` and `compile --emit`.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "backend/lower.h"
#include "cli/driver.h"
#include "runtime/model.h"

namespace raspc::cli {

/// The parts of a CompileReport that the Model's weights do not show (where each s-op lives,
/// how wide each MLP block is), as the JSON text stored in Model::reportJson and in the ONNX
/// metadata. Inspecting a program and inspecting its compiled file then read the same data.
std::string encodeReport(const CompileReport& report);

/// Compiles a loaded program, fills `report`, and records it in the Model (reportJson), as
/// `raspc compile` writes it and `raspc inspect` shows it.
rt::Model compileProgram(const Program& p, CompileReport& report);

/// A model as text for a terminal: sizes, per layer its heads and MLP blocks, and the slot
/// map of the residual stream. Uses Model::reportJson when present; without it (a file from an
/// older raspc) the slot map shows only what the embedding tables reveal.
/// Throws rt::ModelError when reportJson is not what encodeReport writes.
std::string inspectText(const rt::Model& m);

/// The same as inspectText, as one JSON object.
nlohmann::json inspectJson(const rt::Model& m);

/// The schedule: per layer and sublayer the heads and MLP blocks, and the s-ops each writes.
std::string scheduleText(const rt::Model& m);

}  // namespace raspc::cli
