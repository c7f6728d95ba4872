// The thin-layer product kernels (products.hpp) against Eigen's product, on shapes
// that cover every tile and remainder path, and a whole layer that goes through them.
#include "test_support.hpp"

#include <nndl/layers/dense.hpp>
#include <nndl/gradient_check.hpp>
#include <nndl/detail/products.hpp>
#include <nndl/threads.hpp>

#include <algorithm>
#include <array>
#include <vector>

using nndl::Index;
using nndl::Matrix;

namespace {

template <class Scalar>
double tolerance(Index k) {
    // Sums of k products of numbers in [-1, 1], added in another order than Eigen's.
    return (std::is_same_v<Scalar, float> ? 2e-6 : 1e-14) * static_cast<double>(k);
}

template <class Scalar>
void check_thin_product(nndl::detail::KernelIsa isa, bool half, Index m, Index n, Index k) {
    const Matrix<Scalar> a = Matrix<Scalar>::Random(m, k);
    const Matrix<Scalar> b = Matrix<Scalar>::Random(k, n);
    Matrix<Scalar> c = Matrix<Scalar>::Constant(m, n, Scalar(7));  // stale values must not survive
    const int bytes = nndl::detail::vector_bytes(isa, half);
    nndl::detail::thin_product<Scalar>(isa, bytes, a.data(), m, b.data(), k, c.data(), m, m, n, k);
    const Matrix<Scalar> expected = a * b;
    INFO("m=" << m << " n=" << n << " k=" << k << " " << nndl::detail::to_string(isa) << " bytes=" << bytes);
    CHECK(nndl_test::max_abs_difference(c, expected) <= tolerance<Scalar>(k));
}

/// The kernel that reads B's rows at offsets (a convolution's windows in place): column j
/// of B starts at j * step in `source`, its row t at offsets[t] from there.
/// With `epilogue`: bias, ReLU, scale and shift, ReLU applied as the kernel stores each value
/// (in the registers where a call writes C's final values, after the sums elsewhere). Returns
/// how many values a ReLU set to 0.
template <class Scalar>
Index check_gathered_columns(nndl::detail::KernelIsa isa, bool half, Index m, Index n, Index k,
                            bool epilogue = false) {
    const Index step = 3;
    std::vector<Index> offsets(static_cast<std::size_t>(k));
    for (Index t = 0; t < k; ++t) {
        offsets[static_cast<std::size_t>(t)] = (t * 7) % (k + 5) + t / 4;  // unordered, some repeated
    }
    const Index span = *std::max_element(offsets.begin(), offsets.end()) + 1 + (n - 1) * step;
    const Matrix<Scalar> source = Matrix<Scalar>::Random(span, 1);
    Matrix<Scalar> b(k, n);
    for (Index j = 0; j < n; ++j) {
        for (Index t = 0; t < k; ++t) {
            b(t, j) = source(offsets[static_cast<std::size_t>(t)] + j * step, 0);
        }
    }
    const Matrix<Scalar> a = Matrix<Scalar>::Random(m, k);
    Matrix<Scalar> c = Matrix<Scalar>::Constant(m, n, Scalar(7));  // stale values must not survive
    const int bytes = nndl::detail::vector_bytes(isa, half);
    // Biases and shifts around the sums' size (so each ReLU cuts some values), scales of both signs.
    const Matrix<Scalar> bias = Matrix<Scalar>::Random(m, 1) * Scalar(2);
    const Matrix<Scalar> scale = Matrix<Scalar>::Random(m, 1);
    const Matrix<Scalar> shift = Matrix<Scalar>::Random(m, 1);
    // Each combination of the steps over the row counts (ReLU before, scale and shift, ReLU after).
    const bool scaled = m % 2 == 0;
    const nndl::detail::StoreEpilogue<Scalar> steps{bias.data(), n % 2 == 1, scaled ? scale.data() : nullptr,
                                                    scaled ? shift.data() : nullptr, k % 2 == 1 || !scaled};
    const nndl::detail::ThinArgs<Scalar> args{a.data(), m, source.data(), step, c.data(), m, m, n, k,
                                              epilogue ? &steps : nullptr};
    const Index split = n / 3;  // two calls, the second from a column other than the first
    nndl::detail::gathered_columns_for<Scalar>(isa, bytes, args, offsets.data(), 0, split);
    nndl::detail::gathered_columns_for<Scalar>(isa, bytes, args, offsets.data(), split, n);
    Matrix<Scalar> expected = a * b;
    if (epilogue) {
        for (Index j = 0; j < n; ++j) {
            for (Index i = 0; i < m; ++i) {
                expected(i, j) = steps(i, expected(i, j));
            }
        }
    }
    INFO("m=" << m << " n=" << n << " k=" << k << " " << nndl::detail::to_string(isa) << " bytes=" << bytes
              << " epilogue=" << epilogue);
    CHECK(nndl_test::max_abs_difference(c, expected) <= tolerance<Scalar>(k));
    return epilogue ? (expected.array() == Scalar(0)).count() : 0;
}

/// A first convolution's windows (3 x 3, one channel, stride 1) read in place, whose sums
/// take a path of their own (unit_window_columns: each image value broadcast once per strip
/// of windows), against the same windows lowered into a plain matrix B (broadcast_tile):
/// the same values bit for bit, with and without the epilogue. Returns whether the own path
/// was taken (A's rows one vector of the width used, or two of AVX-512's).
template <class Scalar>
bool check_unit_windows(nndl::detail::KernelIsa isa, Index m, Index n, bool epilogue) {
    const Index row = n + 5;  // a padded image row: the windows of n columns and more
    const Matrix<Scalar> image = Matrix<Scalar>::Random(3 * row, 1);
    std::vector<Index> offsets;
    for (Index kh = 0; kh < 3; ++kh) {
        for (Index kw = 0; kw < 3; ++kw) {
            offsets.push_back(kh * row + kw);
        }
    }
    REQUIRE(nndl::detail::unit_window_row(offsets.data(), 9) == row);  // what sends it the own way
    Matrix<Scalar> b(9, n);
    for (Index j = 0; j < n; ++j) {
        for (Index t = 0; t < 9; ++t) {
            b(t, j) = image(offsets[static_cast<std::size_t>(t)] + j, 0);
        }
    }
    const Matrix<Scalar> a = Matrix<Scalar>::Random(m, 9);
    const Matrix<Scalar> bias = Matrix<Scalar>::Random(m, 1) * Scalar(2);
    const Matrix<Scalar> scale = Matrix<Scalar>::Random(m, 1);
    const Matrix<Scalar> shift = Matrix<Scalar>::Random(m, 1);
    const nndl::detail::StoreEpilogue<Scalar> steps{bias.data(), true, scale.data(), shift.data(), n % 2 == 1};
    const int bytes = nndl::detail::thin_width<Scalar>(isa, m);
    Matrix<Scalar> in_place = Matrix<Scalar>::Constant(m, n, Scalar(7));  // stale values must not survive
    Matrix<Scalar> lowered = Matrix<Scalar>::Constant(m, n, Scalar(7));
    const nndl::detail::ThinArgs<Scalar> windows{a.data(), m, image.data(), 1, in_place.data(), m, m, n, 9,
                                                 epilogue ? &steps : nullptr};
    const nndl::detail::ThinArgs<Scalar> plain{a.data(), m, b.data(), 9, lowered.data(), m, m, n, 9,
                                               epilogue ? &steps : nullptr};
    const Index split = n / 3;  // two calls, the second from a column other than the first
    nndl::detail::gathered_columns_for<Scalar>(isa, bytes, windows, offsets.data(), 0, split);
    nndl::detail::gathered_columns_for<Scalar>(isa, bytes, windows, offsets.data(), split, n);
    nndl::detail::thin_columns_for<Scalar>(isa, bytes, plain, 0, n);
    INFO("m=" << m << " n=" << n << " " << nndl::detail::to_string(isa) << " bytes=" << bytes
              << " epilogue=" << epilogue);
    CHECK(nndl_test::identical_bits(in_place, lowered));
    Matrix<Scalar> expected = a * b;
    for (Index j = 0; j < n && epilogue; ++j) {
        for (Index i = 0; i < m; ++i) {
            expected(i, j) = steps(i, expected(i, j));
        }
    }
    CHECK(nndl_test::max_abs_difference(in_place, expected) <= tolerance<Scalar>(9));
    const Index lanes = bytes / static_cast<Index>(sizeof(Scalar));
    return m == lanes || (bytes == 64 && m == 2 * lanes);
}

template <class Scalar>
void check_outer_product_sum(nndl::detail::KernelIsa isa, Index m, Index n, Index k) {
    const Matrix<Scalar> d = Matrix<Scalar>::Random(m, n);
    const Matrix<Scalar> x = Matrix<Scalar>::Random(k, n);
    Matrix<Scalar> c = Matrix<Scalar>::Constant(m, k, Scalar(7));
    nndl::detail::outer_product_sum(isa, d.data(), m, x.data(), k, c.data(), m, m, n, k);
    const Matrix<Scalar> expected = d * x.transpose();
    INFO("m=" << m << " n=" << n << " k=" << k << " " << nndl::detail::to_string(isa));
    CHECK(nndl_test::max_abs_difference(c, expected) <= tolerance<Scalar>(n));
}

const std::vector<Index> row_counts{1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 16, 17, 20, 23, 24, 25, 31, 32, 33, 48};

}  // namespace

