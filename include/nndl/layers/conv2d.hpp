#pragma once
// 2-D convolution: every filter slides over the (padded) image and, at each position,
// takes the dot product with the window of all input channels, adds its bias and,
// optionally, applies an activation (Z = W * patches + b, A = f(Z)).
//
// W is filters x (kernel_height * kernel_width * in_channels): row c is filter c with
// its entries in (row, column, channel) order, the course's W[:, :, :, c] read row-major;
// b is filters x 1. A softmax activation normalizes over the whole output of an example
// (every position and filter), as for any column. Input and output are image columns (height x width x channels,
// channels fastest; see layer.hpp), so the output of one example is exactly the
// filters x positions product laid out column by column.
//
// The layer lowers the batch to patches (im2col: one column per output position and
// example) and multiplies them by W with Eigen or nndl's thin kernels; with few channels
// and filters (a network's first layers) the kernels read each window in place from a
// zero-bordered copy of the image instead, forward and for the weight gradient. The
// batch is cut into chunks of a few examples that threads claim one at a time (lowering,
// product, bias, and in backward the gradients), so a descheduled thread delays one chunk,
// not every product; weight gradients are summed over chunks in a fixed order, so results
// do not depend on the thread count.

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../detail/pairwise_sum.hpp"
#include "../detail/parallel.hpp"
#include "../detail/products.hpp"
#include "../errors.hpp"
#include "../layer.hpp"
#include "../layer_onnx.hpp"
#include "../types.hpp"
#include "registry.hpp"
#include "activations.hpp"
#include "pooling.hpp"
#include "window.hpp"

namespace nndl {

namespace detail {

/// Calls f(std::integral_constant<int, n>{}) for the window row lengths of 3x3 and 5x5 windows
/// over one to three channels, so that the copy's length is known when compiling, and
/// f(std::integral_constant<int, 0>{}) for any other n.
template <class F>
void with_run_length(Index n, F&& f) {
    switch (n) {
        case 1: f(std::integral_constant<int, 1>{}); return;
        case 2: f(std::integral_constant<int, 2>{}); return;
        case 3: f(std::integral_constant<int, 3>{}); return;
        case 4: f(std::integral_constant<int, 4>{}); return;
        case 5: f(std::integral_constant<int, 5>{}); return;
        case 6: f(std::integral_constant<int, 6>{}); return;
        case 9: f(std::integral_constant<int, 9>{}); return;
        case 15: f(std::integral_constant<int, 15>{}); return;
        default: f(std::integral_constant<int, 0>{});
    }
}

/// Copies n values (a window row: few to a few hundred) with vector loads and stores
/// inline, where a call to memcpy would cost as much as the copy.
template <class Scalar>
inline void copy_run(const Scalar* from, Index n, Scalar* to) {
    with_run_length(n, [&](auto size) {
        using Fixed = Eigen::Array<Scalar, decltype(size)::value == 0 ? Eigen::Dynamic : decltype(size)::value, 1>;
        Eigen::Map<Fixed> out(to, n);
        out = Eigen::Map<const Fixed>(from, n);
    });
}

/// Window rows of at most this many values (few channels: 3x3 windows over up to 21) are
/// copied from a padded copy of the image, without a bounds check or a fill per row.
constexpr Index patch_short_row = 64;

/// Whether PaddedImages pays: the padded image is at most four times the image (plus a few
/// rows), so a padding or stride from a model file cannot make each thread allocate more
/// than about four examples' values. Otherwise the lowering checks each window row's bounds.
inline bool padded_copy_pays(const WindowGeometry& g) {
    const Index image = g.in_height * g.in_width * g.channels;
    const Index padded_rows = g.in_height + g.top + g.bottom;
    const Index padded_row = g.channels * (g.in_width + g.left + g.right);
    return padded_rows <= 4 * g.in_height + 8 && padded_row <= 4 * g.in_width * g.channels + 64 &&
           padded_rows * padded_row <= 4 * image + 4096;
}

/// Whether windows are copied (or read in place) from padded images: rows of at most
/// patch_short_row values, where the padded copy pays.
inline bool short_window_rows(const WindowGeometry& g) {
    return g.window_width * g.channels <= patch_short_row && padded_copy_pays(g);
}

/// An output position in the order of patch columns (example, then row, then column),
/// starting at patch column `first`; next() steps to the following one.
struct WindowPosition {
    Index example, row, column;
    WindowPosition(const WindowGeometry& g, Index first)
        : example(first / g.positions()),
          row(first % g.positions() / g.out_width),
          column(first % g.positions() % g.out_width) {}
    void next(const WindowGeometry& g) {
        if (++column == g.out_width) {
            column = 0;
            if (++row == g.out_height) {
                row = 0;
                ++example;
            }
        }
    }
};

/// Patch columns [first, first + count) of the whole batch `x` into `patches` (kernel_height
/// * kernel_width * channels rows, `count` columns, leading dimension `ld`): column example *
/// positions + position holds the window of that output position, in (row, column, channel)
/// order, zeros where it covers padding. Each window row is one contiguous run of the image.
template <class Scalar>
void patch_columns_short_rows(const WindowGeometry& g, const Matrix<Scalar>& x, Index first, Index count,
                              Scalar* patches, Index ld);

template <class Scalar>
void patch_columns(const WindowGeometry& g, const Matrix<Scalar>& x, Index first, Index count, Scalar* patches,
                   Index ld) {
    if (short_window_rows(g)) {
        patch_columns_short_rows(g, x, first, count, patches, ld);
        return;
    }
    const Index c = g.channels;
    const Index row_values = g.window_width * c;
    WindowPosition at(g, first);
    for (Index j = 0; j < count; ++j, at.next(g)) {
        const Index oh = at.row;
        const Index ow = at.column;
        const Scalar* image = x.col(at.example).data();
        Scalar* out = patches + j * ld;
        const Index iw0 = ow * g.stride_horizontal - g.left;
        const Index lo = std::max<Index>(0, -iw0);
        const Index hi = std::min<Index>(g.window_width, g.in_width - iw0);
        for (Index kh = 0; kh < g.window_height; ++kh, out += row_values) {
            const Index ih = oh * g.stride_vertical - g.top + kh;
            if (ih < 0 || ih >= g.in_height || hi <= lo) {
                std::fill(out, out + row_values, Scalar(0));
                continue;
            }
            std::fill(out, out + lo * c, Scalar(0));
            copy_run(image + (ih * g.in_width + iw0 + lo) * c, (hi - lo) * c, out + lo * c);
            std::fill(out + hi * c, out + row_values, Scalar(0));
        }
    }
}

/// One example at a time with its padding written out as zeros, so that every window is a
/// plain offset from its top-left value: the example's own column where the geometry pads
/// nothing, else a copy in a buffer of the calling thread, whose image rows are copied as
/// they are asked for. The buffer is zeroed again only when the layout changes (the borders
/// stay zero: only image rows are written). Use it where padded_copy_pays.
template <class Scalar>
class PaddedImages {
public:
    explicit PaddedImages(const WindowGeometry& g)
        : g_(g),
          row_(g.channels * (g.in_width + g.left + g.right)),
          padded_(g.top + g.bottom + g.left + g.right > 0) {
        if (!padded_) {
            return;
        }
        const auto values = static_cast<std::size_t>((g.in_height + g.top + g.bottom) * row_);
        if (in_use()) {  // another one is alive on this thread: a buffer of its own
            own_.assign(values, Scalar(0));
            data_ = own_.data();
            return;
        }
        const std::array<Index, 7> wanted{g.in_height, g.in_width, g.channels, g.top, g.bottom, g.left, g.right};
        if (buffer().size() != values || layout() != wanted) {
            layout() = {};  // in case the allocation throws
            buffer().assign(values, Scalar(0));
            layout() = wanted;
        }
        in_use() = true;  // only once nothing can throw, so the destructor always clears it
        shared_ = true;
        data_ = buffer().data();
    }
    ~PaddedImages() {
        if (!shared_) {
            return;
        }
        in_use() = false;
        if (buffer().capacity() > (std::size_t(1) << 20)) {  // a thread keeps a cache's worth, no more
            std::vector<Scalar>().swap(buffer());
        }
    }
    PaddedImages(const PaddedImages&) = delete;
    PaddedImages& operator=(const PaddedImages&) = delete;

