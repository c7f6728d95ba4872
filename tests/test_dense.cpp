// The dense layer and its building blocks: the course's W4A1 cases, gradient
// checks, shape errors.
#include "test_support.hpp"

#include <nndl/layers/dense.hpp>
#include <nndl/gradient_check.hpp>

using nndl::Matrix;
using nndl::NumpyRandom;
using nndl_test::rows;

TEST_CASE_TEMPLATE("W4A1 linear_forward", Scalar, float, double) {
    NumpyRandom random(1);
    const auto a = random.randn<Scalar>(3, 2);
    const auto w = random.randn<Scalar>(1, 3);
    const auto b = random.randn<Scalar>(1, 1);
    Matrix<Scalar> z;
    nndl::linear_forward(a, w, b, z);
    NNDL_CHECK_CLOSE(z, rows<double>({{3.26295337, -1.23429987}}), 1e-8 + 10 * nndl_test::printed_tolerance<Scalar>());
}

TEST_CASE_TEMPLATE("W4A1 linear_activation_forward through a Dense layer", Scalar, float, double) {
    NumpyRandom random(2);
    const auto a = random.randn<Scalar>(3, 2);
    const auto w = random.randn<Scalar>(1, 3);
    const auto b = random.randn<Scalar>(1, 1);
    const double tol = 1e-8 + nndl_test::printed_tolerance<Scalar>();

    nndl::Dense<Scalar, nndl::Sigmoid> sigmoid_layer(3, 1);
    sigmoid_layer.weights() = w;
    sigmoid_layer.bias() = b;
    NNDL_CHECK_CLOSE(sigmoid_layer.forward(a, nndl::Mode::training), rows<double>({{0.96890023, 0.11013289}}), tol);

    auto relu_layer = nndl::make_dense<Scalar>(3, 1, nndl::Activation::relu);
    *relu_layer->parameters()[0].value = w;
    *relu_layer->parameters()[1].value = b;
    NNDL_CHECK_CLOSE(relu_layer->forward(a, nndl::Mode::training), rows<double>({{3.43896131, 0.}}), tol);
    Matrix<Scalar> inferred;
    relu_layer->infer(a, inferred);
    CHECK(inferred == relu_layer->forward(a, nndl::Mode::evaluation));
}

TEST_CASE_TEMPLATE("W4A1 linear_backward", Scalar, float, double) {
    NumpyRandom random(1);
    const auto dz = random.randn<Scalar>(3, 4);
    const auto a_prev = random.randn<Scalar>(5, 4);
    const auto w = random.randn<Scalar>(3, 5);
    const Scalar m = 4;
    // nndl's loss carries the 1/m of the batch mean, the course's linear_backward
    // divides by m itself: feed dZ / m, and compare m * dA_prev.
    Matrix<Scalar> dw, db, da_prev;
    nndl::linear_backward<Scalar>(dz / m, a_prev, w, dw, db, &da_prev);
    const double tol = 1e-8 + 10 * nndl_test::printed_tolerance<Scalar>();
    NNDL_CHECK_CLOSE((m * da_prev.row(0)).eval(), rows<double>({{-1.15171336, 0.06718465, -0.3204696, 2.09812712}}), tol);
    NNDL_CHECK_CLOSE(dw, rows<double>({{0.07313866, -0.0976715, -0.87585828, 0.73763362, 0.00785716},
                                       {0.85508818, 0.37530413, -0.59912655, 0.71278189, -0.58931808},
                                       {0.97913304, -0.24376494, -0.08839671, 0.55151192, -0.10290907}}),
                     tol);
    NNDL_CHECK_CLOSE(db, rows<double>({{-0.14713786}, {-0.11313155}, {-0.13209101}}), tol);
}

template <class Scalar, class Policy>
void linear_activation_backward_case(const Matrix<Scalar>& expected_da_prev, const Matrix<Scalar>& expected_dw,
                                     double expected_db) {
    NumpyRandom random(2);
    const auto da = random.randn<Scalar>(1, 2);
    const auto a_prev = random.randn<Scalar>(3, 2);
    const auto w = random.randn<Scalar>(1, 3);
    random.randn(1, 1);  // b: drawn by the course, not needed for the backward
    const auto z = random.randn<Scalar>(1, 2);
    const Scalar m = 2;
    Matrix<Scalar> a, dz, dw, db, da_prev;
    Policy::forward(z, a);
    Policy::backward(z, a, Matrix<Scalar>(da / m), dz);
    nndl::linear_backward<Scalar>(dz, a_prev, w, dw, db, &da_prev);
    const double tol = 1e-8 + 10 * nndl_test::printed_tolerance<Scalar>();
    NNDL_CHECK_CLOSE((m * da_prev).eval(), expected_da_prev, tol);
    NNDL_CHECK_CLOSE(dw, expected_dw, tol);
    CHECK(static_cast<double>(db(0, 0)) == doctest::Approx(expected_db).epsilon(1e-7));
}

TEST_CASE_TEMPLATE("W4A1 linear_activation_backward", Scalar, float, double) {
    linear_activation_backward_case<Scalar, nndl::Sigmoid>(
        rows<Scalar>({{0.11017994, 0.01105339}, {0.09466817, 0.00949723}, {-0.05743092, -0.00576154}}),
        rows<Scalar>({{0.10266786, 0.09778551, -0.01968084}}), -0.05729622);
    linear_activation_backward_case<Scalar, nndl::ReLU>(
        rows<Scalar>({{0.44090989, 0.}, {0.37883606, 0.}, {-0.2298228, 0.}}),
        rows<Scalar>({{0.44513824, 0.37371418, -0.10478989}}), -0.20837892);
}

