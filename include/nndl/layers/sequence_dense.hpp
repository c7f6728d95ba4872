#pragma once
// A dense layer applied at every time step of a sequence: y<t> = f(W x<t> + b), the same W
// and b at each step (the course's yt = softmax(Wya a<t> + by)). A softmax normalizes each
// step on its own. A sequence column holds its steps one after the other, so a batch of m
// sequences of T steps is, in memory, T * m step columns: the layer runs one ordinary Dense
// layer on that view, and every product stays one GEMM over all steps and examples.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../errors.hpp"
#include "../layer.hpp"
#include "../layer_onnx.hpp"
#include "../types.hpp"
#include "activations.hpp"
#include "dense.hpp"
#include "registry.hpp"

namespace nndl {

/// Dense with activation `activation` at every step of a sequence (see the top of
/// sequence_dense.hpp). Parameters "W" (units x features, weight decay) and "b" (units x 1).
template <class Scalar>
class SequenceDense final : public Layer<Scalar>, public FusedOutput<Scalar>, public VariableSteps<Scalar>,
                            public OnnxExportable<Scalar> {
public:
    /// Contract: see OnnxExportable::export_onnx (layer_onnx.hpp).
    void export_onnx(OnnxGraphBuilder& out, const Shape& in) const override;
    /// `units` outputs per step over sequences of `input` shape; W and b start at zero (see
    /// initializers.hpp, or set them through parameters()). Throws InvalidArgument when
    /// `input` is not a sequence or units is below 1.
    SequenceDense(Shape input, Index units, Activation activation) : input_shape_(input) {
        if (!input.is_sequence() || !input.valid()) {
            detail::throw_invalid("SequenceDense::SequenceDense: the input is ", input.to_string(),
                                  ", expected a sequence (Shape::sequence(steps, features)) of at most ",
                                  Shape::max_values, " values");
        }
        if (units < 1 || !Shape::sequence(input.steps(), units).valid()) {
            detail::throw_invalid("SequenceDense::SequenceDense: units is ", units, ", expected at least 1 and at most ",
                                  Shape::max_values / input.steps(), " for ", input.steps(), " steps");
        }
        dense_ = make_dense<Scalar>(input.features(), units, activation);
        fused_ = dynamic_cast<FusedOutput<Scalar>*>(dense_.get());
    }
    /// A deep copy that has seen no batch.
    SequenceDense(const SequenceDense& other)
        : Layer<Scalar>(other), FusedOutput<Scalar>(other), VariableSteps<Scalar>(other),
          input_shape_(other.input_shape_), dense_(other.dense_->clone()),
          fused_(dynamic_cast<FusedOutput<Scalar>*>(dense_.get())) {}
    /// Not assignable (the inner layer is owned); copy-construct or clone() instead.
    SequenceDense& operator=(const SequenceDense&) = delete;

    /// "sequence_dense".
    std::string type() const override { return "sequence_dense"; }
    /// The sequence shape given to the constructor (or to set_steps).
    Shape input_shape() const override { return input_shape_; }
    /// A sequence of `units` values per step.
    Shape output_shape() const override { return Shape::sequence(input_shape_.steps(), units()); }
    /// "units" and "activation" (its name).
    Settings settings() const override {
        return Settings()
            .set("units", static_cast<long long>(units()))
            .set("activation", std::string(to_string(activation())));
    }
    /// W (units x features, weight decay) and b (units x 1).
    std::vector<Parameter<Scalar>> parameters() override { return dense_->parameters(); }
    /// Multiply-adds per example: one per weight at every step.
    Index operations() const override { return input_shape_.steps() * units() * input_shape_.features(); }
    /// Contract: see Layer::clone.
    std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<SequenceDense>(*this); }
    /// Contract: see VariableSteps.
    void set_steps(Index steps) override {
        input_shape_ = detail::input_with_steps("SequenceDense::set_steps", input_shape_, output_shape(), steps);
        this->release_batch();
        dense_->release_batch();
    }

    /// Outputs per step.
    Index units() const { return dense_->output_size(); }
    /// The activation applied at each step.
    Activation activation() const override { return fused_->activation(); }