    /// Values from one padded image row to the next.
    Index row() const { return row_; }

    /// The padded image of example `e` of `x`, with its rows [first, end) in place (valid
    /// until another example is asked for). Calls ask for examples and rows in order.
    const Scalar* of(const Matrix<Scalar>& x, Index e, Index first, Index end) {
        if (!padded_) {
            return x.col(e).data();
        }
        if (e != loaded_) {
            loaded_ = e;
            copied_ = g_.top;  // the padded rows above are zeros
        }
        copied_ = std::max(copied_, first);  // rows above `first` are not asked for again
        // Invariant: padded rows [first, copied_) of example e are in place.
        const Index values = g_.in_width * g_.channels;
        const Index last = std::min(end, g_.top + g_.in_height);
        for (; copied_ < last; ++copied_) {
            std::memcpy(data_ + copied_ * row_ + g_.left * g_.channels, x.col(e).data() + (copied_ - g_.top) * values,
                        static_cast<std::size_t>(values) * sizeof(Scalar));
        }
        return data_;
    }

private:
    static std::vector<Scalar>& buffer() {
        thread_local std::vector<Scalar> values;
        return values;
    }
    static std::array<Index, 7>& layout() {
        thread_local std::array<Index, 7> last{};
        return last;
    }
    static bool& in_use() {
        thread_local bool taken = false;
        return taken;
    }

