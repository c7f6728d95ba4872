#pragma once
// A fixed per-value affine map, (x - center) / spread, or its inverse x * spread + center.
// It carries a scaler fitted on training data (data/scalers.hpp) inside the network, so
// a saved model applies the same transform to new inputs, and an inverse one puts
// outputs trained on scaled targets back into the targets' units.

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../errors.hpp"
#include "../layer.hpp"
#include "../layer_onnx.hpp"
#include "../types.hpp"

namespace nndl {

namespace detail {

/// The one implementation of the map: (x - center) / spread, or x * spread + center
/// when `invert`. center and spread are columns of x.rows() values.
template <class Scalar>
void normalize(const Matrix<Scalar>& x, const Matrix<Scalar>& center, const Matrix<Scalar>& spread, bool invert,
               Matrix<Scalar>& out) {
    if (invert) {
        out = (x.array().colwise() * spread.col(0).array()).colwise() + center.col(0).array();
    } else {
        out = (x.array().colwise() - center.col(0).array()).colwise() / spread.col(0).array();
    }
}

/// Throws InvalidArgument unless center and spread are columns of `size` finite values
/// and every spread is a normal number above 0 (a subnormal divisor turns finite inputs
/// into infinities).
template <class Scalar>
void require_normalization(const char* where, Index size, const Matrix<Scalar>& center, const Matrix<Scalar>& spread) {
    if (center.rows() != size || center.cols() != 1 || spread.rows() != size || spread.cols() != 1) {
        throw_invalid(where, ": center is ", center.rows(), "x", center.cols(), " and spread ", spread.rows(), "x",
                      spread.cols(), ", expected ", size, "x1 each (one value per input value)");
    }
    for (Index i = 0; i < size; ++i) {
        if (!std::isfinite(static_cast<double>(center(i, 0)))) {
            throw_invalid(where, ": center of value ", i, " is ", center(i, 0), ", expected a finite number");
        }
        if (!(spread(i, 0) >= std::numeric_limits<Scalar>::min()) || !std::isfinite(static_cast<double>(spread(i, 0)))) {
            throw_invalid(where, ": spread of value ", i, " is ", spread(i, 0), ", expected a finite number > 0",
                          spread(i, 0) > Scalar(0) ? " and not subnormal" : "");
        }
    }
}

}  // namespace detail

/// A parameter-free layer computing (x - center) / spread for each value of an example
/// (or, inverted, x * spread + center). center and spread are state: a model file keeps
/// them and no optimizer changes them. Registered as "normalization" with the settings
/// "invert" (0 or 1) and "method" (a word naming how it was fitted, for summaries).
template <class Scalar>
class Normalization final : public Layer<Scalar>, public OnnxExportable<Scalar> {
public:
    /// Contract: see OnnxExportable::export_onnx (layer_onnx.hpp).
    void export_onnx(OnnxGraphBuilder& out, const Shape& in) const override;
    /// A layer over examples of `shape` with one center and one spread per value
    /// (columns of shape.size() values). Throws InvalidArgument when the shape is not
    /// valid, the sizes differ, a value is not finite or a spread is not above 0.
    Normalization(Shape shape, Matrix<Scalar> center, Matrix<Scalar> spread, bool invert = false,
                  std::string method = "custom")
        : shape_(shape),
          center_(std::move(center)),
          spread_(std::move(spread)),
          invert_(invert),
          method_(std::move(method)) {
        if (!shape.valid()) {
            detail::throw_invalid("Normalization::Normalization: shape is ", shape.channels, "x", shape.height, "x",
                                  shape.width, ", expected at least 1 in each dimension");
        }
        detail::require_normalization("Normalization::Normalization", shape.size(), center_, spread_);
    }

    /// "normalization".
    std::string type() const override { return "normalization"; }
    /// The shape given to the constructor.
    Shape input_shape() const override { return shape_; }
    /// The input shape: the map keeps it.
    Shape output_shape() const override { return shape_; }
    /// "invert" (0 or 1) and "method" (the fitting's name: "standardize", "min_max", ...).
    Settings settings() const override {
        return Settings().set("invert", invert_ ? 1 : 0).set("method", method_);
    }
    /// "center" and "spread", shape.size() x 1 each.
    std::vector<StateBuffer<Scalar>> state() override { return {{"center", &center_}, {"spread", &spread_}}; }
    /// Refuses loaded values the constructor would refuse.
    void check_loaded() const override {
        detail::require_normalization("Normalization::check_loaded", shape_.size(), center_, spread_);
    }
    /// A copy of this layer that has seen no batch.
    std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<Normalization>(*this); }

