#pragma once
// A parameter-free layer applying an activation policy to every example: A = f(Z).
// Its shape is its input's, so it may follow an image layer too.

#include <memory>
#include <string>

#include "../errors.hpp"
#include "../layer.hpp"
#include "../layer_onnx.hpp"
#include "../types.hpp"
#include "activations.hpp"

namespace nndl {

/// A parameter-free layer computing A = f(Z) for an activation policy (Identity, Sigmoid,
/// Tanh, ReLU, LeakyReLU, Softmax). Its output shape is its input shape; Softmax acts on
/// each whole column, so it refuses a sequence shape (SequenceDense has a softmax per
/// step). Over a sequence it acts on every step alike, so it takes sequences of any length
/// (VariableSteps). Registered as "activation" with the setting "activation".
template <class Scalar, class ActivationPolicy>
class ActivationLayer final : public Layer<Scalar>, public FusedOutput<Scalar>, public VariableSteps<Scalar>,
                              public OnnxExportable<Scalar> {
public:
    /// Contract: see OnnxExportable::export_onnx (layer_onnx.hpp).
    void export_onnx(OnnxGraphBuilder& out, const Shape& in) const override;
    /// A layer for examples of `shape`. Throws InvalidArgument when !shape.valid().
    explicit ActivationLayer(Shape shape) : shape_(shape) {
        if (!shape.valid()) {
            detail::throw_invalid("ActivationLayer::ActivationLayer: shape is ", shape.channels, "x", shape.height,
                                  "x", shape.width, ", expected at least 1 in each dimension");
        }
        if (ActivationPolicy::kind == Activation::softmax && shape.is_sequence()) {
            detail::throw_invalid("ActivationLayer::ActivationLayer: a softmax over a sequence (", shape.to_string(),
                                  ") would normalize the whole column; SequenceDense(shape, units, "
                                  "Activation::softmax) gives a softmax at each step");
        }
    }
    /// A layer for flat examples of `size` values. Throws InvalidArgument when size is
    /// outside 1..Shape::max_values.
    explicit ActivationLayer(Index size) : ActivationLayer(Shape(size)) {}

    /// "activation".
    std::string type() const override { return "activation"; }
    /// The shape given to the constructor.
    Shape input_shape() const override { return shape_; }
    /// The input shape: the activation keeps it.
    Shape output_shape() const override { return shape_; }
    /// One setting, "activation": the policy's name ("relu", "softmax", ...).
    Settings settings() const override {
        return Settings().set("activation", std::string(to_string(ActivationPolicy::kind)));
    }
    /// The policy's Activation tag.
    Activation activation() const override { return ActivationPolicy::kind; }
    /// A copy of this layer that has seen no batch.
    std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<ActivationLayer>(*this); }
    /// Contract: see VariableSteps. Throws InvalidArgument for a layer over images or flat
    /// vectors, which have no steps.
    void set_steps(Index steps) override {
        if (!shape_.is_sequence()) {
            detail::throw_invalid("ActivationLayer::set_steps: the layer takes ", shape_.to_string(),
                                  ", expected a sequence");
        }
        shape_ = detail::input_with_steps("ActivationLayer::set_steps", shape_, shape_, steps);
        this->release_batch();
    }

