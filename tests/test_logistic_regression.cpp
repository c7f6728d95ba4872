// The course's W2A2 cases: logistic regression is a one-layer sigmoid network
// with zero initial weights. The course's w is a column; nndl's W is its transpose.
#include "test_support.hpp"

#include <nndl/all.hpp>

using nndl::Matrix;
using nndl_test::rows;

template <class Scalar>
nndl::Network<Scalar> logistic(const Matrix<Scalar>& w_row, Scalar b) {
    nndl::Network<Scalar> net({w_row.cols(), 1}, {nndl::Activation::sigmoid}, {nndl::Init::zeros}, 0);
    auto params = net.parameters();
    *params[0].value = w_row;
    (*params[1].value)(0, 0) = b;
    return net;
}

TEST_CASE_TEMPLATE("W2A2 propagate", Scalar, float, double) {
    auto net = logistic<Scalar>(rows<Scalar>({{1, 2}}), Scalar(1.5));
    const auto x = rows<Scalar>({{1, -2, -1}, {3, 0.5, -3.2}});
    const auto y = rows<Scalar>({{1, 1, 0}});
    net.forward(x);
    CHECK(static_cast<double>(net.cost(y)) ==
          doctest::Approx(0.15900537707692405).epsilon(nndl_test::printed_tolerance<Scalar>()));
    net.backward(y);
    const auto params = net.parameters();
    const double tol = 1e-8 + nndl_test::printed_tolerance<Scalar>();
    NNDL_CHECK_CLOSE(*params[0].gradient, rows<double>({{0.25071532, -0.06604096}}), tol);
    CHECK(static_cast<double>((*params[1].gradient)(0, 0)) == doctest::Approx(-0.12500404500439652).epsilon(1e-6));
}

TEST_CASE_TEMPLATE("W2A2 optimize", Scalar, float, double) {
    auto net = logistic<Scalar>(rows<Scalar>({{1, 2}}), Scalar(1.5));
    const auto x = rows<Scalar>({{1, -2, -1}, {3, 0.5, -3.2}});
    const auto y = rows<Scalar>({{1, 1, 0}});
    nndl::GradientDescent<Scalar> gd(0.009);
    net.fit(x, y, gd, 100);
    const auto params = net.parameters();
    const double tol = std::is_same_v<Scalar, float> ? 1e-5 : 1e-8;
    NNDL_CHECK_CLOSE(*params[0].value, rows<double>({{0.80956046, 2.0508202}}), tol);
    CHECK(static_cast<double>((*params[1].value)(0, 0)) ==
          doctest::Approx(1.5948713189708588).epsilon(std::is_same_v<Scalar, float> ? 1e-5 : 1e-12));
    // The course returns the gradients of the last iteration (before its update).
    NNDL_CHECK_CLOSE(*params[0].gradient, rows<double>({{0.17860505, -0.04840656}}), tol);
    CHECK(static_cast<double>((*params[1].gradient)(0, 0)) ==
          doctest::Approx(-0.08888460336847771).epsilon(std::is_same_v<Scalar, float> ? 1e-4 : 1e-10));
}

TEST_CASE_TEMPLATE("W2A2 predict uses A > 0.5", Scalar, float, double) {
    const auto net = logistic<Scalar>(rows<Scalar>({{0.1124579, 0.23106775}}), Scalar(-0.3));
    const auto x = rows<Scalar>({{1, -1.1, -3.2}, {1.2, 2, 0.1}});
    NNDL_CHECK_CLOSE(net.predict(x), rows<double>({{1, 1, 0}}), 0);
}
