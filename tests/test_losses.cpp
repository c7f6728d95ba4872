// Losses: known values, gradient checks (plain and fused), stability.
#include "test_support.hpp"

#include <nndl/gradient_check.hpp>
#include <nndl/losses.hpp>

using nndl::Matrix;
using nndl_test::rows;

TEST_CASE_TEMPLATE("losses: known values", Scalar, float, double) {
    const auto a = rows<Scalar>({{.8, .9, .4}});
    const auto y = rows<Scalar>({{1, 1, 0}});
    // The course's compute_cost case.
    CHECK(static_cast<double>(nndl::BinaryCrossEntropy<Scalar>().value(a, y)) ==
          doctest::Approx(0.2797765635793423).epsilon(nndl_test::printed_tolerance<Scalar>()));
    // Reference values computed with NumPy: ((A - Y)**2).sum() / 3, and the
    // softmax cross-entropy of Z below.
    CHECK(static_cast<double>(nndl::MeanSquaredError<Scalar>().value(a, y)) == doctest::Approx(0.07).epsilon(1e-6));
    const auto z = rows<Scalar>({{2., -1., 0.5}, {0.5, 3., 0.5}, {-1., 0., 0.5}});
    const auto one_hot = rows<Scalar>({{1, 0, 0}, {0, 1, 0}, {0, 0, 1}});
    nndl::CategoricalCrossEntropy<Scalar> cce;
    CHECK(static_cast<double>(cce.value_from_preactivation(z, one_hot)) ==
          doctest::Approx(0.4686024963608986).epsilon(1e-6));
    Matrix<Scalar> p;
    nndl::Softmax::forward(z, p);
    CHECK(static_cast<double>(cce.value(p, one_hot)) == doctest::Approx(0.4686024963608986).epsilon(1e-6));
}

TEST_CASE_TEMPLATE("losses: the fused sigmoid + cross-entropy value equals the plain one", Scalar, float, double) {
    nndl::NumpyRandom random(4);
    const Matrix<Scalar> z = random.randn<Scalar>(1, 7);
    const Matrix<Scalar> y = (random.rand<Scalar>(1, 7).array() > Scalar(0.5)).template cast<Scalar>();
    Matrix<Scalar> a;
    nndl::Sigmoid::forward(z, a);
    nndl::BinaryCrossEntropy<Scalar> bce;
    CHECK(static_cast<double>(bce.value_from_preactivation(z, y)) ==
          doctest::Approx(static_cast<double>(bce.value(a, y))).epsilon(nndl_test::printed_tolerance<Scalar>()));
}

TEST_CASE_TEMPLATE("losses: saturated outputs give finite costs and gradients", Scalar, float, double) {
    const auto z = rows<Scalar>({{-800, 800, 40}});
    const auto y = rows<Scalar>({{1, 0, 1}});
    Matrix<Scalar> a;
    nndl::Sigmoid::forward(z, a);
    nndl::BinaryCrossEntropy<Scalar> bce;
    const double fused = static_cast<double>(bce.value_from_preactivation(z, y));
    CHECK(fused == doctest::Approx((800.0 + 800.0) / 3.0).epsilon(1e-6));  // exact: softplus(800) = 800
    CHECK(std::isfinite(static_cast<double>(bce.value(a, y))));
    Matrix<Scalar> grad;
    bce.gradient(a, y, grad);
    CHECK(grad.allFinite());
    bce.preactivation_gradient(a, y, grad);
    NNDL_CHECK_CLOSE(grad, rows<double>({{-1.0 / 3, 1.0 / 3, 0}}), 1e-6);
}

TEST_CASE_TEMPLATE("losses: gradients match central differences", Scalar, float, double) {
    nndl::NumpyRandom random(9);
    const double tol = nndl_test::gradient_tolerance<Scalar>();
    // Outputs well inside (0, 1) so the step stays in the domain.
    const Matrix<Scalar> probabilities = (random.rand<Scalar>(1, 6).array() * Scalar(0.8) + Scalar(0.1)).matrix();
    const Matrix<Scalar> labels = rows<Scalar>({{1, 0, 0, 1, 1, 0}});
    nndl::GradientCheckOptions options;
    if constexpr (std::is_same_v<Scalar, float>) {
        options.step = 1e-3;
    }
    const auto bce = nndl::check_loss_gradient<Scalar>(nndl::BinaryCrossEntropy<Scalar>(), probabilities, labels, options);
    INFO("bce: ", bce.summary());
    CHECK(bce.passed(tol));

    const Matrix<Scalar> z = random.randn<Scalar>(4, 5);
    Matrix<Scalar> soft;
    nndl::Softmax::forward(z, soft);
    Matrix<Scalar> one_hot = Matrix<Scalar>::Zero(4, 5);
    for (nndl::Index j = 0; j < 5; ++j) {
        one_hot(static_cast<nndl::Index>(random.below(4)), j) = 1;
    }
    const auto cce = nndl::check_loss_gradient<Scalar>(nndl::CategoricalCrossEntropy<Scalar>(), soft, one_hot, options);
    INFO("cce: ", cce.summary());
    CHECK(cce.passed(tol));

    const auto mse = nndl::check_loss_gradient<Scalar>(nndl::MeanSquaredError<Scalar>(), z, soft);
    INFO("mse: ", mse.summary());
    CHECK(mse.passed(tol));

    const Matrix<Scalar> logits = random.randn<Scalar>(1, 6);
    const auto fused_bce =
        nndl::check_fused_loss_gradient<nndl::Sigmoid, Scalar>(nndl::BinaryCrossEntropy<Scalar>(), logits, labels);
    INFO("fused bce: ", fused_bce.summary());
    CHECK(fused_bce.passed(tol));
    const auto fused_cce =
        nndl::check_fused_loss_gradient<nndl::Softmax, Scalar>(nndl::CategoricalCrossEntropy<Scalar>(), z, one_hot);
    INFO("fused cce: ", fused_cce.summary());
    CHECK(fused_cce.passed(tol));
}

TEST_CASE("losses: bad targets and shapes are rejected with clear messages") {
    nndl::BinaryCrossEntropy<double> bce;
    const auto a = rows<double>({{.5, .5}});
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { bce.value(a, rows<double>({{1, 2}})); }) ==
          "BinaryCrossEntropy::value: target at row 0, column 1 is 2, expected a label in [0, 1]");
    CHECK(nndl_test::message_of<nndl::ShapeError>([&] { bce.value(a, rows<double>({{1, 0, 1}})); }) ==
          "BinaryCrossEntropy::value: output is 1x2 but target is 1x3");
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] {
              nndl::MeanSquaredError<double>().value_from_preactivation(a, a);
          }).find("has no fused path") != std::string::npos);
}