// Every instruction set this processor runs (the kernels are picked at run time, so a
// test built without -march flags on an AVX-512 machine checks the AVX2 and SSE2 kernels too).
TEST_CASE_TEMPLATE("thin_product: every instruction set, row count, full and half vectors, short and long inputs",
                   Scalar, float, double) {
    REQUIRE(!nndl::detail::runnable_kernel_isas().empty());
    for (const auto isa : nndl::detail::runnable_kernel_isas()) {
        for (Index m : row_counts) {
            for (Index k : {1, 2, 7, 64, 301, 4099 + 4096}) {
                for (Index n : {1, 3, 8, 9, 37}) {
                    check_thin_product<Scalar>(isa, false, m, n, k);
                    check_thin_product<Scalar>(isa, true, m, n, k);
                }
            }
        }
    }
}

// A dense layer's weights: many tiles of rows, B's rows in chunks of tall_depth (one more
// than a chunk, one less, several), the last tile ending inside a vector.
TEST_CASE_TEMPLATE("thin_product with more rows than a tile: every instruction set, chunk edges and row remainders",
                   Scalar, float, double) {
    for (const auto isa : nndl::detail::runnable_kernel_isas()) {
        for (Index m : {49, 100, 250, 256, 513}) {
            for (Index k : {Index{1}, nndl::detail::tall_depth - 1, nndl::detail::tall_depth + 1, Index{784}}) {
                for (Index n : {2, 9, 37}) {
                    check_thin_product<Scalar>(isa, false, m, n, k);
                    check_thin_product<Scalar>(isa, true, m, n, k);
                }
            }
        }
    }
}

