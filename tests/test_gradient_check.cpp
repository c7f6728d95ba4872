// The gradient checker itself: it passes right gradients and catches wrong ones.
#include "test_support.hpp"

#include <nndl/layers/batch_norm.hpp>
#include <nndl/layers/dense.hpp>
#include <nndl/network.hpp>
#include <nndl/gradient_check.hpp>

using nndl::Matrix;

namespace {

// A dense sigmoid layer whose backward forgets the sigmoid's derivative: the
// classic mistake the checker exists to catch.
class ForgetfulSigmoid final : public nndl::Layer<double> {
public:
    ForgetfulSigmoid() : w_(nndl::NumpyRandom(2).randn(2, 3)), dw_(2, 3) {}
    std::string type() const override { return "forgetful"; }
    nndl::Shape input_shape() const override { return nndl::Shape(3); }
    nndl::Shape output_shape() const override { return nndl::Shape(2); }
    std::vector<nndl::Parameter<double>> parameters() override { return {{"W", &w_, &dw_, true}}; }
    std::unique_ptr<nndl::Layer<double>> clone() const override { return std::make_unique<ForgetfulSigmoid>(*this); }

protected:
    const Matrix<double>& do_forward(const Matrix<double>& input, nndl::Mode) override {
        nndl::Sigmoid::forward(Matrix<double>(w_ * input), a_);
        return a_;
    }
    const Matrix<double>& do_backward(const Matrix<double>& da, bool need_input_gradient) override {
        dw_ = da * last_input().transpose();  // wrong: should be (da .* a .* (1 - a)) * input^T
        dx_ = need_input_gradient ? Matrix<double>(w_.transpose() * da) : Matrix<double>();
        return dx_;
    }
    void do_infer(const Matrix<double>& input, Matrix<double>& output) const override {
        nndl::Sigmoid::forward(Matrix<double>(w_ * input), output);
    }

private:
    Matrix<double> w_, dw_, a_, dx_;
};

}  // namespace

TEST_CASE("gradient check: a wrong backward is caught and located") {
    ForgetfulSigmoid layer;
    const Matrix<double> x = nndl::NumpyRandom(3).randn(3, 4);
    const auto result = nndl::check_layer_gradients<double>(layer, x);
    INFO(result.summary());
    CHECK_FALSE(result.passed(1e-7));
    CHECK_FALSE(result.passed(1e-2));
    CHECK(result.max_relative_error > 0.1);
    CHECK((result.where == "W" || result.where == "input"));
    CHECK(result.entries_checked == 6u + 12u);
}

TEST_CASE("gradient check: the same layer written right passes") {
    nndl::Dense<double, nndl::Sigmoid> layer(3, 2);
    layer.weights() = nndl::NumpyRandom(2).randn(2, 3);
    const Matrix<double> x = nndl::NumpyRandom(3).randn(3, 4);
    const auto result = nndl::check_layer_gradients<double>(layer, x);
    INFO(result.summary());
    CHECK(result.passed(1e-7));
    CHECK(result.max_relative_error < 1e-8);
    // The check leaves the parameters as it found them.
    CHECK(layer.weights() == nndl::NumpyRandom(2).randn(2, 3));
}

TEST_CASE("gradient check: a result with nothing checked does not pass") {
    nndl::GradientCheckResult empty;
    CHECK_FALSE(empty.passed(1.0));
}

TEST_CASE("gradient check: a gradient that is zero up to rounding passes (bias before batch norm)") {
    // Batch norm removes the mean over the batch, so the cost does not depend on the
    // dense layer's bias: both gradients are rounding noise, not a relative error of 1.
    nndl::Network<double> network(nndl::Shape(3));
    nndl::NumpyRandom random(4);
    network.add_dense(4, nndl::Activation::identity, {nndl::Init::xavier}, random);
    network.add(std::make_unique<nndl::BatchNorm<double>>(network.output_shape()));
    network.add_dense(1, nndl::Activation::sigmoid, {nndl::Init::xavier}, random);
    const Matrix<double> x = nndl::NumpyRandom(5).randn(3, 6);
    Matrix<double> y(1, 6);
    y << 1, 0, 0, 1, 1, 0;
    const auto result = nndl::check_network_gradients(network, x, y);
    INFO(result.summary());
    CHECK(result.passed(1e-6));
    CHECK(network.layer(0).parameters()[1].gradient->norm() < 1e-12);  // the bias's gradient is zero

    // A small gradient well above the rounding noise that the other side lacks still
    // counts as a relative error of (almost) 1.
    nndl::GradientCheckResult wrong;
    nndl::detail::compare_gradients("b", Matrix<double>::Constant(4, 1, 1e-6), Matrix<double>::Zero(4, 1), 1e-10, wrong);
    CHECK(wrong.max_relative_error == doctest::Approx(1.0).epsilon(1e-3));
    CHECK_FALSE(wrong.passed(1e-6));
}
