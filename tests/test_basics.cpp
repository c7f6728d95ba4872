// The first assignment's helpers against the course's printed values.
#include "test_support.hpp"

#include <nndl/basics.hpp>

using nndl_test::rows;

TEST_CASE_TEMPLATE("basics: sigmoid and sigmoid_derivative", Scalar, float, double) {
    const double tol = nndl_test::printed_tolerance<Scalar>();
    CHECK(static_cast<double>(nndl::sigmoid(Scalar(1))) == doctest::Approx(0.7310585786300049).epsilon(tol));
    const auto x = rows<Scalar>({{1, 2, 3}});
    NNDL_CHECK_CLOSE(nndl::sigmoid(x), rows<double>({{0.73105858, 0.88079708, 0.95257413}}), nndl_test::decimals_tolerance<Scalar>());
    NNDL_CHECK_CLOSE(nndl::sigmoid_derivative(x), rows<double>({{0.19661193, 0.10499359, 0.04517666}}), nndl_test::decimals_tolerance<Scalar>());
}

TEST_CASE_TEMPLATE("basics: normalize_rows", Scalar, float, double) {
    const auto x = rows<Scalar>({{0, 3, 4}, {1, 6, 4}});
    NNDL_CHECK_CLOSE(nndl::normalize_rows(x), rows<double>({{0, 0.6, 0.8}, {0.13736056, 0.82416338, 0.54944226}}),
                     nndl_test::decimals_tolerance<Scalar>());
    const auto zero_row = rows<Scalar>({{1, 2}, {0, 0}});
    const auto message = nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::normalize_rows(zero_row); });
    CHECK(message.find("normalize_rows: row 1 has norm 0") != std::string::npos);
}

TEST_CASE_TEMPLATE("basics: softmax of rows", Scalar, float, double) {
    const auto x = rows<Scalar>({{9, 2, 5, 0, 0}, {7, 5, 0, 0, 0}});
    NNDL_CHECK_CLOSE(nndl::softmax_rows(x),
                     rows<double>({{9.80897665e-01, 8.94462891e-04, 1.79657674e-02, 1.21052389e-04, 1.21052389e-04},
                                   {8.78679856e-01, 1.18916387e-01, 8.01252314e-04, 8.01252314e-04, 8.01252314e-04}}),
                     nndl_test::decimals_tolerance<Scalar>());
    // Large inputs do not overflow: the row maximum is subtracted first.
    const auto big = rows<Scalar>({{1000, 1000}});
    NNDL_CHECK_CLOSE(nndl::softmax_rows(big), rows<double>({{0.5, 0.5}}), 1e-7);
}

TEST_CASE_TEMPLATE("basics: L1 and L2 loss", Scalar, float, double) {
    const auto yhat = rows<Scalar>({{.9, .2, .1, .4, .9}});
    const auto y = rows<Scalar>({{1, 0, 0, 1, 1}});
    CHECK(static_cast<double>(nndl::l1_loss(yhat, y)) == doctest::Approx(1.1).epsilon(1e-6));
    CHECK(static_cast<double>(nndl::l2_loss(yhat, y)) == doctest::Approx(0.43).epsilon(1e-6));
    const auto wrong = rows<Scalar>({{1, 0}});
    const auto message = nndl_test::message_of<nndl::ShapeError>([&] { nndl::l1_loss(yhat, wrong); });
    CHECK(message == "l1_loss: yhat is 1x5 but y is 1x2");
}

TEST_CASE_TEMPLATE("basics: image2vector flattens (h, w, c) in row-major order", Scalar, float, double) {
    // The course's 3x3x2 example image.
    const double values[3][3][2] = {{{0.67826139, 0.29380381}, {0.90714982, 0.52835647}, {0.4215251, 0.45017551}},
                                    {{0.92814219, 0.96677647}, {0.85304703, 0.52351845}, {0.19981397, 0.27417313}},
                                    {{0.60659855, 0.00533165}, {0.10820313, 0.49978937}, {0.34144279, 0.94630077}}};
    nndl::ImageArray<Scalar> image(3, 3, 2);
    for (int h = 0; h < 3; ++h) {
        for (int w = 0; w < 3; ++w) {
            for (int c = 0; c < 2; ++c) {
                image(h, w, c) = static_cast<Scalar>(values[h][w][c]);
            }
        }
    }
    const nndl::Vector<Scalar> column = nndl::image2vector(image);
    REQUIRE(column.rows() == 18);
    CHECK(column(0) == static_cast<Scalar>(0.67826139));
    CHECK(column(1) == static_cast<Scalar>(0.29380381));
    CHECK(column(2) == static_cast<Scalar>(0.90714982));
    CHECK(column(6) == static_cast<Scalar>(0.92814219));
    CHECK(column(17) == static_cast<Scalar>(0.94630077));
}