TEST_CASE("multiply of float weights with up to 512 rows: nndl's kernel, the same bits on any thread count") {
    const std::vector<std::array<Index, 3>> shapes{{256, 784, 256}, {128, 1568, 37}, {10, 128, 256}, {512, 300, 2}, {250, 300, 37}};
    for (const auto [m, k, n] : shapes) {
        const Index rows = m, depth = k, cols = n;  // INFO's lambda cannot capture a structured binding before C++20
        INFO(rows << "x" << depth << " times " << depth << "x" << cols);
        CHECK(nndl::detail::use_tall_kernel<float>(m, k, n) == nndl::detail::have_thin_kernels);
        const Matrix<float> w = Matrix<float>::Random(m, k);
        const Matrix<float> x = Matrix<float>::Random(k, n);
        const Matrix<float> expected = w * x;
        Matrix<float> first;
        for (int threads : {1, 2, 5, 16}) {
            nndl::set_threads(threads);
            Matrix<float> z = Matrix<float>::Constant(m, n, 7.0f);
            nndl::detail::multiply(w, x, z);
            CHECK(nndl_test::max_abs_difference(z, expected) <= tolerance<float>(k));
            if (threads == 1) {
                first = z;
            } else {
                CHECK(z == first);
            }
        }
    }
    // Wider weights and double stay with Eigen's GEMM.
    CHECK_FALSE(nndl::detail::use_tall_kernel<float>(513, 784, 256));
    CHECK_FALSE(nndl::detail::use_tall_kernel<double>(256, 784, 256));
    nndl::set_threads(0);
}