    const WindowGeometry& g_;
    Index row_;
    bool padded_;
    bool shared_ = false;
    std::vector<Scalar> own_;
    Scalar* data_ = nullptr;
    Index loaded_ = -1;
    Index copied_ = 0;  ///< padded rows [first, copied_) of example loaded_ are in place (see of())
};

/// patch_columns for short window rows: every window row is one copy of `Run::value` values
/// (0: of g.window_width * g.channels, not known when compiling) from the padded image.
template <class Scalar, class Run>
void patch_columns_padded(const WindowGeometry& g, const Matrix<Scalar>& x, Index first, Index count,
                          Scalar* patches, Index ld, Run) {
    const Index c = g.channels;
    const Index row_values = Run::value > 0 ? Index(Run::value) : g.window_width * c;
    PaddedImages<Scalar> images(g);
    const Index padded_row = images.row();
    WindowPosition at(g, first);
    for (Index j = 0; j < count; ++j, at.next(g)) {
        const Index top_row = at.row * g.stride_vertical;
        const Scalar* window =
            images.of(x, at.example, top_row, top_row + g.window_height) + top_row * padded_row +
            at.column * g.stride_horizontal * c;
        Scalar* out = patches + j * ld;
        for (Index kh = 0; kh < g.window_height; ++kh, out += row_values, window += padded_row) {
            if constexpr (Run::value > 0) {
                for (int i = 0; i < Run::value; ++i) {
                    out[i] = window[i];
                }
            } else {
                copy_run(window, row_values, out);
            }
        }
    }
}

template <class Scalar>
void patch_columns_short_rows(const WindowGeometry& g, const Matrix<Scalar>& x, Index first, Index count,
                              Scalar* patches, Index ld) {
    with_run_length(g.window_width * g.channels,
                    [&](auto run) { patch_columns_padded(g, x, first, count, patches, ld, run); });
}

/// The reverse of patch_columns for patch columns [from, from + columns) of the batch
/// (column j: example j / positions, position j % positions): the sum of every patch entry
/// is added onto the pixel it came from (entries from padding are dropped), patch columns in
/// order, a window row at a time, and an example's column of `x` is zeroed at its first
/// position. So calls over consecutive ranges that start on an example overwrite those
/// examples' columns. `patches` holds the range's columns only, window_height *
/// window_width * channels values each.
template <class Scalar>
void patches_to_image(const WindowGeometry& g, const Scalar* patches, Index from, Index columns, Matrix<Scalar>& x) {
    using Run = Eigen::Array<Scalar, Eigen::Dynamic, 1>;
    const Index positions = g.positions();
    const Index c = g.channels;
    const Index row_values = g.window_width * c;
    const Index length = g.window_height * row_values;
    for (Index j = from; j < from + columns; ++j) {
        const Index position = j % positions;
        Scalar* image = x.col(j / positions).data();
        if (position == 0) {
            Eigen::Map<Run>(image, x.rows()).setZero();
        }
        const Index oh = position / g.out_width;
        const Index ow = position % g.out_width;
        const Scalar* in = patches + (j - from) * length;
        const Index iw0 = ow * g.stride_horizontal - g.left;
        const Index lo = std::max<Index>(0, -iw0);
        const Index hi = std::min<Index>(g.window_width, g.in_width - iw0);
        for (Index kh = 0; kh < g.window_height; ++kh, in += row_values) {
            const Index ih = oh * g.stride_vertical - g.top + kh;
            if (ih >= 0 && ih < g.in_height && hi > lo) {
                Eigen::Map<Run>(image + (ih * g.in_width + iw0 + lo) * c, (hi - lo) * c) +=
                    Eigen::Map<const Run>(in + lo * c, (hi - lo) * c);
            }
        }
    }
}

}  // namespace detail

/// 2-D convolution of image columns: filters slid over the (padded) images, plus a bias
/// and an optional activation (see the top of conv2d.hpp). Parameters: "W"
/// (filters x kernel_height * kernel_width * in_channels, weight decay) and "b" (filters x 1).
template <class Scalar>
class Conv2D final : public Layer<Scalar>, public FusedOutput<Scalar>, public FusedInference<Scalar>,
                     public OnnxExportable<Scalar> {
public:
    /// Contract: see OnnxExportable::export_onnx (layer_onnx.hpp).
    void export_onnx(OnnxGraphBuilder& out, const Shape& in) const override;
    /// `filters` output channels over images of `input` shape. Weights start at zero:
    /// fill them with initial_weights(filters, fan_in(), init, random) or set them. The bias
    /// starts at zero. Throws as WindowGeometry::resolve, and InvalidArgument when
    /// `filters` is below 1 or one example's output or patches would hold more than
    /// Shape::max_values values.
    Conv2D(Shape input, Index filters, Window kernel, Stride stride = Stride(1), Padding padding = Padding::valid(),
           Activation activation = Activation::identity)
        : geometry_(WindowGeometry::resolve("Conv2D::Conv2D", input, kernel, stride, padding)),
          filters_(checked_filters(filters)),
          activation_(activation),
          weights_(Matrix<Scalar>::Zero(filters, geometry_.window_height * geometry_.window_width * input.channels)),
          bias_(Matrix<Scalar>::Zero(filters, 1)),
          weights_gradient_(Matrix<Scalar>::Zero(weights_.rows(), weights_.cols())),
          bias_gradient_(Matrix<Scalar>::Zero(filters, 1)) {
        const WindowGeometry& g = geometry_;
        if (!Shape(filters, g.out_height, g.out_width).valid() || weights_.cols() > Shape::max_values / g.positions()) {
            detail::throw_invalid("Conv2D::Conv2D: ", filters, " filters over ", g.out_height, "x", g.out_width,
                                  " positions of ", weights_.cols(), " values are more than ", Shape::max_values,
                                  " per example");
        }
        if (detail::short_window_rows(g)) {  // computed once: training steps allocate nothing
            window_offsets_ = window_offsets();
        }
    }

    /// "conv2d".
    std::string type() const override { return "conv2d"; }
    /// The image shape given to the constructor.
    Shape input_shape() const override { return Shape(geometry_.channels, geometry_.in_height, geometry_.in_width); }
    /// out_height x out_width x filters.
    Shape output_shape() const override { return Shape(filters_, geometry_.out_height, geometry_.out_width); }
    /// "filters", "kernel", "stride", "padding" (explicit amounts, see WindowGeometry::describe)
    /// and "activation".
    Settings settings() const override {
        Settings s;
        s.set("filters", static_cast<long long>(filters_));
        geometry_.describe(s, "kernel");
        s.set("activation", std::string(to_string(activation_)));
        return s;
    }
    /// The activation applied after the bias (Activation::identity for none).
    Activation activation() const override { return activation_; }
    /// The kernel, stride, resolved padding and output size.
    const WindowGeometry& geometry() const { return geometry_; }
    /// The patches of one example (kernel height * width * input channels per output position):
    /// what a lowered forward keeps, an upper bound where the windows are read in place.
    Index working_values() const override { return weights_.cols() * geometry_.positions(); }
    /// Multiply-adds per example: every filter's weights at every output position.
    Index operations() const override { return weights_.size() * geometry_.positions(); }
    /// Inputs per output value (kernel height * width * input channels): the fan-in for initialisation.
    Index fan_in() const { return weights_.cols(); }

    /// Sum as the course's NumPy loops do: each output a pairwise sum of the window's
    /// products (np.sum), each gradient accumulated example by example, position by
    /// position, filter by filter. Reproduces NumPy-computed values to the last bit;
    /// much slower than the default single product. Not a setting: the maths is the same.
    /// Set it before forward: a backward after a forward in the default order (which may
    /// keep no patches) sums in the default order too.
    void set_numpy_order(bool on) { numpy_order_ = on; }
    /// Whether the NumPy summation order (set_numpy_order) is on; off by default.
    bool numpy_order() const { return numpy_order_; }

    /// W, filters x (kernel_height * kernel_width * in_channels), row c filter c in (row,
    /// column, channel) order. Pre: what is assigned keeps that shape.
    Matrix<Scalar>& weights() { return weights_; }
    /// W, filters x (kernel_height * kernel_width * in_channels).
    const Matrix<Scalar>& weights() const { return weights_; }
    /// b, filters x 1. Pre: what is assigned keeps that shape.
    Matrix<Scalar>& bias() { return bias_; }
    /// b, filters x 1.
    const Matrix<Scalar>& bias() const { return bias_; }

    /// "W" (weight decay applies) and "b" (no decay), in that order.
    std::vector<Parameter<Scalar>> parameters() override {
        return {{"W", &weights_, &weights_gradient_, true}, {"b", &bias_, &bias_gradient_, false}};
    }
    /// Contract: see Layer::clone. The copy keeps the numpy_order() choice.
    std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<Conv2D>(*this); }

