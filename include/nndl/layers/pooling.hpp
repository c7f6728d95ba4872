#pragma once
// Pooling over image columns (height x width x channels, channels fastest), channel by
// channel: the maximum or the mean of each window, and the mean of the whole image.
//
// Max pooling ignores padding (a window partly outside the image takes the maximum of
// what is inside) and sends each output's gradient to the first maximum of its window,
// as PyTorch does. Average pooling divides by the window's size, padding included
// (PyTorch's count_include_pad=True; with no padding it is the plain mean).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "../detail/parallel.hpp"
#include "../errors.hpp"
#include "../layer.hpp"
#include "../layer_onnx.hpp"
#include "../types.hpp"
#include "registry.hpp"
#include "window.hpp"

namespace nndl {

/// Which value a Pool2D takes of each window.
enum class PoolMode {
    max,     ///< the largest value (NaN if the window holds one), gradient to the first maximum
    average  ///< the mean, padded zeros counted in the window's size
};

/// Max or average pooling of each channel of image columns over sliding windows (see the
/// top of pooling.hpp). Output: out_height x out_width x channels (WindowGeometry); no
/// parameters, no state.
template <class Scalar>
class Pool2D final : public Layer<Scalar>, public OnnxExportable<Scalar>, public BackwardThroughRelu<Scalar> {
public:
    /// Contract: see OnnxExportable::export_onnx (layer_onnx.hpp).
    void export_onnx(OnnxGraphBuilder& out, const Shape& in) const override;
    /// Pools `window`-sized windows, `stride` apart, of images of `input` shape. Throws as
    /// WindowGeometry::resolve, and InvalidArgument when the resolved padding on one side
    /// reaches the window's size (a window could then cover padding only).
    Pool2D(PoolMode mode, Shape input, Window window, Stride stride, Padding padding = Padding::valid())
        : mode_(mode), geometry_(WindowGeometry::resolve(name(mode), input, window, stride, padding)) {
        const WindowGeometry& g = geometry_;
        if (std::max(g.top, g.bottom) >= g.window_height || std::max(g.left, g.right) >= g.window_width) {
            detail::throw_invalid(name(mode), ": padding ", g.top, ", ", g.bottom, ", ", g.left, ", ", g.right,
                                  " reaches a whole ", g.window_height, "x", g.window_width,
                                  " window; expected less padding than the window on each side");
        }
    }

    /// "max_pool2d" or "avg_pool2d".
    std::string type() const override { return mode_ == PoolMode::max ? "max_pool2d" : "avg_pool2d"; }
    /// The image shape given to the constructor.
    Shape input_shape() const override { return Shape(geometry_.channels, geometry_.in_height, geometry_.in_width); }
    /// out_height x out_width x the input's channels.
    Shape output_shape() const override { return Shape(geometry_.channels, geometry_.out_height, geometry_.out_width); }
    /// "window", "stride" and "padding" (WindowGeometry::describe); the mode is in type().
    Settings settings() const override {
        Settings s;
        geometry_.describe(s, "window");
        return s;
    }
    /// Contract: see Layer::clone.
    std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<Pool2D>(*this); }
    /// Max or average pooling.
    PoolMode mode() const { return mode_; }
    /// Inference of one example: `image` holds input_shape().size() values, `pooled` gets
    /// output_shape().size(). What infer computes for each column; for a layer that fuses
    /// pooling into its own output (FusedInference).
    void infer_one(const Scalar* image, Scalar* pooled) const {
        if (mode_ == PoolMode::average) {
            pool_example<false>(image, pooled);
        } else if (!detail::all_finite(Eigen::Map<const Matrix<Scalar>>(image, input_shape().size(), 1))) {
            max_pool_with_nan(image, pooled);  // a NaN wins there; infinities give the same values either way
        } else {
            pool_example<true>(image, pooled);
        }
    }
    /// The window, stride, resolved padding and output size.
    const WindowGeometry& geometry() const { return geometry_; }
    /// Contract: see BackwardThroughRelu. Max pooling can.
    bool takes_relu_backward() const override { return mode_ == PoolMode::max; }
    /// Contract: see BackwardThroughRelu. A window's gradient reaches the pixel it took where
    /// that pixel is above zero; everywhere else the gradient is zero.
    const Matrix<Scalar>& backward_through_relu(const Matrix<Scalar>& output_gradient) override {
        if (mode_ != PoolMode::max) {
            detail::throw_invalid(name(mode_), "::backward_through_relu: expected a max pool, which takes the ReLU's ",
                                  "backward; an average pool does not");
        }
        return this->backward_with_flag(*this, through_relu_, output_gradient);
    }
    /// One comparison or addition per window pixel, per output value, each counted as 16
    /// multiply-adds: a scalar loop, where a matrix product does 16 and more a cycle.
    /// Saturates at the largest Index instead of wrapping.
    Index operations() const override {
        Index total = 16;
        for (const Index factor : {geometry_.window_height, geometry_.window_width, this->output_size()}) {
            if (__builtin_mul_overflow(total, factor, &total)) {
                return std::numeric_limits<Index>::max();
            }
        }
        return total;
    }

protected:
    /// Contract: see Layer::forward. The same in both modes; max pooling records where each
    /// maximum came from for backward.
    const Matrix<Scalar>& do_forward(const Matrix<Scalar>& input, Mode) override {
        if (mode_ == PoolMode::max && halves_exactly()) {
            pool_halves_recording_corners(input);
        } else {
            pool(input, output_, mode_ == PoolMode::max ? &argmax_ : nullptr);
        }
        return output_;
    }

