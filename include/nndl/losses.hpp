#pragma once
// Losses: value(output, target) averaged over the batch's examples (columns), and
// gradient(output, target) = d value / d output. A loss that fuses with the output
// activation also gives its value from the pre-activation Z (stable: no log(0))
// and d value / d Z directly (sigmoid + binary cross-entropy, softmax +
// categorical cross-entropy: dZ = (A - Y) / m).

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "detail/pairwise_sum.hpp"
#include "layers/activations.hpp"
#include "errors.hpp"
#include "types.hpp"

namespace nndl {

namespace detail {

/// Cross-entropy targets are labels or probabilities: every entry in [0, 1].
template <class Scalar>
void require_labels(const char* where, const Matrix<Scalar>& y, const char* expected = "a label in [0, 1]") {
    for (Index j = 0; j < y.cols(); ++j) {
        for (Index i = 0; i < y.rows(); ++i) {
            if (!(y(i, j) >= Scalar(0) && y(i, j) <= Scalar(1))) {
                throw_invalid(where, ": target at row ", i, ", column ", j, " is ", y(i, j), ", expected ",
                              expected);
            }
        }
    }
}

}  // namespace detail

/// The base of the losses: a cost of the network's output and its targets, both
/// outputs x m (one example per column). The losses below throw ShapeError when output
/// and target differ in shape or have no columns.
template <class Scalar>
class Loss {
public:
    /// An empty base.
    Loss() = default;
    /// Copies the loss.
    Loss(const Loss&) = default;
    /// Copy-assigns the loss.
    Loss& operator=(const Loss&) = default;
    /// Destroys the loss.
    virtual ~Loss() = default;

    /// The class name, e.g. "BinaryCrossEntropy": saved model files name the loss by it.
    virtual std::string name() const = 0;
    /// The loss of `output` for `target`, averaged over the examples (columns).
    virtual Scalar value(const Matrix<Scalar>& output, const Matrix<Scalar>& target) const = 0;
    /// d value / d output, written to `output_gradient` (resized to the shape of `output`).
    virtual void gradient(const Matrix<Scalar>& output, const Matrix<Scalar>& target,
                          Matrix<Scalar>& output_gradient) const = 0;

    /// True when the targets are classes (the cross-entropies): training then reports
    /// accuracy. False (the default, and mean squared error) for a regression, which
    /// training reports by its root mean squared error.
    virtual bool compares_classes() const { return false; }
    /// True when value_from_preactivation / preactivation_gradient are available for this output activation.
    virtual bool fuses_with(Activation) const { return false; }
    /// The loss computed from the output layer's pre-activation `z` (output = activation(z)),
    /// for an activation fuses_with accepts. The base class throws InvalidArgument.
    virtual Scalar value_from_preactivation(const Matrix<Scalar>& z, const Matrix<Scalar>& target) const {
        (void)z;
        (void)target;
        detail::throw_invalid(name(), "::value_from_preactivation: this loss has no fused path");
    }
    /// d value / d z, the pre-activation's gradient, computed from `output` (the activation
    /// of z) and written to `z_gradient`. The base class throws InvalidArgument.
    virtual void preactivation_gradient(const Matrix<Scalar>& output, const Matrix<Scalar>& target,
                                        Matrix<Scalar>& z_gradient) const {
        (void)output;
        (void)target;
        (void)z_gradient;
        detail::throw_invalid(name(), "::preactivation_gradient: this loss has no fused path");
    }

    /// A copy of this loss.
    virtual std::unique_ptr<Loss> clone() const = 0;

protected:
    /// Throws ShapeError, its message starting with `where`, unless `output` and `target`
    /// have the same shape and at least one column.
    void check(const char* where, const Matrix<Scalar>& output, const Matrix<Scalar>& target) const {
        detail::require_same_shape(where, "output", output, "target", target);
        detail::require_examples(where, output.cols());
    }
};

/// The course's cost: -mean(y log a + (1 - y) log(1 - a)), for outputs in (0, 1)
/// and targets in {0, 1} (soft targets in [0, 1] work too).
template <class Scalar>
class BinaryCrossEntropy final : public Loss<Scalar> {
public:
    /// "BinaryCrossEntropy".
    std::string name() const override { return "BinaryCrossEntropy"; }
    /// True: the targets are classes.
    bool compares_classes() const override { return true; }

