#pragma once
// Gradient checking by central differences, for layers, losses and whole networks
// (your own layers included). Nothing is printed: each check returns a
// GradientCheckResult, e.g.
//
//   auto result = nndl::check_layer_gradients(my_layer, input);
//   if (!result.passed(1e-7)) std::cerr << result.summary() << '\n';

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "errors.hpp"
#include "layer.hpp"
#include "layers/activations.hpp"
#include "losses.hpp"
#include "network.hpp"
#include "random.hpp"
#include "types.hpp"

namespace nndl {

/// Settings of the gradient checks below.
struct GradientCheckOptions {
    /// Central-difference step; 0 picks one for the scalar type (1e-6 for double, 1e-3 for float).
    double step = 0.0;
    /// Also check the gradient with respect to the input (layers, networks).
    bool check_input = true;
    /// Mode of the forward passes (use evaluation, or a fixed mask, for random layers).
    Mode mode = Mode::training;
    /// Seed of the random projection that turns a layer's output into a scalar.
    std::uint32_t seed = 1;
};

/// What a gradient check found: the worst matrix and the worst entry; passed() decides.
struct GradientCheckResult {
    /// Largest over the checked matrices of ||analytic - numeric|| / (||analytic|| + ||numeric||).
    double max_relative_error = 0.0;
    /// The matrix where that happened ("W of layer 1", "input", ...).
    std::string where;
    /// Worst single entry over all matrices: |a - n| / max(1, |a|, |n|).
    double max_entry_error = 0.0;
    std::string worst_entry_matrix;  ///< the matrix holding that entry
    Index worst_row = 0;             ///< the entry's row
    Index worst_col = 0;             ///< the entry's column
    double worst_analytic = 0.0;     ///< the entry's gradient from backward
    double worst_numeric = 0.0;      ///< the entry's central difference
    std::size_t entries_checked = 0;  ///< entries compared, over all matrices

    /// True when some entry was checked and both errors are at most `tolerance`. A NaN
    /// gradient counts as an infinite error, so it never passes.
    bool passed(double tolerance) const {
        return entries_checked > 0 && max_relative_error <= tolerance && max_entry_error <= tolerance;
    }

