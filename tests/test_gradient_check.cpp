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

// y = W x in float, whose backward forgets dW (leaves it zero): a missing gradient.
class MissingWeightGradient final : public nndl::Layer<float> {
public:
    MissingWeightGradient() : w_(nndl::NumpyRandom(6).randn<float>(8, 16)), dw_(Matrix<float>::Zero(8, 16)) {}
    std::string type() const override { return "missing_dw"; }
    nndl::Shape input_shape() const override { return nndl::Shape(16); }
    nndl::Shape output_shape() const override { return nndl::Shape(8); }
    std::vector<nndl::Parameter<float>> parameters() override { return {{"W", &w_, &dw_, true}}; }
    std::unique_ptr<nndl::Layer<float>> clone() const override { return std::make_unique<MissingWeightGradient>(*this); }

protected:
    const Matrix<float>& do_forward(const Matrix<float>& x, nndl::Mode) override {
        out_ = w_ * x;
        return out_;
    }
    const Matrix<float>& do_backward(const Matrix<float>& dy, bool) override {
        dw_.setZero();
        dx_ = w_.transpose() * dy;
        return dx_;
    }
    void do_infer(const Matrix<float>& x, Matrix<float>& y) const override { y = w_ * x; }

private:
    Matrix<float> w_, dw_, out_, dx_;
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

    // Only where both sides are noise: a small gradient above the noise that the other
    // side lacks, or has at half its size, still counts in full.
    nndl::GradientCheckResult noise_only;
    nndl::detail::compare_gradients("b", Matrix<double>::Constant(4, 1, 1e-12), Matrix<double>::Constant(4, 1, 3e-12),
                                    1e-10, noise_only);
    CHECK(noise_only.max_relative_error == 0.0);
    nndl::GradientCheckResult wrong;
    nndl::detail::compare_gradients("b", Matrix<double>::Zero(4, 1), Matrix<double>::Constant(4, 1, 1e-8), 1e-10, wrong);
    CHECK(wrong.max_relative_error == 1.0);
    nndl::GradientCheckResult halved;
    nndl::detail::compare_gradients("b", Matrix<double>::Constant(4, 1, 1e-8), Matrix<double>::Constant(4, 1, 2e-8), 1e-10,
                                    halved);
    CHECK(halved.max_relative_error == doctest::Approx(1.0 / 3.0));
    CHECK_FALSE(wrong.passed(1e-6));

    // A float layer whose backward leaves out the weight gradient, with small inputs
    // (gradients near the float noise): still caught, while the right layer passes.
    const Matrix<float> tiny_x = nndl::NumpyRandom(7).randn<float>(16, 16) * 1e-3f;
    MissingWeightGradient missing;
    const auto caught = nndl::check_layer_gradients<float>(missing, tiny_x);
    INFO(caught.summary());
    CHECK(caught.max_relative_error == doctest::Approx(1.0));
    CHECK_FALSE(caught.passed(2e-2));
    nndl::Dense<float, nndl::Identity> right_layer(16, 8);
    right_layer.weights() = nndl::NumpyRandom(6).randn<float>(8, 16);
    CHECK(nndl::check_layer_gradients<float>(right_layer, tiny_x).passed(2e-2));
}
