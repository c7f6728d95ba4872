#include "test_support.hpp"

#include <nndl/numpy_sum.hpp>
#include <nndl/random.hpp>

#include <cmath>
#include <vector>

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

TEST_CASE("NumpyRandom: choice draws what np.random.choice(n, p=p) draws") {
    // Reference draws from tools/numpy_sampling_reference.py (NumPy 1.24's legacy generator).
    NumpyRandom random(7);
    const nndl::Vector<double> p = (nndl::Vector<double>(5) << 0.1, 0.0, 0.25, 0.05, 0.6).finished();
    std::vector<nndl::Index> draws;
    for (int i = 0; i < 20; ++i) {
        draws.push_back(random.choice(p));
    }
    CHECK(draws == std::vector<nndl::Index>{0, 4, 4, 4, 4, 4, 4, 0, 2, 4, 4, 4, 3, 0, 2, 4, 2, 4, 4, 0});
    // A sum off 1 by 1e-9 is within NumPy's tolerance; the cumulative sum is rescaled.
    random.seed(3);
    const nndl::Vector<double> q = (nndl::Vector<double>(3) << 0.3, 0.3, 0.4 + 1e-9).finished();
    draws.clear();
    for (int i = 0; i < 10; ++i) {
        draws.push_back(random.choice(q));
    }
    CHECK(draws == std::vector<nndl::Index>{1, 2, 0, 1, 2, 2, 0, 0, 0, 1});
    // The course's sampling loop re-seeds before each draw (seeds 0, 2, 4, 6); p is
    // rand(27) divided by its NumPy sum.
    random.seed(1);
    nndl::Matrix<double> y = random.rand(27, 1);
    y /= nndl::numpy_sum(y);
    draws.clear();
    for (const std::uint32_t seed : {0u, 2u, 4u, 6u}) {
        random.seed(seed);
        draws.push_back(random.choice(y.col(0)));
    }
    CHECK(draws == std::vector<nndl::Index>{17, 13, 25, 24});
}

TEST_CASE("NumpyRandom: choice refuses what is not a probability vector") {
    NumpyRandom random(0);
    const auto refusal = [&](const nndl::Matrix<double>& p) {
        return nndl_test::message_of<nndl::InvalidArgument>([&] { random.choice(p); });
    };
    CHECK(refusal(nndl::Matrix<double>(0, 1)) ==
          "NumpyRandom::choice: p is 0 x 1, expected a vector of at least one probability");
    CHECK(refusal(nndl::Matrix<double>::Constant(2, 2, 0.25)).find("p is 2 x 2") != std::string::npos);
    CHECK(refusal(nndl_test::rows<double>({{0.5}, {0.6}})) ==
          "NumpyRandom::choice: the probabilities sum to 1.1, expected 1");
    CHECK(refusal(nndl_test::rows<double>({{1.5}, {-0.5}})) ==
          "NumpyRandom::choice: p(1) is -0.5, expected a finite probability >= 0");
    CHECK(refusal(nndl_test::rows<double>({{std::nan("")}, {1.0}})).find("p(0) is nan") != std::string::npos);
    // float probabilities get float's looser tolerance, as NumPy gives float32 arrays.
    const nndl::Vector<float> loose = (nndl::Vector<float>(2) << 0.5f, 0.5001f).finished();
    CHECK(random.choice(loose) >= 0);
    const nndl::Vector<double> strict = loose.cast<double>();
    CHECK_THROWS_AS(random.choice(strict), nndl::InvalidArgument);
}

TEST_CASE("with_temperature: p^(1/T), renormalized, as NumPy computes it") {
    // Reference values from tools/numpy_sampling_reference.py.
    const nndl::Vector<double> p = (nndl::Vector<double>(5) << 0.1, 0.0, 0.25, 0.05, 0.6).finished();
    const nndl::Vector<double> sharp = nndl::with_temperature(p, 0.5);
    const double sharp_expected[] = {0.02298850574712644, 0.0, 0.14367816091954022, 0.00574712643678161,
                                     0.8275862068965517};
    const nndl::Vector<double> flat = nndl::with_temperature(p, 2.0);
    const double flat_expected[] = {0.17428478978094802, 0.0, 0.2755684486157171, 0.12323795671178024,
                                    0.42690880489155464};
    for (nndl::Index i = 0; i < 5; ++i) {
        CHECK(sharp(i) == doctest::Approx(sharp_expected[i]).epsilon(1e-14));
        CHECK(flat(i) == doctest::Approx(flat_expected[i]).epsilon(1e-14));
    }
    CHECK(nndl::with_temperature(p, 1.0).isApprox(p, 1e-15));
    // A tiny temperature picks the largest without underflowing to zeros.
    const nndl::Vector<double> greedy = nndl::with_temperature(p, 1e-3);
    CHECK(greedy(4) == 1.0);
    CHECK(greedy.sum() == 1.0);
    // A temperature so small that log(p) / T overflows still picks the largest.
    const nndl::Vector<double> tiny = nndl::with_temperature(p, 1e-310);
    CHECK(tiny(4) == 1.0);
    CHECK(tiny.sum() == 1.0);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::with_temperature(p, 0.0); }) ==
          "with_temperature: temperature is 0, expected a finite number > 0");
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] {
              nndl::with_temperature(nndl::Vector<double>(nndl::Vector<double>::Zero(3)), 1.0);
          }) == "with_temperature: every probability is 0, expected at least one above 0");
}