    /// Contract: see Layer::backward. Max: each output's gradient goes to the first maximum
    /// of its window. Average: it is spread evenly over the window; the share of padding is dropped.
    const Matrix<Scalar>& do_backward(const Matrix<Scalar>& output_gradient, bool need_input_gradient) override {
        if (!need_input_gradient) {
            input_gradient_.resize(0, 0);
            return input_gradient_;
        }
        const WindowGeometry& g = geometry_;
        const Index m = output_gradient.cols();
        const Index channels = g.channels;
        if (mode_ == PoolMode::max && halves_exactly()) {  // each pixel in one window: written once, no zeroing first
            input_gradient_.resize(g.in_height * g.in_width * channels, m);
            detail::parallel_chunks(m, output_gradient.rows() * 4, [&](Index i) {
                max_unpool_halves(corners_.col(i).data(), output_gradient.col(i).data(), relu_output(i),
                                  input_gradient_.col(i).data());
            });
            return input_gradient_;
        }
        input_gradient_.setZero(g.in_height * g.in_width * channels, m);
        const Scalar share = Scalar(1) / static_cast<Scalar>(g.window_height * g.window_width);
        const Index window = g.window_height * g.window_width;
        detail::parallel_chunks(m, output_gradient.rows() * window, [&](Index i) {
            const Scalar* dy = output_gradient.col(i).data();
            Scalar* dx = input_gradient_.col(i).data();
            if (mode_ == PoolMode::max) {
                const Index* from = argmax_.col(i).data();
                const Scalar* x = relu_output(i);
                for (Index o = 0; o < output_gradient.rows(); ++o) {
                    // every window covers a pixel (see the constructor), so never -1
                    if (from[o] >= 0 && (x == nullptr || x[from[o]] > Scalar(0))) {
                        dx[from[o]] += dy[o];
                    }
                }
                return;
            }
            for_windows([&](Index position, Index pixel) {
                for (Index c = 0; c < channels; ++c) {
                    dx[pixel * channels + c] += dy[position * channels + c] * share;
                }
            });
        });
        return input_gradient_;
    }

    /// Contract: see Layer::infer.
    void do_infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const override {
        pool(input, output, nullptr);
    }

private:
    static const char* name(PoolMode mode) { return mode == PoolMode::max ? "MaxPool2D" : "AvgPool2D"; }

    /// Calls f(output position, input pixel) for every pixel inside the image under every
    /// window, windows in output order and pixels in window order.
    template <class F>
    void for_windows(F&& f) const {
        const WindowGeometry& g = geometry_;
        for (Index oh = 0; oh < g.out_height; ++oh) {
            for (Index ow = 0; ow < g.out_width; ++ow) {
                const Index position = oh * g.out_width + ow;
                for (Index kh = 0; kh < g.window_height; ++kh) {
                    const Index ih = oh * g.stride_vertical - g.top + kh;
                    if (ih < 0 || ih >= g.in_height) {
                        continue;
                    }
                    for (Index kw = 0; kw < g.window_width; ++kw) {
                        const Index iw = ow * g.stride_horizontal - g.left + kw;
                        if (iw >= 0 && iw < g.in_width) {
                            f(position, ih * g.in_width + iw);
                        }
                    }
                }
            }
        }
    }

