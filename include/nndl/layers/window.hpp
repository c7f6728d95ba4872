#pragma once
// Sliding windows over images, shared by convolution and pooling: the kernel or
// pooling window, the stride, the padding, and the output size they give.
//
// Images are columns of height x width x channels values, channels fastest (layer.hpp).
// Output size per dimension: floor((in + pad_before + pad_after - window) / stride) + 1.
// "same" padding gives ceil(in / stride) outputs and splits the padding it needs
// between both sides, the smaller half before (as TensorFlow, and as PyTorch's "same").
// Average pooling counts padded zeros in its mean (PyTorch's default); TensorFlow's
// "same" average pooling divides by the real inputs only.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "../errors.hpp"
#include "../layer.hpp"
#include "../layer_onnx.hpp"
#include "../types.hpp"

namespace nndl {

/// A window's height and width (a kernel, a pooling window).
struct Window {
    Index height = 1;  ///< rows the window covers
    Index width = 1;   ///< columns the window covers
    /// A square `size` x `size` window; implicit on purpose: Window(3) is 3x3.
    Window(Index size) : height(size), width(size) {}
    /// A `height_` x `width_` window. Sizes are checked (at least 1) where the window is used.
    Window(Index height_, Index width_) : height(height_), width(width_) {}
};

/// Steps between windows, vertically and horizontally.
struct Stride {
    Index vertical = 1;    ///< rows from one window to the next below it
    Index horizontal = 1;  ///< columns from one window to the next to its right
    /// The same step both ways; implicit on purpose.
    Stride(Index step) : vertical(step), horizontal(step) {}
    /// Different vertical and horizontal steps. Checked (at least 1) where the stride is used.
    Stride(Index vertical_, Index horizontal_) : vertical(vertical_), horizontal(horizontal_) {}
};

/// Zero padding around each image: explicit amounts, none ("valid") or "same".
struct Padding {
    /// How the padding is given.
    enum class Mode {
        amounts,  ///< the explicit top, bottom, left and right below
        valid,    ///< no padding: windows stay inside the image
        same      ///< ceil(in / stride) outputs per dimension, the padding split with the smaller half before
    };
    Mode mode = Mode::valid;  ///< which kind of padding; the amounts count only for Mode::amounts
    Index top = 0;     ///< rows of zeros above each image (Mode::amounts)
    Index bottom = 0;  ///< rows of zeros below each image (Mode::amounts)
    Index left = 0;    ///< columns of zeros left of each image (Mode::amounts)
    Index right = 0;   ///< columns of zeros right of each image (Mode::amounts)

    /// No padding (the default).
    static Padding valid() { return {}; }
    /// "same" padding, resolved per layer by WindowGeometry::resolve (see the top of window.hpp).
    static Padding same() {
        Padding p;
        p.mode = Mode::same;
        return p;
    }
    /// `p` rows above and below, `p` columns left and right (the course's "pad").
    static Padding uniform(Index p) { return amounts(p, p, p, p); }
    /// Explicit amounts, in rows (top, bottom) and columns (left, right); a negative
    /// amount is refused (InvalidArgument) where the padding is used.
    static Padding amounts(Index top, Index bottom, Index left, Index right) {
        Padding p;
        p.mode = Mode::amounts;
        p.top = top;
        p.bottom = bottom;
        p.left = left;
        p.right = right;
        return p;
    }
};

/// Where every window of a layer lies: resolved padding and the output size.
struct WindowGeometry {
    Index in_height = 0,          ///< input image height
        in_width = 0,             ///< input image width
        channels = 0;             ///< input channels (the output keeps them in pooling)
    Index window_height = 0,      ///< window (kernel) height
        window_width = 0;         ///< window (kernel) width
    Index stride_vertical = 1,    ///< rows between vertically neighbouring windows
        stride_horizontal = 1;    ///< columns between horizontally neighbouring windows
    Index top = 0,                ///< rows of zeros above each image, resolved ("same" included)
        bottom = 0,               ///< rows of zeros below, resolved
        left = 0,                 ///< columns of zeros on the left, resolved
        right = 0;                ///< columns of zeros on the right, resolved
    Index out_height = 0,         ///< output height: floor((in_height + top + bottom - window_height) / stride_vertical) + 1
        out_width = 0;            ///< output width, likewise across

    /// Windows per image (out_height * out_width).
    Index positions() const { return out_height * out_width; }