    /// The cost, with a and 1 - a raised to the smallest normal Scalar inside the log so that
    /// an output rounded to 0 or 1 gives a large finite cost. Throws InvalidArgument for a
    /// target outside [0, 1].
    Scalar value(const Matrix<Scalar>& a, const Matrix<Scalar>& y) const override {
        this->check("BinaryCrossEntropy::value", a, y);
        detail::require_labels("BinaryCrossEntropy::value", y);
        // log of an output that rounded to 0 or 1 is clamped instead of giving inf.
        const Scalar tiny = std::numeric_limits<Scalar>::min();
        const Scalar total = (y.array() * a.array().max(tiny).log() +
                              (Scalar(1) - y.array()) * (Scalar(1) - a.array()).max(tiny).log())
                                 .sum();
        return -total / static_cast<Scalar>(a.cols());
    }

    /// (-y / a + (1 - y) / (1 - a)) / m, the denominators raised as in value().
    void gradient(const Matrix<Scalar>& a, const Matrix<Scalar>& y, Matrix<Scalar>& da) const override {
        this->check("BinaryCrossEntropy::gradient", a, y);
        const Scalar tiny = std::numeric_limits<Scalar>::min();
        const Scalar m = static_cast<Scalar>(a.cols());
        da = ((-(y.array() / a.array().max(tiny)) +
               (Scalar(1) - y.array()) / (Scalar(1) - a.array()).max(tiny)) /
              m)
                 .matrix();
    }

    /// True for a sigmoid output.
    bool fuses_with(Activation a) const override { return a == Activation::sigmoid; }

    /// The mean over examples of the sum of y softplus(-z) + (1 - y) softplus(z), with
    /// softplus(x) = max(x, 0) + log1p(exp(-|x|)): finite for any finite z. Throws
    /// InvalidArgument for a target outside [0, 1].
    Scalar value_from_preactivation(const Matrix<Scalar>& z, const Matrix<Scalar>& y) const override {
        this->check("BinaryCrossEntropy::value_from_preactivation", z, y);
        detail::require_labels("BinaryCrossEntropy::value_from_preactivation", y);
        Scalar total = 0;
        for (Index j = 0; j < z.cols(); ++j) {
            for (Index i = 0; i < z.rows(); ++i) {
                const Scalar v = z(i, j);
                const Scalar soft = std::log1p(std::exp(-std::abs(v)));
                total += y(i, j) * (std::max(-v, Scalar(0)) + soft) + (Scalar(1) - y(i, j)) * (std::max(v, Scalar(0)) + soft);
            }
        }
        return total / static_cast<Scalar>(z.cols());
    }

    /// dZ = (A - Y) / m, for A = sigmoid(Z).
    void preactivation_gradient(const Matrix<Scalar>& a, const Matrix<Scalar>& y,
                                Matrix<Scalar>& dz) const override {
        this->check("BinaryCrossEntropy::preactivation_gradient", a, y);
        dz = (a - y) / static_cast<Scalar>(a.cols());
    }

    /// A copy of this loss.
    std::unique_ptr<Loss<Scalar>> clone() const override { return std::make_unique<BinaryCrossEntropy>(*this); }
};

/// Binary cross-entropy in the arithmetic of the course's second part ("Improving Deep
/// Neural Networks"), for reproducing its printed costs: (1.0 / m) * nansum(-log(a) * y -
/// log(1 - a) * (1 - y)), summed pairwise as NumPy does. Nothing is clamped: an output
/// that rounded to exactly 0 or 1 on the wrong side gives an infinite cost, as the
/// course's x10 initialisation prints, and 0 * log(0) terms count as 0 (nansum). An output
/// outside [0, 1] (NaN after divergence) gives NaN rather than being dropped. With a
/// sigmoid output, dZ = (1.0 / m) * (A - Y). Train with TrainOptions::allow_infinite_loss
/// where such a cost must not stop training; use BinaryCrossEntropy otherwise.
template <class Scalar>
class CourseBinaryCrossEntropy final : public Loss<Scalar> {
public:
    /// "CourseBinaryCrossEntropy".
    std::string name() const override { return "CourseBinaryCrossEntropy"; }
    /// True: the targets are classes.
    bool compares_classes() const override { return true; }