    using IndexMatrix = Eigen::Matrix<Index, Eigen::Dynamic, Eigen::Dynamic>;

    void pool(const Matrix<Scalar>& input, Matrix<Scalar>& output, IndexMatrix* argmax) const {
        const WindowGeometry& g = geometry_;
        const Index rows = g.positions() * g.channels;
        const Index m = input.cols();
        output.resize(rows, m);
        if (argmax != nullptr) {
            argmax->resize(rows, m);
        }
        detail::parallel_chunks(m, rows * g.window_height * g.window_width, [&](Index i) {
            const Scalar* x = input.col(i).data();
            Scalar* y = output.col(i).data();
            if (argmax == nullptr) {
                infer_one(x, y);
                return;
            }
            // The recording pass reads every pixel under a window anyway, so it is the one
            // that notices a NaN (infer_one's separate check saved); both are then done again
            // the NaN way.
            Index* at = argmax->col(i).data();
            pool_example<true>(x, y);
            if (record_first_maximum(x, y, at)) {
                max_pool_with_nan(x, y);
                record_first_maximum(x, y, at);
            }
        });
    }

    /// The maximum (or mean) of every window of one example, channel runs at a time (vector
    /// instructions; their maximum ignores NaN, so an example holding a NaN takes
    /// max_pool_with_nan instead, where a NaN wins as in PyTorch; infinities give the same
    /// values either way).
    template <bool max>
    void pool_example(const Scalar* x, Scalar* y) const {
        if constexpr (max) {
            if (halves_exactly()) {
                max_pool_halves(x, y);
                return;
            }
        }
        using Run = Eigen::Map<Eigen::Array<Scalar, Eigen::Dynamic, 1>>;
        using ConstRun = Eigen::Map<const Eigen::Array<Scalar, Eigen::Dynamic, 1>>;
        const Index channels = geometry_.channels;
        Index current = -1;
        for_windows([&](Index position, Index pixel) {  // every window covers a pixel (see the constructor)
            Run out(y + position * channels, channels);
            const ConstRun v(x + pixel * channels, channels);
            if (position != current) {
                if constexpr (max) {
                    out = v;
                } else {  // a sum from +0, as a mean is (-0 + -0 is -0, 0 + -0 is +0)
                    out.setZero();
                    out += v;
                }
                current = position;
            } else if constexpr (max) {
                out = out.max(v);
            } else {
                out += v;
            }
        });
        if constexpr (!max) {
            const Scalar share = Scalar(1) / static_cast<Scalar>(geometry_.window_height * geometry_.window_width);
            Run(y, geometry_.positions() * channels) *= share;
        }
    }

    /// The maximum of every window of an example holding a NaN: the first NaN of a window wins.
    void max_pool_with_nan(const Scalar* x, Scalar* y) const {
        const Index channels = geometry_.channels;
        Index current = -1;
        for_windows([&](Index position, Index pixel) {
            Scalar* out = y + position * channels;
            const Scalar* v = x + pixel * channels;
            const bool first = position != current;
            current = position;
            for (Index c = 0; c < channels; ++c) {
                if (first || v[c] > out[c] || (std::isnan(v[c]) && !std::isnan(out[c]))) {
                    out[c] = v[c];
                }
            }
        });
    }

    /// Whether the windows are 2x2 with stride 2, without padding or pixels left over: each
    /// pixel in one window.
    bool halves_exactly() const {
        const WindowGeometry& g = geometry_;
        return g.window_height == 2 && g.window_width == 2 && g.stride_vertical == 2 && g.stride_horizontal == 2 &&
               g.top == 0 && g.left == 0 && g.in_height == 2 * g.out_height && g.in_width == 2 * g.out_width;
    }