TEST_CASE_TEMPLATE("gathered columns (windows read in place): every instruction set, row count and column count, "
                   "with and without the store epilogue",
                   Scalar, float, double) {
    Index cut = 0;
    for (const auto isa : nndl::detail::runnable_kernel_isas()) {
        for (Index m : row_counts) {
            for (Index k : {1, 3, 9, 25, 75, 4099 + 4096}) {  // the last in chunks of A's columns
                for (Index n : {1, 4, 5, 8, 13, 28}) {
                    check_gathered_columns<Scalar>(isa, false, m, n, k);
                    check_gathered_columns<Scalar>(isa, true, m, n, k);
                    cut += check_gathered_columns<Scalar>(isa, false, m, n, k, /*epilogue=*/true);
                    cut += check_gathered_columns<Scalar>(isa, true, m, n, k, /*epilogue=*/true);
                }
            }
        }
    }
    CHECK(cut > 1000);  // the epilogue's ReLUs cut values
}

TEST_CASE_TEMPLATE("outer_product_sum: every instruction set, row count and remainder of the input length", Scalar,
                   float, double) {
    for (const auto isa : nndl::detail::runnable_kernel_isas()) {
        for (Index m : row_counts) {
            for (Index k : {1, 3, 8, 17, 64, 65, 129, 1000, 2051}) {
                for (Index n : {1, 2, 13, 209}) {
                    check_outer_product_sum<Scalar>(isa, m, n, k);
                }
            }
        }
    }
}

// nndl's tests are built with NNDL_KERNEL_DISPATCH (every set compiled); without it the
// program has only the set its compiler targets.
TEST_CASE_TEMPLATE("3 x 3 windows of one channel read in place: the same bits as the same windows lowered, "
                   "every instruction set, strip remainders, with and without the epilogue",
                   Scalar, float, double) {
    int own_path = 0;
    for (const auto isa : nndl::detail::runnable_kernel_isas()) {
        for (Index m : {2, 4, 5, 8, 16, 32}) {
            for (Index n : {1, 3, 4, 7, 16, 17, 20, 21, 28, 37}) {
                for (const bool epilogue : {false, true}) {
                    own_path += check_unit_windows<Scalar>(isa, m, n, epilogue) ? 1 : 0;
                }
            }
        }
    }
    CHECK(own_path > 0);
    // Windows that are not 3 x 3 of one channel keep the general kernel.
    const std::vector<Index> uneven_rows{0, 1, 2, 3, 4, 5, 20, 21, 22};  // the third row not 2 rows down
    CHECK(nndl::detail::unit_window_row(uneven_rows.data(), 9) == 0);
    const std::vector<Index> shifted{0, 1, 2, 10, 11, 12, 20, 21, 23};
    CHECK(nndl::detail::unit_window_row(shifted.data(), 9) == 0);
    const std::vector<Index> eight{0, 1, 2, 10, 11, 12, 20, 21};
    CHECK(nndl::detail::unit_window_row(eight.data(), 8) == 0);
}

TEST_CASE("the kernels' instruction set is the best the processor has among those compiled") {
    const auto isas = nndl::detail::runnable_kernel_isas();
    CHECK(nndl::detail::kernel_isa() == isas.back());
    CHECK(std::min(nndl::detail::detected_kernel_isa(), nndl::detail::highest_kernel_isa()) == isas.back());
#ifdef NNDL_KERNEL_DISPATCH
    CHECK(nndl::detail::highest_kernel_isa() >= nndl::detail::detected_kernel_isa());
#else
    CHECK(nndl::detail::highest_kernel_isa() == nndl::detail::compiled_kernel_isa());
#endif
#if defined(__AVX512F__) && defined(__AVX512VL__)
    CHECK(nndl::detail::kernel_isa() == nndl::detail::KernelIsa::avx512);
#elif defined(__AVX2__) && defined(__FMA__)
    CHECK(nndl::detail::kernel_isa() >= nndl::detail::KernelIsa::avx2);
#endif
}