    /// Both errors and where they were found, on one line (for messages and logs).
    std::string summary() const {
        std::ostringstream out;
        out << "relative error " << max_relative_error << " in " << (where.empty() ? "-" : where)
            << "; worst entry " << worst_entry_matrix << "(" << worst_row << ", " << worst_col
            << "): analytic " << worst_analytic << ", numeric " << worst_numeric << " (" << entries_checked
            << " entries)";
        return out.str();
    }
};

namespace detail {

/// Makes the layer or network forget the checker's batch however the check ends.
template <class Owner>
class ReleaseBatchOnExit {
public:
    explicit ReleaseBatchOnExit(Owner& owner) : owner_(owner) {}
    ~ReleaseBatchOnExit() { owner_.release_batch(); }
    ReleaseBatchOnExit(const ReleaseBatchOnExit&) = delete;
    ReleaseBatchOnExit& operator=(const ReleaseBatchOnExit&) = delete;

private:
    Owner& owner_;
};

/// Puts back a layer's or network's non-trained state (running statistics) when the check ends.
template <class Owner, class Scalar>
class RestoreState {
public:
    explicit RestoreState(Owner& owner) : owner_(owner) {
        for (const auto& s : owner.state()) {
            saved_.push_back(*s.value);
        }
    }
    ~RestoreState() {
        const auto buffers = owner_.state();
        for (std::size_t i = 0; i < buffers.size() && i < saved_.size(); ++i) {
            *buffers[i].value = saved_[i];
        }
    }
    RestoreState(const RestoreState&) = delete;
    RestoreState& operator=(const RestoreState&) = delete;

private:
    Owner& owner_;
    std::vector<Matrix<Scalar>> saved_;
};

template <class Scalar>
double default_step(double step) {
    if (step > 0.0) {
        return step;
    }
    return std::is_same_v<Scalar, float> ? 1e-3 : 1e-6;
}

/// d f / d variable by central differences; `variable` is restored afterwards.
template <class Scalar>
Matrix<double> numeric_gradient(Matrix<Scalar>& variable, const std::function<double()>& f, double step) {
    Matrix<double> gradient(variable.rows(), variable.cols());
    for (Index j = 0; j < variable.cols(); ++j) {
        for (Index i = 0; i < variable.rows(); ++i) {
            const Scalar saved = variable(i, j);
            variable(i, j) = static_cast<Scalar>(saved + step);
            const double plus = f();
            variable(i, j) = static_cast<Scalar>(saved - step);
            const double minus = f();
            variable(i, j) = saved;
            gradient(i, j) = (plus - minus) / (2.0 * step);
        }
    }
    return gradient;
}

/// The rounding error of one central difference of f, whose value is about `size`: f is
/// computed to about epsilon * size, and the difference divides by the step (x10 margin).
template <class Scalar>
double rounding_noise(double step, double size) {
    return 10.0 * static_cast<double>(std::numeric_limits<Scalar>::epsilon()) * std::max(1.0, size) / step;
}

/// Adds one matrix's comparison to `result`. When both gradients are within the central
/// differences' rounding noise (`noise` per entry) the matrix counts as agreeing: a gradient
/// that is zero up to rounding (a bias before batch norm) would otherwise show a relative
/// error of 1. Above the noise, the plain relative error counts, so a gradient that is
/// missing or scaled still shows.
inline void compare_gradients(const std::string& name, const Matrix<double>& analytic, const Matrix<double>& numeric,
                              double noise, GradientCheckResult& result) {
    require_same_shape("check_gradients", "analytic gradient", analytic, "numeric gradient", numeric);
    const double denominator = analytic.norm() + numeric.norm();
    const bool both_noise = denominator <= noise * std::sqrt(static_cast<double>(analytic.size()));
    double relative = denominator == 0.0 || both_noise ? 0.0 : (analytic - numeric).norm() / denominator;
    if (std::isnan(relative)) {
        relative = std::numeric_limits<double>::infinity();
    }
    if (relative > result.max_relative_error || result.where.empty()) {
        result.max_relative_error = std::max(relative, result.max_relative_error);
        result.where = name;
    }
    for (Index j = 0; j < analytic.cols(); ++j) {
        for (Index i = 0; i < analytic.rows(); ++i) {
            const double a = analytic(i, j);
            const double n = numeric(i, j);
            double error = std::abs(a - n) / std::max({1.0, std::abs(a), std::abs(n)});
            if (std::isnan(error)) {
                error = std::numeric_limits<double>::infinity();
            }
            if (error > result.max_entry_error || result.worst_entry_matrix.empty()) {
                result.max_entry_error = std::max(error, result.max_entry_error);
                result.worst_entry_matrix = name;
                result.worst_row = i;
                result.worst_col = j;
                result.worst_analytic = a;
                result.worst_numeric = n;
            }
        }
    }
    result.entries_checked += static_cast<std::size_t>(analytic.size());
}

}  // namespace detail

/// Checks a layer's backward against central differences of
/// f(input) = sum(R .* layer.forward(input)), with R a fixed random matrix:
/// the gradient of every parameter, and of the input when options.check_input.
/// `input` has the layer's input_size() rows (else ShapeError). Forward passes run in
/// options.mode; each parameter entry is moved and put back, and the layer's state
/// (running statistics) is restored and its batch released when the check ends.
template <class Scalar>
GradientCheckResult check_layer_gradients(Layer<Scalar>& layer, const Matrix<Scalar>& input,
                                          const GradientCheckOptions& options = {}) {
    const double step = detail::default_step<Scalar>(options.step);
    Matrix<Scalar> x = input;
    NumpyRandom random(options.seed);
    const Matrix<Scalar> projection = random.randn<Scalar>(layer.output_size(), x.cols());
    const detail::ReleaseBatchOnExit<Layer<Scalar>> release(layer);  // x dies with this function
    const detail::RestoreState<Layer<Scalar>, Scalar> keep_state(layer);  // training passes move running statistics

    const double value =
        (layer.forward(x, options.mode).template cast<double>().array() * projection.template cast<double>().array())
            .sum();
    const double noise = detail::rounding_noise<Scalar>(step, std::abs(value));
    GradientCheckResult result;
    const Matrix<double> input_gradient = layer.backward(projection, options.check_input).template cast<double>();
    auto params = layer.parameters();
    std::vector<Matrix<double>> analytic;
    for (const auto& p : params) {
        analytic.push_back(p.gradient->template cast<double>());
    }

    const auto f = [&]() {
        return (layer.forward(x, options.mode).template cast<double>().array() *
                projection.template cast<double>().array())
            .sum();
    };
    for (std::size_t k = 0; k < params.size(); ++k) {
        detail::compare_gradients(params[k].name, analytic[k], detail::numeric_gradient(*params[k].value, f, step), noise,
                                  result);
    }
    if (options.check_input) {
        detail::compare_gradients("input", input_gradient, detail::numeric_gradient(x, f, step), noise, result);
    }
    return result;
}

/// Checks loss.gradient against central differences of loss.value with respect to the output.
/// Of the options only `step` is used.
template <class Scalar>
GradientCheckResult check_loss_gradient(const Loss<Scalar>& loss, const Matrix<Scalar>& output,
                                        const Matrix<Scalar>& target, const GradientCheckOptions& options = {}) {
    const double step = detail::default_step<Scalar>(options.step);
    Matrix<Scalar> a = output;
    Matrix<Scalar> gradient;
    loss.gradient(a, target, gradient);
    GradientCheckResult result;
    const auto f = [&]() { return static_cast<double>(loss.value(a, target)); };
    const double noise = detail::rounding_noise<Scalar>(step, std::abs(f()));
    detail::compare_gradients("output", gradient.template cast<double>(), detail::numeric_gradient(a, f, step), noise,
                              result);
    return result;
}

/// Checks a fused loss: preactivation_gradient against central differences of
/// value_from_preactivation, with the output computed by `Policy` from Z. Throws
/// InvalidArgument when the loss does not fuse with Policy's activation. Of the options
/// only `step` is used.
template <class Policy, class Scalar>
GradientCheckResult check_fused_loss_gradient(const Loss<Scalar>& loss, const Matrix<Scalar>& preactivation,
                                              const Matrix<Scalar>& target, const GradientCheckOptions& options = {}) {
    if (!loss.fuses_with(Policy::kind)) {
        detail::throw_invalid("check_fused_loss_gradient: ", loss.name(), " does not fuse with ",
                              to_string(Policy::kind));
    }
    const double step = detail::default_step<Scalar>(options.step);
    Matrix<Scalar> z = preactivation;
    Matrix<Scalar> a;
    Policy::forward(z, a);
    Matrix<Scalar> gradient;
    loss.preactivation_gradient(a, target, gradient);
    GradientCheckResult result;
    const auto f = [&]() { return static_cast<double>(loss.value_from_preactivation(z, target)); };
    const double noise = detail::rounding_noise<Scalar>(step, std::abs(f()));
    detail::compare_gradients("preactivation", gradient.template cast<double>(),
                              detail::numeric_gradient(z, f, step), noise, result);
    return result;
}

/// Checks a whole network: gradients of its cost on (X, Y) with respect to every
/// parameter, and to X when options.check_input. Y holds the targets, as for
/// Network::cost (the L2 term included). Matrices are named "W of layer 1" and so on,
/// layers counted from 1. State is restored and the batch released when the check ends.
template <class Scalar>
GradientCheckResult check_network_gradients(Network<Scalar>& network, const Matrix<Scalar>& x_in,
                                            const Matrix<Scalar>& y, const GradientCheckOptions& options = {}) {
    const double step = detail::default_step<Scalar>(options.step);
    Matrix<Scalar> x = x_in;
    GradientCheckResult result;
    const detail::ReleaseBatchOnExit<Network<Scalar>> release(network);  // x dies with this function
    const detail::RestoreState<Network<Scalar>, Scalar> keep_state(network);  // training passes move running statistics

    network.forward(x, options.mode);
    const Matrix<double> input_gradient = network.backward(y, options.check_input).template cast<double>();
    auto params = network.parameters();
    std::vector<Matrix<double>> analytic;
    for (const auto& p : params) {
        analytic.push_back(p.gradient->template cast<double>());
    }
    const auto f = [&]() {
        network.forward(x, options.mode);
        return static_cast<double>(network.cost(y));
    };
    const double noise = detail::rounding_noise<Scalar>(step, std::abs(f()));
    std::size_t layer_index = 0;
    std::size_t within = 0;
    for (std::size_t k = 0; k < params.size(); ++k) {
        while (within >= network.layer(layer_index).parameters().size()) {
            ++layer_index;
            within = 0;
        }
        ++within;
        detail::compare_gradients(params[k].name + " of layer " + std::to_string(layer_index + 1), analytic[k],
                                  detail::numeric_gradient(*params[k].value, f, step), noise, result);
    }
    if (options.check_input) {
        detail::compare_gradients("input", input_gradient, detail::numeric_gradient(x, f, step), noise, result);
    }
    return result;
}

/// The course's gradient check of a whole parameter vector ("Improving Deep Neural
/// Networks", week 1): a two-sided difference per entry, and one number for all of them.
struct VectorGradientCheck {
    Vector<double> approximation;  ///< gradapprox_i = (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps)
    double difference = 0.0;  ///< ||grad - gradapprox|| / (||grad|| + ||gradapprox||), 0 when both are 0, inf for NaN
};

/// Checks `gradient` = dJ/dtheta at `theta` the course's way; theta +- eps is formed
/// first, then J is evaluated on it. Throws InvalidArgument on mismatched sizes, an
/// epsilon that is not a positive finite number, or a cost that is not finite.
inline VectorGradientCheck check_vector_gradient(const std::function<double(const Vector<double>&)>& cost,
                                                 const Vector<double>& theta, const Vector<double>& gradient,
                                                 double epsilon = 1e-7) {
    if (gradient.size() != theta.size()) {
        detail::throw_invalid("check_vector_gradient: the gradient has ", gradient.size(), " entries, theta has ",
                              theta.size());
    }
    if (!(epsilon > 0.0) || !std::isfinite(epsilon)) {
        detail::throw_invalid("check_vector_gradient: epsilon ", epsilon, ", expected a positive finite number");
    }
    VectorGradientCheck check;
    check.approximation.resize(theta.size());
    Vector<double> shifted = theta;
    for (Index i = 0; i < theta.size(); ++i) {
        shifted(i) = theta(i) + epsilon;
        const double plus = cost(shifted);
        shifted(i) = theta(i) - epsilon;
        const double minus = cost(shifted);
        shifted(i) = theta(i);
        if (!std::isfinite(plus) || !std::isfinite(minus)) {
            detail::throw_invalid("check_vector_gradient: the cost is ", std::isfinite(plus) ? minus : plus,
                                  " at entry ", i, " +- epsilon, expected a finite number");
        }
        check.approximation(i) = (plus - minus) / (2.0 * epsilon);
    }
    const double denominator = gradient.stableNorm() + check.approximation.stableNorm();
    check.difference = denominator == 0.0 ? 0.0 : (gradient - check.approximation).stableNorm() / denominator;
    if (std::isnan(check.difference)) {
        check.difference = std::numeric_limits<double>::infinity();  // a NaN gradient must not read as a pass
    }
    return check;
}

}  // namespace nndl
