// Data augmentation: mirror images of HWC columns.
#include "test_support.hpp"

#include <nndl/data/augment.hpp>

TEST_CASE_TEMPLATE("augment: horizontal flips mirror each row and keep the channels of a pixel together", Scalar, float,
                   double) {
    const nndl::Shape shape = nndl::Shape::image(2, 3, 2);
    nndl::Matrix<Scalar> x(shape.size(), 2);
    for (nndl::Index j = 0; j < 2; ++j) {
        for (nndl::Index i = 0; i < shape.size(); ++i) {
            x(i, j) = static_cast<Scalar>(100 * j + i);
        }
    }
    const nndl::Matrix<Scalar> flipped = nndl::flip_horizontally(x, shape);
    // pixel (h, w, c) of the mirror image is pixel (h, 2 - w, c) of the original
    for (nndl::Index j = 0; j < 2; ++j) {
        for (nndl::Index h = 0; h < 2; ++h) {
            for (nndl::Index w = 0; w < 3; ++w) {
                for (nndl::Index c = 0; c < 2; ++c) {
                    CHECK(flipped(shape.offset(h, w, c), j) == x(shape.offset(h, 2 - w, c), j));
                }
            }
        }
    }
    CHECK(flipped(0, 0) == Scalar(4));  // (0, 0, 0) <- (0, 2, 0) at offset 4
    CHECK(nndl::flip_horizontally(flipped, shape) == x);

    nndl::Matrix<Scalar> y(1, 2);
    y << 1, 0;
    nndl::Matrix<Scalar> grown = x;
    nndl::append_horizontal_flips(grown, y, shape);
    REQUIRE(grown.cols() == 4);
    CHECK(grown.leftCols(2) == x);
    CHECK(grown.rightCols(2) == flipped);
    REQUIRE(y.cols() == 4);
    CHECK(y(0, 2) == Scalar(1));
    CHECK(y(0, 3) == Scalar(0));
}

TEST_CASE("augment: wrong sizes are refused and the data are kept") {
    nndl::Matrix<double> x = nndl::Matrix<double>::Ones(12, 3);
    nndl::Matrix<double> y = nndl::Matrix<double>::Zero(1, 3);
    CHECK_THROWS_WITH_AS(nndl::flip_horizontally(x, nndl::Shape::image(2, 2, 2)),
                         doctest::Contains("flip_horizontally: columns of 12 values, expected images of 2x2x2"),
                         nndl::InvalidArgument);
    CHECK_THROWS_WITH_AS(nndl::append_horizontal_flips(x, y, nndl::Shape::image(3, 2, 3)),
                         doctest::Contains("flip_horizontally"), nndl::InvalidArgument);
    nndl::Matrix<double> short_labels = nndl::Matrix<double>::Zero(1, 2);
    CHECK_THROWS_WITH_AS(nndl::append_horizontal_flips(x, short_labels, nndl::Shape::image(2, 2, 3)),
                         doctest::Contains("append_horizontal_flips: 2 label columns, expected one per example (3)"),
                         nndl::InvalidArgument);
    CHECK_THROWS_WITH_AS(nndl::append_horizontal_flips(x, x, nndl::Shape::image(2, 2, 3)),
                         doctest::Contains("the images and the labels are the same matrix"), nndl::InvalidArgument);
    CHECK_THROWS_WITH_AS(nndl::flip_horizontally(x, nndl::Shape::image(-2, -3, 3)),
                         doctest::Contains("flip_horizontally: image shape -2x-3x3, expected every size >= 1"),
                         nndl::InvalidArgument);
    CHECK(x.cols() == 3);
    CHECK(y.cols() == 3);
    CHECK(short_labels.cols() == 2);
}