TEST_CASE_TEMPLATE("product: all four transpositions, panels and thread counts agree with Eigen bit for bit across "
                   "thread counts", Scalar, float, double) {
    for (const auto [rows, cols, depth] : std::vector<std::array<Index, 3>>{
             {1, 1, 1}, {3, 500, 40}, {700, 5, 33}, {129, 130, 300}, {256, 784, 128}, {784, 128, 256}, {2, 2, 9000}}) {
        for (const bool ta : {false, true}) {
            for (const bool tb : {false, true}) {
                const Matrix<Scalar> a = ta ? Matrix<Scalar>(Matrix<Scalar>::Random(depth, rows))
                                            : Matrix<Scalar>(Matrix<Scalar>::Random(rows, depth));
                const Matrix<Scalar> b = tb ? Matrix<Scalar>(Matrix<Scalar>::Random(cols, depth))
                                            : Matrix<Scalar>(Matrix<Scalar>::Random(depth, cols));
                const auto oa = ta ? nndl::detail::transposed(a) : nndl::detail::plain(a);
                const auto ob = tb ? nndl::detail::transposed(b) : nndl::detail::plain(b);
                Matrix<Scalar> expected(rows, cols);
                if (ta && tb) {
                    expected = a.transpose() * b.transpose();
                } else if (ta) {
                    expected = a.transpose() * b;
                } else if (tb) {
                    expected = a * b.transpose();
                } else {
                    expected = a * b;
                }
                Matrix<Scalar> first;
                for (int threads : {1, 2, 5, 16}) {
                    nndl::set_threads(threads);
                    Matrix<Scalar> c = Matrix<Scalar>::Constant(rows, cols, Scalar(7));
                    nndl::detail::product(oa, ob, c.data(), c.rows());
                    const Index r = rows, c_cols = cols, d = depth;  // INFO's lambda cannot capture a structured binding before C++20
                    INFO(r << "x" << c_cols << "x" << d << " ta=" << ta << " tb=" << tb << " threads=" << threads);
                    CHECK(nndl_test::max_abs_difference(c, expected) <= tolerance<Scalar>(depth));
                    if (threads == 1) {
                        first = c;
                    } else {
                        CHECK(c == first);
                    }
                }
            }
        }
    }
    nndl::set_threads(0);
}

TEST_CASE_TEMPLATE("multiply, multiply_transposed and multiply_transposed_left agree with Eigen on both sides of the dispatch", Scalar, float,
                   double) {
    for (Index m : {1, 3, 20, 100, 600}) {
        for (Index k : {10, 300, 2000}) {
            const Index n = 70;
            const Matrix<Scalar> w = Matrix<Scalar>::Random(m, k);
            const Matrix<Scalar> x = Matrix<Scalar>::Random(k, n);
            const Matrix<Scalar> dz = Matrix<Scalar>::Random(m, n);
            Matrix<Scalar> z(m, n);
            Matrix<Scalar> dw(m, k);
            Matrix<Scalar> da(k, n);
            nndl::detail::multiply(w, x, z);
            nndl::detail::multiply_transposed(dz, x, dw);
            nndl::detail::multiply_transposed_left(w, dz, da);
            CHECK(nndl_test::max_abs_difference(da, Matrix<Scalar>(w.transpose() * dz)) <= tolerance<Scalar>(m));
            INFO("m=" << m << " k=" << k << " thin=" << nndl::detail::use_thin_kernels<Scalar>(m, k, n)
                        << " tall=" << nndl::detail::use_tall_kernel<Scalar>(m, k, n));
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
    // The parameters' gradients go through the thin kernels (outer_product_sum); the input's
    // (W^T dZ) through the panel product, checked above and in test_dense. Not checking the
    // input's 80,000 entries keeps this a second (two minutes under the sanitizers).
    nndl::GradientCheckOptions options;
    options.check_input = false;
    REQUIRE(nndl::detail::use_thin_kernels<double>(3, inputs, examples));
    const auto result = nndl::check_layer_gradients(tanh_layer, input, options);
    INFO(result.summary());
    CHECK(result.passed(1e-7));
}
