#include "test_support.hpp"

#include <nndl/random.hpp>

using nndl::NumpyRandom;

TEST_CASE("NumpyRandom: randn after seed(1) gives NumPy's check values") {
    NumpyRandom random(1);
    const double expected[] = {1.6243453636632417, -0.6117564136500754, -0.5281717522634557, -1.0729686221561705,
                               0.8654076293246785};
    for (double e : expected) {
        CHECK(random.normal() == e);  // bit-exact
    }
}

TEST_CASE("NumpyRandom: seed(3) and re-seeding clear the cached Gaussian") {
    NumpyRandom random(1);
    random.normal();  // leaves a cached value behind
    random.seed(3);
    CHECK(random.normal() == 1.7886284734303186);
}

TEST_CASE("NumpyRandom: randn(r, c) fills in row-major order like NumPy") {
    // np.random.seed(1); np.random.randn(2, 3)
    NumpyRandom random(1);
    const nndl::Matrix<double> m = random.randn(2, 3);
    CHECK(m(0, 0) == 1.6243453636632417);
    CHECK(m(0, 1) == -0.6117564136500754);
    CHECK(m(0, 2) == -0.5281717522634557);
    CHECK(m(1, 0) == -1.0729686221561705);
    CHECK(m(1, 1) == 0.8654076293246785);
    CHECK(m(1, 2) == -2.3015386968802827);
}

TEST_CASE("NumpyRandom: rand and permutation match NumPy") {
    // Reference values computed with NumPy 1.24: np.random.seed(5); np.random.rand(2, 3)
    NumpyRandom random(5);
    const nndl::Matrix<double> u = random.rand(2, 3);
    CHECK(u(0, 0) == 0.22199317108973948);
    CHECK(u(0, 1) == 0.8707323061773764);
    CHECK(u(0, 2) == 0.20671915533942642);
    CHECK(u(1, 0) == 0.9186109079379216);
    CHECK(u(1, 1) == 0.48841118879482914);
    CHECK(u(1, 2) == 0.6117438629026457);

    // np.random.seed(0); np.random.permutation(10)
    random.seed(0);
    const std::vector<nndl::Index> expected{2, 8, 4, 9, 1, 6, 7, 3, 0, 5};
    CHECK(random.permutation(10) == expected);
    // np.random.seed(42); np.random.permutation(7)
    random.seed(42);
    const std::vector<nndl::Index> expected7{0, 1, 5, 2, 4, 3, 6};
    CHECK(random.permutation(7) == expected7);
}

TEST_CASE("NumpyRandom: float matrices are the double draws rounded") {
    NumpyRandom a(7);
    NumpyRandom b(7);
    const nndl::Matrix<float> f = a.randn<float>(3, 4);
    const nndl::Matrix<double> d = b.randn(3, 4);
    CHECK(f == d.cast<float>());
}

TEST_CASE("NumpyRandom: below(0) is rejected with a clear message") {
    NumpyRandom random(0);
    const auto message = nndl_test::message_of<std::invalid_argument>([&] { random.below(0); });
    CHECK(message.find("NumpyRandom::below") != std::string::npos);
}