    /// Z = W * patches + b of the last forward, laid out as the output (filters fastest).
    /// Throws InvalidArgument before any forward.
    const Matrix<Scalar>& preactivation() const override {
        this->require_batch("Conv2D::preactivation");
        return z_;
    }
    /// Contract: see FusedOutput::backward_from_preactivation. Throws InvalidArgument before
    /// any forward, ShapeError when `dz` does not have Z's shape.
    const Matrix<Scalar>& backward_from_preactivation(const Matrix<Scalar>& dz, bool need_input_gradient) override {
        this->require_batch("Conv2D::backward_from_preactivation");
        detail::require_same_shape("Conv2D::backward_from_preactivation", "pre-activation gradient", dz,
                                   "pre-activation", z_);
        return backward_linear(dz, need_input_gradient);
    }

protected:
    /// Contract: see Layer::forward. The same in both modes; keeps Z, A and the patches (unless
    /// the windows are read in place from the input) for backward (without an activation A is
    /// Z, the object returned).
    const Matrix<Scalar>& do_forward(const Matrix<Scalar>& input, Mode) override {
        if (activation_ == Activation::identity) {  // A is Z (before a batch norm, say): no copy of it
            windows_in_place_ = linear(input, patches_, z_, tiled_bias_);
            a_.resize(0, 0);
            return z_;
        }
        windows_in_place_ = linear(input, patches_, z_, tiled_bias_, &a_);
        return a_;
    }

    /// Contract: see Layer::backward. The weight gradients are summed over chunks of the
    /// batch in a fixed order, so they do not depend on the thread count.
    const Matrix<Scalar>& do_backward(const Matrix<Scalar>& output_gradient, bool need_input_gradient) override {
        if (activation_ == Activation::identity) {  // dZ is the output's gradient
            return backward_linear(output_gradient, need_input_gradient);
        }
        if (activation_ == Activation::relu) {  // dZ chunk by chunk
            return backward_linear(output_gradient, need_input_gradient, /*through_relu=*/true);
        }
        with_activation(activation_,
                        [&](auto policy) { decltype(policy)::backward(z_, a_, output_gradient, dz_); });
        return backward_linear(dz_, need_input_gradient);
    }

    /// Contract: see Layer::infer. Patch columns are lowered a block at a time into a buffer
    /// that stays in cache, multiplied, and given their bias and activation there.
    void do_infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const override {
        infer_with(input, {}, 0, output);
    }

public:
    /// Contract: see FusedInference. Takes, in this order and each optional: a ChannelAffine
    /// layer (batch normalization), an activation layer other than softmax, a Pool2D; each
    /// of the shape of what comes before it. None after softmax or in NumPy order.
    std::size_t fusable_layers(const std::vector<const Layer<Scalar>*>& next) const override {
        if (numpy_order_ || activation_ == Activation::softmax) {
            return 0;
        }
        std::size_t count = 0;
        const auto fits = [&](const Layer<Scalar>* layer) {
            return count < next.size() && next[count] == layer && layer->input_shape() == output_shape();
        };
        if (count < next.size() && dynamic_cast<const ChannelAffine<Scalar>*>(next[count]) != nullptr &&
            fits(next[count])) {
            ++count;
        }
        if (count < next.size() && next[count]->type() == "activation" && fits(next[count])) {
            const auto* activation = dynamic_cast<const FusedOutput<Scalar>*>(next[count]);
            if (activation != nullptr && activation->activation() != Activation::softmax) {
                ++count;
            }
        }
        // A pooling takes blocks of whole examples: only where one example's patches fit a cache.
        if (count < next.size() && dynamic_cast<const Pool2D<Scalar>*>(next[count]) != nullptr && fits(next[count]) &&
            working_values() <= max_fused_pool_values) {
            ++count;
        }
        return count;
    }