    /// pool_example<true> where halves_exactly(): a whole output row at once, the four pixels
    /// of its windows as four views of two input rows (every other pixel), taken in window
    /// order with the same maximum, so the same values (a call per pixel cost more than the
    /// comparisons: a tenth of a CNN's prediction).
    void max_pool_halves(const Scalar* x, Scalar* y) const {
        using Pixels = Eigen::Map<const Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic>, 0, Eigen::OuterStride<>>;
        using Pooled = Eigen::Map<Eigen::Array<Scalar, Eigen::Dynamic, Eigen::Dynamic>>;
        const WindowGeometry& g = geometry_;
        const Index c = g.channels;
        const Index row = g.in_width * c;
        const Eigen::OuterStride<> every_other(2 * c);
        for (Index oh = 0; oh < g.out_height; ++oh) {
            const Scalar* top = x + 2 * oh * row;
            const Pixels top_left(top, c, g.out_width, every_other);
            const Pixels top_right(top + c, c, g.out_width, every_other);
            const Pixels bottom_left(top + row, c, g.out_width, every_other);
            const Pixels bottom_right(top + row + c, c, g.out_width, every_other);
            Pooled(y + oh * g.out_width * c, c, g.out_width) =
                top_left.max(top_right).max(bottom_left).max(bottom_right);
        }
    }

    /// Example i of the last input where backward goes through the ReLU that computed it
    /// (backward_through_relu), else nullptr.
    const Scalar* relu_output(Index i) const { return through_relu_ ? this->last_input().col(i).data() : nullptr; }

    /// Max pooling's training forward where halves_exactly(): the pooled values (the same as
    /// max_pool_halves', so as prediction's) and, in the same pass, which corner of its window
    /// each maximum came from (corners_: a byte per value instead of an 8-byte index found in
    /// a second pass). An example holding a NaN is pooled and recorded again the NaN way.
    void pool_halves_recording_corners(const Matrix<Scalar>& input) {
        const Index rows = geometry_.positions() * geometry_.channels;
        const Index m = input.cols();
        output_.resize(rows, m);
        corners_.resize(rows, m);
        detail::parallel_chunks(m, rows * 4, [&](Index i) {
            const Scalar* x = input.col(i).data();
            Scalar* y = output_.col(i).data();
            std::uint8_t* corner = corners_.col(i).data();
            if (max_pool_halves_with_corners(x, y, corner)) {
                max_pool_with_nan(x, y);
                record_corners_with_nan(x, y, corner);
            }
        });
    }

    /// The four pixels of window (oh, ow), channel 0, of image `x` (the input or its
    /// gradient) in window order: top left, top right, bottom left, bottom right (corner
    /// codes 0 to 3).
    template <class Pointer>
    void window_corners(Pointer x, Index oh, Index ow, Pointer (&corner)[4]) const {
        const Index c = geometry_.channels;
        const Index row = geometry_.in_width * c;
        corner[0] = x + 2 * oh * row + 2 * ow * c;
        corner[1] = corner[0] + c;
        corner[2] = corner[0] + row;
        corner[3] = corner[2] + c;
    }

#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 9)  // __builtin_convertvector
    /// The vector types of max_with_corner and unpool_window: eight values, a mask of the
    /// same width per value, and their eight corner codes.
    struct CornerLanes {
        static constexpr Index lanes = 8;
        using Bits = std::conditional_t<sizeof(Scalar) == 4, std::int32_t, std::int64_t>;
        static_assert(sizeof(Bits) == sizeof(Scalar), "a mask bit per value bit");
        typedef Scalar Values __attribute__((vector_size(lanes * sizeof(Scalar))));
        typedef Bits Masks __attribute__((vector_size(lanes * sizeof(Scalar))));
        typedef std::uint8_t Codes __attribute__((vector_size(lanes)));
    };
#endif

    /// max_pool_halves of one example with each maximum's corner (the first in window order
    /// holding it). Returns whether a pixel is NaN (the values are then not the NaN way's).
    bool max_pool_halves_with_corners(const Scalar* x, Scalar* y, std::uint8_t* corner) const {
        const Index c = geometry_.channels;
        bool nan = false;
        for (Index oh = 0; oh < geometry_.out_height; ++oh) {
            for (Index ow = 0; ow < geometry_.out_width; ++ow) {
                const Scalar* p[4];
                window_corners(x, oh, ow, p);
                const Index at = (oh * geometry_.out_width + ow) * c;
                nan |= max_with_corner(p, c, y + at, corner + at);
            }
        }
        return nan;
    }

