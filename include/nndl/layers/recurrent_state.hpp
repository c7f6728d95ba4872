#pragma once
// What the recurrent layers (SimpleRNN, LSTM, GRU) share of the RecurrentState capability
// (layer.hpp): the state the next pass starts from, carrying it, the final state, and the
// gradients at both ends. A layer derives from KeptRecurrentState, asks start() where a
// pass begins, hands its final state to finish_pass(), and takes the gradient given for the
// final state with take_final_gradient() in backward.

#include <memory>
#include <string>
#include <utility>

#include "../errors.hpp"
#include "../layer.hpp"
#include "../types.hpp"

namespace nndl {

/// RecurrentState kept for a layer whose state has `state_size()` rows (see the top of
/// recurrent_state.hpp). The layer implements step() and writes start_gradient_ in backward.
template <class Scalar>
class KeptRecurrentState : public RecurrentState<Scalar> {
public:
    /// Contract: see RecurrentState.
    Index state_size() const final { return size_; }
    /// Contract: see RecurrentState.
    void set_initial_state(const Matrix<Scalar>& state) final {
        const std::string where = layer_ + "::set_initial_state";
        if (state.rows() != size_ || state.cols() < 1) {
            detail::throw_shape(where, ": the state is ", state.rows(), " x ", state.cols(), ", expected ", size_,
                                " rows (", rows_are_, ") and at least one column");
        }
        detail::require_finite(where.c_str(), "the state", state);
        state_ = state;
    }
    /// Contract: see RecurrentState.
    void reset_state() final {
        state_.resize(0, 0);
        final_gradient_.resize(0, 0);
    }
    /// Contract: see RecurrentState.
    void set_carry(bool carry) final { carry_ = carry; }
    /// Contract: see RecurrentState.
    const Matrix<Scalar>& final_state() const final { return final_state_; }
    /// Contract: see RecurrentState.
    const Matrix<Scalar>& initial_state_gradient() const final { return start_gradient_; }
    /// Contract: see RecurrentState.
    void set_final_state_gradient(const Matrix<Scalar>& gradient) final {
        const std::string where = layer_ + "::set_final_state_gradient";
        if (gradient.rows() != size_ || gradient.cols() < 1) {
            detail::throw_shape(where, ": the gradient is ", gradient.rows(), " x ", gradient.cols(), ", expected ",
                                size_, " rows (", rows_are_, ") and at least one column");
        }
        detail::require_finite(where.c_str(), "the gradient", gradient);
        final_gradient_ = gradient;
    }

protected:
    /// `layer` names the layer in messages ("LSTM"); the state has `size` rows, which
    /// `rows_are` describes ("the units").
    KeptRecurrentState(std::string layer, Index size, std::string rows_are)
        : layer_(std::move(layer)), rows_are_(std::move(rows_are)), size_(size) {}

    /// The state a pass over `columns` examples starts from: the current one, or zeros.
    /// Throws ShapeError, naming `where`, when the current one has another number of examples.
    Matrix<Scalar> start(const char* where, Index columns) const {
        if (state_.size() == 0) {
            return Matrix<Scalar>::Zero(size_, columns);
        }
        if (state_.cols() != columns) {
            detail::throw_shape(where, ": the state holds ", state_.cols(), " examples, the batch has ", columns,
                                "; expected as many (reset_state() starts from zeros)");
        }
        return state_;
    }

    /// Keeps the state a forward (with `carry`: only then also the next start) or a step
    /// (`always_carry`) ended in.
    void finish_pass(Matrix<Scalar> final, bool always_carry = false) {
        final_state_ = std::move(final);
        if (carry_ || always_carry) {
            state_ = final_state_;
        }
    }

    /// The gradient given for the final state of a batch of `columns` examples (zeros when
    /// none was given), forgotten once taken. One of another width is dropped and refused
    /// (ShapeError naming `where`), so it cannot block a later backward.
    Matrix<Scalar> take_final_gradient(const char* where, Index columns) {
        Matrix<Scalar> taken = std::move(final_gradient_);
        final_gradient_.resize(0, 0);
        if (taken.size() == 0) {
            return Matrix<Scalar>::Zero(size_, columns);
        }
        if (taken.cols() != columns) {
            detail::throw_shape(where, ": the final state's gradient has ", taken.cols(), " columns, the batch ",
                                columns);
        }
        return taken;
    }

    /// For clone(): a copy does not take over a gradient given for this layer's last forward.
    void forget_final_gradient() { final_gradient_.resize(0, 0); }

    Matrix<Scalar> start_gradient_;  ///< dLoss/d(start state) of the last backward, written by the layer

private:
    std::string layer_;
    std::string rows_are_;
    Index size_ = 0;
    bool carry_ = false;
    Matrix<Scalar> state_;           // where the next pass starts; empty: zeros
    Matrix<Scalar> final_state_;     // where the last forward or step ended
    Matrix<Scalar> final_gradient_;  // dLoss/d(final state) from outside, for the next backward
};

namespace detail {

/// Throws InvalidArgument, naming `where`, unless `input` is a valid sequence shape.
inline void require_sequence_input(const char* where, const Shape& input) {
    if (!input.is_sequence() || !input.valid()) {
        throw_invalid(where, ": the input is ", input.to_string(), ", expected a sequence (Shape::sequence(steps, features))",
                      input.is_sequence() ? concat(" of at most ", Shape::max_values, " values") : std::string());
    }
}

/// A recurrent layer (SimpleRNN, LSTM, GRU) from a model file's settings: units and
/// return_sequences (0 or 1); `type` names it in messages.
template <template <class> class Recurrent, class Scalar>
std::unique_ptr<Layer<Scalar>> recurrent_from_settings(const char* type, const Shape& input, const Settings& s) {
    const long long units = s.integer("units");
    const long long sequences = s.integer("return_sequences");
    if (sequences != 0 && sequences != 1) {
        throw_invalid(type, ": return_sequences is ", sequences, ", expected 0 or 1");
    }
    if (units < 1 || units > Recurrent<Scalar>::max_weights) {
        throw_invalid(type, ": units is ", units, ", expected at least 1 and at most ", Recurrent<Scalar>::max_weights);
    }
    return std::make_unique<Recurrent<Scalar>>(input, static_cast<Index>(units), sequences == 1);
}

}  // namespace detail

}  // namespace nndl