    /// The course's cost (see the class): may be infinite, NaN for an output outside [0, 1].
    /// Throws InvalidArgument for a target outside [0, 1].
    Scalar value(const Matrix<Scalar>& a, const Matrix<Scalar>& y) const override {
        this->check("CourseBinaryCrossEntropy::value", a, y);
        detail::require_labels("CourseBinaryCrossEntropy::value", y);
        // Row-major, the order of NumPy's contiguous run (a 1 x m row is the same either way).
        Matrix<Scalar> terms(a.cols(), a.rows());
        for (Index j = 0; j < a.cols(); ++j) {
            for (Index i = 0; i < a.rows(); ++i) {
                if (!(a(i, j) >= Scalar(0) && a(i, j) <= Scalar(1))) {
                    // nansum would drop it and report a finite cost for a network that has
                    // diverged: NaN here lets training stop instead
                    return std::numeric_limits<Scalar>::quiet_NaN();
                }
                const Scalar term = -std::log(a(i, j)) * y(i, j) - std::log(Scalar(1) - a(i, j)) * (Scalar(1) - y(i, j));
                terms(j, i) = std::isnan(term) ? Scalar(0) : term;  // 0 * log(0): an output of exactly 0 or 1
            }
        }
        const Scalar sum = Scalar(0) + detail::pairwise_sum(terms.data(), terms.size());
        return (Scalar(1) / static_cast<Scalar>(a.cols())) * sum;
    }

    /// (-y / a + (1 - y) / (1 - a)) / m, unclamped (infinite where a is exactly 0 or 1).
    void gradient(const Matrix<Scalar>& a, const Matrix<Scalar>& y, Matrix<Scalar>& da) const override {
        this->check("CourseBinaryCrossEntropy::gradient", a, y);
        const Scalar m = static_cast<Scalar>(a.cols());
        da = ((-(y.array() / a.array()) + (Scalar(1) - y.array()) / (Scalar(1) - a.array())) / m).matrix();
    }

    /// True for a sigmoid output.
    bool fuses_with(Activation a) const override { return a == Activation::sigmoid; }

    /// The course computes the cost from A = sigmoid(Z), not from Z: the same here.
    Scalar value_from_preactivation(const Matrix<Scalar>& z, const Matrix<Scalar>& y) const override {
        this->check("CourseBinaryCrossEntropy::value_from_preactivation", z, y);
        Matrix<Scalar> a;
        Sigmoid::forward(z, a);
        return value(a, y);
    }

    /// dZ = (1.0 / m) * (A - Y), for A = sigmoid(Z).
    void preactivation_gradient(const Matrix<Scalar>& a, const Matrix<Scalar>& y, Matrix<Scalar>& dz) const override {
        this->check("CourseBinaryCrossEntropy::preactivation_gradient", a, y);
        dz = (Scalar(1) / static_cast<Scalar>(a.cols())) * (a - y);
    }

    /// A copy of this loss.
    std::unique_ptr<Loss<Scalar>> clone() const override { return std::make_unique<CourseBinaryCrossEntropy>(); }
};

/// -mean over examples of sum_k y_k log a_k, for one-hot (or probability) targets
/// and outputs that are probabilities per column.
template <class Scalar>
class CategoricalCrossEntropy final : public Loss<Scalar> {
public:
    /// "CategoricalCrossEntropy".
    std::string name() const override { return "CategoricalCrossEntropy"; }
    /// True: the targets are classes.
    bool compares_classes() const override { return true; }

    /// The cost, with a raised to the smallest normal Scalar inside the log (no log(0)).
    /// Throws InvalidArgument for a target outside [0, 1].
    Scalar value(const Matrix<Scalar>& a, const Matrix<Scalar>& y) const override {
        this->check("CategoricalCrossEntropy::value", a, y);
        detail::require_labels("CategoricalCrossEntropy::value", y, "a probability in [0, 1] (one-hot targets)");
        const Scalar tiny = std::numeric_limits<Scalar>::min();
        return -(y.array() * a.array().max(tiny).log()).sum() / static_cast<Scalar>(a.cols());
    }

