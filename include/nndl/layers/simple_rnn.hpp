#pragma once
// A simple recurrent layer (Elman network), the course's RNN cell unrolled over time:
//   a<t> = tanh(Wax x<t> + Waa a<t-1> + ba),   a<0> the start state (zeros by default).
// Its input is a sequence (Shape::sequence(steps, features)); it outputs every step's
// state (a sequence of `units` features) or only the last one (a flat vector). Backward is
// backpropagation through time: each step receives its own output gradient plus what the
// step after it sends back through Waa; the weight gradients are sums over the steps, and
// what reaches the start state is kept (RecurrentState::initial_state_gradient, the
// course's da0). Each step is two matrix products over the whole batch.

#include <cstdint>
#include <memory>
#include <string>

#include "../errors.hpp"
#include "../layer.hpp"
#include "../layer_onnx.hpp"
#include "../random.hpp"
#include "../types.hpp"
#include "recurrent_state.hpp"
#include "registry.hpp"

namespace nndl {

/// A tanh recurrent layer over sequences (see the top of simple_rnn.hpp).
template <class Scalar>
class SimpleRNN final : public Layer<Scalar>, public KeptRecurrentState<Scalar>, public VariableSteps<Scalar>,
                        public OnnxExportable<Scalar> {
public:
    /// Contract: see OnnxExportable::export_onnx (layer_onnx.hpp).
    void export_onnx(OnnxGraphBuilder& out, const Shape& in) const override;
    /// The most weights (Wax, Waa and ba together) a SimpleRNN may have: 2^26.
    static constexpr Index max_weights = Index(1) << 26;

    /// `units` hidden values over sequences of `input` shape; every step's state is output
    /// when `return_sequences`, else the last. Wax and Waa are drawn as the course does:
    /// NumpyRandom(seed).randn() * 0.01, Wax first; ba is zero. Throws InvalidArgument when
    /// `input` is not a sequence, units is below 1, or the weights would be more than
    /// max_weights.
    SimpleRNN(Shape input, Index units, bool return_sequences = true, std::uint32_t seed = 1)
        : KeptRecurrentState<Scalar>("SimpleRNN", units, "the units"), input_shape_(input), return_sequences_(return_sequences) {
        detail::require_sequence_input("SimpleRNN::SimpleRNN", input);
        if (units < 1 || units > max_weights || units > max_weights / (units + input.features() + 1)) {
            detail::throw_invalid("SimpleRNN::SimpleRNN: units is ", units, ", expected at least 1 and at most ",
                                  max_weights, " weights in all");
        }
        NumpyRandom random(seed);
        w_input_ = random.randn<Scalar>(units, input.features()) * Scalar(0.01);
        w_recurrent_ = random.randn<Scalar>(units, units) * Scalar(0.01);
        bias_ = Matrix<Scalar>::Zero(units, 1);
        w_input_gradient_ = Matrix<Scalar>::Zero(units, input.features());
        w_recurrent_gradient_ = Matrix<Scalar>::Zero(units, units);
        bias_gradient_ = Matrix<Scalar>::Zero(units, 1);
    }

    /// "simple_rnn".
    std::string type() const override { return "simple_rnn"; }
    /// The sequence shape given to the constructor.
    Shape input_shape() const override { return input_shape_; }
    /// Contract: see VariableSteps.
    void set_steps(Index steps) override {
        input_shape_ = detail::input_with_steps("SimpleRNN::set_steps", input_shape_, output_shape(), steps);
        this->release_batch();
    }
    /// A sequence of `units` features per step, or `units` flat values (the last step).
    Shape output_shape() const override {
        return return_sequences_ ? Shape::sequence(input_shape_.steps(), units()) : Shape(units());
    }
    /// "units" and "return_sequences" (1 or 0).
    Settings settings() const override {
        return Settings().set("units", static_cast<long long>(units())).set("return_sequences", return_sequences_ ? 1 : 0);
    }
    /// Wax (units x features), Waa (units x units), ba (units x 1); the weights decay under L2.
    std::vector<Parameter<Scalar>> parameters() override {
        return {{"Wax", &w_input_, &w_input_gradient_, true},
                {"Waa", &w_recurrent_, &w_recurrent_gradient_, true},
                {"ba", &bias_, &bias_gradient_, false}};
    }
    /// Every step's state is kept for backward besides the output.
    Index working_values() const override { return input_shape_.steps() * units(); }
    /// Multiply-adds per example: both products at every step.
    Index operations() const override { return input_shape_.steps() * units() * (input_shape_.features() + units()); }
    /// Contract: see Layer::clone. The recurrent state is copied too; a pending final-state
    /// gradient is not.
    std::unique_ptr<Layer<Scalar>> clone() const override {
        auto copy = std::make_unique<SimpleRNN>(*this);
        copy->forget_final_gradient();
        return copy;
    }

    /// Hidden values per step.
    Index units() const { return w_recurrent_.rows(); }
    /// Whether every step's state is output (else the last).
    bool return_sequences() const { return return_sequences_; }

    /// Contract: see RecurrentState.
    const Matrix<Scalar>& step(const Matrix<Scalar>& input) override {
        if (input.rows() != input_shape_.features() || input.cols() < 1) {
            detail::throw_shape("SimpleRNN::step: the input is ", input.rows(), " x ", input.cols(), ", expected ",
                                input_shape_.features(), " rows (one step's features) and at least one column");
        }
        Matrix<Scalar> next = this->start("SimpleRNN::step", input.cols());
        advance(input, next, next);
        this->finish_pass(std::move(next), true);
        return this->final_state();
    }

protected:
    /// Contract: see Layer::forward. Keeps every step's state and the start for backward.
    const Matrix<Scalar>& do_forward(const Matrix<Scalar>& input, Mode) override {
        start_ = this->start("SimpleRNN::forward", input.cols());
        run(input, start_, states_);
        this->finish_pass(states_.bottomRows(units()));
        if (return_sequences_) {
            return states_;
        }
        output_ = this->final_state();
        return output_;
    }

    /// Contract: see Layer::backward. Backpropagation through time, last step first.
    const Matrix<Scalar>& do_backward(const Matrix<Scalar>& output_gradient, bool need_input_gradient) override {
        const Matrix<Scalar>& x = this->last_input();
        const Index u = units();
        const Index n = input_shape_.features();
        const Index steps = input_shape_.steps();
        const Index m = x.cols();
        w_input_gradient_.setZero();
        w_recurrent_gradient_.setZero();
        bias_gradient_.setZero();
        input_gradient_.resize(need_input_gradient ? x.rows() : 0, need_input_gradient ? m : 0);
        // dLoss/da<t> sent back from step t + 1; at the last step, what was given for the final state.
        Matrix<Scalar> carried = this->take_final_gradient("SimpleRNN::backward", m);
        Matrix<Scalar> dz(u, m);
        for (Index t = steps - 1; t >= 0; --t) {
            const auto a = states_.middleRows(t * u, u);
            if (return_sequences_) {
                carried += output_gradient.middleRows(t * u, u);
            } else if (t == steps - 1) {
                carried += output_gradient;
            }
            dz = carried.array() * (Scalar(1) - a.array().square());
            w_input_gradient_.noalias() += dz * x.middleRows(t * n, n).transpose();
            if (t > 0) {
                w_recurrent_gradient_.noalias() += dz * states_.middleRows((t - 1) * u, u).transpose();
            } else {
                w_recurrent_gradient_.noalias() += dz * start_.transpose();
            }
            bias_gradient_ += dz.rowwise().sum();
            if (need_input_gradient) {
                input_gradient_.middleRows(t * n, n).noalias() = w_input_.transpose() * dz;
            }
            carried.noalias() = w_recurrent_.transpose() * dz;
        }
        this->start_gradient_ = std::move(carried);
        return input_gradient_;
    }

    /// Contract: see Layer::infer. Starts from the current state and changes nothing.
    void do_infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const override {
        const Matrix<Scalar> first = this->start("SimpleRNN::infer", input.cols());
        if (return_sequences_) {
            run(input, first, output);
            return;
        }
        Matrix<Scalar> states;
        run(input, first, states);
        output = states.bottomRows(units());
    }

private:
    /// next = tanh(Wax x + Waa previous + ba) for one step's inputs; `next` may be `previous`.
    template <class Input, class Previous, class Next>
    void advance(const Input& x, const Previous& previous, Next&& next) const {
        Matrix<Scalar> z = w_input_ * x;
        z.noalias() += w_recurrent_ * previous;
        z.colwise() += bias_.col(0);
        next = z.array().tanh().matrix();
    }

    /// Every step's state, one after the other in each column (the sequence layout).
    void run(const Matrix<Scalar>& input, const Matrix<Scalar>& first, Matrix<Scalar>& states) const {
        const Index u = units();
        const Index n = input_shape_.features();
        states.resize(input_shape_.steps() * u, input.cols());
        for (Index t = 0; t < input_shape_.steps(); ++t) {
            if (t == 0) {
                advance(input.middleRows(0, n), first, states.middleRows(0, u));
            } else {
                advance(input.middleRows(t * n, n), states.middleRows((t - 1) * u, u), states.middleRows(t * u, u));
            }
        }
    }

    Shape input_shape_;
    bool return_sequences_ = true;
    Matrix<Scalar> w_input_, w_recurrent_, bias_;
    Matrix<Scalar> w_input_gradient_, w_recurrent_gradient_, bias_gradient_;
    Matrix<Scalar> start_;           // where the last forward started
    Matrix<Scalar> states_;          // every step's state of the last forward
    Matrix<Scalar> output_;          // the last step's state, when only it is output
    Matrix<Scalar> input_gradient_;
};

// ---- model files --------------------------------------------------------------------

namespace detail {

/// SimpleRNN in the registries of a program that includes this header (settings: units,
/// return_sequences).
inline const bool simple_rnn_registered = register_builtin_layer(
    {"simple_rnn",
     [](const Shape& input, const Settings& s) { return recurrent_from_settings<SimpleRNN, float>("simple_rnn", input, s); },
     [](const Shape& input, const Settings& s) { return recurrent_from_settings<SimpleRNN, double>("simple_rnn", input, s); }});

}  // namespace detail

/// ONNX: the RNN operator (tanh), one bias: ONNX's recurrent bias is zero.
template <class Scalar>
void SimpleRNN<Scalar>::export_onnx(OnnxGraphBuilder& out, const Shape& in) const {
    detail::export_recurrent_onnx<Scalar>(out,
                                          {"RNN", "simple_rnn", units(), w_input_, w_recurrent_, bias_,
                                           Matrix<Scalar>::Zero(units(), 1), return_sequences_},
                                          in);
}

}  // namespace nndl

// nndl::compiled holds SimpleRNN<float> and SimpleRNN<double>: a program that links it (NNDL_COMPILED)
// compiles none of the layer's code.
#if defined(NNDL_COMPILED) || defined(NNDL_COMPILED_DEFINITIONS_FLOAT) || defined(NNDL_COMPILED_DEFINITIONS_DOUBLE)
#include "../detail/compiled_fingerprint.hpp"
#include "../detail/compiled_kind.hpp"  // NNDL_COMPILED_FLOAT_KIND, NNDL_COMPILED_DOUBLE_KIND
/// \cond
namespace nndl {
NNDL_COMPILED_FLOAT_KIND template class SimpleRNN<float>;
NNDL_COMPILED_DOUBLE_KIND template class SimpleRNN<double>;
}  // namespace nndl
/// \endcond
#undef NNDL_COMPILED_FLOAT_KIND
#undef NNDL_COMPILED_DOUBLE_KIND
#endif