    /// Z is this layer's input: the last forward's input. Throws InvalidArgument when
    /// has_batch() is false.
    const Matrix<Scalar>& preactivation() const override {
        this->require_batch("ActivationLayer::preactivation");
        return this->last_input();
    }
    /// dLoss/dInput is dz itself (Z is the input), so this returns a copy of dz, or an empty
    /// matrix when need_input_gradient is false. Throws InvalidArgument when has_batch() is
    /// false, ShapeError when dz's shape differs from the last input's.
    const Matrix<Scalar>& backward_from_preactivation(const Matrix<Scalar>& dz, bool need_input_gradient) override {
        this->require_batch("ActivationLayer::backward_from_preactivation");
        detail::require_same_shape("ActivationLayer::backward_from_preactivation", "pre-activation gradient", dz,
                                   "pre-activation", this->last_input());
        if (need_input_gradient) {
            input_gradient_ = dz;
        } else {
            input_gradient_.resize(0, 0);
        }
        return input_gradient_;
    }

protected:
    /// A = f(input), kept for backward; the mode makes no difference.
    const Matrix<Scalar>& do_forward(const Matrix<Scalar>& input, Mode) override {
        ActivationPolicy::forward(input, output_);
        return output_;
    }
    /// dZ = dA * f'(Z) from the cached input and output; an empty matrix when
    /// need_input_gradient is false (there are no parameters).
    const Matrix<Scalar>& do_backward(const Matrix<Scalar>& output_gradient, bool need_input_gradient) override {
        if (need_input_gradient) {
            ActivationPolicy::backward(this->last_input(), output_, output_gradient, input_gradient_);
        } else {
            input_gradient_.resize(0, 0);
        }
        return input_gradient_;
    }
    /// output = f(input).
    void do_infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const override {
        ActivationPolicy::forward(input, output);
    }

private:
    Shape shape_;
    Matrix<Scalar> output_;
    Matrix<Scalar> input_gradient_;
};

/// An ActivationLayer for examples of `shape` whose activation is chosen at run time.
/// Throws InvalidArgument when !shape.valid() or the tag is not an Activation.
template <class Scalar>
std::unique_ptr<Layer<Scalar>> make_activation_layer(Shape shape, Activation activation) {
    return with_activation(activation, [&](auto policy) -> std::unique_ptr<Layer<Scalar>> {
        return std::make_unique<ActivationLayer<Scalar, decltype(policy)>>(shape);
    });
}

/// ONNX: the activation's operator (images, flat tensors and sequences alike).
template <class Scalar, class ActivationPolicy>
void ActivationLayer<Scalar, ActivationPolicy>::export_onnx(OnnxGraphBuilder& out, const Shape& in) const {
    out.add_activation(ActivationPolicy::kind, in);
}

}  // namespace nndl

// nndl::compiled holds its activation layers for float and double: a program that links it (NNDL_COMPILED)
// compiles none of their code.
#if defined(NNDL_COMPILED) || defined(NNDL_COMPILED_DEFINITIONS_FLOAT) || defined(NNDL_COMPILED_DEFINITIONS_DOUBLE)
#include "../detail/compiled_fingerprint.hpp"
#include "../detail/compiled_kind.hpp"  // NNDL_COMPILED_FLOAT_KIND, NNDL_COMPILED_DOUBLE_KIND
/// \cond
namespace nndl {
NNDL_COMPILED_FLOAT_KIND template class ActivationLayer<float, Identity>;
NNDL_COMPILED_DOUBLE_KIND template class ActivationLayer<double, Identity>;
NNDL_COMPILED_FLOAT_KIND template class ActivationLayer<float, Sigmoid>;
NNDL_COMPILED_DOUBLE_KIND template class ActivationLayer<double, Sigmoid>;
NNDL_COMPILED_FLOAT_KIND template class ActivationLayer<float, Tanh>;
NNDL_COMPILED_DOUBLE_KIND template class ActivationLayer<double, Tanh>;
NNDL_COMPILED_FLOAT_KIND template class ActivationLayer<float, ReLU>;
NNDL_COMPILED_DOUBLE_KIND template class ActivationLayer<double, ReLU>;
NNDL_COMPILED_FLOAT_KIND template class ActivationLayer<float, LeakyReLU>;
NNDL_COMPILED_DOUBLE_KIND template class ActivationLayer<double, LeakyReLU>;
NNDL_COMPILED_FLOAT_KIND template class ActivationLayer<float, Softmax>;
NNDL_COMPILED_DOUBLE_KIND template class ActivationLayer<double, Softmax>;
}  // namespace nndl
/// \endcond
#undef NNDL_COMPILED_FLOAT_KIND
#undef NNDL_COMPILED_DOUBLE_KIND
#endif
