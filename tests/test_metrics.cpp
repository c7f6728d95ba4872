// Regression and classification metrics against values worked out by hand (the
// arithmetic is in the comments; scikit-learn's definitions, where it has one).
#include <doctest/doctest.h>

#include <cmath>

#include <nndl/metrics.hpp>
#include <nndl/random.hpp>

#include "test_support.hpp"

using nndl_test::rows;

TEST_CASE_TEMPLATE("metrics: MAE, RMSE and R^2 of one output", Scalar, float, double) {
    // errors 0, -1, 1, -2: |e| sums to 4, e^2 to 6; the target's mean is 3 and its squared
    // deviations 4 + 0 + 1 + 9 = 14, so R^2 = 1 - 6 / 14.
    const auto predicted = rows<Scalar>({{1, 2, 3, 4}});
    const auto target = rows<Scalar>({{1, 3, 2, 6}});
    CHECK(nndl::mean_absolute_error(predicted, target) == doctest::Approx(1.0));
    CHECK(nndl::root_mean_squared_error(predicted, target) == doctest::Approx(std::sqrt(1.5)));
    CHECK(nndl::r2_score(predicted, target) == doctest::Approx(1.0 - 6.0 / 14.0));
    CHECK(nndl::r2_score(target, target) == 1.0);
    // Predicting the mean scores 0; worse than that is negative.
    CHECK(nndl::r2_score(rows<Scalar>({{3, 3, 3, 3}}), target) == doctest::Approx(0.0));
    CHECK(nndl::r2_score(rows<Scalar>({{6, 2, 3, 1}}), target) < 0.0);
}

TEST_CASE("metrics: R^2 of several outputs is the mean of each row's; a constant target scores 1 or 0") {
    // Row 1 as above (8/14); row 2's target is constant and predicted exactly (1).
    const auto predicted = rows<double>({{1, 2, 3, 4}, {5, 5, 5, 5}});
    const auto target = rows<double>({{1, 3, 2, 6}, {5, 5, 5, 5}});
    CHECK(nndl::r2_score(predicted, target) == doctest::Approx((8.0 / 14.0 + 1.0) / 2.0));
    // A constant target predicted with any error scores 0, as in scikit-learn.
    CHECK(nndl::r2_score(rows<double>({{5, 5, 5, 6}}), rows<double>({{5, 5, 5, 5}})) == 0.0);
    // MAE and RMSE average over every value: errors 0,1,1,2 and 0,0,0,0.
    CHECK(nndl::mean_absolute_error(predicted, target) == doctest::Approx(4.0 / 8.0));
    CHECK(nndl::root_mean_squared_error(predicted, target) == doctest::Approx(std::sqrt(6.0 / 8.0)));
}

TEST_CASE("metrics: regression metrics refuse what they cannot compare") {
    const auto two = rows<double>({{1, 2}});
    CHECK_THROWS_WITH_AS(nndl::r2_score(two, rows<double>({{1, 2, 3}})),
                         doctest::Contains("r2_score: predicted is 1x2 but target is 1x3"), nndl::ShapeError);
    CHECK_THROWS_WITH_AS(nndl::mean_absolute_error(two, rows<double>({{1, NAN}})),
                         doctest::Contains("mean_absolute_error: target"), nndl::InvalidArgument);
    CHECK_THROWS_WITH_AS(nndl::r2_score(rows<double>({{1}}), rows<double>({{2}})),
                         doctest::Contains("r2_score: 1 example, expected at least 2"), nndl::InvalidArgument);
    // Large finite values do not overflow: R^2 is a ratio, RMSE a scaled root.
    CHECK(nndl::r2_score(rows<double>({{0, 0}}), rows<double>({{1e200, -1e200}})) == doctest::Approx(0.0));
    CHECK(nndl::root_mean_squared_error(rows<double>({{1.1e200, 2.1e200}}), rows<double>({{1e200, 2e200}})) ==
          doctest::Approx(1e199));
    CHECK(nndl::root_mean_squared_error(rows<double>({{2e-200}}), rows<double>({{1e-200}})) ==
          doctest::Approx(1e-200));
    // A constant target predicted with small errors scores 0 exactly (not a rounding artefact).
    const nndl::Matrix<double> constant = nndl::Matrix<double>::Constant(1, 10, 3.0);
    const nndl::Matrix<double> near = constant + nndl::NumpyRandom(1).randn(1, 10) * 0.01;
    CHECK(nndl::r2_score(near, constant) == 0.0);
    const nndl::Matrix<double> empty(1, 0);
    CHECK_THROWS_WITH_AS(nndl::root_mean_squared_error(empty, empty), doctest::Contains("no values"),
                         nndl::InvalidArgument);
}

