// Activation policies: known values, gradient checks, stability.
#include "test_support.hpp"

#include <nndl/layers/dense.hpp>
#include <nndl/gradient_check.hpp>

#include <cstring>
#include <limits>

using nndl::Matrix;
using nndl_test::rows;

template <class Scalar, class Policy>
Matrix<Scalar> apply(const Matrix<Scalar>& z) {
    Matrix<Scalar> a;
    Policy::forward(z, a);
    return a;
}

TEST_CASE_TEMPLATE("activations: known values", Scalar, float, double) {
    const auto z = rows<Scalar>({{-2, 0, 3}});
    // Reference values computed with NumPy: 1/(1+np.exp(-z)), np.tanh(z).
    NNDL_CHECK_CLOSE((apply<Scalar, nndl::Sigmoid>(z)), rows<double>({{0.11920292202211755, 0.5, 0.9525741268224334}}),
                     1e-7);
    NNDL_CHECK_CLOSE((apply<Scalar, nndl::Tanh>(z)), rows<double>({{-0.9640275800758169, 0, 0.9950547536867305}}),
                     1e-7);
    NNDL_CHECK_CLOSE((apply<Scalar, nndl::ReLU>(z)), rows<double>({{0, 0, 3}}), 0);
    NNDL_CHECK_CLOSE((apply<Scalar, nndl::LeakyReLU>(z)), rows<double>({{-0.02, 0, 3}}), nndl_test::decimals_tolerance<Scalar>());
    NNDL_CHECK_CLOSE((apply<Scalar, nndl::Identity>(z)), rows<double>({{-2, 0, 3}}), 0);
    // Softmax works per column (one example per column).
    const auto columns = rows<Scalar>({{9, 7}, {2, 5}, {5, 0}, {0, 0}, {0, 0}});
    NNDL_CHECK_CLOSE((apply<Scalar, nndl::Softmax>(columns)),
                     rows<double>({{9.80897665e-01, 8.78679856e-01},
                                   {8.94462891e-04, 1.18916387e-01},
                                   {1.79657674e-02, 8.01252314e-04},
                                   {1.21052389e-04, 8.01252314e-04},
                                   {1.21052389e-04, 8.01252314e-04}}),
                     nndl_test::decimals_tolerance<Scalar>());
}

TEST_CASE_TEMPLATE("activations: saturated inputs stay finite", Scalar, float, double) {
    const auto z = rows<Scalar>({{-1000, 1000}, {1000, -1000}});
    const auto s = apply<Scalar, nndl::Sigmoid>(z);
    CHECK(s.allFinite());
    CHECK(s(0, 0) == Scalar(0));
    CHECK(s(0, 1) == Scalar(1));
    const auto p = apply<Scalar, nndl::Softmax>(z);
    CHECK(p.allFinite());
    NNDL_CHECK_CLOSE(p.colwise().sum(), rows<double>({{1, 1}}), 1e-6);
}

template <class Scalar, class Policy>
void check_activation_gradient(const Matrix<Scalar>& z) {
    nndl::ActivationLayer<Scalar, Policy> layer(z.rows());
    const auto result = nndl::check_layer_gradients<Scalar>(layer, z);
    INFO(nndl::to_string(Policy::kind), ": ", result.summary());
    CHECK(result.entries_checked == static_cast<std::size_t>(z.size()));
    CHECK(result.passed(nndl_test::gradient_tolerance<Scalar>()));
}

TEST_CASE_TEMPLATE("activations: backward matches central differences", Scalar, float, double) {
    nndl::NumpyRandom random(11);
    Matrix<Scalar> z = random.randn<Scalar>(4, 6);
    // Keep inputs off ReLU's kink at 0, where the derivative is undefined.
    z = (z.array() + z.array().sign() * Scalar(0.05)).matrix();
    check_activation_gradient<Scalar, nndl::Identity>(z);
    check_activation_gradient<Scalar, nndl::Sigmoid>(z);
    check_activation_gradient<Scalar, nndl::Tanh>(z);
    check_activation_gradient<Scalar, nndl::ReLU>(z);
    check_activation_gradient<Scalar, nndl::LeakyReLU>(z);
    check_activation_gradient<Scalar, nndl::Softmax>(z);
}

TEST_CASE("activations: names round-trip and unknown names are rejected") {
    for (auto a : {nndl::Activation::identity, nndl::Activation::sigmoid, nndl::Activation::tanh,
                   nndl::Activation::relu, nndl::Activation::leaky_relu, nndl::Activation::softmax}) {
        CHECK(nndl::activation_from_string(nndl::to_string(a)) == a);
    }
    const auto message = nndl_test::message_of<nndl::InvalidArgument>([] { nndl::activation_from_string("swish"); });
    CHECK(message.find("activation_from_string: unknown activation 'swish'") != std::string::npos);
}

TEST_CASE_TEMPLATE("ReLU backward keeps the gradient's bits where z > 0 and +0 elsewhere, NaN and -0 included",
                   Scalar, float, double) {
    // The vector path takes eight values at a time: lengths around it reach the scalar tail too.
    const Scalar nan = std::numeric_limits<Scalar>::quiet_NaN();
    const Scalar inf = std::numeric_limits<Scalar>::infinity();
    const Scalar z_values[] = {Scalar(1.5), Scalar(-2), Scalar(0), Scalar(-0.0), nan, inf, -inf, Scalar(1e-30)};
    const Scalar g_values[] = {Scalar(-0.0), nan, Scalar(3), -inf, Scalar(2), Scalar(-1), Scalar(0.25), nan};
    for (const nndl::Index n : {1, 7, 8, 9, 16, 23}) {
        CAPTURE(n);
        Matrix<Scalar> z(n, 1);
        Matrix<Scalar> g(n, 1);
        for (nndl::Index i = 0; i < n; ++i) {
            z(i, 0) = z_values[(i * 3) % 8];
            g(i, 0) = g_values[(i * 5 + 1) % 8];
        }
        Matrix<Scalar> dz;
        nndl::ReLU::backward(z, Matrix<Scalar>(), g, dz);
        REQUIRE(dz.rows() == n);
        for (nndl::Index i = 0; i < n; ++i) {
            CAPTURE(i);
            const Scalar expected = z(i, 0) > Scalar(0) ? g(i, 0) : Scalar(0);  // the definition, one value at a time
            CHECK(std::memcmp(&dz(i, 0), &expected, sizeof(Scalar)) == 0);
        }
    }
}