    /// y[k] = the maximum of p[0][k] .. p[3][k] taken as max_pool_halves takes it (a later
    /// value replaces the maximum only where greater), corner[k] = the first j with p[j][k]
    /// equal to it, for k < n: eight at a time where the compiler has vector types. Returns
    /// whether a value is NaN.
    static bool max_with_corner(const Scalar* const (&p)[4], Index n, Scalar* y, std::uint8_t* corner) {
        Index k = 0;
        bool nan = false;
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 9)  // __builtin_convertvector
        using Values = typename CornerLanes::Values;
        using Masks = typename CornerLanes::Masks;
        using Codes = typename CornerLanes::Codes;
        constexpr Index lanes = CornerLanes::lanes;
        Masks nans{};
        for (; k + lanes <= n; k += lanes) {
            Values v[4];
            for (int j = 0; j < 4; ++j) {
                std::memcpy(&v[j], p[j] + k, sizeof(Values));
                nans |= __builtin_convertvector(v[j] != v[j], Masks);
            }
            Values best = v[0];
            for (int j = 1; j < 4; ++j) {
                const Masks greater = __builtin_convertvector(v[j] > best, Masks);
                Masks candidate;
                Masks kept;
                std::memcpy(&candidate, &v[j], sizeof(Masks));
                std::memcpy(&kept, &best, sizeof(Masks));
                const Masks chosen = (candidate & greater) | (kept & ~greater);
                std::memcpy(&best, &chosen, sizeof(Values));
            }
            Masks code = Masks{} + 3;
            for (int j = 2; j >= 0; --j) {
                const Masks same = __builtin_convertvector(v[j] == best, Masks);
                code = (same & j) | (code & ~same);
            }
            std::memcpy(y + k, &best, sizeof(Values));
            const Codes bytes = __builtin_convertvector(code, Codes);
            std::memcpy(corner + k, &bytes, sizeof(Codes));
        }
        for (Index lane = 0; lane < lanes; ++lane) {
            nan |= nans[lane] != 0;
        }
#endif
        for (; k < n; ++k) {
            Scalar best = p[0][k];
            nan |= std::isnan(best);
            for (int j = 1; j < 4; ++j) {
                nan |= std::isnan(p[j][k]);
                best = p[j][k] > best ? p[j][k] : best;
            }
            std::uint8_t code = 3;
            for (int j = 2; j >= 0; --j) {
                code = p[j][k] == best ? static_cast<std::uint8_t>(j) : code;
            }
            y[k] = best;
            corner[k] = code;
        }
        return nan;
    }

    /// The corners of an example holding a NaN, given its maxima `y` (max_pool_with_nan's):
    /// the first pixel of the window equal to the maximum, NaN equal to NaN.
    void record_corners_with_nan(const Scalar* x, const Scalar* y, std::uint8_t* corner) const {
        const Index c = geometry_.channels;
        for (Index oh = 0; oh < geometry_.out_height; ++oh) {
            for (Index ow = 0; ow < geometry_.out_width; ++ow) {
                const Scalar* p[4];
                window_corners(x, oh, ow, p);
                const Index at = (oh * geometry_.out_width + ow) * c;
                for (Index k = 0; k < c; ++k) {
                    const Scalar w = y[at + k];
                    std::uint8_t code = 3;
                    for (int j = 2; j >= 0; --j) {
                        const Scalar v = p[j][k];
                        code = v == w || (std::isnan(v) && std::isnan(w)) ? static_cast<std::uint8_t>(j) : code;
                    }
                    corner[at + k] = code;
                }
            }
        }
    }

    /// Max pooling's backward of one example where halves_exactly(): each pixel of the input
    /// gradient `dx` is 0 + its window's `dy` where it is the window's recorded corner
    /// (`corner`) and, given the ReLU's output `x` (relu_output), that is above zero, else 0:
    /// the values the zeroed gradient plus each window's share would hold.
    void max_unpool_halves(const std::uint8_t* corner, const Scalar* dy, const Scalar* x, Scalar* dx) const {
        const Index c = geometry_.channels;
        for (Index oh = 0; oh < geometry_.out_height; ++oh) {
            for (Index ow = 0; ow < geometry_.out_width; ++ow) {
                const Index at = (oh * geometry_.out_width + ow) * c;
                Scalar* to[4];
                window_corners(dx, oh, ow, to);
                const Scalar* relu[4] = {nullptr, nullptr, nullptr, nullptr};
                if (x != nullptr) {
                    window_corners(x, oh, ow, relu);
                }
                unpool_window(corner + at, dy + at, c, relu, to);
            }
        }
    }

    /// For backward: where each window's maximum `y` first occurs (the first NaN for a NaN).
    /// Returns whether a pixel under a window is NaN.
    bool record_first_maximum(const Scalar* x, const Scalar* y, Index* at) const {
        const Index channels = geometry_.channels;
        std::fill(at, at + geometry_.positions() * channels, Index(-1));
        bool nan = false;
        for_windows([&](Index position, Index pixel) {
            nan |= record_matches(x + pixel * channels, y + position * channels, pixel * channels, channels,
                                  at + position * channels);
        });
        return nan;
    }

    /// at[c] = first + c where at[c] is still -1 and v[c] equals w[c] (NaN equals NaN), for
    /// c < n: eight channels at a time where the compiler has vector types (a branch per
    /// value mispredicts on a quarter of them). Returns whether a v[c] is NaN.
    static bool record_matches(const Scalar* v, const Scalar* w, Index first, Index n, Index* at) {
        Index c = 0;
        bool nan = false;
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 9)  // __builtin_convertvector
        constexpr Index lanes = 8;
        typedef Scalar Values __attribute__((vector_size(lanes * sizeof(Scalar))));
        typedef Index Indices __attribute__((vector_size(lanes * sizeof(Index))));
        const Indices step = {0, 1, 2, 3, 4, 5, 6, 7};
        decltype(Values{} != Values{}) nans{};  // all ones in a lane where a NaN was seen
        for (; c + lanes <= n; c += lanes) {
            Values a;
            Values b;
            Indices current;
            std::memcpy(&a, v + c, sizeof(Values));
            std::memcpy(&b, w + c, sizeof(Values));
            std::memcpy(&current, at + c, sizeof(Indices));
            const auto not_a_number = a != a;
            const auto same = (a == b) | (not_a_number & (b != b));  // all ones where equal or both NaN
            const Indices hit = __builtin_convertvector(same, Indices) & (current < 0);
            current = (current & ~hit) | ((first + c + step) & hit);
            std::memcpy(at + c, &current, sizeof(Indices));
            nans |= not_a_number;
        }
        for (Index lane = 0; lane < lanes; ++lane) {
            nan |= nans[lane] != 0;
        }
