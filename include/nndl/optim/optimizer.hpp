#pragma once
// The optimizer interface. A network hands its optimizer every trainable matrix
// with its gradient once per step, always in the same order; `slot` is the
// position in that order, so an optimizer with state (momentum, Adam, ...) keeps
// that state per slot and a copied or moved network keeps working with it.

#include <cstddef>
#include <string>

#include "../errors.hpp"
#include "../types.hpp"

namespace nndl {

/// The base of every optimizer: a learning rate and an update per parameter slot (see
/// the top of optimizer.hpp). Network::apply calls begin_step() once, then update() for
/// every slot in order.
template <class Scalar>
class Optimizer {
public:
    /// `who` names the optimizer in the message when the rate is not a finite number > 0
    /// (InvalidArgument).
    Optimizer(double learning_rate, const char* who) : rate_(checked_rate(who, learning_rate)) {}
    /// Copies the learning rate; a derived class copies its own state too.
    Optimizer(const Optimizer&) = default;
    /// Copies the learning rate; a derived class copies its own state too.
    Optimizer& operator=(const Optimizer&) = default;
    /// Destroys the optimizer and its state.
    virtual ~Optimizer() = default;

    /// A short lower-case name ("gd", "momentum", "adam", ...), used in messages.
    virtual std::string name() const = 0;
    /// Called once at the start of each step, before the updates of that step.
    virtual void begin_step() {}
    /// Updates one parameter in place from its gradient. `slot` is the parameter's position
    /// in the network's list. Throws ShapeError when parameter and gradient differ in shape,
    /// or (optimizers with state) when the slot's state has another shape: call reset()
    /// before training another network.
    virtual void update(std::size_t slot, Matrix<Scalar>& parameter, const Matrix<Scalar>& gradient) = 0;
    /// Forgets all state (a new training run).
    virtual void reset() {}

    /// The current learning rate (a schedule may change it during training).
    double learning_rate() const { return rate_; }
    /// Sets the learning rate; throws InvalidArgument unless it is a finite number > 0.
    /// State (velocities, averages) is kept.
    void set_learning_rate(double rate) {
        rate_ = checked_rate(("Optimizer::set_learning_rate (" + name() + ")").c_str(), rate);
    }

protected:
    /// `rate` when it is a finite number > 0; else throws InvalidArgument naming `where`.
    static double checked_rate(const char* where, double rate) {
        if (!(rate > 0.0) || !std::isfinite(rate)) {
            detail::throw_invalid(where, ": learning rate is ", rate, ", expected a finite number > 0");
        }
        return rate;
    }

private:
    double rate_;
};

/// Plain gradient descent: p -= learning_rate * g.
template <class Scalar>
class GradientDescent final : public Optimizer<Scalar> {
public:
    /// Throws InvalidArgument unless `learning_rate` is a finite number > 0.
    explicit GradientDescent(double learning_rate = 0.01)
        : Optimizer<Scalar>(learning_rate, "GradientDescent::GradientDescent") {}

    /// "gd".
    std::string name() const override { return "gd"; }

    /// p -= learning_rate * g; no state. Throws ShapeError when the shapes differ.
    void update(std::size_t, Matrix<Scalar>& parameter, const Matrix<Scalar>& gradient) override {
        detail::require_same_shape("GradientDescent::update", "parameter", parameter, "gradient", gradient);
        parameter.noalias() -= static_cast<Scalar>(this->learning_rate()) * gradient;
    }
};

}  // namespace nndl
