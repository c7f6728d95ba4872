#pragma once
// Nearest-neighbour upsampling of image columns (height x width x channels, channels
// fastest): each pixel repeated in a block of factor rows by factor columns, as PyTorch's
// nn.Upsample(scale_factor, mode="nearest") and ONNX's Resize (nearest, integer scales) do.
// The decoder half of a U-Net. No parameters, no state.

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../errors.hpp"
#include "../layer.hpp"
#include "../layer_onnx.hpp"
#include "../types.hpp"
#include "registry.hpp"

namespace nndl {

/// Repeats each pixel of images of `input` shape factor_height times down and factor_width
/// times across: output (h, w, c) = input (h / factor_height, w / factor_width, c).
template <class Scalar>
class Upsample2D final : public Layer<Scalar>, public OnnxExportable<Scalar> {
public:
    /// Contract: see OnnxExportable::export_onnx (layer_onnx.hpp).
    void export_onnx(OnnxGraphBuilder& out, const Shape& in) const override;
    /// The layer an ONNX Resize node computes (nearest, whole factors); refuses other resizes.
    static std::unique_ptr<Layer<Scalar>> from_onnx(const OnnxNodeReader& node);
    /// Throws InvalidArgument for an invalid input shape, a factor below 1 or an output
    /// above Shape::max_values values.
    Upsample2D(Shape input, Index factor_height, Index factor_width)
        : input_(input), factor_height_(factor_height), factor_width_(factor_width) {
        if (!input.valid() || input.is_sequence()) {
            detail::throw_invalid("Upsample2D::Upsample2D: input is ", input.to_string(), ", expected an image");
        }
        if (factor_height < 1 || factor_width < 1 || factor_height > Shape::max_values / input.height ||
            factor_width > Shape::max_values / input.width ||
            !Shape(input.channels, input.height * factor_height, input.width * factor_width).valid()) {
            detail::throw_invalid("Upsample2D::Upsample2D: factors ", factor_height, " x ", factor_width, " over ",
                                  input.to_string(), ", expected at least 1 each and at most ", Shape::max_values,
                                  " output values");
        }
    }

    /// "upsample2d".
    std::string type() const override { return "upsample2d"; }
    /// The image shape given to the constructor.
    Shape input_shape() const override { return input_; }
    /// The input's height and width times the factors, its channels.
    Shape output_shape() const override {
        return Shape(input_.channels, input_.height * factor_height_, input_.width * factor_width_);
    }
    /// "factor": [factor_height, factor_width].
    Settings settings() const override {
        Settings s;
        s.set("factor", std::vector<long long>{factor_height_, factor_width_});
        return s;
    }
    /// A copy that has seen no batch.
    std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<Upsample2D>(*this); }
    /// The rows repeated.
    Index factor_height() const { return factor_height_; }
    /// The columns repeated.
    Index factor_width() const { return factor_width_; }

protected:
    /// Contract: see Layer::forward. The same in both modes.
    const Matrix<Scalar>& do_forward(const Matrix<Scalar>& input, Mode) override {
        do_infer(input, output_);
        return output_;
    }
    /// Contract: see Layer::backward. Each input pixel's gradient is the sum over its block.
    const Matrix<Scalar>& do_backward(const Matrix<Scalar>& output_gradient, bool need_input_gradient) override {
        if (!need_input_gradient) {
            input_gradient_.resize(0, 0);
            return input_gradient_;
        }
        const Index c = input_.channels;
        const Shape out = output_shape();
        input_gradient_.setZero(input_.size(), output_gradient.cols());
        for (Index j = 0; j < output_gradient.cols(); ++j) {
            for (Index h = 0; h < out.height; ++h) {
                for (Index w = 0; w < out.width; ++w) {
                    input_gradient_.col(j).segment(input_.offset(h / factor_height_, w / factor_width_, 0), c) +=
                        output_gradient.col(j).segment(out.offset(h, w, 0), c);
                }
            }
        }
        return input_gradient_;
    }
    /// Contract: see Layer::infer.
    void do_infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const override {
        const Index c = input_.channels;
        const Shape out = output_shape();
        output.resize(out.size(), input.cols());
        for (Index j = 0; j < input.cols(); ++j) {
            for (Index h = 0; h < out.height; ++h) {
                for (Index w = 0; w < out.width; ++w) {
                    output.col(j).segment(out.offset(h, w, 0), c) =
                        input.col(j).segment(input_.offset(h / factor_height_, w / factor_width_, 0), c);
                }
            }
        }
    }

private:
    Shape input_;
    Index factor_height_;
    Index factor_width_;
    Matrix<Scalar> output_;
    Matrix<Scalar> input_gradient_;
};

namespace detail {

/// An Upsample2D from a model file's settings: "factor" [height, width].
template <class Scalar>
std::unique_ptr<Layer<Scalar>> upsample2d_from_settings(const Shape& input, const Settings& s) {
    const std::vector<long long> factor = s.integers("factor");
    if (factor.size() != 2) {
        throw_invalid("Upsample2D: setting 'factor' has ", factor.size(), " entries, expected 2 (height, width)");
    }
    return std::make_unique<Upsample2D<Scalar>>(input, static_cast<Index>(factor[0]), static_cast<Index>(factor[1]));
}

/// "upsample2d" in the registries of a program that includes this header, and ONNX's Resize.
inline const bool upsample2d_registered =
    register_builtin_layer({"upsample2d", upsample2d_from_settings<float>, upsample2d_from_settings<double>}) &&
    register_onnx_importer({"Resize", &Upsample2D<float>::from_onnx, &Upsample2D<double>::from_onnx});

}  // namespace detail

