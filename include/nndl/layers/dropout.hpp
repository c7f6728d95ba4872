#pragma once
// Inverted dropout: in training, each unit is kept with probability keep_prob and
// divided by keep_prob, so evaluation needs no rescaling; in evaluation and in
// infer() the layer passes its input through. The 0/1 mask D is drawn from NumpyRandom
// (np.random.rand(n, m) < keep_prob, row-major) and applied as the course does:
// (A * D) / keep_prob, forward and backward. freeze_mask(true) reuses the last mask,
// which makes the layer deterministic for gradient checks; restart_every_pass()
// redraws the course's masks, which restart from np.random.seed(seed) at every pass.

#include <cstdint>
#include <memory>
#include <string>

#include "../errors.hpp"
#include "../layer.hpp"
#include "../random.hpp"
#include "../types.hpp"

namespace nndl {

/// Inverted dropout (see the top of dropout.hpp). No parameters, no state; the mask is
/// drawn only by forward in Mode::training with keep_prob below 1.
template <class Scalar>
class Dropout final : public Layer<Scalar> {
public:
    /// Keeps each value of examples of `shape` with probability `keep_prob`; masks are drawn
    /// from NumpyRandom(seed). Throws InvalidArgument for a dimension below 1 or a keep_prob
    /// outside (0, 1] (1 passes everything through).
    Dropout(Shape shape, double keep_prob, std::uint32_t seed = 1)
        : shape_(shape), keep_prob_(keep_prob), seed_(seed), random_(seed) {
        if (!shape.valid()) {
            detail::throw_invalid("Dropout::Dropout: shape is ", shape.channels, "x", shape.height, "x", shape.width,
                                  ", expected at least 1 in each dimension");
        }
        if (!(keep_prob > 0.0 && keep_prob <= 1.0)) {
            detail::throw_invalid("Dropout::Dropout: keep_prob is ", keep_prob, ", expected a number in (0, 1]");
        }
    }
    /// The same over flat columns of `size` values.
    Dropout(Index size, double keep_prob, std::uint32_t seed = 1) : Dropout(Shape(size), keep_prob, seed) {}

    /// "dropout".
    std::string type() const override { return "dropout"; }
    /// The shape given to the constructor.
    Shape input_shape() const override { return shape_; }
    /// The input shape: dropout keeps it.
    Shape output_shape() const override { return shape_; }
    /// "keep_prob", "seed" and "restart_rows" (restart_every_pass; -1 when off). A frozen
    /// or set mask is not a setting.
    Settings settings() const override {
        return Settings()
            .set("keep_prob", keep_prob_)
            .set("seed", static_cast<long long>(seed_))
            .set("restart_rows", static_cast<long long>(restart_rows_));
    }
    /// Contract: see Layer::clone. The copy has this layer's random state (it draws the same
    /// next masks), mask and frozen flag.
    std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<Dropout>(*this); }
    /// True: evaluation and infer() pass the input through.
    bool passes_through_at_inference() const override { return true; }
    /// The probability of keeping a value, in (0, 1].
    double keep_prob() const { return keep_prob_; }

    /// Reuse the last mask on the following training passes (for gradient checks).
    void freeze_mask(bool frozen) { frozen_ = frozen; }
    /// The last training pass's 0/1 mask D.
    const Matrix<Scalar>& mask() const { return mask_; }

    /// The course's dropout forward calls np.random.seed(seed) at the start of every pass
    /// and then draws the masks of its dropout layers in order. With this, each training
    /// pass restarts this layer's stream from its seed and first skips the draws of the
    /// `rows_before` mask rows that earlier dropout layers drew for the same batch (0 for
    /// the first dropout layer). -1 turns it off (a fresh mask from the running stream).
    /// Throws InvalidArgument for a value below -1 or above max_rows_before.
    void restart_every_pass(Index rows_before) {
        if (rows_before < -1 || rows_before > max_rows_before) {
            detail::throw_invalid("Dropout::restart_every_pass: ", rows_before, " rows before, expected -1 (off) or 0 to ",
                                  max_rows_before);
        }
        restart_rows_ = rows_before;
    }
    /// The `rows_before` of restart_every_pass, or -1 when it is off (the default).
    Index restart_rows() const { return restart_rows_; }
    /// Each skipped row costs a pass batch-size draws: the bound keeps a model file from
    /// asking for hours of skipping.
    static constexpr Index max_rows_before = Index(1) << 20;

