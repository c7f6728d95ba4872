#pragma once
// Data augmentation as a layer: in training, each image of the batch is moved by a random
// whole number of pixels (up to max_shift down/up and left/right, zeros coming in at the
// borders) and, where asked, mirrored left to right with probability 1/2: every epoch
// sees other variants of the same examples, at the cost of one copy of the batch. In
// evaluation and in infer() it passes its input through, so a trained network predicts
// as it would without it, and its ONNX file leaves it out; nndl's model files keep it
// (a program loads them with this header, or nndl/cnn.hpp, included).
//
// The draws come from NumpyRandom(seed): per example, in column order, the vertical
// shift and the horizontal shift (each below(2 * max_shift + 1) - max_shift; none when
// max_shift is 0), then the flip (below(2), where flipping is on).

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../errors.hpp"
#include "../layer.hpp"
#include "../random.hpp"
#include "../types.hpp"
#include "registry.hpp"

namespace nndl {

/// Random shifts and mirror images of images in training (see the top of
/// random_shift_flip.hpp); the identity in evaluation. No parameters, no state.
template <class Scalar>
class RandomShiftFlip final : public Layer<Scalar> {
public:
    /// Shifts images of `image` shape by up to `max_shift` pixels each way and, where `flip`,
    /// mirrors half of them. Throws InvalidArgument for a shape that is not an image, a
    /// `max_shift` below 0 or not below the image's height and width, or nothing to do
    /// (max_shift 0 without flip).
    RandomShiftFlip(Shape image, Index max_shift, bool flip, std::uint32_t seed = 1)
        : shape_(image), max_shift_(max_shift), flip_(flip), seed_(seed), random_(seed) {
        if (!image.valid() || image.is_flat() || image.is_sequence()) {
            detail::throw_invalid("RandomShiftFlip::RandomShiftFlip: input shape is ", image.to_string(),
                                  ", expected an image (height x width x channels, each at least 1)");
        }
        if (max_shift < 0 || max_shift >= image.height || max_shift >= image.width) {
            detail::throw_invalid("RandomShiftFlip::RandomShiftFlip: max_shift is ", max_shift, ", expected 0 to ",
                                  std::min(image.height, image.width) - 1, " for images of ", image.to_string());
        }
        if (max_shift == 0 && !flip) {
            detail::throw_invalid("RandomShiftFlip::RandomShiftFlip: max_shift 0 without flip changes nothing");
        }
    }

    /// "random_shift_flip".
    std::string type() const override { return "random_shift_flip"; }
    /// The image shape given to the constructor.
    Shape input_shape() const override { return shape_; }
    /// The input shape.
    Shape output_shape() const override { return shape_; }
    /// "max_shift", "flip" (0 or 1) and "seed".
    Settings settings() const override {
        return Settings()
            .set("max_shift", static_cast<long long>(max_shift_))
            .set("flip", static_cast<long long>(flip_ ? 1 : 0))
            .set("seed", static_cast<long long>(seed_));
    }
    /// Contract: see Layer::clone. The copy draws the same next moves.
    std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<RandomShiftFlip>(*this); }
    /// The identity outside training.
    bool passes_through_at_inference() const override { return true; }

    /// The largest shift, in pixels, each way.
    Index max_shift() const { return max_shift_; }
    /// Whether half of the images are mirrored.
    bool flips() const { return flip_; }

    /// How the last training pass moved example j: its vertical and horizontal shift (a
    /// pixel at (h, w) of the output comes from (h - down, w - right) of the input, after
    /// mirroring where `mirrored`).
    struct Move {
        Index down = 0;         ///< rows moved down (negative: up)
        Index right = 0;        ///< columns moved right (negative: left)
        bool mirrored = false;  ///< the input was mirrored left to right first
    };
    /// The moves of the last training pass, one per example (empty before one).
    const std::vector<Move>& moves() const { return moves_; }

protected:
    /// Contract: see Layer::forward. Mode::training draws a move per example and applies it;
    /// Mode::evaluation returns a copy of the input.
    const Matrix<Scalar>& do_forward(const Matrix<Scalar>& input, Mode mode) override {
        training_ = mode == Mode::training;
        if (!training_) {
            output_ = input;
            return output_;
        }
        // Memory first: a batch that cannot be held leaves the random stream where it was.
        output_.setZero(input.rows(), input.cols());
        moves_.resize(static_cast<std::size_t>(input.cols()));
        const auto span = static_cast<std::uint32_t>(2 * max_shift_ + 1);
        for (Move& move : moves_) {
            move.down = max_shift_ > 0 ? static_cast<Index>(random_.below(span)) - max_shift_ : 0;
            move.right = max_shift_ > 0 ? static_cast<Index>(random_.below(span)) - max_shift_ : 0;
            move.mirrored = flip_ && random_.below(2) == 1;
        }
        for (Index j = 0; j < input.cols(); ++j) {
            move_example(moves_[static_cast<std::size_t>(j)], input.col(j), output_.col(j), false);
        }
        return output_;
    }

