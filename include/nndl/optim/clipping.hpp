#pragma once
// Gradient clipping: what keeps one exploding step of backpropagation through time from
// throwing a recurrent network's weights away. Two kinds, used alone or together:
// - by value (the course's clip): every gradient entry is cut to [-limit, limit];
// - by global norm (TensorFlow's clip_by_global_norm): when the norm of all gradients
//   together, as one vector, passes the limit, every gradient is scaled by
//   limit / norm, so the step keeps its direction.
// A Network applies them between backward and the optimizer (Network::set_gradient_clipping);
// the functions below serve a user's own training loop.

#include <cmath>
#include <vector>

#include "../errors.hpp"
#include "../layer.hpp"

namespace nndl {

/// What a network's training clips; 0 turns a kind off. When both are on, values are cut
/// first, then the global norm is taken.
struct GradientClipping {
    double value = 0.0;        ///< cut every gradient entry to [-value, value]
    double global_norm = 0.0;  ///< scale all gradients together to at most this norm
};

namespace detail {
inline void require_clip_limit(const char* where, double limit) {
    if (!(limit > 0.0) || !std::isfinite(limit)) {
        throw_invalid(where, ": the limit is ", limit, ", expected a finite number > 0");
    }
}
}  // namespace detail

/// Cuts every entry of every gradient to [-limit, limit], as NumPy's np.clip(g, -limit,
/// limit, out=g) (a NaN stays NaN). Throws InvalidArgument unless limit is a finite number > 0.
template <class Scalar>
void clip_gradients_by_value(const std::vector<Parameter<Scalar>>& parameters, double limit) {
    detail::require_clip_limit("clip_gradients_by_value", limit);
    const auto high = static_cast<Scalar>(limit);
    for (const auto& p : parameters) {
        *p.gradient = p.gradient->unaryExpr([high](Scalar g) { return g > high ? high : (g < -high ? -high : g); });
    }
}

/// The norm of all gradients together, as one vector (the square root of the sum of all
/// their squared entries), accumulated in double.
template <class Scalar>
double global_gradient_norm(const std::vector<Parameter<Scalar>>& parameters) {
    double sum = 0.0;
    for (const auto& p : parameters) {
        sum += p.gradient->template cast<double>().squaredNorm();
    }
    return std::sqrt(sum);
}

/// Scales every gradient by limit / norm when the global norm (global_gradient_norm) is
/// above `limit`, so it becomes `limit`; leaves them as they are otherwise (a norm that
/// is not finite included: the loss shows that). Returns the norm before clipping. Throws
/// InvalidArgument unless limit is a finite number > 0.
template <class Scalar>
double clip_gradients_by_global_norm(const std::vector<Parameter<Scalar>>& parameters, double limit) {
    detail::require_clip_limit("clip_gradients_by_global_norm", limit);
    const double norm = global_gradient_norm(parameters);
    if (std::isfinite(norm) && norm > limit) {
        const auto scale = static_cast<Scalar>(limit / norm);
        for (const auto& p : parameters) {
            *p.gradient *= scale;
        }
    }
    return norm;
}

/// Applies `clipping` (value first, then the global norm) to the gradients; a kind set
/// to 0 is skipped. Throws InvalidArgument for a negative or non-finite setting.
template <class Scalar>
void clip_gradients(const std::vector<Parameter<Scalar>>& parameters, const GradientClipping& clipping) {
    if (clipping.value != 0.0) {
        clip_gradients_by_value(parameters, clipping.value);
    }
    if (clipping.global_norm != 0.0) {
        clip_gradients_by_global_norm(parameters, clipping.global_norm);
    }
}

}  // namespace nndl