#endif
        for (; c < n; ++c) {
            nan |= std::isnan(v[c]);
            if (at[c] < 0 && (v[c] == w[c] || (std::isnan(v[c]) && std::isnan(w[c])))) {
                at[c] = first + c;
            }
        }
        return nan;
    }

    /// For each corner j of a window: to[j][k] = 0 + dy[k] where corner[k] is j (and, given
    /// the ReLU's outputs, relu[j][k] > 0), else 0, for k < n: eight at a time where the
    /// compiler has vector types (as max_with_corner), each code and gradient read once.
    static void unpool_window(const std::uint8_t* corner, const Scalar* dy, Index n, const Scalar* const (&relu)[4],
                              Scalar* const (&to)[4]) {
        Index k = 0;
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 9)  // __builtin_convertvector
        using Values = typename CornerLanes::Values;
        using Masks = typename CornerLanes::Masks;
        using Codes = typename CornerLanes::Codes;
        constexpr Index lanes = CornerLanes::lanes;
        for (; k + lanes <= n; k += lanes) {
            Codes bytes;
            Values gradient;
            std::memcpy(&bytes, corner + k, sizeof(Codes));
            std::memcpy(&gradient, dy + k, sizeof(Values));
            gradient += Scalar(0);
            Masks gradient_bits;
            std::memcpy(&gradient_bits, &gradient, sizeof(Masks));
            const Masks codes = __builtin_convertvector(bytes, Masks);
            for (int j = 0; j < 4; ++j) {
                Masks hit = __builtin_convertvector(codes == j, Masks);
                if (relu[j] != nullptr) {
                    Values values;
                    std::memcpy(&values, relu[j] + k, sizeof(Values));
                    hit &= __builtin_convertvector(values > Values{}, Masks);  // false for NaN, as the ReLU's z > 0 is
                }
                const Masks bits = gradient_bits & hit;
                std::memcpy(to[j] + k, &bits, sizeof(Masks));
            }
        }