    /// -y / a / m, the denominator raised as in value().
    void gradient(const Matrix<Scalar>& a, const Matrix<Scalar>& y, Matrix<Scalar>& da) const override {
        this->check("CategoricalCrossEntropy::gradient", a, y);
        const Scalar tiny = std::numeric_limits<Scalar>::min();
        da = (-(y.array() / a.array().max(tiny)) / static_cast<Scalar>(a.cols())).matrix();
    }

    /// True for a softmax output.
    bool fuses_with(Activation a) const override { return a == Activation::softmax; }

    /// The cost of softmax(z), from log-softmax per column: z_k - max(z) - log(sum exp(z - max(z))).
    /// Throws InvalidArgument for a target outside [0, 1].
    Scalar value_from_preactivation(const Matrix<Scalar>& z, const Matrix<Scalar>& y) const override {
        this->check("CategoricalCrossEntropy::value_from_preactivation", z, y);
        detail::require_labels("CategoricalCrossEntropy::value_from_preactivation", y,
                               "a probability in [0, 1] (one-hot targets)");
        Scalar total = 0;
        for (Index j = 0; j < z.cols(); ++j) {
            const Scalar top = z.col(j).maxCoeff();
            const Scalar log_sum = std::log((z.col(j).array() - top).exp().sum());
            total -= (y.col(j).array() * (z.col(j).array() - top - log_sum)).sum();
        }
        return total / static_cast<Scalar>(z.cols());
    }

    /// dZ = (A - Y) / m, for A = softmax(Z) and target columns that each sum to 1.
    void preactivation_gradient(const Matrix<Scalar>& a, const Matrix<Scalar>& y,
                                Matrix<Scalar>& dz) const override {
        this->check("CategoricalCrossEntropy::preactivation_gradient", a, y);
        // Holds when each target column sums to 1 (one-hot or a distribution).
        dz = (a - y) / static_cast<Scalar>(a.cols());
    }

    /// A copy of this loss.
    std::unique_ptr<Loss<Scalar>> clone() const override {
        return std::make_unique<CategoricalCrossEntropy>(*this);
    }
};

/// Cross-entropy over sequences: summed over the time steps, averaged over the examples,
/// -1/m sum_j sum_t sum_k y_jtk log a_jtk, for outputs that are probabilities at each step
/// of `classes` values (SequenceDense with softmax) and one-hot targets per step. Summing
/// over the steps is the course's loss for one example. A step whose target is all zeros is
/// padding (a shorter sequence of a batch): it adds nothing to the value or the gradients.
template <class Scalar>
class SequenceCrossEntropy final : public Loss<Scalar> {
public:
    /// Steps of `classes` values each. Throws InvalidArgument for classes below 1.
    explicit SequenceCrossEntropy(Index classes) : classes_(classes) {
        if (classes < 1) {
            detail::throw_invalid("SequenceCrossEntropy::SequenceCrossEntropy: classes is ", classes,
                                  ", expected at least 1");
        }
    }
    /// "SequenceCrossEntropy".
    std::string name() const override { return "SequenceCrossEntropy"; }
    /// True: the targets are classes (one per step).
    bool compares_classes() const override { return true; }
    /// Values per step.
    Index classes() const { return classes_; }

    /// The cost, with a raised to the smallest normal Scalar inside the log (no log(0)).
    /// Throws InvalidArgument for a target outside [0, 1], ShapeError when the rows are not
    /// whole steps.
    Scalar value(const Matrix<Scalar>& a, const Matrix<Scalar>& y) const override {
        check_steps("SequenceCrossEntropy::value", a, y);
        const Scalar tiny = std::numeric_limits<Scalar>::min();
        return -(y.array() * a.array().max(tiny).log()).sum() / static_cast<Scalar>(a.cols());
    }
    /// -y / a / m, the denominator raised as in value() (zero at padded steps).
    void gradient(const Matrix<Scalar>& a, const Matrix<Scalar>& y, Matrix<Scalar>& da) const override {
        check_steps("SequenceCrossEntropy::gradient", a, y);
        const Scalar tiny = std::numeric_limits<Scalar>::min();
        da = (-(y.array() / a.array().max(tiny)) / static_cast<Scalar>(a.cols())).matrix();
    }
    /// True for a softmax output (a softmax at each step).
    bool fuses_with(Activation a) const override { return a == Activation::softmax; }

