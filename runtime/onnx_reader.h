// Reads a raspc ONNX file back into a Model.
#pragma once

#include <string>

#include "runtime/errors.h"
#include "runtime/model.h"

namespace raspc::rt {

/// Loads the model written by raspc at `path`: its weights from the named initializers (see
/// onnx_format.h) and everything else from the metadata. It does not interpret the graph, so
/// it accepts only files raspc wrote. Throws ModelError, with the path and the reason, when
/// the file is missing or unreadable, is not ONNX, has no raspc metadata (a foreign model), or
/// has weights that are missing or disagree in shape with the metadata.
/// An MLP-less layer reads back with w1 of shape width x 0 and w2 of shape 0 x width.
Model loadModel(const std::string& path);

}  // namespace raspc::rt