#endif
        for (; k < n; ++k) {
            const Scalar gradient = dy[k] + Scalar(0);
            for (int j = 0; j < 4; ++j) {
                to[j][k] = corner[k] == j && (relu[j] == nullptr || relu[j][k] > Scalar(0)) ? gradient : Scalar(0);
            }
        }
    }

    PoolMode mode_;
    WindowGeometry geometry_;
    Matrix<Scalar> output_;
    Matrix<Scalar> input_gradient_;
    IndexMatrix argmax_;  // where each maximum came from, as an index into the example (not halves_exactly())
    // Where halves_exactly(): the corner of its window each maximum came from (0 top left,
    // 1 top right, 2 bottom left, 3 bottom right).
    Eigen::Matrix<std::uint8_t, Eigen::Dynamic, Eigen::Dynamic> corners_;
    bool through_relu_ = false;  // set during backward_through_relu only
};

/// The maximum of each window, channel by channel: a Pool2D with PoolMode::max (throws as its constructor).
template <class Scalar>
std::unique_ptr<Layer<Scalar>> make_max_pool(Shape input, Window window, Stride stride, Padding padding = Padding::valid()) {
    return std::make_unique<Pool2D<Scalar>>(PoolMode::max, input, window, stride, padding);
}

/// The mean of each window, channel by channel: a Pool2D with PoolMode::average (throws as its constructor).
template <class Scalar>
std::unique_ptr<Layer<Scalar>> make_avg_pool(Shape input, Window window, Stride stride, Padding padding = Padding::valid()) {
    return std::make_unique<Pool2D<Scalar>>(PoolMode::average, input, window, stride, padding);
}

/// The mean of each channel over the whole image: height x width x channels to channels.
template <class Scalar>
class GlobalAvgPool final : public Layer<Scalar>, public OnnxExportable<Scalar> {
public:
    /// Contract: see OnnxExportable::export_onnx (layer_onnx.hpp).
    void export_onnx(OnnxGraphBuilder& out, const Shape& in) const override;
    /// The layer an ONNX GlobalAveragePool node computes.
    static std::unique_ptr<Layer<Scalar>> from_onnx(const OnnxNodeReader& node);
    /// Averages images of `input` shape. Throws InvalidArgument when a dimension is below 1.
    explicit GlobalAvgPool(Shape input) : input_shape_(input) {
        if (!input.valid()) {
            detail::throw_invalid("GlobalAvgPool::GlobalAvgPool: input shape has a dimension below 1");
        }
    }
    /// "global_avg_pool".
    std::string type() const override { return "global_avg_pool"; }
    /// The image shape given to the constructor.
    Shape input_shape() const override { return input_shape_; }
    /// A flat shape of the input's channels.
    Shape output_shape() const override { return Shape(input_shape_.channels); }
    /// Contract: see Layer::clone.
    std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<GlobalAvgPool>(*this); }

protected:
    /// Contract: see Layer::forward. The same in both modes.
    const Matrix<Scalar>& do_forward(const Matrix<Scalar>& input, Mode) override {
        do_infer(input, output_);
        return output_;
    }
    /// Contract: see Layer::backward. Each channel's gradient is shared evenly by its pixels.
    const Matrix<Scalar>& do_backward(const Matrix<Scalar>& output_gradient, bool need_input_gradient) override {
        if (!need_input_gradient) {
            input_gradient_.resize(0, 0);
            return input_gradient_;
        }
        const Index channels = input_shape_.channels;
        const Index pixels = input_shape_.height * input_shape_.width;
        input_gradient_.resize(input_shape_.size(), output_gradient.cols());
        const Scalar share = Scalar(1) / static_cast<Scalar>(pixels);
        for (Index i = 0; i < output_gradient.cols(); ++i) {
            for (Index p = 0; p < pixels; ++p) {
                input_gradient_.col(i).segment(p * channels, channels) = output_gradient.col(i) * share;
            }
        }
        return input_gradient_;
    }
    /// Contract: see Layer::infer.
    void do_infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const override {
        const Index channels = input_shape_.channels;
        const Index pixels = input_shape_.height * input_shape_.width;
        // Column i viewed as channels x pixels: the mean of each row.
        output.resize(channels, input.cols());
        for (Index i = 0; i < input.cols(); ++i) {
            output.col(i) = Eigen::Map<const Matrix<Scalar>>(input.col(i).data(), channels, pixels).rowwise().mean();
        }
    }