    /// The cost of a softmax at each step of z, from log-softmax per step.
    Scalar value_from_preactivation(const Matrix<Scalar>& z, const Matrix<Scalar>& y) const override {
        check_steps("SequenceCrossEntropy::value_from_preactivation", z, y);
        Scalar total = 0;
        for (Index j = 0; j < z.cols(); ++j) {
            for (Index r = 0; r < z.rows(); r += classes_) {
                const auto zs = z.col(j).segment(r, classes_).array();
                const Scalar top = zs.maxCoeff();
                const Scalar log_sum = std::log((zs - top).exp().sum());
                total -= (y.col(j).segment(r, classes_).array() * (zs - top - log_sum)).sum();
            }
        }
        return total / static_cast<Scalar>(z.cols());
    }
    /// dZ = (A - Y) / m at each step whose target sums to 1, zero at padded steps.
    void preactivation_gradient(const Matrix<Scalar>& a, const Matrix<Scalar>& y, Matrix<Scalar>& dz) const override {
        check_steps("SequenceCrossEntropy::preactivation_gradient", a, y);
        const Scalar scale = Scalar(1) / static_cast<Scalar>(a.cols());
        dz.resize(a.rows(), a.cols());
        for (Index j = 0; j < a.cols(); ++j) {
            for (Index r = 0; r < a.rows(); r += classes_) {
                if (y.col(j).segment(r, classes_).isZero(0)) {
                    dz.col(j).segment(r, classes_).setZero();
                } else {
                    dz.col(j).segment(r, classes_) = (a.col(j).segment(r, classes_) - y.col(j).segment(r, classes_)) * scale;
                }
            }
        }
    }

    /// A copy of this loss.
    std::unique_ptr<Loss<Scalar>> clone() const override { return std::make_unique<SequenceCrossEntropy>(*this); }

private:
    void check_steps(const char* where, const Matrix<Scalar>& a, const Matrix<Scalar>& y) const {
        this->check(where, a, y);
        if (a.rows() % classes_ != 0) {
            detail::throw_shape(where, ": the output has ", a.rows(), " rows, expected whole steps of ", classes_,
                                " classes");
        }
        detail::require_labels(where, y, "a probability in [0, 1] (one-hot targets per step)");
        // The fused gradient A - Y needs each step's targets to sum to 1 (or 0: padding).
        const Scalar tolerance = std::sqrt(std::numeric_limits<Scalar>::epsilon());
        for (Index j = 0; j < y.cols(); ++j) {
            for (Index r = 0; r < y.rows(); r += classes_) {
                const Scalar sum = y.col(j).segment(r, classes_).sum();
                if (sum != Scalar(0) && !(std::abs(sum - Scalar(1)) <= tolerance)) {
                    detail::throw_invalid(where, ": the targets of step ", r / classes_, " of example ", j, " sum to ",
                                          sum, ", expected 1 (a class or a distribution) or 0 (a padded step)");
                }
            }
        }
    }

    Index classes_ = 1;
};

/// Mean over examples of the squared error summed over outputs: mean_j sum_i (a_ij - y_ij)^2.
template <class Scalar>
class MeanSquaredError final : public Loss<Scalar> {
public:
    /// "MeanSquaredError".
    std::string name() const override { return "MeanSquaredError"; }

    /// The squared distance between output and target, divided by the number of examples.
    Scalar value(const Matrix<Scalar>& a, const Matrix<Scalar>& y) const override {
        this->check("MeanSquaredError::value", a, y);
        return (a - y).squaredNorm() / static_cast<Scalar>(a.cols());
    }

    /// 2 (a - y) / m.
    void gradient(const Matrix<Scalar>& a, const Matrix<Scalar>& y, Matrix<Scalar>& da) const override {
        this->check("MeanSquaredError::gradient", a, y);
        da = (a - y) * (Scalar(2) / static_cast<Scalar>(a.cols()));
    }

