#pragma once
// A gated recurrent unit layer, in the form PyTorch's nn.GRU computes (also Keras with
// reset_after and ONNX with linear_before_reset = 1, whose weights stack the gates in
// another order), so PyTorch's weights carry over as they are:
//   r = sigmoid(Wx_r x + bx_r + Wh_r h + bh_r)          reset gate
//   z = sigmoid(Wx_z x + bx_z + Wh_z h + bh_z)          update gate
//   n = tanh(Wx_n x + bx_n + r * (Wh_n h + bh_n))       candidate
//   h' = (1 - z) * n + z * h
// Wx (3 units x features) and Wh (3 units x units) stack the rows of the r, z and n gates
// in that order (PyTorch's weight_ih_l0 and weight_hh_l0), with biases bx and bh (3 units
// x 1). Input a sequence; output every step's h or the last; the recurrent state is h.

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

/// A GRU layer over sequences (see the top of gru.hpp).
template <class Scalar>
class GRU final : public Layer<Scalar>, public KeptRecurrentState<Scalar>, public VariableSteps<Scalar>,
                  public OnnxExportable<Scalar> {
public:
    /// Contract: see OnnxExportable::export_onnx (layer_onnx.hpp).
    void export_onnx(OnnxGraphBuilder& out, const Shape& in) const override;
    /// The most weights (Wx, Wh, bx, bh together) a GRU may have: 2^26.
    static constexpr Index max_weights = Index(1) << 26;

    /// `units` hidden values over sequences of `input` shape; every step's h is output when
    /// `return_sequences`, else the last. Wx, then Wh, are drawn from
    /// NumpyRandom(seed).randn() * 0.01; the biases are zero. Throws InvalidArgument when
    /// `input` is not a sequence, units is below 1, or the weights would be more than
    /// max_weights.
    GRU(Shape input, Index units, bool return_sequences = true, std::uint32_t seed = 1)
        : KeptRecurrentState<Scalar>("GRU", units, "the units"), input_shape_(input), return_sequences_(return_sequences) {
        detail::require_sequence_input("GRU::GRU", input);
        if (units < 1 || units > max_weights || units > max_weights / 3 / (units + input.features() + 2)) {
            detail::throw_invalid("GRU::GRU: units is ", units, ", expected at least 1 and at most ", max_weights,
                                  " weights in all");
        }
        units_ = units;
        NumpyRandom random(seed);
        w_input_ = random.randn<Scalar>(3 * units, input.features()) * Scalar(0.01);
        w_recurrent_ = random.randn<Scalar>(3 * units, units) * Scalar(0.01);
        b_input_ = Matrix<Scalar>::Zero(3 * units, 1);
        b_recurrent_ = Matrix<Scalar>::Zero(3 * units, 1);
        w_input_gradient_ = Matrix<Scalar>::Zero(w_input_.rows(), w_input_.cols());
        w_recurrent_gradient_ = Matrix<Scalar>::Zero(w_recurrent_.rows(), w_recurrent_.cols());
        b_input_gradient_ = Matrix<Scalar>::Zero(3 * units, 1);
        b_recurrent_gradient_ = Matrix<Scalar>::Zero(3 * units, 1);
    }

    /// "gru".
    std::string type() const override { return "gru"; }
    /// The sequence shape given to the constructor.
    Shape input_shape() const override { return input_shape_; }
    /// Contract: see VariableSteps.
    void set_steps(Index steps) override {
        input_shape_ = detail::input_with_steps("GRU::set_steps", input_shape_, output_shape(), steps);
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
    /// Wx, Wh (weight decay), bx, bh.
    std::vector<Parameter<Scalar>> parameters() override {
        return {{"Wx", &w_input_, &w_input_gradient_, true},
                {"Wh", &w_recurrent_, &w_recurrent_gradient_, true},
                {"bx", &b_input_, &b_input_gradient_, false},
                {"bh", &b_recurrent_, &b_recurrent_gradient_, false}};
    }
    /// Each step's gates, Wh_n h + bh_n and h are kept for backward.
    Index working_values() const override { return input_shape_.steps() * 5 * units_; }
    /// Multiply-adds per example: both products at every step.
    Index operations() const override {
        return input_shape_.steps() * (w_input_.size() + w_recurrent_.size());
    }
    /// Contract: see Layer::clone. The recurrent state is copied too; a pending final-state
    /// gradient is not.
    std::unique_ptr<Layer<Scalar>> clone() const override {
        auto copy = std::make_unique<GRU>(*this);
        copy->forget_final_gradient();
        return copy;
    }

    /// Hidden values per step.
    Index units() const { return units_; }
    /// Whether every step's h is output (else the last).
    bool return_sequences() const { return return_sequences_; }

    /// Contract: see RecurrentState.
    const Matrix<Scalar>& step(const Matrix<Scalar>& input) override {
        if (input.rows() != input_shape_.features() || input.cols() < 1) {
            detail::throw_shape("GRU::step: the input is ", input.rows(), " x ", input.cols(), ", expected ",
                                input_shape_.features(), " rows (one step's features) and at least one column");
        }
        const Matrix<Scalar> previous = this->start("GRU::step", input.cols());
        Matrix<Scalar> gates(3 * units_, input.cols()), recurrent_n(units_, input.cols()), next(units_, input.cols());
        advance(input, previous, gates, recurrent_n, next);
        this->finish_pass(std::move(next), true);
        return this->final_state();
    }

protected:
    /// Contract: see Layer::forward. Keeps every step's values and the start for backward.
    const Matrix<Scalar>& do_forward(const Matrix<Scalar>& input, Mode) override {
        start_ = this->start("GRU::forward", input.cols());
        run(input, start_, gates_, recurrent_n_, states_);
        this->finish_pass(states_.bottomRows(units_));
        if (return_sequences_) {
            return states_;
        }
        output_ = this->final_state();
        return output_;
    }

    /// Contract: see Layer::backward. Backpropagation through time, last step first.
    const Matrix<Scalar>& do_backward(const Matrix<Scalar>& output_gradient, bool need_input_gradient) override {
        const Matrix<Scalar>& x = this->last_input();
        const Index u = units_;
        const Index n = input_shape_.features();
        const Index steps = input_shape_.steps();
        const Index m = x.cols();
        // dLoss/dh<t> from step t + 1; at the last step, what was given for the final state.
        Matrix<Scalar> carried = this->take_final_gradient("GRU::backward", m);
        w_input_gradient_.setZero();
        w_recurrent_gradient_.setZero();
        b_input_gradient_.setZero();
        b_recurrent_gradient_.setZero();
        input_gradient_.resize(need_input_gradient ? steps * n : 0, need_input_gradient ? m : 0);
        Matrix<Scalar> input_side(3 * u, m), recurrent_side(3 * u, m), previous(u, m);
        for (Index t = steps - 1; t >= 0; --t) {
            if (return_sequences_) {
                carried += output_gradient.middleRows(t * u, u);
            } else if (t == steps - 1) {
                carried += output_gradient;
            }
            previous = t > 0 ? Matrix<Scalar>(states_.middleRows((t - 1) * u, u)) : start_;
            const auto gates = gates_.middleRows(t * 3 * u, 3 * u).array();
            const auto r = gates.topRows(u);
            const auto z = gates.middleRows(u, u);
            const auto candidate = gates.bottomRows(u);
            const auto dh = carried.array();
            const Matrix<Scalar> dn = (dh * (Scalar(1) - z) * (Scalar(1) - candidate.square())).matrix();
            input_side.topRows(u) =
                dn.array() * recurrent_n_.middleRows(t * u, u).array() * r * (Scalar(1) - r);  // dr, before sigmoid
            input_side.middleRows(u, u) = dh * (previous.array() - candidate) * z * (Scalar(1) - z);
            input_side.bottomRows(u) = dn;
            recurrent_side.topRows(2 * u) = input_side.topRows(2 * u);
            recurrent_side.bottomRows(u) = dn.array() * r;
            w_input_gradient_.noalias() += input_side * x.middleRows(t * n, n).transpose();
            b_input_gradient_ += input_side.rowwise().sum();
            w_recurrent_gradient_.noalias() += recurrent_side * previous.transpose();
            b_recurrent_gradient_ += recurrent_side.rowwise().sum();
            if (need_input_gradient) {
                input_gradient_.middleRows(t * n, n).noalias() = w_input_.transpose() * input_side;
            }
            const Matrix<Scalar> through_z = (dh * z).matrix();
            carried.noalias() = w_recurrent_.transpose() * recurrent_side;
            carried += through_z;
        }
        this->start_gradient_ = std::move(carried);
        return input_gradient_;
    }

    /// Contract: see Layer::infer. Starts from the current state and changes nothing.
    void do_infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const override {
        const Matrix<Scalar> first = this->start("GRU::infer", input.cols());
        Matrix<Scalar> gates, recurrent_n, states;
        run(input, first, gates, recurrent_n, states);
        if (return_sequences_) {
            output = std::move(states);
        } else {
            output = states.bottomRows(units_);
        }
    }

private:
    /// One step: the gates r, z, n into `gates`, Wh_n h + bh_n into `recurrent_n`, h' into `next`.
    template <class X, class H, class Gates, class RecurrentN, class Next>
    void advance(const X& x, const H& h, Gates&& gates, RecurrentN&& recurrent_n, Next&& next) const {
        const Index u = units_;
        const auto sigmoid = [](Scalar v) { return Scalar(1) / (Scalar(1) + std::exp(-v)); };
        Matrix<Scalar> from_h = w_recurrent_ * h;
        from_h.colwise() += b_recurrent_.col(0);
        gates.noalias() = w_input_ * x;
        gates.colwise() += b_input_.col(0);
        gates.topRows(2 * u) = (gates.topRows(2 * u) + from_h.topRows(2 * u)).unaryExpr(sigmoid);
        recurrent_n = from_h.bottomRows(u);
        gates.bottomRows(u) =
            (gates.bottomRows(u).array() + gates.topRows(u).array() * recurrent_n.array()).tanh().matrix();
        next = ((Scalar(1) - gates.middleRows(u, u).array()) * gates.bottomRows(u).array() +
                gates.middleRows(u, u).array() * h.array())
                   .matrix();
    }

    /// Every step's gates, Wh_n h + bh_n and h, in the sequence layout.
    void run(const Matrix<Scalar>& input, const Matrix<Scalar>& first, Matrix<Scalar>& gates,
             Matrix<Scalar>& recurrent_n, Matrix<Scalar>& states) const {
        const Index u = units_;
        const Index n = input_shape_.features();
        const Index steps = input_shape_.steps();
        gates.resize(steps * 3 * u, input.cols());
        recurrent_n.resize(steps * u, input.cols());
        states.resize(steps * u, input.cols());
        for (Index t = 0; t < steps; ++t) {
            if (t == 0) {
                advance(input.middleRows(0, n), first, gates.middleRows(0, 3 * u), recurrent_n.middleRows(0, u),
                        states.middleRows(0, u));
            } else {
                const Matrix<Scalar> previous = states.middleRows((t - 1) * u, u);
                advance(input.middleRows(t * n, n), previous, gates.middleRows(t * 3 * u, 3 * u),
                        recurrent_n.middleRows(t * u, u), states.middleRows(t * u, u));
            }
        }
    }

    Shape input_shape_;
    Index units_ = 0;
    bool return_sequences_ = true;
    Matrix<Scalar> w_input_, w_recurrent_, b_input_, b_recurrent_;
    Matrix<Scalar> w_input_gradient_, w_recurrent_gradient_, b_input_gradient_, b_recurrent_gradient_;
    Matrix<Scalar> start_;           // where the last forward started
    Matrix<Scalar> gates_;           // each step's r, z, n
    Matrix<Scalar> recurrent_n_;     // each step's Wh_n h + bh_n
    Matrix<Scalar> states_;          // each step's h
    Matrix<Scalar> output_;          // the last step's h, when only it is output
    Matrix<Scalar> input_gradient_;
};

// ---- model files --------------------------------------------------------------------

namespace detail {

/// GRU in the registries of a program that includes this header (settings: units,
/// return_sequences).
inline const bool gru_registered = register_builtin_layer(
    {"gru",
     [](const Shape& input, const Settings& s) { return recurrent_from_settings<GRU, float>("gru", input, s); },
     [](const Shape& input, const Settings& s) { return recurrent_from_settings<GRU, double>("gru", input, s); }});

}  // namespace detail

/// ONNX: the GRU operator with linear_before_reset 1 (PyTorch's form, nndl's).
template <class Scalar>
void GRU<Scalar>::export_onnx(OnnxGraphBuilder& out, const Shape& in) const {
    detail::export_recurrent_onnx<Scalar>(
        out, {"GRU", "gru", units_, w_input_, w_recurrent_, b_input_, b_recurrent_, return_sequences_}, in);
}

}  // namespace nndl

// nndl::compiled holds GRU<float> and GRU<double>: a program that links it (NNDL_COMPILED)
// compiles none of the layer's code.
#if defined(NNDL_COMPILED) || defined(NNDL_COMPILED_DEFINITIONS_FLOAT) || defined(NNDL_COMPILED_DEFINITIONS_DOUBLE)
#include "../detail/compiled_fingerprint.hpp"
#include "../detail/compiled_kind.hpp"  // NNDL_COMPILED_FLOAT_KIND, NNDL_COMPILED_DOUBLE_KIND
/// \cond
namespace nndl {
NNDL_COMPILED_FLOAT_KIND template class GRU<float>;
NNDL_COMPILED_DOUBLE_KIND template class GRU<double>;
}  // namespace nndl
/// \endcond
#undef NNDL_COMPILED_FLOAT_KIND
#undef NNDL_COMPILED_DOUBLE_KIND
#endif
