#pragma once
// A layer written the way a user writes one, with its own ONNX converter (layer_onnx.hpp):
// y = x + t per feature, t trained. save_onnx writes it as one Add of the vector t; nothing
// of nndl's own changes for it.

#include <nndl/layer.hpp>
#include <nndl/layer_onnx.hpp>

#include <memory>
#include <string>
#include <vector>

template <class Scalar>
class Shift final : public nndl::Layer<Scalar>, public nndl::OnnxExportable<Scalar> {
public:
    explicit Shift(nndl::Shape shape)
        : shape_(shape), t_(nndl::Matrix<Scalar>::Zero(shape.size(), 1)), dt_(nndl::Matrix<Scalar>::Zero(shape.size(), 1)) {}

    std::string type() const override { return "shift"; }
    nndl::Shape input_shape() const override { return shape_; }
    nndl::Shape output_shape() const override { return shape_; }
    std::vector<nndl::Parameter<Scalar>> parameters() override { return {{"t", &t_, &dt_, false}}; }
    std::unique_ptr<nndl::Layer<Scalar>> clone() const override { return std::make_unique<Shift>(*this); }

    nndl::Matrix<Scalar>& offsets() { return t_; }

    /// ONNX: Add of t. An image is flattened first, so that t's order (nndl's) is the tensor's;
    /// an image layer after this one gets its image back (OnnxGraphBuilder::ensure_image).
    void export_onnx(nndl::OnnxGraphBuilder& out, const nndl::Shape& in) const override {
        out.require_no_sequence(type(), in);
        if (out.image) {
            out.flatten_in_nndl_order(in);
        }
        const std::string t = out.add_tensor("t", {shape_.size()}, [&](nndl::Index k) { return double(t_(k, 0)); });
        out.add_node("Add", {out.current, t});
    }

protected:
    const nndl::Matrix<Scalar>& do_forward(const nndl::Matrix<Scalar>& input, nndl::Mode) override {
        output_ = input.colwise() + t_.col(0);
        return output_;
    }
    const nndl::Matrix<Scalar>& do_backward(const nndl::Matrix<Scalar>& dy, bool need_input_gradient) override {
        dt_ = dy.rowwise().sum();
        if (need_input_gradient) {
            dx_ = dy;
        } else {
            dx_.resize(0, 0);
        }
        return dx_;
    }
    void do_infer(const nndl::Matrix<Scalar>& input, nndl::Matrix<Scalar>& output) const override {
        output = input.colwise() + t_.col(0);
    }

private:
    nndl::Shape shape_;
    nndl::Matrix<Scalar> t_, dt_, output_, dx_;
};
