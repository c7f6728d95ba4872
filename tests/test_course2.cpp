// The unit-test cases of the course's second part ("Improving Deep Neural Networks"):
// the values its notebooks print, from ../shared/reference/course2.md.
#include "test_support.hpp"

#include <nndl/nndl.hpp>

using nndl::Activation;
using nndl::Matrix;

namespace {

// Parameters from the course's seeded draws, in its order: W1, b1, W2, b2, W3, b3 for the
// given sizes, into a network of Dense layers (and dropout layers where keep < 1).
nndl::Network<double> course_network(nndl::NumpyRandom& random, const std::vector<nndl::Index>& sizes, double keep = 1.0) {
    nndl::Network<double> net{nndl::Shape(sizes[0])};
    nndl::Index dropped_rows = 0;
    for (std::size_t l = 1; l < sizes.size(); ++l) {
        const bool last = l + 1 == sizes.size();
        auto dense = nndl::make_dense<double>(sizes[l - 1], sizes[l], last ? Activation::sigmoid : Activation::relu);
        *dense->parameters()[0].value = random.randn(sizes[l], sizes[l - 1]);
        *dense->parameters()[1].value = random.randn(sizes[l], 1);
        net.add(std::move(dense));
        if (!last && keep < 1.0) {
            auto dropout = std::make_unique<nndl::Dropout<double>>(sizes[l], keep, 1);
            dropout->restart_every_pass(dropped_rows);
            dropped_rows += sizes[l];
            net.add(std::move(dropout));
        }
    }
    return net;
}

void check_rounded(const Matrix<double>& actual, const Matrix<double>& printed) {
    REQUIRE(actual.rows() == printed.rows());
    REQUIRE(actual.cols() == printed.cols());
    for (nndl::Index i = 0; i < printed.rows(); ++i) {
        for (nndl::Index j = 0; j < printed.cols(); ++j) {
            INFO("entry (", i, ", ", j, ")");
            CHECK(std::abs(actual(i, j) - printed(i, j)) <= 5.000001e-9);  // printed to 8 decimals
        }
    }
}

}  // namespace

TEST_CASE("course 2, initialization: zeros, random x10 and He for the test layer sizes") {
    nndl::NumpyRandom random(3);
    Matrix<double> w1 = nndl::initial_weights<double>(2, 3, {nndl::Init::scaled_normal, 10.0}, random);
    Matrix<double> w2 = nndl::initial_weights<double>(1, 2, {nndl::Init::scaled_normal, 10.0}, random);
    Matrix<double> printed1(2, 3), printed2(1, 2);
    printed1 << 17.88628473, 4.36509851, 0.96497468, -18.63492703, -2.77388203, -3.54758979;
    printed2 << -0.82741481, -6.27000677;
    check_rounded(w1, printed1);
    check_rounded(w2, printed2);

    random.seed(3);
    w1 = nndl::initial_weights<double>(4, 2, {nndl::Init::he}, random);
    w2 = nndl::initial_weights<double>(1, 4, {nndl::Init::he}, random);
    Matrix<double> he1(4, 2), he2(1, 4);
    he1 << 1.78862847, 0.43650985, 0.09649747, -1.8634927, -0.2773882, -0.35475898, -0.08274148, -0.62700068;
    he2 << -0.03098412, -0.33744411, -0.92904268, 0.62552248;
    check_rounded(w1, he1);
    check_rounded(w2, he2);
    CHECK(nndl::initial_weights<double>(2, 3, {nndl::Init::zeros}, random).isZero());
}

TEST_CASE("course 2, regularization: the cost with L2 prints 1.7864859451590758") {
    nndl::NumpyRandom random(1);
    auto net = course_network(random, {3, 2, 3, 1});
    Matrix<double> a3(1, 5), y(1, 5);
    a3 << 0.40682402, 0.01629284, 0.16722898, 0.10118111, 0.40682402;
    y << 1, 1, 0, 1, 0;
    net.set_loss(std::make_unique<nndl::CourseBinaryCrossEntropy<double>>());
    net.set_l2(0.1);
    CHECK(net.cost_of_output(a3, y) == 1.7864859451590758);
}

TEST_CASE("course 2, regularization: the forward pass with the course's dropout masks") {
    nndl::NumpyRandom random(1);
    const Matrix<double> x = random.randn(3, 5);
    auto net = course_network(random, {3, 2, 3, 1}, 0.7);
    Matrix<double> printed(1, 5);
    printed << 0.36974721, 0.00305176, 0.04565099, 0.49683389, 0.36974721;
    check_rounded(net.forward(x, nndl::Mode::training), printed);
    check_rounded(net.forward(x, nndl::Mode::training), printed);  // seed(1) at every pass: the same masks
    auto& first = static_cast<nndl::Dropout<double>&>(net.layer(1));
    Matrix<double> d1(2, 5);
    d1 << 1, 0, 1, 1, 1, 1, 1, 1, 1, 0;  // rand(2, 5) < 0.7 after seed(1) (the backward case's D1 at 0.8 differs)
    CHECK(first.mask().rows() == 2);
    CHECK(((first.mask().array() == 0.0) || (first.mask().array() == 1.0)).all());
}

TEST_CASE("course 2, gradient checking: the 1-D difference and bad arguments") {
    const double x = 3.0;
    const auto check = nndl::check_vector_gradient([&](const nndl::Vector<double>& t) { return t(0) * x; },
                                                   nndl::Vector<double>::Constant(1, 4.0),
                                                   nndl::Vector<double>::Constant(1, x));
    CHECK(check.difference == 7.814075313343006e-11);  // printed by the course
    CHECK(check.approximation(0) == doctest::Approx(3.0).epsilon(1e-9));
    const auto cost = [](const nndl::Vector<double>& t) { return t.squaredNorm(); };
    CHECK_THROWS_WITH_AS(nndl::check_vector_gradient(cost, nndl::Vector<double>::Zero(3), nndl::Vector<double>::Zero(2)),
                         doctest::Contains("check_vector_gradient: the gradient has 2 entries, theta has 3"),
                         nndl::InvalidArgument);
    CHECK_THROWS_WITH_AS(
        nndl::check_vector_gradient(cost, nndl::Vector<double>::Zero(2), nndl::Vector<double>::Zero(2), -1.0),
        doctest::Contains("epsilon -1, expected a positive finite number"), nndl::InvalidArgument);
    CHECK_THROWS_WITH_AS(nndl::check_vector_gradient([](const nndl::Vector<double>& t) { return std::log(t(0)); },
                                                     nndl::Vector<double>::Zero(1), nndl::Vector<double>::Zero(1)),
                         doctest::Contains("expected a finite number"), nndl::InvalidArgument);
}