private:
    Shape input_shape_;
    Matrix<Scalar> output_;
    Matrix<Scalar> input_gradient_;
};

// ---- model files --------------------------------------------------------------------

namespace detail {

/// A Pool2D of `mode` from a model file's settings: window, stride, padding.
template <class Scalar, PoolMode mode>
std::unique_ptr<Layer<Scalar>> pool2d_from_settings(const Shape& input, const Settings& s) {
    Window window(1);
    Stride stride(1);
    Padding padding;
    window_from_settings(s, "window", window, stride, padding);
    return std::make_unique<Pool2D<Scalar>>(mode, input, window, stride, padding);
}

/// A GlobalAvgPool (it has no settings).
template <class Scalar>
std::unique_ptr<Layer<Scalar>> global_avg_pool_from_settings(const Shape& input, const Settings&) {
    return std::make_unique<GlobalAvgPool<Scalar>>(input);
}

/// The pooling layers in the registries of a program that includes this header.
inline const bool pooling_registered =
    register_builtin_layer({"max_pool2d", pool2d_from_settings<float, PoolMode::max>,
                            pool2d_from_settings<double, PoolMode::max>}) &&
    register_builtin_layer({"avg_pool2d", pool2d_from_settings<float, PoolMode::average>,
                            pool2d_from_settings<double, PoolMode::average>}) &&
    register_builtin_layer({"global_avg_pool", global_avg_pool_from_settings<float>,
                            global_avg_pool_from_settings<double>}) &&
    register_onnx_importer({"GlobalAveragePool", &GlobalAvgPool<float>::from_onnx,
                            &GlobalAvgPool<double>::from_onnx});

}  // namespace detail

/// ONNX: MaxPool or AveragePool. nndl averages over the padding too (count_include_pad 1),
/// which some engines (OpenCV 4.6) ignore: zeros added by a Pad node mean the same everywhere.
template <class Scalar>
void Pool2D<Scalar>::export_onnx(OnnxGraphBuilder& out, const Shape& in) const {
    out.require_no_sequence(type(), in);
    out.ensure_image(in);
    const WindowGeometry& g = geometry_;
    const bool padded = g.top != 0 || g.bottom != 0 || g.left != 0 || g.right != 0;
    if (mode_ == PoolMode::average && padded) {
        out.add_node("Pad", {out.current, out.add_int64_tensor("pads", {0, 0, g.top, g.left, 0, 0, g.bottom, g.right})});
    }
    g.set_onnx_window(out.add_node(mode_ == PoolMode::max ? "MaxPool" : "AveragePool", {out.current}),
                      mode_ == PoolMode::max);
}

/// ONNX: GlobalAveragePool.
template <class Scalar>
void GlobalAvgPool<Scalar>::export_onnx(OnnxGraphBuilder& out, const Shape& in) const {
    out.require_no_sequence(type(), in);
    out.ensure_image(in);
    out.add_node("GlobalAveragePool", {out.current});
}

template <class Scalar>
std::unique_ptr<Layer<Scalar>> GlobalAvgPool<Scalar>::from_onnx(const OnnxNodeReader& node) {
    node.require_image();
    return std::make_unique<GlobalAvgPool<Scalar>>(node.input_shape());
}


}  // namespace nndl

// nndl::compiled holds Pool2D and GlobalAvgPool for float and double: a program that links it (NNDL_COMPILED)
// compiles none of their code.
#if defined(NNDL_COMPILED) || defined(NNDL_COMPILED_DEFINITIONS_FLOAT) || defined(NNDL_COMPILED_DEFINITIONS_DOUBLE)
#include "../detail/compiled_fingerprint.hpp"
#include "../detail/compiled_kind.hpp"  // NNDL_COMPILED_FLOAT_KIND, NNDL_COMPILED_DOUBLE_KIND
/// \cond
namespace nndl {
NNDL_COMPILED_FLOAT_KIND template class Pool2D<float>;
NNDL_COMPILED_DOUBLE_KIND template class Pool2D<double>;
NNDL_COMPILED_FLOAT_KIND template class GlobalAvgPool<float>;
NNDL_COMPILED_DOUBLE_KIND template class GlobalAvgPool<double>;
}  // namespace nndl
/// \endcond
#undef NNDL_COMPILED_FLOAT_KIND
#undef NNDL_COMPILED_DOUBLE_KIND
#endif