    /// Contract: see FusedInference. Each block of output columns gets, while in cache, the
    /// bias, the activation and then the fused layers' work, in the layers' order.
    void infer_with(const Matrix<Scalar>& input, const std::vector<const Layer<Scalar>*>& next, std::size_t count,
                    Matrix<Scalar>& output) const override {
        if (count == 0 && (numpy_order_ || activation_ == Activation::softmax)) {  // softmax: over whole examples
            Matrix<Scalar> patches;
            Matrix<Scalar> z;
            Matrix<Scalar> tiled_bias;
            linear(input, patches, z, tiled_bias);
            with_activation(activation_, [&](auto policy) { decltype(policy)::forward(z, output); });
            return;
        }
        // The fused layers, as fusable_layers found them.
        Matrix<Scalar> scale;
        Matrix<Scalar> shift;
        Activation then = Activation::identity;
        const Pool2D<Scalar>* pool = nullptr;
        for (std::size_t k = 0; k < count; ++k) {
            if (const auto* affine = dynamic_cast<const ChannelAffine<Scalar>*>(next[k])) {
                affine->inference_affine(scale, shift);
            } else if (const auto* pooling = dynamic_cast<const Pool2D<Scalar>*>(next[k])) {
                pool = pooling;
            } else {
                then = dynamic_cast<const FusedOutput<Scalar>&>(*next[k]).activation();
            }
        }
        const Index length = weights_.cols();
        const Index positions = geometry_.positions();
        const Index m = input.cols();
        // Blocks of columns; of whole examples where a pooling follows (its windows span rows).
        const Index wanted = std::clamp<Index>(infer_block_values / length, 16, 8192);
        const Index per = pool != nullptr ? std::max<Index>(1, wanted / positions) * positions : wanted;
        const Index total = positions * m;
        const Index blocks = (total + per - 1) / per;
        output.resize(pool != nullptr ? pool->output_shape().size() : filters_ * positions, m);
        const detail::KernelIsa isa = detail::kernel_isa();
        const bool thin = uses_thin_kernels(isa);
        const int width = thin ? detail::thin_width<Scalar>(isa, filters_) : 0;
        // Few channels: the kernel reads each window in place from the padded image.
        const bool in_place = reads_windows_in_place(isa);
        const std::vector<Index>& offsets = window_offsets_;
        // ReLU or nothing before and after the scale and shift: nndl's kernels apply them in their
        // registers as they store each value (the same operations, to rounding), instead of a
        // pass after, where the filters fill whole vectors (else the pass is faster).
        const auto simple = [](Activation a) { return a == Activation::identity || a == Activation::relu; };
        const bool in_kernel = thin && simple(activation_) && simple(then) &&
                               detail::epilogue_in_registers<Scalar>(width, filters_, length);
        const detail::StoreEpilogue<Scalar> epilogue{bias_.data(), activation_ == Activation::relu,
                                                     scale.size() > 0 ? scale.data() : nullptr,
                                                     scale.size() > 0 ? shift.data() : nullptr,
                                                     then == Activation::relu};
        // Bias, scale and shift repeated over `tile` columns, one per column of `tiled`, for the
        // pass after the product (none where the kernel applies them: a call on one image
        // would spend a good part of its time filling them).
        const Index tile = bias_tile_columns();
        Matrix<Scalar> tiled;
        if (!in_kernel) {
            tiled.resize(tile * filters_, 3);
            tiled.col(0) = bias_.col(0).replicate(tile, 1);
            if (scale.size() > 0) {
                tiled.col(1) = scale.col(0).replicate(tile, 1);
                tiled.col(2) = shift.col(0).replicate(tile, 1);
            }
        }
        detail::parallel_chunks(blocks, filters_ * length * per, [&](Index b) {
            thread_local std::vector<Scalar> patch_buffer;
            thread_local std::vector<Scalar> output_buffer;
            const Index first = b * per;
            const Index columns = std::min(per, total - first);
            Scalar* z_data = output.data() + first * filters_;
            if (pool != nullptr) {  // the convolution's output is an intermediate here
                output_buffer.resize(static_cast<std::size_t>(filters_ * columns));
                z_data = output_buffer.data();
            }
            if (!in_place) {
                patch_buffer.resize(static_cast<std::size_t>(length * columns));
                detail::patch_columns(geometry_, input, first, columns, patch_buffer.data(), length);
            }
#if defined(__GNUC__) || defined(__clang__)
            if (in_place) {
                product_in_place(input, first, columns, z_data, isa, offsets, in_kernel ? &epilogue : nullptr);
            } else if (thin) {  // few filters: nndl's kernel reads the patches in place, Eigen's would copy them
                const detail::ThinArgs<Scalar> args{weights_.data(), filters_, patch_buffer.data(),
                                                    length,          z_data,   filters_,
                                                    filters_,        columns,  length,
                                                    in_kernel ? &epilogue : nullptr};
                detail::thin_columns_for<Scalar>(isa, width, args, 0, columns);
            } else
#endif
            {
                const Eigen::Map<const Matrix<Scalar>> patches(patch_buffer.data(), length, columns);
                detail::sequential_product(detail::plain(weights_), detail::plain(patches), z_data, filters_);
            }
            // The bias, activation and fused affine and activation, entry by entry as the
            // unfused layers compute them, over runs of `tile` columns (long vector loops),
            // where the kernel did not apply them as it stored the values.
            for (Index j = 0; j < columns && !in_kernel; j += tile) {
                const Index values = std::min(tile, columns - j) * filters_;
                Eigen::Map<Matrix<Scalar>> z(z_data + j * filters_, values, 1);
                z += tiled.col(0).head(values);
                with_activation(activation_, [&](auto policy) { decltype(policy)::forward_in_place(z); });
                if (scale.size() > 0) {
                    z = ((z.array() * tiled.col(1).head(values).array()) + tiled.col(2).head(values).array()).matrix();
                }
                with_activation(then, [&](auto policy) { decltype(policy)::forward_in_place(z); });
            }
            if (pool != nullptr) {
                for (Index e = 0; e < columns / positions; ++e) {
                    pool->infer_one(z_data + e * positions * filters_, output.col(first / positions + e).data());
                }
            }
            for (auto* buffer : {&patch_buffer, &output_buffer}) {  // a thread keeps a cache's worth, no more
                if (buffer->capacity() > static_cast<std::size_t>(max_fused_pool_values)) {
                    std::vector<Scalar>().swap(*buffer);
                }
            }
        });
    }

private:
    static Index checked_filters(Index filters) {
        if (filters < 1) {
            detail::throw_invalid("Conv2D::Conv2D: filters is ", filters, ", expected at least 1");
        }
        return filters;
    }

    /// Patch values lowered at a time at inference: 128 KiB of float, in the core's own cache.
    static constexpr Index infer_block_values = Index(1) << 15;
    /// The most patch values of one example for which inference fuses a pooling (its blocks
    /// are whole examples): 4 MiB of float.
    static constexpr Index max_fused_pool_values = Index(1) << 20;

    /// Output columns over which the bias is added at once (about 1024 values).
    Index bias_tile_columns() const { return std::max<Index>(1, 1024 / filters_); }

    /// Examples per chunk: about 2048 patch columns, whatever the thread count.
    Index chunk_examples() const { return std::max<Index>(1, 2048 / geometry_.positions()); }
    /// Patch columns of the input gradient per block in backward: about 2^19 values (2 MiB of
    /// float, the second-level cache of many cores), in whole register blocks of Eigen's kernel.
    Index patch_gradient_columns() const {
        return std::max<Index>(4, (Index(1) << 19) / weights_.cols() / 4 * 4);
    }
    Index chunks(Index m) const { return (m + chunk_examples() - 1) / chunk_examples(); }

    /// Whether the thin kernels read each window in place from the padded images (few
    /// channels and filters), at inference and in training, instead of lowering patches.
    bool reads_windows_in_place(detail::KernelIsa isa) const {
        return !numpy_order_ && uses_thin_kernels(isa) && detail::short_window_rows(geometry_);
    }

    /// Whether nndl's thin kernels take this layer's products: the filters fit one tile of
    /// their rows (few filters, where Eigen's GEMM would copy the long operand first).
    bool uses_thin_kernels(detail::KernelIsa isa) const {
        return detail::have_thin_kernels && filters_ <= detail::tile_rows_for<Scalar>(detail::vector_bytes(isa, false));
    }