    /// A copy of this loss.
    std::unique_ptr<Loss<Scalar>> clone() const override { return std::make_unique<MeanSquaredError>(*this); }
};

/// A loss per output of a network with several (a Graph's outputs are row blocks of one
/// matrix, in order): each block of rows has a loss of its own and a weight, and the cost is
/// the weighted sum of the blocks' losses. Model files name it with its parts,
/// "OutputLosses(2:CategoricalCrossEntropy*1,1:MeanSquaredError*0.5)". Training reports the
/// root mean squared error of all outputs unless told TrainMetric::none.
template <class Scalar>
class OutputLosses final : public Loss<Scalar> {
public:
    /// No parts yet: add them in the outputs' order.
    OutputLosses() = default;
    /// A deep copy.
    OutputLosses(const OutputLosses& other) : Loss<Scalar>(other) {
        for (const Part& p : other.parts_) {
            parts_.push_back(Part{p.rows, p.loss->clone(), p.weight});
        }
    }
    /// A deep copy.
    OutputLosses& operator=(const OutputLosses& other) {
        OutputLosses copy(other);
        parts_.swap(copy.parts_);
        return *this;
    }

    /// The loss of the next `rows` rows (one output's), scaled by `weight`; returns *this.
    /// Throws InvalidArgument for rows below 1, a null loss, another OutputLosses inside, or
    /// a weight that is negative or not finite.
    OutputLosses& add(Index rows, std::unique_ptr<Loss<Scalar>> loss, double weight = 1.0) {
        if (rows < 1 || !loss || !(weight >= 0.0) || !std::isfinite(weight) ||
            dynamic_cast<const OutputLosses*>(loss.get()) != nullptr) {
            detail::throw_invalid("OutputLosses::add: ", rows, " rows, ", loss ? "a loss" : "no loss", ", weight ",
                                  weight, "; expected at least 1 row, a loss (not an OutputLosses) and a finite "
                                  "weight >= 0");
        }
        parts_.push_back(Part{rows, std::move(loss), weight});
        return *this;
    }

    /// "OutputLosses(rows:Name*weight,...)", each weight in the fewest digits that read back the same.
    std::string name() const override {
        std::string out = "OutputLosses(";
        for (std::size_t k = 0; k < parts_.size(); ++k) {
            char weight[32];
            const auto end = std::to_chars(weight, weight + sizeof weight, parts_[k].weight).ptr;
            out += (k == 0 ? "" : ",") + std::to_string(parts_[k].rows) + ":" + parts_[k].loss->name() + "*" +
                   std::string(weight, end);
        }
        return out + ")";
    }

    /// The weighted sum of each block's loss.
    Scalar value(const Matrix<Scalar>& output, const Matrix<Scalar>& target) const override {
        check_parts("OutputLosses::value", output, target);
        Scalar total = 0;
        Index row = 0;
        for (const Part& p : parts_) {
            const Matrix<Scalar> a = output.middleRows(row, p.rows);
            const Matrix<Scalar> y = target.middleRows(row, p.rows);
            total += static_cast<Scalar>(p.weight) * p.loss->value(a, y);
            row += p.rows;
        }
        return total;
    }

    /// Each block's gradient, scaled by its weight.
    void gradient(const Matrix<Scalar>& output, const Matrix<Scalar>& target,
                  Matrix<Scalar>& output_gradient) const override {
        check_parts("OutputLosses::gradient", output, target);
        output_gradient.resize(output.rows(), output.cols());
        Index row = 0;
        Matrix<Scalar> block;
        for (const Part& p : parts_) {
            const Matrix<Scalar> a = output.middleRows(row, p.rows);
            const Matrix<Scalar> y = target.middleRows(row, p.rows);
            p.loss->gradient(a, y, block);
            output_gradient.middleRows(row, p.rows) = block * static_cast<Scalar>(p.weight);
            row += p.rows;
        }
    }

    /// A deep copy.
    std::unique_ptr<Loss<Scalar>> clone() const override { return std::make_unique<OutputLosses>(*this); }
    /// The rows all parts cover.
    Index rows() const {
        Index total = 0;
        for (const Part& p : parts_) {
            total += p.rows;
        }
        return total;
    }

private:
    struct Part {
        Index rows;
        std::unique_ptr<Loss<Scalar>> loss;
        double weight;
    };

    void check_parts(const char* where, const Matrix<Scalar>& output, const Matrix<Scalar>& target) const {
        this->check(where, output, target);
        if (parts_.empty() || rows() != output.rows()) {
            detail::throw_shape(where, ": the parts cover ", rows(), " rows, the output has ", output.rows(),
                                " (add a part per output)");
        }
    }

    std::vector<Part> parts_;
};

}  // namespace nndl