/// ONNX: Resize, nearest, as PyTorch's nn.Upsample writes it.
template <class Scalar>
void Upsample2D<Scalar>::export_onnx(OnnxGraphBuilder& out, const Shape& in) const {
    out.require_no_sequence(type(), in);
    out.ensure_image(in);
    const std::string scales = out.add_float32_tensor(
        "scales", {1.0f, 1.0f, static_cast<float>(factor_height_), static_cast<float>(factor_width_)});
    out.add_node("Resize", {out.current, "", scales})
        .set_string("mode", "nearest")
        .set_string("coordinate_transformation_mode", "asymmetric")
        .set_string("nearest_mode", "floor");
}


/// Resize of an image by whole factors, nearest: an Upsample2D. Output pixel x reads input
/// pixel floor(x / factor) under "asymmetric" coordinates with "floor" rounding (PyTorch's
/// nn.Upsample) and under "half_pixel" ones with either rounding (ONNX's default).
template <class Scalar>
std::unique_ptr<Layer<Scalar>> Upsample2D<Scalar>::from_onnx(const OnnxNodeReader& node) {
    node.require_image();
    const std::string mode = node.string_attribute("mode", "nearest");
    const std::string coordinates = node.string_attribute("coordinate_transformation_mode", "half_pixel");
    const std::string rounding = node.string_attribute("nearest_mode", "round_prefer_floor");
    const bool floors = (coordinates == "asymmetric" && rounding == "floor") ||
                        ((coordinates == "half_pixel" || coordinates == "pytorch_half_pixel") &&
                         (rounding == "round_prefer_floor" || rounding == "round_prefer_ceil"));
    const std::string policy = node.string_attribute("keep_aspect_ratio_policy", "stretch");
    if (mode != "nearest" || !floors || node.int_attribute("antialias", 0) != 0 || node.has_attribute("axes") ||
        node.int_attribute("exclude_outside", 0) != 0 || policy != "stretch") {
        node.fail(detail::concat("resizes with mode '", printable(mode), "', coordinates '", printable(coordinates),
                                 "' and rounding '", printable(rounding),
                                 "'; nndl reads nearest-neighbour Resize by whole factors (asymmetric with floor, or "
                                 "half_pixel), no axes, antialias, exclude_outside or keep_aspect_ratio_policy other "
                                 "than stretch"));
    }
    const Shape in = node.input_shape();
    std::vector<std::int64_t> dims;
    std::vector<double> factor;
    if (node.constant_dims(2, dims) && dims != std::vector<std::int64_t>{0}) {  // scales ([0]: left empty)
        if (dims != std::vector<std::int64_t>{4}) {
            node.fail("has scales of another shape than [4]");
        }
        factor = node.constant_values(2, false);
    } else if (node.constant_dims(3, dims)) {  // sizes
        if (dims != std::vector<std::int64_t>{4}) {
            node.fail("has sizes of another shape than [4]");
        }
        const std::vector<double> sizes = node.constant_values(3, true);
        factor = {1.0, sizes[1] / static_cast<double>(in.channels), sizes[2] / static_cast<double>(in.height),
                  sizes[3] / static_cast<double>(in.width)};
    } else {
        node.fail("has neither constant scales nor constant sizes");
    }
    const auto whole = [](double f) { return f >= 1.0 && f <= 65536.0 && f == std::floor(f); };
    if (factor[0] != 1.0 || factor[1] != 1.0 || !whole(factor[2]) || !whole(factor[3])) {
        node.fail(detail::concat("resizes by factors ", factor[0], ", ", factor[1], ", ", factor[2], ", ", factor[3],
                                 "; nndl reads whole factors of at least 1 for the height and width, 1 for the batch "
                                 "and channels"));
    }
    return std::make_unique<Upsample2D<Scalar>>(in, static_cast<Index>(factor[2]), static_cast<Index>(factor[3]));
}

}  // namespace nndl

// nndl::compiled holds Upsample2D for float and double: a program that links it (NNDL_COMPILED)
// compiles none of their code.
#if defined(NNDL_COMPILED) || defined(NNDL_COMPILED_DEFINITIONS_FLOAT) || defined(NNDL_COMPILED_DEFINITIONS_DOUBLE)
#include "../detail/compiled_fingerprint.hpp"
#include "../detail/compiled_kind.hpp"  // NNDL_COMPILED_FLOAT_KIND, NNDL_COMPILED_DOUBLE_KIND
/// \cond
namespace nndl {
NNDL_COMPILED_FLOAT_KIND template class Upsample2D<float>;
NNDL_COMPILED_DOUBLE_KIND template class Upsample2D<double>;
}  // namespace nndl
/// \endcond
#undef NNDL_COMPILED_FLOAT_KIND
#undef NNDL_COMPILED_DOUBLE_KIND
#endif
