#pragma once
// Fully connected layer: Z = W X + b, A = f(Z), with W n_out x n_in, b n_out x 1
// and one example per column of X. The activation f is a policy (activations.hpp).

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "activations.hpp"
#include "../errors.hpp"
#include "../layer.hpp"
#include "../layer_onnx.hpp"
#include "../detail/products.hpp"
#include "../types.hpp"

namespace nndl {

/// Z = W A_prev + b (the course's linear_forward). Z is resized as needed. Shapes:
/// W n_out x n_in, b n_out x 1, A_prev n_in x m, Z n_out x m. Throws ShapeError when
/// they do not fit together.
template <class Scalar>
void linear_forward(const Matrix<Scalar>& a_prev, const Matrix<Scalar>& w, const Matrix<Scalar>& b,
                    Matrix<Scalar>& z) {
    detail::require_rows("linear_forward", "A_prev", a_prev.rows(), w.cols(), "W expects");
    detail::require_rows("linear_forward", "b", b.rows(), w.rows(), "W has");
    detail::require_cols("linear_forward", "b", b.cols(), 1);
    z.resize(w.rows(), a_prev.cols());
    detail::multiply(w, a_prev, z);
    z.colwise() += b.col(0);
}

/// Gradients of Z = W A_prev + b given dZ = dLoss/dZ: dW = dZ A_prev^T, db = row sums
/// of dZ, and dA_prev = W^T dZ when `da_prev` is not null. The loss already holds
/// the 1/m of the batch mean, so unlike the course's linear_backward nothing is
/// divided by m here. `dw` and `db` are overwritten with W's and b's shapes; throws
/// ShapeError when dZ (n_out x m), A_prev (n_in x m) and W (n_out x n_in) do not fit.
template <class Scalar>
void linear_backward(const Matrix<Scalar>& dz, const Matrix<Scalar>& a_prev, const Matrix<Scalar>& w,
                     Matrix<Scalar>& dw, Matrix<Scalar>& db, Matrix<Scalar>* da_prev) {
    detail::require_rows("linear_backward", "dZ", dz.rows(), w.rows(), "W has");
    detail::require_rows("linear_backward", "A_prev", a_prev.rows(), w.cols(), "W expects");
    detail::require_cols("linear_backward", "A_prev", a_prev.cols(), dz.cols(), "dZ has");
    dw.resize(w.rows(), w.cols());
    detail::multiply_transposed(dz, a_prev, dw);
    db = dz.rowwise().sum();
    if (da_prev != nullptr) {
        da_prev->resize(w.cols(), dz.cols());
        detail::multiply_transposed_left(w, dz, *da_prev);
    }
}

/// Fully connected layer A = f(W X + b) on flat columns: n_in inputs to n_out outputs,
/// `ActivationPolicy` f (an activation policy of activations.hpp, fixed at compile time;
/// make_dense picks one at run time). Parameters: "W" (n_out x n_in, weight decay) and
/// "b" (n_out x 1).
template <class Scalar, class ActivationPolicy>
class Dense final : public Layer<Scalar>, public FusedOutput<Scalar>, public OnnxExportable<Scalar> {
public:
    /// Contract: see OnnxExportable::export_onnx (layer_onnx.hpp).
    void export_onnx(OnnxGraphBuilder& out, const Shape& in) const override;
    /// Weights start at zero; see initializers.hpp to fill them. The bias starts at zero.
    /// Throws InvalidArgument when a size is below 1.
    Dense(Index input_size, Index output_size)
        : weights_(Matrix<Scalar>::Zero(checked_size(output_size, "output"), checked_size(input_size, "input"))),
          bias_(Matrix<Scalar>::Zero(output_size, 1)),
          weights_gradient_(Matrix<Scalar>::Zero(output_size, input_size)),
          bias_gradient_(Matrix<Scalar>::Zero(output_size, 1)) {}

    /// "dense".
    std::string type() const override { return "dense"; }
    /// n_in, flat.
    Shape input_shape() const override { return Shape(weights_.cols()); }
    /// n_out, flat.
    Shape output_shape() const override { return Shape(weights_.rows()); }
    /// "units" (n_out) and "activation" (its name); n_in comes from the input shape.
    Settings settings() const override {
        return Settings()
            .set("units", static_cast<long long>(weights_.rows()))
            .set("activation", std::string(to_string(ActivationPolicy::kind)));
    }
    /// The activation f, ActivationPolicy::kind.
    Activation activation() const override { return ActivationPolicy::kind; }
    /// Multiply-adds per example: one per weight.
    Index operations() const override { return weights_.size(); }