TEST_CASE("metrics: precision, recall and F1 per class and their macro means") {
    // actual 0 0 1 1 2 2, predicted 0 1 1 1 0 2: counts(actual, predicted) =
    //   [1 1 0; 0 2 0; 1 0 1]. Precision = diagonal / column sums = 1/2, 2/3, 1/1;
    // recall = diagonal / row sums = 1/2, 2/2, 1/2; F1 = 1/2, 0.8, 2/3.
    const auto actual = rows<double>({{0, 0, 1, 1, 2, 2}});
    const auto predicted = rows<double>({{0, 1, 1, 1, 0, 2}});
    const nndl::ClassificationReport report = nndl::classification_report(actual, predicted, 3);
    REQUIRE(report.classes.size() == 3);
    CHECK(report.classes[0].precision == doctest::Approx(0.5));
    CHECK(report.classes[1].precision == doctest::Approx(2.0 / 3.0));
    CHECK(report.classes[2].precision == doctest::Approx(1.0));
    CHECK(report.classes[0].recall == doctest::Approx(0.5));
    CHECK(report.classes[1].recall == doctest::Approx(1.0));
    CHECK(report.classes[2].recall == doctest::Approx(0.5));
    CHECK(report.classes[0].f1 == doctest::Approx(0.5));
    CHECK(report.classes[1].f1 == doctest::Approx(0.8));
    CHECK(report.classes[2].f1 == doctest::Approx(2.0 / 3.0));
    CHECK(report.classes[1].support == 2);
    CHECK(report.macro_precision == doctest::Approx((0.5 + 2.0 / 3.0 + 1.0) / 3.0));
    CHECK(report.macro_recall == doctest::Approx(2.0 / 3.0));
    CHECK(report.macro_f1 == doctest::Approx((0.5 + 0.8 + 2.0 / 3.0) / 3.0));
    CHECK(report.accuracy == doctest::Approx(4.0 / 6.0));
}

TEST_CASE("metrics: a class never predicted or never present scores 0, not NaN") {
    // Class 2 is never predicted (precision 0/0) and class 1 never occurs (recall 0/0).
    const auto actual = rows<double>({{0, 0, 2}});
    const auto predicted = rows<double>({{0, 1, 0}});
    const auto report = nndl::classification_report(actual, predicted, 3);
    CHECK(report.classes[2].precision == 0.0);
    CHECK(report.classes[2].recall == 0.0);
    CHECK(report.classes[1].recall == 0.0);
    CHECK(report.classes[1].f1 == 0.0);
    // Class 0: predicted at columns 0 and 2, right at column 0; present at columns 0 and 1.
    CHECK(report.classes[0].precision == doctest::Approx(0.5));
    CHECK(report.classes[0].recall == doctest::Approx(0.5));
    CHECK(std::isfinite(report.macro_f1));
}

TEST_CASE("metrics: a classification report refuses a confusion matrix it cannot read") {
    Eigen::Matrix<long, Eigen::Dynamic, Eigen::Dynamic> counts(2, 3);
    counts.setZero();
    CHECK_THROWS_WITH_AS(nndl::classification_report(counts), doctest::Contains("is 2x3, expected square"),
                         nndl::InvalidArgument);
    Eigen::Matrix<long, Eigen::Dynamic, Eigen::Dynamic> negative(2, 2);
    negative << 1, -1, 0, 2;
    CHECK_THROWS_WITH_AS(nndl::classification_report(negative), doctest::Contains("negative count (-1)"),
                         nndl::InvalidArgument);
    CHECK_THROWS_AS(nndl::classification_report(rows<double>({{0, 5}}), rows<double>({{0, 1}}), 2),
                    nndl::InvalidArgument);
}