TEST_CASE_TEMPLATE("Dense: gradients match central differences for every activation", Scalar, float, double) {
    NumpyRandom random(5);
    for (auto activation : {nndl::Activation::identity, nndl::Activation::sigmoid, nndl::Activation::tanh,
                            nndl::Activation::relu, nndl::Activation::leaky_relu, nndl::Activation::softmax}) {
        auto layer = nndl::make_dense<Scalar>(4, 3, activation);
        *layer->parameters()[0].value = random.randn<Scalar>(3, 4);
        *layer->parameters()[1].value = random.randn<Scalar>(3, 1);
        const Matrix<Scalar> x = random.randn<Scalar>(4, 5);
        const auto result = nndl::check_layer_gradients<Scalar>(*layer, x);
        INFO(nndl::to_string(activation), ": ", result.summary());
        CHECK(result.entries_checked == 12u + 3u + 20u);
        CHECK(result.passed(nndl_test::gradient_tolerance<Scalar>()));
    }
}

// infer multiplies into its output and adds bias and activation a block of columns at a time
// (4096 values): more columns than one block, and the output being the input itself.
TEST_CASE_TEMPLATE("Dense: infer gives forward's values bit for bit, over several blocks and in place", Scalar, float,
                   double) {
    NumpyRandom random(3);
    for (const auto activation : {nndl::Activation::identity, nndl::Activation::sigmoid, nndl::Activation::tanh,
                                  nndl::Activation::relu, nndl::Activation::leaky_relu, nndl::Activation::softmax}) {
        INFO(nndl::to_string(activation));
        auto layer = nndl::make_dense<Scalar>(13, 7, activation);
        *layer->parameters()[0].value = random.randn<Scalar>(7, 13);
        *layer->parameters()[1].value = random.randn<Scalar>(7, 1);
        const Matrix<Scalar> x = random.randn<Scalar>(13, 1300);  // 4096 / 7 = 585 columns a block
        const Matrix<Scalar> expected = layer->forward(x, nndl::Mode::evaluation);
        Matrix<Scalar> inferred;
        layer->infer(x, inferred);
        CHECK(inferred == expected);
        auto square = nndl::make_dense<Scalar>(13, 13, activation);
        *square->parameters()[0].value = random.randn<Scalar>(13, 13);
        Matrix<Scalar> in_place = x;
        square->infer(in_place, in_place);
        CHECK(in_place == square->forward(x, nndl::Mode::evaluation));
    }
}

TEST_CASE("Dense: the first layer can skip the input gradient") {
    nndl::Dense<double, nndl::ReLU> layer(3, 2);
    NumpyRandom random(3);
    layer.weights() = random.randn(2, 3);
    const Matrix<double> x = random.randn(3, 4);
    layer.forward(x, nndl::Mode::training);
    const auto& skipped = layer.backward(Matrix<double>::Ones(2, 4), false);
    CHECK(skipped.size() == 0);
    CHECK(layer.weights_gradient().norm() > 0);
    const auto& full = layer.backward(Matrix<double>::Ones(2, 4), true);
    CHECK(full.rows() == 3);
    CHECK(full.cols() == 4);
}

TEST_CASE("Dense: wrong shapes throw with both sizes in the message") {
    nndl::Dense<double, nndl::Sigmoid> layer(12288, 1);
    const Matrix<double> x = Matrix<double>::Zero(100, 3);
    CHECK(nndl_test::message_of<nndl::ShapeError>([&] { layer.forward(x, nndl::Mode::training); }) ==
          "Layer::forward ('dense'): input has 100 rows, the layer expects 12288 (input shape 12288)");
    Matrix<double> out;
    CHECK(nndl_test::message_of<nndl::ShapeError>([&] { layer.infer(x, out); }) ==
          "Layer::infer ('dense'): input has 100 rows, the layer expects 12288 (input shape 12288)");
    CHECK(nndl_test::message_of<std::invalid_argument>([&] { layer.backward(Matrix<double>::Zero(1, 3), true); })
              .find("Layer::backward ('dense'): called before forward") != std::string::npos);
    const Matrix<double> good = Matrix<double>::Zero(12288, 3);
    layer.forward(good, nndl::Mode::training);
    CHECK(nndl_test::message_of<nndl::ShapeError>([&] { layer.backward(Matrix<double>::Zero(1, 2), true); }) ==
          "Layer::backward ('dense'): output gradient has 2 columns, the last forward's batch has 3");
    const Matrix<double> empty = Matrix<double>::Zero(12288, 0);
    CHECK(nndl_test::message_of<nndl::ShapeError>([&] { layer.forward(empty, nndl::Mode::training); }) ==
          "Layer::forward ('dense'): input has 0 columns (examples), expected at least 1");
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] { nndl::Dense<float, nndl::ReLU> bad(0, 3); }) ==
          "Dense::Dense: input size is 0, expected at least 1");
    Matrix<double> z;
    CHECK(nndl_test::message_of<nndl::ShapeError>([&] {
              nndl::linear_forward<double>(Matrix<double>::Zero(4, 2), Matrix<double>::Zero(1, 3),
                                           Matrix<double>::Zero(1, 1), z);
          }) == "linear_forward: A_prev has 4 rows, W expects 3");
}