    /// W, n_out x n_in. Pre: what is assigned keeps that shape.
    Matrix<Scalar>& weights() { return weights_; }
    /// W, n_out x n_in.
    const Matrix<Scalar>& weights() const { return weights_; }
    /// b, n_out x 1. Pre: what is assigned keeps that shape.
    Matrix<Scalar>& bias() { return bias_; }
    /// b, n_out x 1.
    const Matrix<Scalar>& bias() const { return bias_; }
    /// W's gradient as the last backward left it (a network adds its L2 term); zero before any.
    const Matrix<Scalar>& weights_gradient() const { return weights_gradient_; }
    /// b's gradient as the last backward left it; zero before any.
    const Matrix<Scalar>& bias_gradient() const { return bias_gradient_; }

    /// "W" (weight decay applies) and "b" (no decay), in that order.
    std::vector<Parameter<Scalar>> parameters() override {
        return {{"W", &weights_, &weights_gradient_, true}, {"b", &bias_, &bias_gradient_, false}};
    }

    /// Contract: see Layer::clone.
    std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<Dense>(*this); }

    /// Z = W X + b of the last forward, n_out x m. Throws InvalidArgument before any forward.
    const Matrix<Scalar>& preactivation() const override {
        this->require_batch("Dense::preactivation");
        return z_;
    }

    /// Contract: see FusedOutput::backward_from_preactivation. Throws InvalidArgument before
    /// any forward, ShapeError when `dz` does not have Z's shape.
    const Matrix<Scalar>& backward_from_preactivation(const Matrix<Scalar>& dz, bool need_input_gradient) override {
        this->require_batch("Dense::backward_from_preactivation");
        detail::require_same_shape("Dense::backward_from_preactivation", "pre-activation gradient", dz,
                                   "pre-activation", z_);
        return backward_linear(dz, need_input_gradient);
    }

protected:
    /// Contract: see Layer::forward. The same in both modes; keeps Z and A for backward
    /// (with Identity A is Z, the object returned).
    const Matrix<Scalar>& do_forward(const Matrix<Scalar>& input, Mode) override {
        z_.resize(weights_.rows(), input.cols());
        detail::multiply(weights_, input, z_);
        if constexpr (std::is_same_v<ActivationPolicy, Identity>) {  // A is Z: no copy of it
            z_.colwise() += bias_.col(0);
            a_.resize(0, 0);
            return z_;
        } else if constexpr (ActivationPolicy::elementwise) {
            // Bias and activation in one pass over Z.
            a_.resize(z_.rows(), z_.cols());
            for (Index j = 0; j < z_.cols(); ++j) {
                for (Index i = 0; i < z_.rows(); ++i) {
                    const Scalar v = z_(i, j) + bias_(i, 0);
                    z_(i, j) = v;
                    a_(i, j) = ActivationPolicy::value(v);
                }
            }
        } else {
            z_.colwise() += bias_.col(0);
            ActivationPolicy::forward(z_, a_);
        }
        return a_;
    }

    /// Contract: see Layer::backward. dZ from the activation, then linear_backward.
    const Matrix<Scalar>& do_backward(const Matrix<Scalar>& output_gradient, bool need_input_gradient) override {
        if constexpr (std::is_same_v<ActivationPolicy, Identity>) {  // dZ is the output's gradient
            return backward_linear(output_gradient, need_input_gradient);
        } else {
            ActivationPolicy::backward(z_, a_, output_gradient, dz_);
            return backward_linear(dz_, need_input_gradient);
        }
    }

    /// Contract: see Layer::infer.
    /// Z = W X goes straight into `output` (a network keeps it between calls: no allocation),
    /// then bias and activation in one pass over a few columns at a time, while they are in
    /// cache; the same numbers as forward.
    void do_infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const override {
        if (&input == &output) {  // the product must not overwrite its own operand
            const Matrix<Scalar> copy = input;
            do_infer(copy, output);
            return;
        }
        output.resize(weights_.rows(), input.cols());
        detail::multiply(weights_, input, output);
        const Index step = std::max<Index>(1, Index{4096} / output.rows());
        for (Index j = 0; j < output.cols(); j += step) {
            auto columns = output.middleCols(j, std::min(step, output.cols() - j));
            columns.colwise() += bias_.col(0);
            ActivationPolicy::forward_in_place(columns);
        }
    }

private:
    static Index checked_size(Index n, const char* which) {
        if (n <= 0) {
            detail::throw_invalid("Dense::Dense: ", which, " size is ", n, ", expected at least 1");
        }
        return n;
    }

    const Matrix<Scalar>& backward_linear(const Matrix<Scalar>& dz, bool need_input_gradient) {
        if (!need_input_gradient) {
            input_gradient_.resize(0, 0);
        }
        linear_backward(dz, this->last_input(), weights_, weights_gradient_, bias_gradient_,
                        need_input_gradient ? &input_gradient_ : nullptr);
        return input_gradient_;
    }

