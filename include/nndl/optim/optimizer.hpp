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

template <class Scalar>
class Optimizer {
public:
    /// `who` names the optimizer in the message when the rate is not a finite number > 0.
    Optimizer(double learning_rate, const char* who) : rate_(checked_rate(who, learning_rate)) {}
    Optimizer(const Optimizer&) = default;
    Optimizer& operator=(const Optimizer&) = default;
    virtual ~Optimizer() = default;

    virtual std::string name() const = 0;
    /// Called once at the start of each step, before the updates of that step.
    virtual void begin_step() {}
    /// Updates one parameter in place from its gradient.
    virtual void update(std::size_t slot, Matrix<Scalar>& parameter, const Matrix<Scalar>& gradient) = 0;
    /// Forgets all state (a new training run).
    virtual void reset() {}

    double learning_rate() const { return rate_; }
    void set_learning_rate(double rate) {
        rate_ = checked_rate(("Optimizer::set_learning_rate (" + name() + ")").c_str(), rate);
    }

protected:
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
    explicit GradientDescent(double learning_rate = 0.01)
        : Optimizer<Scalar>(learning_rate, "GradientDescent::GradientDescent") {}

    std::string name() const override { return "gd"; }

    void update(std::size_t, Matrix<Scalar>& parameter, const Matrix<Scalar>& gradient) override {
        detail::require_same_shape("GradientDescent::update", "parameter", parameter, "gradient", gradient);
        parameter.noalias() -= static_cast<Scalar>(this->learning_rate()) * gradient;
    }
};

}  // namespace nndl
