// A training step in steady state makes no heap allocation: neither through
// operator new (counted here) nor inside Eigen (EIGEN_RUNTIME_NO_MALLOC makes any
// Eigen allocation fail while it is forbidden).
//
// Eigen's general matrix products take their packing buffers from the heap above
// EIGEN_STACK_ALLOCATION_LIMIT, so the dense network's first layer is one that nndl's
// thin kernels take (8 units over 1200 inputs: no packing), large enough that the pool
// splits it between two threads; the test checks that the pool did. The pool hands out
// work without allocating once its workers have started.
#include <atomic>
#include <cstdlib>
#include <new>
#include <stdexcept>

#define EIGEN_RUNTIME_NO_MALLOC
// Turn Eigen's "heap allocation is forbidden" assertion into an exception the test can see.
#define eigen_assert(condition) \
    do { if (!(condition)) throw std::logic_error("Eigen assertion failed: " #condition); } while (false)

#include "test_support.hpp"

#include <nndl/all.hpp>

namespace {
std::atomic<long> allocations{0};
}

void* operator new(std::size_t size) {
    ++allocations;
    if (void* p = std::malloc(size == 0 ? 1 : size)) {
        return p;
    }
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using nndl::Activation;
using nndl::Matrix;

TEST_CASE_TEMPLATE("a full-batch training step allocates nothing once warmed up", Scalar, float, double) {
    nndl::set_threads(2);
    nndl::detail::set_core_limit(2);  // two threads even on a machine of one core
    nndl::Network<Scalar> net({1200, 8, 16, 1}, {Activation::relu, Activation::tanh, Activation::sigmoid},
                              {nndl::Init::he}, 1);
    const Matrix<Scalar> x = nndl::NumpyRandom(2).randn<Scalar>(1200, 64);
    const Matrix<Scalar> y = (x.row(0).array() > Scalar(0)).template cast<Scalar>();
    nndl::GradientDescent<Scalar> gd(0.1);
    nndl::Adam<Scalar> adam(0.01);
    net.train_step(x, y, gd);  // the first step sizes every buffer
    net.train_step(x, y, adam);
    net.set_l2(0.1);
    net.train_step(x, y, adam);

    const long before = allocations.load();
    const auto pool_before = nndl::detail::ThreadPool::instance().statistics();
    Eigen::internal::set_is_malloc_allowed(false);
    try {
        for (int i = 0; i < 5; ++i) {
            net.train_step(x, y, gd);
            net.train_step(x, y, adam);
        }
    } catch (const std::exception& e) {
        Eigen::internal::set_is_malloc_allowed(true);
        FAIL("Eigen allocated during a training step: " << e.what());
    }
    Eigen::internal::set_is_malloc_allowed(true);
    CHECK(allocations.load() - before == 0);
    // The steps handed work to the pool's worker (each step has several parallel pieces).
    CHECK(nndl::detail::ThreadPool::instance().statistics().parallel > pool_before.parallel);
    nndl::detail::set_core_limit(0);

    // The check can fail: a step that builds a new matrix is caught.
    Eigen::internal::set_is_malloc_allowed(false);
    bool caught = false;
    try {
        Matrix<Scalar> fresh = x * Scalar(2);
        (void)fresh;
    } catch (const std::logic_error&) {
        caught = true;
    }
    Eigen::internal::set_is_malloc_allowed(true);
    CHECK(caught);
}

TEST_CASE_TEMPLATE("a CNN training step allocates nothing once warmed up", Scalar, float, double) {
    nndl::set_threads(2);
    nndl::NumpyRandom random(3);
    nndl::Network<Scalar> net(nndl::Shape::image(6, 6, 2));
    auto conv = std::make_unique<nndl::Conv2D<Scalar>>(net.output_shape(), 4, nndl::Window(3), nndl::Stride(1),
                                                       nndl::Padding::same(), Activation::relu);
    conv->weights() = nndl::initial_weights<Scalar>(4, conv->fan_in(), {nndl::Init::he}, random);
    net.add(std::move(conv));
    net.add(std::make_unique<nndl::BatchNorm<Scalar>>(net.output_shape()));
    net.add(nndl::make_max_pool<Scalar>(net.output_shape(), nndl::Window(2), nndl::Stride(2)));
    // A second convolution: its backward computes the input's gradient too.
    auto second = std::make_unique<nndl::Conv2D<Scalar>>(net.output_shape(), 5, nndl::Window(3), nndl::Stride(1),
                                                         nndl::Padding::same(), Activation::relu);
    second->weights() = nndl::initial_weights<Scalar>(5, second->fan_in(), {nndl::Init::he}, random);
    net.add(std::move(second));
    net.add(nndl::make_avg_pool<Scalar>(net.output_shape(), nndl::Window(2), nndl::Stride(1)));
    net.add(std::make_unique<nndl::GlobalAvgPool<Scalar>>(net.output_shape()));
    net.add_dense(3, Activation::softmax, {nndl::Init::xavier}, random);
    const Matrix<Scalar> x = random.randn<Scalar>(72, 8);
    const Matrix<Scalar> y = nndl::one_hot<Scalar>(nndl_test::rows<Scalar>({{0, 1, 2, 0, 1, 2, 0, 1}}), 3);
    nndl::Adam<Scalar> adam(0.01);
    net.train_step(x, y, adam);  // sizes every buffer
    net.train_step(x, y, adam);

    const long before = allocations.load();
    Eigen::internal::set_is_malloc_allowed(false);
    try {
        for (int i = 0; i < 3; ++i) {
            net.train_step(x, y, adam);
        }
    } catch (const std::exception& e) {
        Eigen::internal::set_is_malloc_allowed(true);
        FAIL("Eigen allocated during a CNN training step: " << e.what());
    }
    Eigen::internal::set_is_malloc_allowed(true);
    CHECK(allocations.load() - before == 0);
}

TEST_CASE("handing work to the pool's threads allocates nothing once the workers run") {
    nndl::set_threads(2);
    std::vector<double> values(1 << 20, 1.0);
    const auto double_all = [&] {
        nndl::detail::parallel_ranges(static_cast<nndl::Index>(values.size()), 1 << 14, 64,
                                      [&](nndl::Index begin, nndl::Index end) {
                                          for (nndl::Index i = begin; i < end; ++i) {
                                              values[static_cast<std::size_t>(i)] *= 2;
                                          }
                                      });
    };
    double_all();  // starts the worker
    const long before = allocations.load();
    for (int i = 0; i < 20; ++i) {
        double_all();
    }
    CHECK(allocations.load() - before == 0);
    CHECK(values.front() == 2097152.0);  // 2^21: every element doubled 21 times
    CHECK(values.back() == 2097152.0);
    nndl::set_threads(0);
}