    /// The values subtracted (or, inverted, added), shape.size() x 1.
    const Matrix<Scalar>& center() const { return center_; }
    /// The divisors (or, inverted, factors), shape.size() x 1, all above 0.
    const Matrix<Scalar>& spread() const { return spread_; }
    /// True when the layer computes x * spread + center.
    bool inverted() const { return invert_; }

protected:
    /// Contract: see Layer::forward. Mode changes nothing here.
    const Matrix<Scalar>& do_forward(const Matrix<Scalar>& input, Mode) override {
        detail::normalize(input, center_, spread_, invert_, output_);
        return output_;
    }
    /// dInput = dOutput / spread (inverted: * spread); no parameters to fill.
    const Matrix<Scalar>& do_backward(const Matrix<Scalar>& output_gradient, bool need_input_gradient) override {
        if (!need_input_gradient) {
            input_gradient_.resize(0, 0);
        } else if (invert_) {
            input_gradient_ = output_gradient.array().colwise() * spread_.col(0).array();
        } else {
            input_gradient_ = output_gradient.array().colwise() / spread_.col(0).array();
        }
        return input_gradient_;
    }
    /// Contract: see Layer::infer.
    void do_infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const override {
        detail::normalize(input, center_, spread_, invert_, output);
    }

private:
    Shape shape_;
    Matrix<Scalar> center_;
    Matrix<Scalar> spread_;
    bool invert_ = false;
    std::string method_;
    Matrix<Scalar> output_;
    Matrix<Scalar> input_gradient_;
};

/// ONNX: (x - center) / spread as Sub and Div; the inverse as Mul and Add. Flat input only:
/// a per-value map of an image would need nndl's order in an NCHW tensor.
template <class Scalar>
void Normalization<Scalar>::export_onnx(OnnxGraphBuilder& out, const Shape& in) const {
    out.require_no_sequence(type(), in);
    if (!shape_.is_flat()) {
        detail::throw_invalid(out.where(), " ('normalization') maps an image of ", shape_.to_string(),
                              "; nndl exports it for flat input only");
    }
    if (out.image) {
        out.flatten_in_nndl_order(in);
    }
    Index tiny = 0;
    // Below float32's smallest normal number a spread is 0 or a subnormal that consumers
    // flush to 0 (OpenCV then divides by zero).
    if (out.writes_float32() && !(std::abs(static_cast<float>(spread_.cwiseAbs().col(0).minCoeff(&tiny))) >=
                                  std::numeric_limits<float>::min())) {
        detail::throw_invalid(out.where(), " ('normalization') has spread ", spread_(tiny, 0), " at value ", tiny,
                              ", below float32's smallest normal number ", std::numeric_limits<float>::min(),
                              "; save with OnnxPrecision::float64");
    }
    const std::string c =
        out.add_tensor("center", {shape_.size()}, [&](Index k) { return static_cast<double>(center_(k, 0)); });
    const std::string s =
        out.add_tensor("spread", {shape_.size()}, [&](Index k) { return static_cast<double>(spread_(k, 0)); });
    if (invert_) {
        out.add_node("Mul", {out.current, s});
        out.add_node("Add", {out.current, c});
    } else {
        out.add_node("Sub", {out.current, c});
        out.add_node("Div", {out.current, s});
    }
}

}  // namespace nndl

// nndl::compiled holds Normalization for float and double: a program that links it (NNDL_COMPILED)
// compiles none of their code.
#if defined(NNDL_COMPILED) || defined(NNDL_COMPILED_DEFINITIONS_FLOAT) || defined(NNDL_COMPILED_DEFINITIONS_DOUBLE)
#include "../detail/compiled_fingerprint.hpp"
#include "../detail/compiled_kind.hpp"  // NNDL_COMPILED_FLOAT_KIND, NNDL_COMPILED_DOUBLE_KIND
/// \cond
namespace nndl {
NNDL_COMPILED_FLOAT_KIND template class Normalization<float>;
NNDL_COMPILED_DOUBLE_KIND template class Normalization<double>;
}  // namespace nndl
/// \endcond
#undef NNDL_COMPILED_FLOAT_KIND
#undef NNDL_COMPILED_DOUBLE_KIND
#endif