    Matrix<Scalar> weights_;
    Matrix<Scalar> bias_;
    Matrix<Scalar> weights_gradient_;
    Matrix<Scalar> bias_gradient_;
    Matrix<Scalar> z_;
    Matrix<Scalar> a_;
    Matrix<Scalar> dz_;
    Matrix<Scalar> input_gradient_;
};

/// A Dense layer whose activation is chosen at run time. Throws InvalidArgument when a
/// size is below 1.
template <class Scalar>
std::unique_ptr<Layer<Scalar>> make_dense(Index input_size, Index output_size, Activation activation) {
    return with_activation(activation, [&](auto policy) -> std::unique_ptr<Layer<Scalar>> {
        return std::make_unique<Dense<Scalar, decltype(policy)>>(input_size, output_size);
    });
}

namespace detail {

/// ONNX: Gemm (transB) and the activation; an image before it is flattened in ONNX's order,
/// so W's columns are permuted to match. One body per Scalar for all the activations.
template <class Scalar>
void export_dense_onnx(OnnxGraphBuilder& out, const Shape& in, const Matrix<Scalar>& weights,
                       const Matrix<Scalar>& bias, Activation activation) {
    out.require_no_sequence("dense", in);
    const Index units = weights.rows();
    const Index inputs = weights.cols();
    std::vector<Index> nndl_column(static_cast<std::size_t>(inputs));
    for (Index j = 0; j < inputs; ++j) {
        nndl_column[static_cast<std::size_t>(j)] = j;
    }
    if (out.image) {
        out.add_node("Flatten", {out.current}).set_int("axis", 1);
        out.image = false;
        const std::vector<Index> position = channel_major_positions(in);
        for (Index j = 0; j < inputs; ++j) {
            nndl_column[static_cast<std::size_t>(position[static_cast<std::size_t>(j)])] = j;
        }
    }
    const std::string w = out.add_tensor("W", {units, inputs}, [&](Index k) {
        return static_cast<double>(weights(k / inputs, nndl_column[static_cast<std::size_t>(k % inputs)]));
    });
    const std::string b = out.add_tensor("b", {units}, [&](Index k) { return static_cast<double>(bias(k, 0)); });
    out.add_node("Gemm", {out.current, w, b}).set_int("transB", 1);
    out.add_activation(activation, Shape(units));
}

}  // namespace detail

template <class Scalar, class ActivationPolicy>
void Dense<Scalar, ActivationPolicy>::export_onnx(OnnxGraphBuilder& out, const Shape& in) const {
    detail::export_dense_onnx(out, in, weights_, bias_, ActivationPolicy::kind);
}

}  // namespace nndl

// nndl::compiled holds its Dense layers for float and double: a program that links it (NNDL_COMPILED)
// compiles none of their code.
#if defined(NNDL_COMPILED) || defined(NNDL_COMPILED_DEFINITIONS_FLOAT) || defined(NNDL_COMPILED_DEFINITIONS_DOUBLE)
#include "../detail/compiled_fingerprint.hpp"
#include "../detail/compiled_kind.hpp"  // NNDL_COMPILED_FLOAT_KIND, NNDL_COMPILED_DOUBLE_KIND
/// \cond
namespace nndl {
NNDL_COMPILED_FLOAT_KIND template class Dense<float, Identity>;
NNDL_COMPILED_DOUBLE_KIND template class Dense<double, Identity>;
NNDL_COMPILED_FLOAT_KIND template class Dense<float, Sigmoid>;
NNDL_COMPILED_DOUBLE_KIND template class Dense<double, Sigmoid>;
NNDL_COMPILED_FLOAT_KIND template class Dense<float, Tanh>;
NNDL_COMPILED_DOUBLE_KIND template class Dense<double, Tanh>;
NNDL_COMPILED_FLOAT_KIND template class Dense<float, ReLU>;
NNDL_COMPILED_DOUBLE_KIND template class Dense<double, ReLU>;
NNDL_COMPILED_FLOAT_KIND template class Dense<float, LeakyReLU>;
NNDL_COMPILED_DOUBLE_KIND template class Dense<double, LeakyReLU>;
NNDL_COMPILED_FLOAT_KIND template class Dense<float, Softmax>;
NNDL_COMPILED_DOUBLE_KIND template class Dense<double, Softmax>;
}  // namespace nndl
/// \endcond
#undef NNDL_COMPILED_FLOAT_KIND
#undef NNDL_COMPILED_DOUBLE_KIND
#endif
