#pragma once
// A parameter-free layer applying an activation policy to every example: A = f(Z).
// Its shape is its input's, so it may follow an image layer too.

#include <memory>
#include <string>

#include "../errors.hpp"
#include "../layer.hpp"
#include "../types.hpp"
#include "activations.hpp"

namespace nndl {

template <class Scalar, class ActivationPolicy>
class ActivationLayer final : public Layer<Scalar>, public FusedOutput<Scalar> {
public:
    explicit ActivationLayer(Shape shape) : shape_(shape) {
        if (!shape.valid()) {
            detail::throw_invalid("ActivationLayer::ActivationLayer: shape is ", shape.channels, "x", shape.height,
                                  "x", shape.width, ", expected at least 1 in each dimension");
        }
    }
    explicit ActivationLayer(Index size) : ActivationLayer(Shape(size)) {}

    std::string type() const override { return "activation"; }
    Shape input_shape() const override { return shape_; }
    Shape output_shape() const override { return shape_; }
    Settings settings() const override {
        return Settings().set("activation", std::string(to_string(ActivationPolicy::kind)));
    }
    Activation activation() const override { return ActivationPolicy::kind; }
    std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<ActivationLayer>(*this); }

    const Matrix<Scalar>& preactivation() const override {
        this->require_batch("ActivationLayer::preactivation");
        return this->last_input();
    }
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
    const Matrix<Scalar>& do_forward(const Matrix<Scalar>& input, Mode) override {
        ActivationPolicy::forward(input, output_);
        return output_;
    }
    const Matrix<Scalar>& do_backward(const Matrix<Scalar>& output_gradient, bool need_input_gradient) override {
        if (need_input_gradient) {
            ActivationPolicy::backward(this->last_input(), output_, output_gradient, input_gradient_);
        } else {
            input_gradient_.resize(0, 0);
        }
        return input_gradient_;
    }
    void do_infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const override {
        ActivationPolicy::forward(input, output);
    }

private:
    Shape shape_;
    Matrix<Scalar> output_;
    Matrix<Scalar> input_gradient_;
};

/// An ActivationLayer whose activation is chosen at run time.
template <class Scalar>
std::unique_ptr<Layer<Scalar>> make_activation_layer(Shape shape, Activation activation) {
    return with_activation(activation, [&](auto policy) -> std::unique_ptr<Layer<Scalar>> {
        return std::make_unique<ActivationLayer<Scalar, decltype(policy)>>(shape);
    });
}

}  // namespace nndl
