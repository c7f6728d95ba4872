#pragma once
// Weight initialisation driven by NumpyRandom, so a network starts exactly where
// the course's NumPy code starts: W = randn(n_out, n_in) * scale (or / sqrt(n_in)).
// Biases always start at zero.

#include <cmath>
#include <string>
#include <string_view>

#include "errors.hpp"
#include "random.hpp"
#include "types.hpp"

namespace nndl {

/// The distribution a layer's first weights are drawn from (biases start at zero).
enum class Init {
    zeros,          ///< all zero (the course's logistic regression)
    scaled_normal,  ///< randn * scale, scale 0.01 by default (the course's shallow networks)
    inv_sqrt_fan_in,  ///< randn / sqrt(n_in) (the course's deep network)
    he,             ///< randn * sqrt(2 / n_in), for ReLU layers
    xavier,         ///< randn * sqrt(2 / (n_in + n_out)) (Glorot normal), for tanh/sigmoid layers
};

/// How to draw a layer's first weights: an Init kind and, for Init::scaled_normal, its
/// scale. A plain Init converts to one, so Init::he may be passed where an Initializer is
/// expected.
struct Initializer {
    /// An initializer of `kind` (scale used by Init::scaled_normal only).
    Initializer(Init kind_ = Init::inv_sqrt_fan_in, double scale_ = 0.01)  // NOLINT: implicit on purpose
        : kind(kind_), scale(scale_) {}
    Init kind = Init::inv_sqrt_fan_in;  ///< the distribution
    double scale = 0.01;  ///< used by Init::scaled_normal only
};

/// The initializer's name in snake case ("he", "scaled_normal").
inline std::string_view to_string(Init init) {
    switch (init) {
        case Init::zeros: return "zeros";
        case Init::scaled_normal: return "scaled_normal";
        case Init::inv_sqrt_fan_in: return "inv_sqrt_fan_in";
        case Init::he: return "he";
        case Init::xavier: return "xavier";
    }
    return "unknown";
}

/// A freshly drawn n_out x n_in weight matrix. The draws are made in double, in
/// NumPy's row-major order, and the arithmetic matches NumPy's expression, then the
/// result is rounded to Scalar.
template <class Scalar>
Matrix<Scalar> initial_weights(Index output_size, Index input_size, Initializer init, NumpyRandom& random) {
    if (output_size <= 0 || input_size <= 0) {
        detail::throw_invalid("initial_weights: size ", output_size, "x", input_size,
                              ", expected at least 1x1");
    }
    if (init.kind == Init::zeros) {
        return Matrix<Scalar>::Zero(output_size, input_size);
    }
    Matrix<double> w = random.randn(output_size, input_size);
    const auto n_in = static_cast<double>(input_size);
    const auto n_out = static_cast<double>(output_size);
    switch (init.kind) {
        case Init::scaled_normal: w *= init.scale; break;
        case Init::inv_sqrt_fan_in: w /= std::sqrt(n_in); break;
        case Init::he: w *= std::sqrt(2.0 / n_in); break;
        case Init::xavier: w *= std::sqrt(2.0 / (n_in + n_out)); break;
        case Init::zeros: break;
    }
    return w.cast<Scalar>();
}

}  // namespace nndl