    /// Checks everything and resolves "same"; `where` names the layer in messages.
    /// Throws InvalidArgument for an invalid input shape, a window or stride below 1, a
    /// negative padding amount, a window, stride, padding or image side above 2^20, or
    /// an output of more than Shape::max_values values; ShapeError when the window does
    /// not fit in the padded input.
    static WindowGeometry resolve(const std::string& where, const Shape& input, const Window& window,
                                  const Stride& stride, const Padding& padding) {
        if (!input.valid()) {
            detail::throw_invalid(where, ": input shape has a dimension below 1");
        }
        if (window.height < 1 || window.width < 1) {
            detail::throw_invalid(where, ": window is ", window.height, "x", window.width, ", expected at least 1x1");
        }
        if (stride.vertical < 1 || stride.horizontal < 1) {
            detail::throw_invalid(where, ": stride is ", stride.vertical, "x", stride.horizontal,
                                  ", expected at least 1x1");
        }
        // Bounds that keep every sum and product below in exact arithmetic.
        const Index limit = Index(1) << 20;
        for (const Index v : {window.height, window.width, stride.vertical, stride.horizontal, padding.top,
                              padding.bottom, padding.left, padding.right, input.height, input.width}) {
            if (v > limit) {
                detail::throw_invalid(where, ": window, stride, padding and image sides are at most ", limit,
                                      ", got ", v);
            }
        }
        WindowGeometry g;
        g.in_height = input.height;
        g.in_width = input.width;
        g.channels = input.channels;
        g.window_height = window.height;
        g.window_width = window.width;
        g.stride_vertical = stride.vertical;
        g.stride_horizontal = stride.horizontal;
        if (padding.mode == Padding::Mode::amounts) {
            if (padding.top < 0 || padding.bottom < 0 || padding.left < 0 || padding.right < 0) {
                detail::throw_invalid(where, ": padding ", padding.top, ", ", padding.bottom, ", ", padding.left, ", ",
                                      padding.right, " has a negative amount");
            }
            g.top = padding.top;
            g.bottom = padding.bottom;
            g.left = padding.left;
            g.right = padding.right;
        } else if (padding.mode == Padding::Mode::same) {
            const auto split = [](Index in, Index k, Index s, Index& before, Index& after) {
                const Index out = (in - 1) / s + 1;  // ceil(in / s)
                const Index total = std::max<Index>((out - 1) * s + k - in, 0);
                before = total / 2;
                after = total - before;
            };
            split(input.height, window.height, stride.vertical, g.top, g.bottom);
            split(input.width, window.width, stride.horizontal, g.left, g.right);
        }
        const Index padded_height = input.height + g.top + g.bottom;
        const Index padded_width = input.width + g.left + g.right;
        if (padded_height < window.height || padded_width < window.width) {
            detail::throw_shape(where, ": the ", window.height, "x", window.width, " window does not fit in input ",
                                input.to_string(), " padded to ", padded_height, "x", padded_width);
        }
        g.out_height = (padded_height - window.height) / stride.vertical + 1;
        g.out_width = (padded_width - window.width) / stride.horizontal + 1;
        if (!Shape(input.channels, g.out_height, g.out_width).valid()) {
            detail::throw_invalid(where, ": the output would be ", g.out_height, "x", g.out_width, "x", input.channels,
                                  ", more than ", Shape::max_values, " values");
        }
        return g;
    }

    /// The settings that rebuild this geometry: the window under `window_name` ("kernel",
    /// "window"), "stride", and "padding" as explicit amounts (so "same" reloads as its amounts).
    void describe(Settings& settings, const char* window_name) const {
        settings.set(window_name, std::vector<long long>{window_height, window_width});
        settings.set("stride", std::vector<long long>{stride_vertical, stride_horizontal});
        settings.set("padding", std::vector<long long>{top, bottom, left, right});
    }

    /// ONNX: the window's kernel_shape, strides and pads attributes on `node` (a Conv or a
    /// pooling operator; ONNX orders pads top, left, bottom, right).
    void set_onnx_window(OnnxNode node, bool with_pads = true) const {
        node.set_ints("kernel_shape", {window_height, window_width});
        node.set_ints("strides", {stride_vertical, stride_horizontal});
        node.set_ints("pads", with_pads ? std::vector<std::int64_t>{top, left, bottom, right}
                                        : std::vector<std::int64_t>{0, 0, 0, 0});
    }
};

/// The course's zero_pad: each image of `x` (examples in columns, of `shape`) with
/// `padding` rows and columns of zeros around it. `padded` receives the new shape.
/// Throws ShapeError when `x` does not have shape.size() rows, InvalidArgument unless
/// `padding` holds explicit, non-negative amounts (Padding::amounts, Padding::uniform).
template <class Scalar>
Matrix<Scalar> zero_pad(const Matrix<Scalar>& x, const Shape& shape, const Padding& padding, Shape& padded) {
    detail::require_rows("zero_pad", "x", x.rows(), shape.size(), "the shape holds");
    if (padding.mode != Padding::Mode::amounts || padding.top < 0 || padding.bottom < 0 || padding.left < 0 ||
        padding.right < 0) {
        detail::throw_invalid("zero_pad: expected explicit, non-negative padding amounts");
    }
    padded = Shape(shape.channels, shape.height + padding.top + padding.bottom,
                   shape.width + padding.left + padding.right);
    Matrix<Scalar> result = Matrix<Scalar>::Zero(padded.size(), x.cols());
    for (Index i = 0; i < x.cols(); ++i) {
        for (Index h = 0; h < shape.height; ++h) {
            result.col(i).segment(padded.offset(h + padding.top, padding.left, 0), shape.width * shape.channels) =
                x.col(i).segment(shape.offset(h, 0, 0), shape.width * shape.channels);
        }
    }
    return result;
}

namespace detail {

/// Window, stride and padding read back from settings written by WindowGeometry::describe.
inline void window_from_settings(const Settings& s, const char* window_name, Window& window, Stride& stride,
                                 Padding& padding) {
    const auto& w = s.integers(window_name);
    const auto& st = s.integers("stride");
    const auto& p = s.integers("padding");
    if (w.size() != 2 || st.size() != 2 || p.size() != 4) {
        throw_invalid("Settings: '", window_name, "' and 'stride' need 2 numbers and 'padding' 4");
    }
    for (long long v : {w[0], w[1], st[0], st[1], p[0], p[1], p[2], p[3]}) {
        if (v < 0 || v > (1LL << 20)) {
            throw_invalid("Settings: window, stride or padding ", v, " is outside 0..2^20");
        }
    }
    window = Window(static_cast<Index>(w[0]), static_cast<Index>(w[1]));
    stride = Stride(static_cast<Index>(st[0]), static_cast<Index>(st[1]));
    padding = Padding::amounts(static_cast<Index>(p[0]), static_cast<Index>(p[1]), static_cast<Index>(p[2]),
                               static_cast<Index>(p[3]));
}

}  // namespace detail
}  // namespace nndl
