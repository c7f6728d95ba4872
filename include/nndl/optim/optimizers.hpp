#pragma once
// Optimizers beyond plain gradient descent, on the interface of optimizer.hpp.
// State (velocities, squared-gradient averages) is kept per parameter slot and
// created on the first step, so one optimizer serves any network shape.
//
// Conventions follow the course "Improving Deep Neural Networks":
//   Momentum   v = beta v + (1 - beta) g;                 p -= lr v
//   Nesterov   v = beta v + (1 - beta) g;                 p -= lr (beta v + (1 - beta) g)
//   RMSProp    s = beta s + (1 - beta) g^2;               p -= lr g / (sqrt(s) + eps)
//   Adam       v, s as above; v^ = v / (1 - beta1^t), s^ = s / (1 - beta2^t);
//                                                         p -= lr v^ / (sqrt(s^) + eps)
//   AdaGrad    s = s + g^2;                               p -= lr g / (sqrt(s) + eps)

#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "../errors.hpp"
#include "optimizer.hpp"
#include "../detail/parallel.hpp"
#include "../types.hpp"

namespace nndl {

namespace detail {

/// Per-slot state matrices, created zero-filled with the parameter's shape on first use.
template <class Scalar>
class SlotState {
public:
    Matrix<Scalar>& at(std::size_t slot, const Matrix<Scalar>& like, const char* where) {
        if (slot >= states_.size()) {
            states_.resize(slot + 1);
        }
        Matrix<Scalar>& s = states_[slot];
        if (s.size() == 0) {
            s = Matrix<Scalar>::Zero(like.rows(), like.cols());
        } else if (s.rows() != like.rows() || s.cols() != like.cols()) {
            throw_shape(where, ": slot ", slot, " was ", s.rows(), "x", s.cols(), " and is now ", like.rows(), "x",
                        like.cols(), "; call reset() before training another network");
        }
        return s;
    }
    void clear() { states_.clear(); }

private:
    std::vector<Matrix<Scalar>> states_;
};

inline double checked_beta(const char* where, const char* name, double beta) {
    if (!(beta >= 0.0 && beta < 1.0)) {
        throw_invalid(where, ": ", name, " is ", beta, ", expected a number in [0, 1)");
    }
    return beta;
}

inline double checked_epsilon(const char* where, double eps) {
    if (!(eps > 0.0) || !std::isfinite(eps)) {
        throw_invalid(where, ": epsilon is ", eps, ", expected a finite number > 0");
    }
    return eps;
}

}  // namespace detail

/// Gradient descent with momentum: v = beta v + (1 - beta) g, p -= lr v (the course's
/// exponentially weighted average, not v = beta v + g); Nesterov's form when `nesterov`.
template <class Scalar>
class Momentum final : public Optimizer<Scalar> {
public:
    /// Velocities start at zero. Throws InvalidArgument unless the rate is a finite number
    /// > 0 and beta is in [0, 1).
    explicit Momentum(double learning_rate = 0.01, double beta = 0.9, bool nesterov = false)
        : Optimizer<Scalar>(learning_rate, "Momentum::Momentum"),
          beta_(detail::checked_beta("Momentum::Momentum", "beta", beta)),
          nesterov_(nesterov) {}

    /// "momentum", or "nesterov" when built with `nesterov`.
    std::string name() const override { return nesterov_ ? "nesterov" : "momentum"; }
    /// Contract: see Optimizer::update. The table at the top of optimizers.hpp gives the step.
    void update(std::size_t slot, Matrix<Scalar>& p, const Matrix<Scalar>& g) override {
        detail::require_same_shape("Momentum::update", "parameter", p, "gradient", g);
        auto& v = velocity_.at(slot, p, "Momentum::update");
        const auto beta = static_cast<Scalar>(beta_);
        const auto rate = static_cast<Scalar>(this->learning_rate());
        v = beta * v + (Scalar(1) - beta) * g;
        if (nesterov_) {
            p.noalias() -= rate * (beta * v + (Scalar(1) - beta) * g);
        } else {
            p.noalias() -= rate * v;
        }
    }
    /// Forgets the velocities.
    void reset() override { velocity_.clear(); }

private:
    double beta_;
    bool nesterov_;
    detail::SlotState<Scalar> velocity_;
};

/// Nesterov momentum (see the table at the top).
template <class Scalar>
class Nesterov final : public Optimizer<Scalar> {
public:
    /// The same as Momentum(learning_rate, beta, true), and the same checks.
    explicit Nesterov(double learning_rate = 0.01, double beta = 0.9)
        : Optimizer<Scalar>(learning_rate, "Nesterov::Nesterov"), inner_(learning_rate, beta, true) {}
    /// "nesterov".
    std::string name() const override { return inner_.name(); }
    /// Contract: see Optimizer::update. Uses this optimizer's current learning rate.
    void update(std::size_t slot, Matrix<Scalar>& p, const Matrix<Scalar>& g) override {
        inner_.set_learning_rate(this->learning_rate());  // follows schedules applied to this optimizer
        inner_.update(slot, p, g);
    }
    /// Forgets the velocities.
    void reset() override { inner_.reset(); }

private:
    Momentum<Scalar> inner_;
};

/// RMSProp: s = beta s + (1 - beta) g^2, p -= lr g / (sqrt(s) + eps), eps outside the root.
template <class Scalar>
class RMSProp final : public Optimizer<Scalar> {
public:
    /// Averages start at zero. Throws InvalidArgument unless the rate and epsilon are finite
    /// numbers > 0 and beta is in [0, 1).
    explicit RMSProp(double learning_rate = 0.001, double beta = 0.9, double epsilon = 1e-8)
        : Optimizer<Scalar>(learning_rate, "RMSProp::RMSProp"),
          beta_(detail::checked_beta("RMSProp::RMSProp", "beta", beta)),
          epsilon_(detail::checked_epsilon("RMSProp::RMSProp", epsilon)) {}

