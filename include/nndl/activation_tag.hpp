#pragma once
// The Activation tag: an activation function named at run time (network constructors,
// model files, ONNX), apart from the policies that compute it (layers/activations.hpp),
// so the layer contract and the loaders need only the names.

#include <string>
#include <string_view>

#include "errors.hpp"

namespace nndl {

/// An activation function by tag, for run-time choice and model files.
enum class Activation {
    identity,    ///< f(z) = z
    sigmoid,     ///< f(z) = 1 / (1 + exp(-z))
    tanh,        ///< f(z) = tanh(z)
    relu,        ///< f(z) = max(z, 0)
    leaky_relu,  ///< f(z) = z for z > 0, else 0.01 z
    softmax      ///< per column: exp(z_i - max) / sum_k exp(z_k - max)
};

/// The slope of leaky_relu's negative side: f(z) = leaky_relu_slope * z for z <= 0.
inline constexpr double leaky_relu_slope = 0.01;

/// The tag's name as model files store it ("identity", "leaky_relu", ...); "unknown" for
/// a value outside the enumeration.
inline std::string_view to_string(Activation a) {
    switch (a) {
        case Activation::identity: return "identity";
        case Activation::sigmoid: return "sigmoid";
        case Activation::tanh: return "tanh";
        case Activation::relu: return "relu";
        case Activation::leaky_relu: return "leaky_relu";
        case Activation::softmax: return "softmax";
    }
    return "unknown";
}

/// The tag of a name to_string gives (exact, lower case). Throws InvalidArgument for any
/// other name.
inline Activation activation_from_string(std::string_view name) {
    for (Activation a : {Activation::identity, Activation::sigmoid, Activation::tanh, Activation::relu,
                         Activation::leaky_relu, Activation::softmax}) {
        if (to_string(a) == name) {
            return a;
        }
    }
    detail::throw_invalid("activation_from_string: unknown activation '", name,
                          "', expected identity, sigmoid, tanh, relu, leaky_relu or softmax");
}

}  // namespace nndl
