// Serialises a Model as an ONNX file that onnxruntime (or any ONNX runtime) can execute.
#pragma once

#include <string>

#include "runtime/model.h"

namespace raspc {

/// Writes `m` to `path` as an ONNX model (opset 17, IR version 8) with input `tokens` (int64
/// [batch, seq], BOS prepended inside the graph) and one output per Model output, named as
/// it: int64 ids into its table (categorical) or numbers in the model's float type (numerical),
/// [batch, seq]. A float64 model computes in double throughout.
/// Weights and metadata follow runtime/onnx_format.h, so loadModel reads the file back.
/// The model is checked (strict shape inference, then the ONNX checker) before anything is
/// written, and the file appears whole or not at all.
/// Throws InternalError when `m` is inconsistent or fails the checks (a compiler bug), and
/// UserError naming the path when the file cannot be written.
void writeOnnx(const rt::Model& m, const std::string& path);

}  // namespace raspc
