#pragma once
// Pooling over image columns (height x width x channels, channels fastest), channel by
// channel: the maximum or the mean of each window, and the mean of the whole image.
//
// Max pooling ignores padding (a window partly outside the image takes the maximum of
// what is inside) and sends each output's gradient to the first maximum of its window,
// as PyTorch does. Average pooling divides by the window's size, padding included
// (PyTorch's count_include_pad=True; with no padding it is the plain mean).

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "../detail/parallel.hpp"
#include "../errors.hpp"
#include "../layer.hpp"
#include "../types.hpp"
#include "window.hpp"

namespace nndl {

enum class PoolMode { max, average };

template <class Scalar>
class Pool2D final : public Layer<Scalar> {
public:
    Pool2D(PoolMode mode, Shape input, Window window, Stride stride, Padding padding = Padding::valid())
        : mode_(mode), geometry_(WindowGeometry::resolve(name(mode), input, window, stride, padding)) {}

    std::string type() const override { return mode_ == PoolMode::max ? "max_pool2d" : "avg_pool2d"; }
    Shape input_shape() const override { return Shape(geometry_.channels, geometry_.in_height, geometry_.in_width); }
    Shape output_shape() const override { return Shape(geometry_.channels, geometry_.out_height, geometry_.out_width); }
    Settings settings() const override {
        Settings s;
        geometry_.describe(s, "window");
        return s;
    }
    std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<Pool2D>(*this); }
    PoolMode mode() const { return mode_; }
    const WindowGeometry& geometry() const { return geometry_; }

protected:
    const Matrix<Scalar>& do_forward(const Matrix<Scalar>& input, Mode) override {
        pool(input, output_, mode_ == PoolMode::max ? &argmax_ : nullptr);
        return output_;
    }

    const Matrix<Scalar>& do_backward(const Matrix<Scalar>& output_gradient, bool need_input_gradient) override {
        if (!need_input_gradient) {
            input_gradient_.resize(0, 0);
            return input_gradient_;
        }
        const WindowGeometry& g = geometry_;
        const Index m = output_gradient.cols();
        input_gradient_.setZero(g.in_height * g.in_width * g.channels, m);
        const Scalar share = Scalar(1) / static_cast<Scalar>(g.window_height * g.window_width);
        detail::parallel_ranges(m, 1, 1, [&](Index begin, Index end) {
            for (Index i = begin; i < end; ++i) {
                for (Index o = 0; o < output_gradient.rows(); ++o) {
                    const Scalar d = output_gradient(o, i);
                    if (mode_ == PoolMode::max) {
                        const Index from = argmax_(o, i);
                        if (from >= 0) {
                            input_gradient_(from, i) += d;
                        }
                    } else {
                        for_window(o, [&](Index pixel) { input_gradient_(pixel, i) += d * share; });
                    }
                }
            }
        });
        return input_gradient_;
    }

    void do_infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const override {
        pool(input, output, nullptr);
    }

private:
    static const char* name(PoolMode mode) { return mode == PoolMode::max ? "MaxPool2D" : "AvgPool2D"; }

    /// Calls f(row of the input pixel's channel) for the in-image pixels of output row o's window.
    template <class F>
    void for_window(Index o, F&& f) const {
        const WindowGeometry& g = geometry_;
        const Index c = o % g.channels;
        const Index position = o / g.channels;
        const Index oh = position / g.out_width;
        const Index ow = position % g.out_width;
        for (Index kh = 0; kh < g.window_height; ++kh) {
            const Index ih = oh * g.stride_vertical - g.top + kh;
            if (ih < 0 || ih >= g.in_height) {
                continue;
            }
            for (Index kw = 0; kw < g.window_width; ++kw) {
                const Index iw = ow * g.stride_horizontal - g.left + kw;
                if (iw >= 0 && iw < g.in_width) {
                    f((ih * g.in_width + iw) * g.channels + c);
                }
            }
        }
    }

    void pool(const Matrix<Scalar>& input, Matrix<Scalar>& output, Eigen::Matrix<Index, Eigen::Dynamic, Eigen::Dynamic>* argmax) const {
        const WindowGeometry& g = geometry_;
        const Index rows = g.positions() * g.channels;
        const Index m = input.cols();
        output.resize(rows, m);
        if (argmax != nullptr) {
            argmax->resize(rows, m);
        }
        const Scalar share = Scalar(1) / static_cast<Scalar>(g.window_height * g.window_width);
        detail::parallel_ranges(m, 1, 1, [&](Index begin, Index end) {
            for (Index i = begin; i < end; ++i) {
                for (Index o = 0; o < rows; ++o) {
                    if (mode_ == PoolMode::max) {
                        Scalar best = -std::numeric_limits<Scalar>::infinity();
                        Index at = -1;
                        for_window(o, [&](Index pixel) {
                            const Scalar v = input(pixel, i);
                            if (at < 0 || v > best || (std::isnan(v) && !std::isnan(best))) {  // NaN wins, as in PyTorch
                                best = v;
                                at = pixel;
                            }
                        });
                        output(o, i) = best;
                        if (argmax != nullptr) {
                            (*argmax)(o, i) = at;
                        }
                    } else {
                        Scalar sum = 0;
                        for_window(o, [&](Index pixel) { sum += input(pixel, i); });
                        output(o, i) = sum * share;
                    }
                }
            }
        });
    }

    PoolMode mode_;
    WindowGeometry geometry_;
    Matrix<Scalar> output_;
    Matrix<Scalar> input_gradient_;
    Eigen::Matrix<Index, Eigen::Dynamic, Eigen::Dynamic> argmax_;
};

/// The maximum of each window, channel by channel.
template <class Scalar>
std::unique_ptr<Layer<Scalar>> make_max_pool(Shape input, Window window, Stride stride, Padding padding = Padding::valid()) {
    return std::make_unique<Pool2D<Scalar>>(PoolMode::max, input, window, stride, padding);
}

/// The mean of each window, channel by channel.
template <class Scalar>
std::unique_ptr<Layer<Scalar>> make_avg_pool(Shape input, Window window, Stride stride, Padding padding = Padding::valid()) {
    return std::make_unique<Pool2D<Scalar>>(PoolMode::average, input, window, stride, padding);
}

/// The mean of each channel over the whole image: height x width x channels to channels.
template <class Scalar>
class GlobalAvgPool final : public Layer<Scalar> {
public:
    explicit GlobalAvgPool(Shape input) : input_shape_(input) {
        if (!input.valid()) {
            detail::throw_invalid("GlobalAvgPool::GlobalAvgPool: input shape has a dimension below 1");
        }
    }
    std::string type() const override { return "global_avg_pool"; }
    Shape input_shape() const override { return input_shape_; }
    Shape output_shape() const override { return Shape(input_shape_.channels); }
    std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<GlobalAvgPool>(*this); }

protected:
    const Matrix<Scalar>& do_forward(const Matrix<Scalar>& input, Mode) override {
        do_infer(input, output_);
        return output_;
    }
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

}  // namespace nndl