    /// "rmsprop".
    std::string name() const override { return "rmsprop"; }
    /// Contract: see Optimizer::update.
    void update(std::size_t slot, Matrix<Scalar>& p, const Matrix<Scalar>& g) override {
        detail::require_same_shape("RMSProp::update", "parameter", p, "gradient", g);
        auto& s = squares_.at(slot, p, "RMSProp::update");
        const auto beta = static_cast<Scalar>(beta_);
        s = beta * s + (Scalar(1) - beta) * g.cwiseProduct(g);
        p.array() -= static_cast<Scalar>(this->learning_rate()) * g.array() / (s.array().sqrt() + static_cast<Scalar>(epsilon_));
    }
    /// Forgets the averages of squared gradients.
    void reset() override { squares_.clear(); }

private:
    double beta_;
    double epsilon_;
    detail::SlotState<Scalar> squares_;
};

/// Adam with bias correction (see the table at the top); t counts the steps from 1.
template <class Scalar>
class Adam final : public Optimizer<Scalar> {
public:
    /// Both averages start at zero, t at 0. Throws InvalidArgument unless the rate and
    /// epsilon are finite numbers > 0 and beta1 and beta2 are in [0, 1).
    explicit Adam(double learning_rate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
        : Optimizer<Scalar>(learning_rate, "Adam::Adam"),
          beta1_(detail::checked_beta("Adam::Adam", "beta1", beta1)),
          beta2_(detail::checked_beta("Adam::Adam", "beta2", beta2)),
          epsilon_(detail::checked_epsilon("Adam::Adam", epsilon)) {}

    /// "adam".
    std::string name() const override { return "adam"; }
    /// Advances t; the updates of this step use it in the bias correction.
    void begin_step() override { ++step_; }
    /// Contract: see Optimizer::update. Without any begin_step() since the last reset, t is
    /// taken as 1.
    void update(std::size_t slot, Matrix<Scalar>& p, const Matrix<Scalar>& g) override {
        detail::require_same_shape("Adam::update", "parameter", p, "gradient", g);
        if (step_ == 0) {
            step_ = 1;  // update() without begin_step(): count it as the first step
        }
        auto& v = first_.at(slot, p, "Adam::update");
        auto& s = second_.at(slot, p, "Adam::update");
        const auto b1 = static_cast<Scalar>(beta1_);
        const auto b2 = static_cast<Scalar>(beta2_);
        const auto c1 = static_cast<Scalar>(1.0 - std::pow(beta1_, static_cast<double>(step_)));
        const auto c2 = static_cast<Scalar>(1.0 - std::pow(beta2_, static_cast<double>(step_)));
        const auto rate = static_cast<Scalar>(this->learning_rate());
        const auto epsilon = static_cast<Scalar>(epsilon_);
        // All three updates on one part of the parameter while it is in cache, parts on
        // separate threads: the update is a fair share of a small network's step.
        detail::parallel_ranges(p.size(), 32 * 1024, 64, [&](Index begin, Index end) {
            using Part = Eigen::Map<Eigen::Array<Scalar, Eigen::Dynamic, 1>>;
            using ConstPart = Eigen::Map<const Eigen::Array<Scalar, Eigen::Dynamic, 1>>;
            const Index n = end - begin;
            Part vp(v.data() + begin, n);
            Part sp(s.data() + begin, n);
            Part pp(p.data() + begin, n);
            const ConstPart gp(g.data() + begin, n);
            vp = b1 * vp + (Scalar(1) - b1) * gp;
            sp = b2 * sp + (Scalar(1) - b2) * gp * gp;
            pp -= rate * (vp / c1) / ((sp / c2).sqrt() + epsilon);
        });
    }
    /// Forgets both averages and sets t back to 0.
    void reset() override {
        first_.clear();
        second_.clear();
        step_ = 0;
    }
    /// t: the steps so far (begin_step() calls since the last reset).
    long step() const { return step_; }

private:
    double beta1_;
    double beta2_;
    double epsilon_;
    long step_ = 0;
    detail::SlotState<Scalar> first_;
    detail::SlotState<Scalar> second_;
};

/// AdaGrad: s = s + g^2, p -= lr g / (sqrt(s) + eps).
template <class Scalar>
class AdaGrad final : public Optimizer<Scalar> {
public:
    /// Sums start at zero. Throws InvalidArgument unless the rate and epsilon are finite
    /// numbers > 0.
    explicit AdaGrad(double learning_rate = 0.01, double epsilon = 1e-8)
        : Optimizer<Scalar>(learning_rate, "AdaGrad::AdaGrad"),
          epsilon_(detail::checked_epsilon("AdaGrad::AdaGrad", epsilon)) {}

    /// "adagrad".
    std::string name() const override { return "adagrad"; }
    /// Contract: see Optimizer::update.
    void update(std::size_t slot, Matrix<Scalar>& p, const Matrix<Scalar>& g) override {
        detail::require_same_shape("AdaGrad::update", "parameter", p, "gradient", g);
        auto& s = squares_.at(slot, p, "AdaGrad::update");
        s += g.cwiseProduct(g);
        p.array() -= static_cast<Scalar>(this->learning_rate()) * g.array() / (s.array().sqrt() + static_cast<Scalar>(epsilon_));
    }
    /// Forgets the sums of squared gradients.
    void reset() override { squares_.clear(); }

private:
    double epsilon_;
    detail::SlotState<Scalar> squares_;
};

}  // namespace nndl
