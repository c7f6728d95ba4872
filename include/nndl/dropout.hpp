#pragma once
// Inverted dropout: in training, each unit is kept with probability keep_prob and
// scaled by 1 / keep_prob, so evaluation needs no rescaling; in evaluation and in
// infer() the layer passes its input through. The mask is drawn from NumpyRandom
// (np.random.rand(n, m) < keep_prob, as in the course). freeze_mask(true) reuses
// the last mask, which makes the layer deterministic for gradient checks.

#include <cstdint>
#include <memory>
#include <string>

#include "errors.hpp"
#include "layer.hpp"
#include "random.hpp"
#include "types.hpp"

namespace nndl {

template <class Scalar>
class Dropout final : public Layer<Scalar> {
public:
    Dropout(Index size, double keep_prob, std::uint32_t seed = 1) : size_(size), keep_prob_(keep_prob), random_(seed) {
        if (size <= 0) {
            detail::throw_invalid("Dropout::Dropout: size is ", size, ", expected at least 1");
        }
        if (!(keep_prob > 0.0 && keep_prob <= 1.0)) {
            detail::throw_invalid("Dropout::Dropout: keep_prob is ", keep_prob, ", expected a number in (0, 1]");
        }
    }

    std::string type() const override { return "dropout"; }
    Index input_size() const override { return size_; }
    Index output_size() const override { return size_; }
    double keep_prob() const { return keep_prob_; }

    /// Reuse the last mask on the following training passes (for gradient checks).
    void freeze_mask(bool frozen) { frozen_ = frozen; }
    const Matrix<Scalar>& mask() const { return mask_; }

    const Matrix<Scalar>& forward(const Matrix<Scalar>& input, Mode mode) override {
        check_input("Dropout::forward", input);
        training_ = mode == Mode::training && keep_prob_ < 1.0;
        if (!training_) {
            output_ = input;
            return output_;
        }
        if (!frozen_ || mask_.rows() != input.rows() || mask_.cols() != input.cols()) {
            mask_.resize(input.rows(), input.cols());
            const auto scale = static_cast<Scalar>(1.0 / keep_prob_);
            for (Index i = 0; i < input.rows(); ++i) {  // row-major draws, as NumPy
                for (Index j = 0; j < input.cols(); ++j) {
                    mask_(i, j) = random_.uniform() < keep_prob_ ? scale : Scalar(0);
                }
            }
        }
        output_ = input.cwiseProduct(mask_);
        return output_;
    }

    const Matrix<Scalar>& backward(const Matrix<Scalar>& output_gradient, bool need_input_gradient) override {
        detail::require_same_shape("Dropout::backward", "output gradient", output_gradient, "layer output", output_);
        if (!need_input_gradient) {
            input_gradient_.resize(0, 0);
        } else if (training_) {
            input_gradient_ = output_gradient.cwiseProduct(mask_);
        } else {
            input_gradient_ = output_gradient;
        }
        return input_gradient_;
    }

    void infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const override {
        check_input("Dropout::infer", input);
        output = input;
    }

    std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<Dropout>(*this); }

private:
    void check_input(const char* where, const Matrix<Scalar>& input) const {
        detail::require_rows(where, "input", input.rows(), size_, "layer expects");
        detail::require_examples(where, input.cols());
    }

    Index size_;
    double keep_prob_;
    NumpyRandom random_;
    bool frozen_ = false;
    bool training_ = false;
    Matrix<Scalar> mask_;
    Matrix<Scalar> output_;
    Matrix<Scalar> input_gradient_;
};

}  // namespace nndl