    /// Uses `mask` (0/1 values, the batch's shape) on the following training passes, as
    /// freeze_mask(true) with a mask of the caller's (to replay someone else's masks).
    /// Throws InvalidArgument unless the mask has input_size() rows, at least one column
    /// and only 0 and 1 values. A batch of another column count draws a fresh mask.
    void set_mask(const Matrix<Scalar>& mask) {
        if (mask.rows() != shape_.size() || mask.cols() < 1) {
            detail::throw_invalid("Dropout::set_mask: mask is ", mask.rows(), "x", mask.cols(), ", expected ",
                                  shape_.size(), " rows and at least one column");
        }
        if (!((mask.array() == Scalar(0)) || (mask.array() == Scalar(1))).all()) {
            detail::throw_invalid("Dropout::set_mask: the mask has values other than 0 and 1");
        }
        mask_ = mask;
        frozen_ = true;
    }

protected:
    /// Contract: see Layer::forward. Mode::training (with keep_prob below 1) draws a mask,
    /// unless a frozen one fits the batch, and returns (A * D) / keep_prob; otherwise it
    /// returns a copy of the input.
    const Matrix<Scalar>& do_forward(const Matrix<Scalar>& input, Mode mode) override {
        training_ = mode == Mode::training && keep_prob_ < 1.0;
        if (!training_) {
            output_ = input;
            return output_;
        }
        if (!frozen_ || mask_.rows() != input.rows() || mask_.cols() != input.cols()) {
            if (restart_rows_ >= 0) {
                random_.seed(seed_);
                random_.skip_uniform(restart_rows_ * input.cols());
            }
            mask_.resize(input.rows(), input.cols());
            for (Index i = 0; i < input.rows(); ++i) {  // row-major draws, as NumPy
                for (Index j = 0; j < input.cols(); ++j) {
                    mask_(i, j) = random_.uniform() < keep_prob_ ? Scalar(1) : Scalar(0);
                }
            }
        }
        const auto keep = static_cast<Scalar>(keep_prob_);
        output_ = (input.array() * mask_.array() / keep).matrix();
        return output_;
    }

    /// Contract: see Layer::backward. (dA * D) / keep_prob after a masked forward, else dA.
    const Matrix<Scalar>& do_backward(const Matrix<Scalar>& output_gradient, bool need_input_gradient) override {
        if (!need_input_gradient) {
            input_gradient_.resize(0, 0);
        } else if (training_) {
            input_gradient_ = (output_gradient.array() * mask_.array() / static_cast<Scalar>(keep_prob_)).matrix();
        } else {
            input_gradient_ = output_gradient;
        }
        return input_gradient_;
    }

    /// Contract: see Layer::infer. A copy of the input.
    void do_infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const override { output = input; }

private:
    Shape shape_;
    double keep_prob_;
    std::uint32_t seed_;
    NumpyRandom random_;
    bool frozen_ = false;
    Index restart_rows_ = -1;
    bool training_ = false;
    Matrix<Scalar> mask_;
    Matrix<Scalar> output_;
    Matrix<Scalar> input_gradient_;
};

}  // namespace nndl

// nndl::compiled holds Dropout for float and double: a program that links it (NNDL_COMPILED)
// compiles none of their code.
#if defined(NNDL_COMPILED) || defined(NNDL_COMPILED_DEFINITIONS_FLOAT) || defined(NNDL_COMPILED_DEFINITIONS_DOUBLE)
#include "../detail/compiled_fingerprint.hpp"
#include "../detail/compiled_kind.hpp"  // NNDL_COMPILED_FLOAT_KIND, NNDL_COMPILED_DOUBLE_KIND
/// \cond
namespace nndl {
NNDL_COMPILED_FLOAT_KIND template class Dropout<float>;
NNDL_COMPILED_DOUBLE_KIND template class Dropout<double>;
}  // namespace nndl
/// \endcond
#undef NNDL_COMPILED_FLOAT_KIND
#undef NNDL_COMPILED_DOUBLE_KIND
#endif
