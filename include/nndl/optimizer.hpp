#pragma once
// The optimizer interface. A network hands its optimizer every trainable matrix
// with its gradient once per step, always in the same order; `slot` is the
// position in that order, so an optimizer with state (momentum, Adam, ...) keeps
// that state per slot and a copied or moved network keeps working with it.

#include <cstddef>
#include <string>

#include "errors.hpp"
#include "types.hpp"

namespace nndl {

template <class Scalar>
class Optimizer {
public:
    Optimizer() = default;
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

    virtual double learning_rate() const = 0;
    virtual void set_learning_rate(double rate) = 0;

protected:
    static double checked_rate(const char* where, double rate) {
        if (!(rate > 0.0) || !std::isfinite(rate)) {
            detail::throw_invalid(where, ": learning rate is ", rate, ", expected a finite number > 0");
        }
        return rate;
    }
};

/// Plain gradient descent: p -= learning_rate * g.
template <class Scalar>
class GradientDescent final : public Optimizer<Scalar> {
public:
    explicit GradientDescent(double learning_rate = 0.01)
        : rate_(Optimizer<Scalar>::checked_rate("GradientDescent::GradientDescent", learning_rate)) {}

    std::string name() const override { return "gd"; }

    void update(std::size_t, Matrix<Scalar>& parameter, const Matrix<Scalar>& gradient) override {
        detail::require_same_shape("GradientDescent::update", "parameter", parameter, "gradient", gradient);
        parameter.noalias() -= static_cast<Scalar>(rate_) * gradient;
    }

    double learning_rate() const override { return rate_; }
    void set_learning_rate(double rate) override {
        rate_ = Optimizer<Scalar>::checked_rate("GradientDescent::set_learning_rate", rate);
    }

private:
    double rate_;
};

}  // namespace nndl