    /// Where each patch entry lies in a padded image (PaddedImages), from its window's
    /// top-left value (kept in window_offsets_ where the rows are short).
    std::vector<Index> window_offsets() const {
        const Index row_values = geometry_.window_width * geometry_.channels;
        const Index padded_row = geometry_.channels * (geometry_.in_width + geometry_.left + geometry_.right);
        std::vector<Index> offsets;
        for (Index kh = 0; kh < geometry_.window_height; ++kh) {
            for (Index i = 0; i < row_values; ++i) {
                offsets.push_back(kh * padded_row + i);
            }
        }
        return offsets;
    }

#if defined(__GNUC__) || defined(__clang__)
    /// Patch columns [first, first + columns) of Z = W patches, without the bias, into `z`
    /// (filters values per column), the windows read in place (offsets: window_offsets()),
    /// one output row, or the part of it in these columns, at a time.
    void product_in_place(const Matrix<Scalar>& input, Index first, Index columns, Scalar* z, detail::KernelIsa isa,
                          const std::vector<Index>& offsets,
                          const detail::StoreEpilogue<Scalar>* epilogue = nullptr) const {
        const int width = detail::thin_width<Scalar>(isa, filters_);
        const Index step = geometry_.stride_horizontal * geometry_.channels;
        detail::PaddedImages<Scalar> images(geometry_);
        for (Index j = 0; j < columns;) {
            const detail::WindowPosition at(geometry_, first + j);
            const Index run = std::min(geometry_.out_width - at.column, columns - j);
            const Index top_row = at.row * geometry_.stride_vertical;
            const Scalar* window = images.of(input, at.example, top_row, top_row + geometry_.window_height) +
                                   top_row * images.row() + at.column * step;
            const detail::ThinArgs<Scalar> args{weights_.data(), filters_, window, step, z + j * filters_,
                                                filters_, filters_, run, weights_.cols(), epilogue};
            detail::gathered_columns_for<Scalar>(isa, width, args, offsets.data(), 0, run);
            j += run;
        }
    }

    /// dw += the weight gradient of examples [first, first + count) (`dz`: the whole batch's dZ):
    /// each output row's dZ columns times their windows, read in place from the padded images
    /// (offsets: window_offsets()).
    void weight_gradient_in_place(const Matrix<Scalar>& input, const Scalar* dz, Index first, Index count,
                                  Scalar* dw, detail::KernelIsa isa, const std::vector<Index>& offsets) const {
        const Index step = geometry_.stride_horizontal * geometry_.channels;
        detail::PaddedImages<Scalar> images(geometry_);
        for (Index e = first; e < first + count; ++e) {
            for (Index oh = 0; oh < geometry_.out_height; ++oh) {
                const Index top_row = oh * geometry_.stride_vertical;
                const Scalar* window =
                    images.of(input, e, top_row, top_row + geometry_.window_height) + top_row * images.row();
                const Scalar* dz_row = dz + (e * geometry_.positions() + oh * geometry_.out_width) * filters_;
                const detail::ThinArgs<Scalar> args{dz_row,   filters_, window,   step, dw, filters_,
                                                    filters_, geometry_.out_width, weights_.cols()};
                detail::window_gradient_for<Scalar>(isa, args, offsets.data());
            }
        }
    }
#endif

    /// Z = W patches + b for the batch `input`, chunk by chunk (`patches`, `z` and the
    /// workspace `tiled_bias` are resized), and A = f(Z) into `activated` unless it is null,
    /// each chunk while it is in cache (the activation's forward_in_place: forward's values).
    /// Returns whether the windows were read in place (reads_windows_in_place), leaving
    /// `patches` empty.
    bool linear(const Matrix<Scalar>& input, Matrix<Scalar>& patches, Matrix<Scalar>& z, Matrix<Scalar>& tiled_bias,
                Matrix<Scalar>* activated = nullptr) const {
        const Index m = input.cols();
        const Index positions = geometry_.positions();
        const detail::KernelIsa isa = detail::kernel_isa();
        const bool in_place = reads_windows_in_place(isa);
        const bool thin = uses_thin_kernels(isa);
        const std::vector<Index>& offsets = window_offsets_;
        patches.resize(in_place ? 0 : weights_.cols(), in_place ? 0 : positions * m);
        z.resize(filters_ * positions, m);
        if (activated != nullptr) {
            activated->resize(z.rows(), m);
        }
        Eigen::Map<Matrix<Scalar>> zmap(z.data(), filters_, positions * m);
        const Index per = chunk_examples();
        // A chunk's product: filters x patch length x its patch columns.
        const Index chunk_operations = filters_ * weights_.cols() * per * positions;
        const Index tile = bias_tile_columns();
        tiled_bias.resize(tile * filters_, 1);
        tiled_bias = bias_.replicate(tile, 1);
        detail::parallel_chunks(chunks(m), chunk_operations, [&](Index chunk) {
            const Index first = chunk * per;
            const Index count = std::min(per, m - first);
            const Index from = first * positions;
            const Index columns = count * positions;
#if defined(__GNUC__) || defined(__clang__)
            if (in_place) {
                product_in_place(input, from, columns, zmap.data() + from * filters_, isa, offsets);
            } else
#endif
            {
                detail::patch_columns(geometry_, input, from, columns, patches.data() + from * patches.rows(),
                                      patches.rows());
                if (numpy_order_) {
                    numpy_order_product(patches, zmap, from, columns);
                } else if (thin) {  // few filters: nndl's kernel reads the patches in place, Eigen's would copy them
#if defined(__GNUC__) || defined(__clang__)
                    const detail::ThinArgs<Scalar> args{weights_.data(), filters_, patches.data() + from * patches.rows(),
                                                        patches.rows(), zmap.data() + from * filters_, filters_,
                                                        filters_, columns, patches.rows()};
                    detail::thin_columns_for<Scalar>(isa, detail::thin_width<Scalar>(isa, filters_), args, 0, columns);
#endif
                } else {
                    detail::sequential_product(detail::plain(weights_),
                                               detail::plain(patches.middleCols(from, columns)),
                                               zmap.data() + from * filters_, filters_);
                }
            }
            // b added over runs of `tile` columns: long vector loops, not one per column.
            for (Index j = from; j < from + columns; j += tile) {
                const Index values = std::min(tile, from + columns - j) * filters_;
                Eigen::Map<Matrix<Scalar>>(zmap.data() + j * filters_, values, 1) += tiled_bias.col(0).head(values);
            }
            if (activated != nullptr) {
                auto a = activated->middleCols(first, count);
                a = z.middleCols(first, count);
                with_activation(activation_, [&](auto policy) { decltype(policy)::forward_in_place(a); });
            }
        });
        return in_place;
    }

