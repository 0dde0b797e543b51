// The runtime's error types: a bad model file, a bad input, an output that does not decode.
#pragma once

#include <stdexcept>

namespace raspc::rt {

/// The model file is missing, unreadable, not ONNX, not written by raspc, or inconsistent.
class ModelError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// An input the model cannot take: an unknown token, too long, or empty.
class InputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// A numerical output that lies farther than its tolerance from every value of its table:
/// the model computed something the compiler did not plan for.
class DecodeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace raspc::rt