    /// Contract: see Layer::backward. Each gradient value goes back to the input value it
    /// came from (none to the pixels moved out); the identity after an evaluation pass.
    const Matrix<Scalar>& do_backward(const Matrix<Scalar>& output_gradient, bool need_input_gradient) override {
        if (!need_input_gradient) {
            input_gradient_.resize(0, 0);
        } else if (!training_) {
            input_gradient_ = output_gradient;
        } else {
            input_gradient_.setZero(output_gradient.rows(), output_gradient.cols());
            for (Index j = 0; j < output_gradient.cols(); ++j) {
                move_example(moves_[static_cast<std::size_t>(j)], output_gradient.col(j), input_gradient_.col(j), true);
            }
        }
        return input_gradient_;
    }

    /// Contract: see Layer::infer. A copy of the input.
    void do_infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const override { output = input; }

private:
    /// Copies each output pixel's channels from their source pixel (output (h, w) from input
    /// (h - down, w' - right), w' mirrored where asked); `back` copies the other way, from
    /// the output's gradient to the input's. Pixels with no source stay as they are (0).
    template <class From, class To>
    void move_example(const Move& move, const From& from, To&& to, bool back) const {
        const Index channels = shape_.channels;
        for (Index h = 0; h < shape_.height; ++h) {
            const Index source_h = h - move.down;
            if (source_h < 0 || source_h >= shape_.height) {
                continue;
            }
            for (Index w = 0; w < shape_.width; ++w) {
                const Index shifted = w - move.right;
                if (shifted < 0 || shifted >= shape_.width) {
                    continue;
                }
                const Index source_w = move.mirrored ? shape_.width - 1 - shifted : shifted;
                const Index out = shape_.offset(h, w, 0);
                const Index in = shape_.offset(source_h, source_w, 0);
                if (back) {
                    to.segment(in, channels) = from.segment(out, channels);
                } else {
                    to.segment(out, channels) = from.segment(in, channels);
                }
            }
        }
    }

    Shape shape_;
    Index max_shift_;
    bool flip_;
    std::uint32_t seed_;
    NumpyRandom random_;
    bool training_ = false;
    std::vector<Move> moves_;
    Matrix<Scalar> output_;
    Matrix<Scalar> input_gradient_;
};

namespace detail {

/// A RandomShiftFlip from a model file's settings, its sizes checked first.
template <class Scalar>
std::unique_ptr<Layer<Scalar>> random_shift_flip_from_settings(const Shape& input, const Settings& s) {
    const long long max_shift = s.integer("max_shift");
    const long long flip = s.integer("flip");
    const long long seed = s.integer("seed");
    if (input.is_flat() || input.is_sequence()) {
        throw_invalid("RandomShiftFlip: its input is ", input.to_string(), ", expected an image");
    }
    if (flip != 0 && flip != 1) {
        throw_invalid("RandomShiftFlip: flip is ", flip, ", expected 0 or 1");
    }
    if (seed < 0 || seed > 0xFFFFFFFFLL) {
        throw_invalid("RandomShiftFlip: seed is ", seed, ", expected 0 to 4294967295");
    }
    if (max_shift < 0 || max_shift >= input.height || max_shift >= input.width) {  // before the cast to Index
        throw_invalid("RandomShiftFlip: max_shift is ", max_shift, ", expected 0 to ",
                      std::min(input.height, input.width) - 1, " for images of ", input.to_string());
    }
    return std::make_unique<RandomShiftFlip<Scalar>>(input, static_cast<Index>(max_shift), flip == 1,
                                                     static_cast<std::uint32_t>(seed));
}

/// "random_shift_flip" in the registries of a program that includes this header.
inline const bool random_shift_flip_registered = register_builtin_layer(
    {"random_shift_flip", random_shift_flip_from_settings<float>, random_shift_flip_from_settings<double>});

}  // namespace detail

}  // namespace nndl

// nndl::compiled holds RandomShiftFlip for float and double: a program that links it (NNDL_COMPILED)
// compiles none of their code.
#if defined(NNDL_COMPILED) || defined(NNDL_COMPILED_DEFINITIONS_FLOAT) || defined(NNDL_COMPILED_DEFINITIONS_DOUBLE)
#include "../detail/compiled_fingerprint.hpp"
#include "../detail/compiled_kind.hpp"  // NNDL_COMPILED_FLOAT_KIND, NNDL_COMPILED_DOUBLE_KIND
/// \cond
namespace nndl {
NNDL_COMPILED_FLOAT_KIND template class RandomShiftFlip<float>;
NNDL_COMPILED_DOUBLE_KIND template class RandomShiftFlip<double>;
}  // namespace nndl
/// \endcond
#undef NNDL_COMPILED_FLOAT_KIND
#undef NNDL_COMPILED_DOUBLE_KIND
#endif