    /// Z = W x<t> + b at every step of the last forward, in the sequence layout (units *
    /// steps x m). Throws InvalidArgument before any forward.
    const Matrix<Scalar>& preactivation() const override {
        this->require_batch("SequenceDense::preactivation");
        return preactivation_;
    }
    /// Contract: see FusedOutput::backward_from_preactivation. Throws InvalidArgument
    /// before any forward, ShapeError when `dz` does not have Z's shape.
    const Matrix<Scalar>& backward_from_preactivation(const Matrix<Scalar>& dz, bool need_input_gradient) override {
        this->require_batch("SequenceDense::backward_from_preactivation");
        detail::require_same_shape("SequenceDense::backward_from_preactivation", "pre-activation gradient", dz,
                                   "pre-activation", preactivation_);
        as_steps(dz, units(), step_gradient_);
        return to_sequences(fused_->backward_from_preactivation(step_gradient_, need_input_gradient),
                            input_gradient_);
    }

protected:
    /// Contract: see Layer::forward.
    const Matrix<Scalar>& do_forward(const Matrix<Scalar>& input, Mode mode) override {
        as_steps(input, input_shape_.features(), step_input_);
        const Matrix<Scalar>& output = dense_->forward(step_input_, mode);
        to_sequences(fused_->preactivation(), preactivation_);
        return to_sequences(output, output_);
    }
    /// Contract: see Layer::backward.
    const Matrix<Scalar>& do_backward(const Matrix<Scalar>& output_gradient, bool need_input_gradient) override {
        as_steps(output_gradient, units(), step_gradient_);
        const Matrix<Scalar>& gradient = dense_->backward(step_gradient_, need_input_gradient);
        if (!need_input_gradient) {
            input_gradient_.resize(0, 0);
            return input_gradient_;
        }
        return to_sequences(gradient, input_gradient_);
    }
    /// Contract: see Layer::infer.
    void do_infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const override {
        Matrix<Scalar> steps;
        as_steps(input, input_shape_.features(), steps);
        Matrix<Scalar> step_output;
        dense_->infer(steps, step_output);
        to_sequences(step_output, output);
    }

private:
    /// The same values seen as one column per step of each example (rows_per_step x steps * m).
    static void as_steps(const Matrix<Scalar>& sequences, Index rows_per_step, Matrix<Scalar>& steps) {
        steps = Eigen::Map<const Matrix<Scalar>>(sequences.data(), rows_per_step, sequences.size() / rows_per_step);
    }
    /// Step columns back in the sequence layout (rows * steps x m); returns `sequences`.
    const Matrix<Scalar>& to_sequences(const Matrix<Scalar>& steps, Matrix<Scalar>& sequences) const {
        const Index step_count = input_shape_.steps();
        sequences = Eigen::Map<const Matrix<Scalar>>(steps.data(), steps.rows() * step_count, steps.cols() / step_count);
        return sequences;
    }

    Shape input_shape_;
    std::unique_ptr<Layer<Scalar>> dense_;  // a Dense over step columns
    FusedOutput<Scalar>* fused_ = nullptr;  // dense_ seen as its FusedOutput
    Matrix<Scalar> step_input_, step_gradient_;
    Matrix<Scalar> preactivation_, output_, input_gradient_;
};

namespace detail {

/// A SequenceDense from a model file's settings: units and activation.
template <class Scalar>
std::unique_ptr<Layer<Scalar>> sequence_dense_from_settings(const Shape& input, const Settings& s) {
    const long long units = s.integer("units");
    // Settings come from files: the weights are allocated before the file's arrays are read.
    constexpr long long max_weights = LayerRegistry<Scalar>::max_dense_weights;
    if (units < 1 || units > max_weights || input.features() > max_weights / units) {
        throw_invalid("sequence_dense: ", units, " units over ", input.features(), " features is outside 1..",
                      max_weights, " weights");
    }
    return std::make_unique<SequenceDense<Scalar>>(input, static_cast<Index>(units),
                                                   activation_from_string(s.text("activation")));
}

/// SequenceDense in the registries of a program that includes this header.
inline const bool sequence_dense_registered = register_builtin_layer(
    {"sequence_dense", sequence_dense_from_settings<float>, sequence_dense_from_settings<double>});

}  // namespace detail

/// ONNX: MatMul and Add act on the last axis, so every step alike; then the activation.
template <class Scalar>
void SequenceDense<Scalar>::export_onnx(OnnxGraphBuilder& out, const Shape&) const {
    const std::vector<Parameter<Scalar>> parameters = dense_->parameters();  // W, then b
    const Matrix<Scalar>& w = *parameters[0].value;
    const Matrix<Scalar>& b = *parameters[1].value;
    const Index units = w.rows();
    const Index inputs = w.cols();
    const std::string weights =
        out.add_tensor("W", {inputs, units}, [&](Index k) { return static_cast<double>(w(k % units, k / units)); });
    out.add_node("MatMul", {out.current, weights});
    out.add_node("Add", {out.current, out.add_tensor("b", {units}, [&](Index k) { return static_cast<double>(b(k, 0)); })});
    out.add_activation(fused_->activation(), output_shape());
}

}  // namespace nndl

// nndl::compiled holds SequenceDense<float> and SequenceDense<double>: a program that links it (NNDL_COMPILED)
// compiles none of the layer's code.
#if defined(NNDL_COMPILED) || defined(NNDL_COMPILED_DEFINITIONS_FLOAT) || defined(NNDL_COMPILED_DEFINITIONS_DOUBLE)
#include "../detail/compiled_fingerprint.hpp"
#include "../detail/compiled_kind.hpp"  // NNDL_COMPILED_FLOAT_KIND, NNDL_COMPILED_DOUBLE_KIND
/// \cond
namespace nndl {
NNDL_COMPILED_FLOAT_KIND template class SequenceDense<float>;
NNDL_COMPILED_DOUBLE_KIND template class SequenceDense<double>;
}  // namespace nndl
/// \endcond
#undef NNDL_COMPILED_FLOAT_KIND
#undef NNDL_COMPILED_DOUBLE_KIND
#endif