    /// z = W patches over columns [from, from + columns), each entry 0 + a pairwise sum
    /// of the products in window order.
    void numpy_order_product(const Matrix<Scalar>& patches, Eigen::Map<Matrix<Scalar>>& z, Index from,
                             Index columns) const {
        std::vector<Scalar> products(static_cast<std::size_t>(patches.rows()));
        for (Index col = from; col < from + columns; ++col) {
            for (Index f = 0; f < filters_; ++f) {
                for (Index k = 0; k < patches.rows(); ++k) {
                    products[static_cast<std::size_t>(k)] = patches(k, col) * weights_(f, k);
                }
                z(f, col) = Scalar(0) + detail::pairwise_sum(products.data(), patches.rows());
            }
        }
    }

    /// The course's conv_backward loops: for each example, position and filter, in that
    /// order, add that output's gradient times the window (dW), itself (db) and times
    /// the filter onto the input pixels (dA_prev).
    void numpy_order_backward(const Eigen::Map<const Matrix<Scalar>>& dz, Index m, bool need_input_gradient) {
        const WindowGeometry& g = geometry_;
        weights_gradient_.setZero();
        bias_gradient_.setZero();
        if (need_input_gradient) {
            input_gradient_.setZero(g.in_height * g.in_width * g.channels, m);
        }
        for (Index i = 0; i < m; ++i) {
            for (Index oh = 0; oh < g.out_height; ++oh) {
                for (Index ow = 0; ow < g.out_width; ++ow) {
                    const Index col = i * g.positions() + oh * g.out_width + ow;
                    for (Index f = 0; f < filters_; ++f) {
                        const Scalar d = dz(f, col);
                        for (Index k = 0; k < patches_.rows(); ++k) {
                            weights_gradient_(f, k) += patches_(k, col) * d;
                        }
                        bias_gradient_(f, 0) += d;
                        if (!need_input_gradient) {
                            continue;
                        }
                        Index k = 0;
                        for (Index kh = 0; kh < g.window_height; ++kh) {
                            const Index ih = oh * g.stride_vertical - g.top + kh;
                            for (Index kw = 0; kw < g.window_width; ++kw) {
                                const Index iw = ow * g.stride_horizontal - g.left + kw;
                                const bool inside = ih >= 0 && ih < g.in_height && iw >= 0 && iw < g.in_width;
                                for (Index c = 0; c < g.channels; ++c, ++k) {
                                    if (inside) {
                                        input_gradient_((ih * g.in_width + iw) * g.channels + c, i) +=
                                            weights_(f, k) * d;
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if (!need_input_gradient) {
            input_gradient_.resize(0, 0);
        }
    }

    /// The gradients from `gradient`: dZ; or, `through_relu`, the gradient of A = max(Z, 0),
    /// from which dZ is written into dz_ (a chunk at a time, while each chunk is in cache, but
    /// for the NumPy-order path).
    const Matrix<Scalar>& backward_linear(const Matrix<Scalar>& gradient, bool need_input_gradient,
                                          bool through_relu = false) {
        const Index m = this->last_input().cols();
        if (through_relu) {
            dz_.resize(z_.rows(), z_.cols());
        }
        Eigen::Map<const Matrix<Scalar>> dz(through_relu ? dz_.data() : gradient.data(), filters_,
                                            geometry_.positions() * m);
        if (numpy_order_ && !windows_in_place_) {  // NumPy order since that forward: it kept the patches
            if (through_relu) {
                detail::keep_where_positive(z_.data(), gradient.data(), dz_.data(), dz_.size());
            }
            numpy_order_backward(dz, m, need_input_gradient);
            return input_gradient_;
        }
        const Index positions = geometry_.positions();
        const Index per = chunk_examples();
        const Index count_chunks = chunks(m);
        if (static_cast<Index>(partial_weights_.size()) < count_chunks) {
            partial_weights_.resize(static_cast<std::size_t>(count_chunks));
            partial_bias_.resize(static_cast<std::size_t>(count_chunks));
        }
        const detail::KernelIsa isa = detail::kernel_isa();
        const bool thin = uses_thin_kernels(isa);
        const std::vector<Index>& offsets = window_offsets_;
        if (need_input_gradient) {
            input_gradient_.resize(geometry_.in_height * geometry_.in_width * geometry_.channels, m);
        } else {
            input_gradient_.resize(0, 0);
        }
        const Index chunk_operations = 2 * filters_ * weights_.cols() * per * positions;
        detail::parallel_chunks(count_chunks, chunk_operations, [&](Index chunk) {
            const Index first = chunk * per;
            const Index count = std::min(per, m - first);
            const Index from = first * positions;
            const Index columns = count * positions;
            const auto dz_chunk = dz.middleCols(from, columns);
            if (through_relu) {
                const Index at = from * filters_;
                detail::keep_where_positive(z_.data() + at, gradient.data() + at, dz_.data() + at, columns * filters_);
            }
            auto& dw = partial_weights_[static_cast<std::size_t>(chunk)];
            dw.resize(weights_.rows(), weights_.cols());
#if defined(__GNUC__) || defined(__clang__)
            if (windows_in_place_) {
                dw.setZero();
                weight_gradient_in_place(this->last_input(), dz.data(), first, count, dw.data(), isa, offsets);
            } else if (thin) {  // few filters: dW = dZ patches^T with nndl's kernel, reading both in place
                const detail::ThinArgs<Scalar> args{dz.data() + from * filters_, filters_,
                                                    patches_.data() + from * patches_.rows(), patches_.rows(),
                                                    dw.data(), filters_, filters_, columns, patches_.rows()};
                detail::outer_rows_for<Scalar>(isa, args, 0, patches_.rows());
            } else
#endif
            {
                detail::sequential_product(detail::plain(dz_chunk),
                                           detail::transposed(patches_.middleCols(from, columns)), dw.data(),
                                           dw.rows());
            }
            partial_bias_[static_cast<std::size_t>(chunk)] = dz_chunk.rowwise().sum();
            if (need_input_gradient) {
                // The chunk's patch gradients a block of columns at a time, into a buffer of this
                // thread that stays in cache between the product and the sums onto the pixels (a
                // batch-sized one went through memory, zeroed first). Its size is this layer's,
                // whatever the chunk's, so a thread sizes it once.
                const Index length = weights_.cols();
                const Index block = patch_gradient_columns();
                thread_local std::vector<Scalar> patches_gradient;
                const auto wanted = static_cast<std::size_t>(length * std::min(block, per * positions));
                if (patches_gradient.size() < wanted) {
                    patches_gradient.resize(wanted);
                }
                for (Index j = from; j < from + columns; j += block) {
                    const Index n = std::min(block, from + columns - j);
                    detail::sequential_product(detail::transposed(weights_), detail::plain(dz.middleCols(j, n)),
                                               patches_gradient.data(), length);
                    detail::patches_to_image(geometry_, patches_gradient.data(), j, n, input_gradient_);
                }
            }
        });
        // Summed in chunk order: the same result on any number of threads.
        weights_gradient_ = partial_weights_[0];
        bias_gradient_ = partial_bias_[0];
        for (Index chunk = 1; chunk < count_chunks; ++chunk) {
            weights_gradient_ += partial_weights_[static_cast<std::size_t>(chunk)];
            bias_gradient_ += partial_bias_[static_cast<std::size_t>(chunk)];
        }
        return input_gradient_;
    }

    WindowGeometry geometry_;
    Index filters_;
    Activation activation_;
    bool numpy_order_ = false;
    bool windows_in_place_ = false;  // the last forward kept no patches (reads_windows_in_place)
    Matrix<Scalar> weights_;
    Matrix<Scalar> bias_;
    Matrix<Scalar> weights_gradient_;
    Matrix<Scalar> bias_gradient_;
    Matrix<Scalar> patches_;
    Matrix<Scalar> z_;
    Matrix<Scalar> a_;
    Matrix<Scalar> dz_;
    Matrix<Scalar> input_gradient_;
    Matrix<Scalar> tiled_bias_;                // b repeated over bias_tile_columns() columns
    std::vector<Index> window_offsets_;        // window_offsets() where the window rows are short
    std::vector<Matrix<Scalar>> partial_weights_;  // one per chunk of the batch
    std::vector<Matrix<Scalar>> partial_bias_;
};

// ---- model files --------------------------------------------------------------------

namespace detail {

/// A Conv2D from a model file's settings: filters, kernel, stride, padding, activation.
template <class Scalar>
std::unique_ptr<Layer<Scalar>> conv2d_from_settings(const Shape& input, const Settings& s) {
    constexpr long long max_weights = LayerRegistry<Scalar>::max_dense_weights;
    Window kernel(1);
    Stride stride(1);
    Padding padding;
    window_from_settings(s, "kernel", kernel, stride, padding);
    const long long filters = s.integer("filters");
    // Settings come from files: refuse sizes no file of this library holds before allocating them
    // (divisions, not products, so nothing overflows).
    const bool fits = filters >= 1 && filters <= max_weights && kernel.height >= 1 && kernel.width >= 1 &&
                      kernel.height <= max_weights / filters && kernel.width <= max_weights / (filters * kernel.height) &&
                      input.channels <= max_weights / (filters * kernel.height * kernel.width);
    if (!fits) {
        throw_invalid("Conv2D: ", filters, " filters of ", kernel.height, "x", kernel.width, "x", input.channels,
                      " is outside 1..", max_weights, " weights");
    }
    return std::make_unique<Conv2D<Scalar>>(input, static_cast<Index>(filters), kernel, stride, padding,
                                            activation_from_string(s.text("activation")));
}

/// "conv2d" in the registries of a program that includes this header.
inline const bool conv2d_registered =
    register_builtin_layer({"conv2d", conv2d_from_settings<float>, conv2d_from_settings<double>});

}  // namespace detail

/// ONNX: Conv (its W as [filters, channels, kh, kw]) and the activation.
template <class Scalar>
void Conv2D<Scalar>::export_onnx(OnnxGraphBuilder& out, const Shape& in) const {
    out.require_no_sequence(type(), in);
    out.ensure_image(in);
    const Index kh = geometry_.window_height;
    const Index kw = geometry_.window_width;
    const Index c = geometry_.channels;
    const std::string w = out.add_tensor("W", {filters_, c, kh, kw}, [&](Index k) {
        const Index j = k % kw;
        const Index i = (k / kw) % kh;
        const Index ch = (k / (kw * kh)) % c;
        const Index f = k / (kw * kh * c);
        return static_cast<double>(weights_(f, (i * kw + j) * c + ch));
    });
    const std::string b = out.add_tensor("b", {filters_}, [&](Index k) { return static_cast<double>(bias_(k, 0)); });
    geometry_.set_onnx_window(out.add_node("Conv", {out.current, w, b}));
    out.add_activation(activation_, output_shape());
}

}  // namespace nndl

// nndl::compiled holds Conv2D for float and double: a program that links it (NNDL_COMPILED)
// compiles none of their code.
#if defined(NNDL_COMPILED) || defined(NNDL_COMPILED_DEFINITIONS_FLOAT) || defined(NNDL_COMPILED_DEFINITIONS_DOUBLE)
#include "../detail/compiled_fingerprint.hpp"
#include "../detail/compiled_kind.hpp"  // NNDL_COMPILED_FLOAT_KIND, NNDL_COMPILED_DOUBLE_KIND
/// \cond
namespace nndl {
NNDL_COMPILED_FLOAT_KIND template class Conv2D<float>;
NNDL_COMPILED_DOUBLE_KIND template class Conv2D<double>;
}  // namespace nndl
/// \endcond
#undef NNDL_COMPILED_FLOAT_KIND
#undef NNDL_COMPILED_DOUBLE_KIND
#endif
