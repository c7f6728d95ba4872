#pragma once
// A long short-term memory layer, the course's LSTM cell unrolled over time. At each step,
// with [a<t-1>; x<t>] the previous hidden state stacked on the step's input:
//   f = sigmoid(Wf [a; x] + bf)   forget gate        i = sigmoid(Wi [a; x] + bi)   update gate
//   cc = tanh(Wc [a; x] + bc)     candidate          o = sigmoid(Wo [a; x] + bo)   output gate
//   c<t> = f * c<t-1> + i * cc,   a<t> = o * tanh(c<t>)
// The four gates are one matrix W (4 units x (units + features), the rows of Wf, Wi, Wc and
// Wo in that order) and one bias b. The input's share of the gates, W's x columns times
// x<t>, is one product over every step and example before the recurrence starts; a step
// adds the hidden state's share, one product over the batch. Backward likewise leaves the
// weight and input gradients to products over all steps at the end. Its
// input is a sequence; it outputs every step's hidden state a or only the last. The
// recurrent state (RecurrentState) is a on top of c: 2 x units rows; the course starts
// from a0 and c0 = 0. Backward is backpropagation through time, carrying dLoss/da and
// dLoss/dc from each step to the one before.

#include <cmath>
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

/// An LSTM layer over sequences (see the top of lstm.hpp).
template <class Scalar>
class LSTM final : public Layer<Scalar>, public KeptRecurrentState<Scalar>, public VariableSteps<Scalar>,
                   public OnnxExportable<Scalar> {
public:
    /// Contract: see OnnxExportable::export_onnx (layer_onnx.hpp).
    void export_onnx(OnnxGraphBuilder& out, const Shape& in) const override;
    /// The most weights (W and b together) an LSTM may have: 2^26.
    static constexpr Index max_weights = Index(1) << 26;

    /// `units` hidden values over sequences of `input` shape; every step's hidden state is
    /// output when `return_sequences`, else the last. W is drawn from NumpyRandom(seed).randn()
    /// * 0.01; b is zero. Throws InvalidArgument when `input` is not a sequence, units is
    /// below 1, or the weights would be more than max_weights.
    LSTM(Shape input, Index units, bool return_sequences = true, std::uint32_t seed = 1)
        : KeptRecurrentState<Scalar>("LSTM", 2 * units, "the hidden state on top of the cell state"),
          input_shape_(input),
          return_sequences_(return_sequences) {
        detail::require_sequence_input("LSTM::LSTM", input);
        if (units < 1 || units > max_weights || units > max_weights / 4 / (units + input.features() + 1)) {
            detail::throw_invalid("LSTM::LSTM: units is ", units, ", expected at least 1 and at most ", max_weights,
                                  " weights in all");
        }
        units_ = units;
        weights_ = NumpyRandom(seed).randn<Scalar>(4 * units, units + input.features()) * Scalar(0.01);
        bias_ = Matrix<Scalar>::Zero(4 * units, 1);
        weights_gradient_ = Matrix<Scalar>::Zero(weights_.rows(), weights_.cols());
        bias_gradient_ = Matrix<Scalar>::Zero(4 * units, 1);
    }

    /// "lstm".
    std::string type() const override { return "lstm"; }
    /// The sequence shape given to the constructor.
    Shape input_shape() const override { return input_shape_; }
    /// Contract: see VariableSteps.
    void set_steps(Index steps) override {
        input_shape_ = detail::input_with_steps("LSTM::set_steps", input_shape_, output_shape(), steps);
        this->release_batch();
    }
    /// A sequence of `units` features per step, or `units` flat values (the last step).
    Shape output_shape() const override {
        return return_sequences_ ? Shape::sequence(input_shape_.steps(), units_) : Shape(units_);
    }
    /// "units" and "return_sequences" (1 or 0).
    Settings settings() const override {
        return Settings().set("units", static_cast<long long>(units_)).set("return_sequences", return_sequences_ ? 1 : 0);
    }
    /// W (4 units x (units + features): Wf, Wi, Wc, Wo; columns for a, then for x), with
    /// weight decay, and b (4 units x 1).
    std::vector<Parameter<Scalar>> parameters() override {
        return {{"W", &weights_, &weights_gradient_, true}, {"b", &bias_, &bias_gradient_, false}};
    }
    /// Each step's gates, cell and hidden state are kept for backward, which adds the gates'
    /// gradients and the previous hidden states.
    Index working_values() const override { return input_shape_.steps() * 11 * units_; }
    /// Multiply-adds per example: the gates' product at every step.
    Index operations() const override { return input_shape_.steps() * weights_.size(); }
    /// Contract: see Layer::clone. The recurrent state is copied too; a pending final-state
    /// gradient is not.
    std::unique_ptr<Layer<Scalar>> clone() const override {
        auto copy = std::make_unique<LSTM>(*this);
        copy->forget_final_gradient();
        return copy;
    }

    /// Hidden values per step.
    Index units() const { return units_; }
    /// Whether every step's hidden state is output (else the last).
    bool return_sequences() const { return return_sequences_; }
    /// The cell state c of every step of the last forward, in the sequence layout (units
    /// per step). Empty before any forward.
    const Matrix<Scalar>& cell_states() const { return cells_; }

    /// Contract: see RecurrentState.
    const Matrix<Scalar>& step(const Matrix<Scalar>& input) override {
        if (input.rows() != input_shape_.features() || input.cols() < 1) {
            detail::throw_shape("LSTM::step: the input is ", input.rows(), " x ", input.cols(), ", expected ",
                                input_shape_.features(), " rows (one step's features) and at least one column");
        }
        const Matrix<Scalar> previous = this->start("LSTM::step", input.cols());
        Matrix<Scalar> gates(4 * units_, input.cols());
        gates.noalias() = weights_.rightCols(input.rows()) * input;
        Matrix<Scalar> next(2 * units_, input.cols());
        advance(previous.topRows(units_), previous.bottomRows(units_), gates, next.bottomRows(units_),
                next.topRows(units_));
        this->finish_pass(std::move(next), true);
        return this->final_state();
    }

protected:
    /// Contract: see Layer::forward. Keeps every step's values and the start for backward.
    const Matrix<Scalar>& do_forward(const Matrix<Scalar>& input, Mode) override {
        start_ = this->start("LSTM::forward", input.cols());
        run(input, start_, gates_, cells_, states_);
        Matrix<Scalar> final(2 * units_, input.cols());
        final.topRows(units_) = states_.bottomRows(units_);
        final.bottomRows(units_) = cells_.bottomRows(units_);
        this->finish_pass(std::move(final));
        if (return_sequences_) {
            return states_;
        }
        output_ = states_.bottomRows(units_);
        return output_;
    }

    /// Contract: see Layer::backward. Backpropagation through time, last step first.
    const Matrix<Scalar>& do_backward(const Matrix<Scalar>& output_gradient, bool need_input_gradient) override {
        const Index u = units_;
        const Index n = input_shape_.features();
        const Index steps = input_shape_.steps();
        const Index m = this->last_input().cols();
        // dLoss/da<t> and dLoss/dc<t> from step t + 1; at the last step, what was given for the final state.
        const Matrix<Scalar> given = this->take_final_gradient("LSTM::backward", m);
        Matrix<Scalar> carried_a = given.topRows(u);
        Matrix<Scalar> carried_c = given.bottomRows(u);
        // Every step's gate gradients, in the gates' layout: the weight and input gradients
        // are then products over all steps at once.
        gate_gradients_.resize(steps * 4 * u, m);
        for (Index t = steps - 1; t >= 0; --t) {
            if (return_sequences_) {
                carried_a += output_gradient.middleRows(t * u, u);
            } else if (t == steps - 1) {
                carried_a += output_gradient;
            }
            const auto gates = gates_.middleRows(t * 4 * u, 4 * u).array();
            const auto f = gates.topRows(u);
            const auto i = gates.middleRows(u, u);
            const auto cc = gates.middleRows(2 * u, u);
            const auto o = gates.bottomRows(u);
            const auto c = cells_.middleRows(t * u, u).array();
            const auto c_previous = t > 0 ? cells_.middleRows((t - 1) * u, u) : start_.bottomRows(u);
            const auto tanh_c = c.tanh();
            // dLoss/dc<t>: what the next step sends, and what reaches c through a = o * tanh(c).
            const auto da = carried_a.array();
            const Matrix<Scalar> dc = (carried_c.array() + da * o * (Scalar(1) - tanh_c.square())).matrix();
            auto gate_gradient = gate_gradients_.middleRows(t * 4 * u, 4 * u);
            gate_gradient.topRows(u) = dc.array() * c_previous.array() * f * (Scalar(1) - f);
            gate_gradient.middleRows(u, u) = dc.array() * cc * i * (Scalar(1) - i);
            gate_gradient.middleRows(2 * u, u) = dc.array() * i * (Scalar(1) - cc.square());
            gate_gradient.bottomRows(u) = da * tanh_c * o * (Scalar(1) - o);
            carried_a.noalias() = weights_.leftCols(u).transpose() * gate_gradient;
            carried_c = dc.array() * f;
        }
        // Viewed as 4 units x (steps * m), column e * steps + t is example e's step t; the
        // input and the hidden states have the same column order.
        const Index columns = steps * m;
        const Eigen::Map<const Matrix<Scalar>> all_gradients(gate_gradients_.data(), 4 * u, columns);
        const Eigen::Map<const Matrix<Scalar>> all_inputs(this->last_input().data(), n, columns);
        previous_states_.resize(u, columns);  // a<t-1> of every step: the states one column later
        const Eigen::Map<const Matrix<Scalar>> all_states(states_.data(), u, columns);
        previous_states_.rightCols(columns - 1) = all_states.leftCols(columns - 1);
        for (Index e = 0; e < m; ++e) {
            previous_states_.col(e * steps) = start_.col(e).topRows(u);
        }
        weights_gradient_.leftCols(u).noalias() = all_gradients * previous_states_.transpose();
        weights_gradient_.rightCols(n).noalias() = all_gradients * all_inputs.transpose();
        bias_gradient_ = all_gradients.rowwise().sum();
        input_gradient_.resize(need_input_gradient ? steps * n : 0, need_input_gradient ? m : 0);
        if (need_input_gradient) {
            Eigen::Map<Matrix<Scalar>>(input_gradient_.data(), n, columns).noalias() =
                weights_.rightCols(n).transpose() * all_gradients;
        }
        this->start_gradient_.resize(2 * u, m);
        this->start_gradient_.topRows(u) = carried_a;
        this->start_gradient_.bottomRows(u) = carried_c;
        return input_gradient_;
    }

    /// Contract: see Layer::infer. Starts from the current state and changes nothing.
    void do_infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const override {
        const Matrix<Scalar> first = this->start("LSTM::infer", input.cols());
        Matrix<Scalar> gates, cells, states;
        run(input, first, gates, cells, states);
        if (return_sequences_) {
            output = std::move(states);
        } else {
            output = states.bottomRows(units_);
        }
    }

private:
    /// One step: `gates` holds the input's share (W's x columns times x<t>); adds the hidden
    /// state's share and b, applies the gates' functions, then computes c and a.
    template <class A, class C, class Gates, class NextC, class NextA>
    void advance(const A& a_previous, const C& c_previous, Gates&& gates, NextC&& c, NextA&& a) const {
        const Index u = units_;
        gates.noalias() += weights_.leftCols(u) * a_previous;
        gates.colwise() += bias_.col(0);
        const auto sigmoid = [](Scalar z) { return Scalar(1) / (Scalar(1) + std::exp(-z)); };  // the course's form
        gates.topRows(2 * u) = gates.topRows(2 * u).unaryExpr(sigmoid);
        gates.middleRows(2 * u, u) = gates.middleRows(2 * u, u).array().tanh().matrix();
        gates.bottomRows(u) = gates.bottomRows(u).unaryExpr(sigmoid);
        c = (gates.topRows(u).array() * c_previous.array() +
             gates.middleRows(u, u).array() * gates.middleRows(2 * u, u).array())
                .matrix();
        a = (gates.bottomRows(u).array() * c.array().tanh()).matrix();
    }

    /// Every step's gates, cell and hidden state, in the sequence layout.
    void run(const Matrix<Scalar>& input, const Matrix<Scalar>& first, Matrix<Scalar>& gates, Matrix<Scalar>& cells,
             Matrix<Scalar>& states) const {
        const Index u = units_;
        const Index n = input_shape_.features();
        const Index steps = input_shape_.steps();
        const Index m = input.cols();
        gates.resize(steps * 4 * u, m);
        cells.resize(steps * u, m);
        states.resize(steps * u, m);
        // The input's share of every step's gates in one product: viewed as 4 units x (steps
        // * m), the gates' column e * steps + t is example e's step t, as the input's is.
        Eigen::Map<Matrix<Scalar>>(gates.data(), 4 * u, steps * m).noalias() =
            weights_.rightCols(n) * Eigen::Map<const Matrix<Scalar>>(input.data(), n, steps * m);
        for (Index t = 0; t < steps; ++t) {
            auto step_gates = gates.middleRows(t * 4 * u, 4 * u);
            if (t == 0) {
                advance(first.topRows(u), first.bottomRows(u), step_gates, cells.middleRows(0, u),
                        states.middleRows(0, u));
            } else {
                advance(states.middleRows((t - 1) * u, u), cells.middleRows((t - 1) * u, u), step_gates,
                        cells.middleRows(t * u, u), states.middleRows(t * u, u));
            }
        }
    }

    Shape input_shape_;
    Index units_ = 0;
    bool return_sequences_ = true;
    Matrix<Scalar> weights_, bias_, weights_gradient_, bias_gradient_;
    Matrix<Scalar> start_;           // where the last forward started
    Matrix<Scalar> gates_;           // each step's f, i, cc, o
    Matrix<Scalar> gate_gradients_;  // backward: each step's dLoss/d(gates before their functions)
    Matrix<Scalar> previous_states_; // backward: each step's a<t-1>, units x (steps * m)
    Matrix<Scalar> cells_;           // each step's c
    Matrix<Scalar> states_;          // each step's a
    Matrix<Scalar> output_;          // the last step's a, when only it is output
    Matrix<Scalar> input_gradient_;
};

