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
#include "../random.hpp"
#include "../types.hpp"
#include "registry.hpp"

namespace nndl {

/// A tanh recurrent layer over sequences (see the top of simple_rnn.hpp).
template <class Scalar>
class SimpleRNN final : public Layer<Scalar>, public RecurrentState<Scalar> {
public:
    /// The most weights (Wax, Waa and ba together) a SimpleRNN may have: 2^26.
    static constexpr Index max_weights = Index(1) << 26;

    /// `units` hidden values over sequences of `input` shape; every step's state is output
    /// when `return_sequences`, else the last. Wax and Waa are drawn as the course does:
    /// NumpyRandom(seed).randn() * 0.01, Wax first; ba is zero. Throws InvalidArgument when
    /// `input` is not a sequence, units is below 1, or the weights would be more than
    /// max_weights.
    SimpleRNN(Shape input, Index units, bool return_sequences = true, std::uint32_t seed = 1)
        : input_shape_(input), return_sequences_(return_sequences) {
        if (!input.is_sequence() || !input.valid()) {
            detail::throw_invalid("SimpleRNN::SimpleRNN: the input is ", input.to_string(),
                                  ", expected a sequence (Shape::sequence(steps, features))");
        }
        if (units < 1 || units > max_weights / (units + input.features() + 1)) {
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
    /// Contract: see Layer::clone. The recurrent state is copied too.
    std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<SimpleRNN>(*this); }

    /// Hidden values per step.
    Index units() const { return w_recurrent_.rows(); }
    /// Whether every step's state is output (else the last).
    bool return_sequences() const { return return_sequences_; }

    /// Contract: see RecurrentState; the units.
    Index state_size() const override { return units(); }
    /// Contract: see RecurrentState.
    void set_initial_state(const Matrix<Scalar>& state) override {
        if (state.rows() != units() || state.cols() < 1) {
            detail::throw_shape("SimpleRNN::set_initial_state: the state is ", state.rows(), " x ", state.cols(),
                                ", expected ", units(), " rows (the units) and at least one column");
        }
        detail::require_finite("SimpleRNN::set_initial_state", "the state", state);
        state_ = state;
    }
    /// Contract: see RecurrentState.
    void reset_state() override { state_.resize(0, 0); }
    /// Contract: see RecurrentState.
    void set_carry(bool carry) override { carry_ = carry; }
    /// Contract: see RecurrentState.
    const Matrix<Scalar>& final_state() const override { return final_state_; }
    /// Contract: see RecurrentState.
    const Matrix<Scalar>& initial_state_gradient() const override { return start_gradient_; }
    /// Contract: see RecurrentState.
    void set_final_state_gradient(const Matrix<Scalar>& gradient) override {
        if (gradient.rows() != units() || gradient.cols() < 1) {
            detail::throw_shape("SimpleRNN::set_final_state_gradient: the gradient is ", gradient.rows(), " x ",
                                gradient.cols(), ", expected ", units(), " rows (the units) and at least one column");
        }
        final_gradient_ = gradient;
    }
    /// Contract: see RecurrentState.
    const Matrix<Scalar>& step(const Matrix<Scalar>& input) override {
        if (input.rows() != input_shape_.features() || input.cols() < 1) {
            detail::throw_shape("SimpleRNN::step: the input is ", input.rows(), " x ", input.cols(), ", expected ",
                                input_shape_.features(), " rows (one step's features) and at least one column");
        }
        Matrix<Scalar> next = start("SimpleRNN::step", input.cols());
        advance(input, next, next);
        state_ = next;
        final_state_ = std::move(next);
        return final_state_;
    }

protected:
    /// Contract: see Layer::forward. Keeps every step's state and the start for backward.
    const Matrix<Scalar>& do_forward(const Matrix<Scalar>& input, Mode) override {
        start_ = start("SimpleRNN::forward", input.cols());
        run(input, start_, states_);
        final_state_ = states_.bottomRows(units());
        if (carry_) {
            state_ = final_state_;
        }
        if (return_sequences_) {
            return states_;
        }
        output_ = final_state_;
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
        Matrix<Scalar> carried = Matrix<Scalar>::Zero(u, m);  // dLoss/da<t> sent back from step t + 1
        if (final_gradient_.size() != 0) {
            if (final_gradient_.cols() != m) {
                detail::throw_shape("SimpleRNN::backward: the final state's gradient has ", final_gradient_.cols(),
                                    " columns, the batch ", m);
            }
            carried = final_gradient_;
            final_gradient_.resize(0, 0);
        }
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
        start_gradient_ = std::move(carried);
        return input_gradient_;
    }

    /// Contract: see Layer::infer. Starts from the current state and changes nothing.
    void do_infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const override {
        const Matrix<Scalar> first = start("SimpleRNN::infer", input.cols());
        if (return_sequences_) {
            run(input, first, output);
            return;
        }
        Matrix<Scalar> states;
        run(input, first, states);
        output = states.bottomRows(units());
    }

private:
    /// The state a pass over `columns` examples starts from: the current one, or zeros.
    Matrix<Scalar> start(const char* where, Index columns) const {
        if (state_.size() == 0) {
            return Matrix<Scalar>::Zero(units(), columns);
        }
        if (state_.cols() != columns) {
            detail::throw_shape(where, ": the state holds ", state_.cols(), " examples, the batch has ", columns,
                                "; expected as many (reset_state() starts from zeros)");
        }
        return state_;
    }

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
    bool carry_ = false;
    Matrix<Scalar> w_input_, w_recurrent_, bias_;
    Matrix<Scalar> w_input_gradient_, w_recurrent_gradient_, bias_gradient_;
    Matrix<Scalar> state_;           // where the next pass starts; empty: zeros
    Matrix<Scalar> start_;           // where the last forward started
    Matrix<Scalar> states_;          // every step's state of the last forward
    Matrix<Scalar> final_state_;     // the last forward's or step's final state
    Matrix<Scalar> start_gradient_;  // dLoss/d(start) of the last backward
    Matrix<Scalar> final_gradient_;  // dLoss/d(final state) from outside, for the next backward
    Matrix<Scalar> output_;          // the last step's state, when only it is output
    Matrix<Scalar> input_gradient_;
};

// ---- model files --------------------------------------------------------------------

namespace detail {

/// A SimpleRNN from a model file's settings: units, return_sequences (0 or 1).
template <class Scalar>
std::unique_ptr<Layer<Scalar>> simple_rnn_from_settings(const Shape& input, const Settings& s) {
    const long long units = s.integer("units");
    const long long sequences = s.integer("return_sequences");
    if (sequences != 0 && sequences != 1) {
        throw_invalid("simple_rnn: return_sequences is ", sequences, ", expected 0 or 1");
    }
    if (units < 1 || units > SimpleRNN<Scalar>::max_weights) {
        throw_invalid("simple_rnn: units is ", units, ", expected at least 1 and at most ",
                      SimpleRNN<Scalar>::max_weights);
    }
    return std::make_unique<SimpleRNN<Scalar>>(input, static_cast<Index>(units), sequences == 1);
}

/// SimpleRNN in the registries of a program that includes this header.
inline const bool simple_rnn_registered =
    register_builtin_layer({"simple_rnn", simple_rnn_from_settings<float>, simple_rnn_from_settings<double>});

}  // namespace detail

}  // namespace nndl
