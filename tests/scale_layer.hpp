#pragma once
// A layer written the way a user writes one (layer.hpp's contract): y = s .* x per
// feature, with a trained vector s, no weight decay, and non-trained state (how many
// training batches it saw and their running mean) that a model file must keep.

#include <nndl/layer.hpp>
#include <nndl/layers/registry.hpp>

#include <memory>
#include <string>

template <class Scalar>
class Scale final : public nndl::Layer<Scalar> {
public:
    Scale(nndl::Shape shape, double momentum)
        : shape_(shape),
          momentum_(momentum),
          s_(nndl::Matrix<Scalar>::Ones(shape.size(), 1)),
          ds_(nndl::Matrix<Scalar>::Zero(shape.size(), 1)),
          seen_(nndl::Matrix<Scalar>::Zero(1, 1)),
          mean_(nndl::Matrix<Scalar>::Zero(shape.size(), 1)) {}

    std::string type() const override { return "scale"; }
    nndl::Shape input_shape() const override { return shape_; }
    nndl::Shape output_shape() const override { return shape_; }
    nndl::Settings settings() const override { return nndl::Settings().set("momentum", momentum_); }
    std::vector<nndl::Parameter<Scalar>> parameters() override { return {{"s", &s_, &ds_, false}}; }
    std::vector<nndl::StateBuffer<Scalar>> state() override { return {{"seen", &seen_}, {"mean", &mean_}}; }
    std::unique_ptr<nndl::Layer<Scalar>> clone() const override { return std::make_unique<Scale>(*this); }

    nndl::Matrix<Scalar>& factors() { return s_; }

    static void register_type() {
        if (!nndl::LayerRegistry<Scalar>::instance().contains("scale")) {
            nndl::register_layer<Scalar>("scale", [](const nndl::Shape& input, const nndl::Settings& s) {
                return std::make_unique<Scale<Scalar>>(input, s.real("momentum"));
            });
        }
    }

protected:
    const nndl::Matrix<Scalar>& do_forward(const nndl::Matrix<Scalar>& input, nndl::Mode mode) override {
        if (mode == nndl::Mode::training) {
            seen_(0, 0) += Scalar(1);
            const auto m = static_cast<Scalar>(momentum_);
            mean_ = m * mean_ + (Scalar(1) - m) * input.rowwise().mean();
        }
        output_ = input.array().colwise() * s_.col(0).array();
        return output_;
    }
    const nndl::Matrix<Scalar>& do_backward(const nndl::Matrix<Scalar>& dy, bool need_input_gradient) override {
        ds_ = (dy.array() * this->last_input().array()).rowwise().sum().matrix();
        if (need_input_gradient) {
            dx_ = dy.array().colwise() * s_.col(0).array();
        } else {
            dx_.resize(0, 0);
        }
        return dx_;
    }
    void do_infer(const nndl::Matrix<Scalar>& input, nndl::Matrix<Scalar>& output) const override {
        output = input.array().colwise() * s_.col(0).array();
    }

private:
    nndl::Shape shape_;
    double momentum_;
    nndl::Matrix<Scalar> s_, ds_, seen_, mean_, output_, dx_;
};