// ---- model files --------------------------------------------------------------------

namespace detail {

/// LSTM in the registries of a program that includes this header (settings: units,
/// return_sequences).
inline const bool lstm_registered = register_builtin_layer(
    {"lstm",
     [](const Shape& input, const Settings& s) { return recurrent_from_settings<LSTM, float>("lstm", input, s); },
     [](const Shape& input, const Settings& s) { return recurrent_from_settings<LSTM, double>("lstm", input, s); }});

}  // namespace detail

/// ONNX: the LSTM operator (W is [Wa | Wx], one bias: ONNX's recurrent bias is zero).
template <class Scalar>
void LSTM<Scalar>::export_onnx(OnnxGraphBuilder& out, const Shape& in) const {
    detail::export_recurrent_onnx<Scalar>(
        out,
        {"LSTM", "lstm", units_, weights_.rightCols(in.features()), weights_.leftCols(units_), bias_,
         Matrix<Scalar>::Zero(bias_.rows(), 1), return_sequences_},
        in);
}

}  // namespace nndl

// nndl::compiled holds LSTM<float> and LSTM<double>: a program that links it (NNDL_COMPILED)
// compiles none of the layer's code.
#if defined(NNDL_COMPILED) || defined(NNDL_COMPILED_DEFINITIONS_FLOAT) || defined(NNDL_COMPILED_DEFINITIONS_DOUBLE)
#include "../detail/compiled_fingerprint.hpp"
#include "../detail/compiled_kind.hpp"  // NNDL_COMPILED_FLOAT_KIND, NNDL_COMPILED_DOUBLE_KIND
/// \cond
namespace nndl {
NNDL_COMPILED_FLOAT_KIND template class LSTM<float>;
NNDL_COMPILED_DOUBLE_KIND template class LSTM<double>;
}  // namespace nndl
/// \endcond
#undef NNDL_COMPILED_FLOAT_KIND
#undef NNDL_COMPILED_DOUBLE_KIND
#endif
