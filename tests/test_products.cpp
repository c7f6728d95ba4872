// The thin-layer product kernels (products.hpp) against Eigen's product, on shapes
// that cover every tile and remainder path, and a whole layer that goes through them.
#include "test_support.hpp"

#include <nndl/layers/dense.hpp>
#include <nndl/gradient_check.hpp>
#include <nndl/detail/products.hpp>

#include <vector>

using nndl::Index;
using nndl::Matrix;

namespace {

template <class Scalar>
double tolerance(Index k) {
    // Sums of k products of numbers in [-1, 1], added in another order than Eigen's.
    return (std::is_same_v<Scalar, float> ? 2e-6 : 1e-14) * static_cast<double>(k);
}

template <class Scalar, bool Half>
void check_thin_product(Index m, Index n, Index k) {
    const Matrix<Scalar> a = Matrix<Scalar>::Random(m, k);
    const Matrix<Scalar> b = Matrix<Scalar>::Random(k, n);
    Matrix<Scalar> c = Matrix<Scalar>::Constant(m, n, Scalar(7));  // stale values must not survive
    nndl::detail::thin_product<Scalar, Half>(a.data(), m, b.data(), k, c.data(), m, m, n, k);
    const Matrix<Scalar> expected = a * b;
    INFO("m=" << m << " n=" << n << " k=" << k << " lanes=" << (nndl::detail::packet_lanes<Scalar, Half>));
    CHECK(nndl_test::max_abs_difference(c, expected) <= tolerance<Scalar>(k));
}

template <class Scalar>
void check_outer_product_sum(Index m, Index n, Index k) {
    const Matrix<Scalar> d = Matrix<Scalar>::Random(m, n);
    const Matrix<Scalar> x = Matrix<Scalar>::Random(k, n);
    Matrix<Scalar> c = Matrix<Scalar>::Constant(m, k, Scalar(7));
    nndl::detail::outer_product_sum(d.data(), m, x.data(), k, c.data(), m, m, n, k);
    const Matrix<Scalar> expected = d * x.transpose();
    INFO("m=" << m << " n=" << n << " k=" << k);
    CHECK(nndl_test::max_abs_difference(c, expected) <= tolerance<Scalar>(n));
}

const std::vector<Index> row_counts{1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 16, 17, 20, 23, 24, 25, 31, 32, 33, 48};

}  // namespace

TEST_CASE_TEMPLATE("thin_product: every row count, full and half packets, short and long inputs", Scalar, float,
                   double) {
    for (Index m : row_counts) {
        for (Index k : {1, 2, 7, 64, 301, 4099 + 4096}) {
            for (Index n : {1, 3, 8, 9, 37}) {
                check_thin_product<Scalar, false>(m, n, k);
                check_thin_product<Scalar, true>(m, n, k);
            }
        }
    }
}

TEST_CASE_TEMPLATE("outer_product_sum: every row count and remainder of the input length", Scalar, float, double) {
    for (Index m : row_counts) {
        for (Index k : {1, 3, 8, 17, 64, 65, 129, 1000, 2051}) {
            for (Index n : {1, 2, 13, 209}) {
                check_outer_product_sum<Scalar>(m, n, k);
            }
        }
    }
}

TEST_CASE_TEMPLATE("multiply and multiply_transposed agree with Eigen on both sides of the dispatch", Scalar, float,
                   double) {
    for (Index m : {1, 3, 20, 100}) {
        for (Index k : {10, 300, 2000}) {
            const Index n = 70;
            const Matrix<Scalar> w = Matrix<Scalar>::Random(m, k);
            const Matrix<Scalar> x = Matrix<Scalar>::Random(k, n);
            const Matrix<Scalar> dz = Matrix<Scalar>::Random(m, n);
            Matrix<Scalar> z(m, n);
            Matrix<Scalar> dw(m, k);
            nndl::detail::multiply(w, x, z);
            nndl::detail::multiply_transposed(dz, x, dw);
            INFO("m=" << m << " k=" << k << " thin=" << nndl::detail::use_thin_kernels<Scalar>(m, k, n));
            CHECK(nndl_test::max_abs_difference(z, Matrix<Scalar>(w * x)) <= tolerance<Scalar>(k));
            CHECK(nndl_test::max_abs_difference(dw, Matrix<Scalar>(dz * x.transpose())) <= tolerance<Scalar>(n));
        }
    }
}

TEST_CASE("A thin layer with a long input: known forward values and a gradient check through the kernels") {
    // 3 units over 400 inputs: the course's cat model's shape, smaller.
    const Index inputs = 400;
    const Index examples = 200;
    REQUIRE(nndl::detail::use_thin_kernels<double>(3, inputs, examples));
    nndl::Dense<double, nndl::Identity> layer(inputs, 3);
    Matrix<double> x(inputs, examples);
    for (Index j = 0; j < examples; ++j) {
        for (Index i = 0; i < inputs; ++i) {
            x(i, j) = static_cast<double>((i + 3 * j) % 7) - 3.0;  // exact small integers
        }
    }
    for (Index i = 0; i < inputs; ++i) {
        layer.weights()(0, i) = 1.0;
        layer.weights()(1, i) = i % 2 == 0 ? 1.0 : -1.0;
        layer.weights()(2, i) = 0.0;
    }
    layer.bias() << 0.5, 0.0, -2.0;
    const Matrix<double>& z = layer.forward(x, nndl::Mode::training);
    for (Index j = 0; j < examples; ++j) {
        double column_sum = 0;
        double alternating = 0;
        for (Index i = 0; i < inputs; ++i) {
            column_sum += x(i, j);
            alternating += i % 2 == 0 ? x(i, j) : -x(i, j);
        }
        REQUIRE(z(0, j) == column_sum + 0.5);
        REQUIRE(z(1, j) == alternating);
        REQUIRE(z(2, j) == -2.0);
    }

    nndl::Dense<double, nndl::Tanh> tanh_layer(inputs, 3);
    tanh_layer.weights() = Matrix<double>::Random(3, inputs) * 0.05;
    const Matrix<double> input = Matrix<double>::Random(inputs, examples);
    const auto result = nndl::check_layer_gradients(tanh_layer, input);
    INFO(result.summary());
    CHECK(result.passed(1e-7));
}
