#pragma once
// Small helpers shared by nndl's tests.

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include <unistd.h>

#include <nndl/types.hpp>

namespace nndl_test {

/// A folder of this test process's own under the system's temporary folder, made if needed.
inline std::filesystem::path scratch_dir(const std::string& test_name) {
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("nndl_" + test_name + "_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return dir;
}

/// Writes `bytes` to `path`, replacing what was there.
inline void write_bytes(const std::filesystem::path& path, const std::vector<unsigned char>& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

/// A matrix written row by row, as NumPy prints it.
template <class Scalar>
nndl::Matrix<Scalar> rows(std::initializer_list<std::initializer_list<double>> values) {
    const auto r = static_cast<nndl::Index>(values.size());
    const auto c = static_cast<nndl::Index>(values.begin()->size());
    nndl::Matrix<Scalar> m(r, c);
    nndl::Index i = 0;
    for (const auto& row : values) {
        REQUIRE(static_cast<nndl::Index>(row.size()) == c);
        nndl::Index j = 0;
        for (double v : row) {
            m(i, j++) = static_cast<Scalar>(v);
        }
        ++i;
    }
    return m;
}

/// Whether a and b have the same shape and the same bits (NaN and signed zeros included,
/// where Eigen's == says NaN differs from itself and -0 equals +0).
template <class Scalar>
bool identical_bits(const nndl::Matrix<Scalar>& a, const nndl::Matrix<Scalar>& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           std::memcmp(a.data(), b.data(), sizeof(Scalar) * static_cast<std::size_t>(a.size())) == 0;
}

/// Largest |actual - expected| over all entries (NaN counts as infinite).
template <class A, class B>
double max_abs_difference(const A& actual, const B& expected) {
    REQUIRE(actual.rows() == expected.rows());
    REQUIRE(actual.cols() == expected.cols());
    double worst = 0.0;
    for (nndl::Index j = 0; j < actual.cols(); ++j) {
        for (nndl::Index i = 0; i < actual.rows(); ++i) {
            const double d = std::abs(static_cast<double>(actual(i, j)) - static_cast<double>(expected(i, j)));
            worst = std::isnan(d) ? INFINITY : std::max(worst, d);
        }
    }
    return worst;
}

/// Tolerance for comparing with the course's printed values (8 significant digits):
/// those digits in double, single precision's accuracy in float.
template <class Scalar>
constexpr double printed_tolerance() {
    return std::is_same_v<Scalar, float> ? 2e-6 : 6e-9;
}

/// Tolerance for values printed to 8 decimals: the printed rounding in double,
/// single precision's accuracy in float.
template <class Scalar>
constexpr double decimals_tolerance() {
    return std::is_same_v<Scalar, float> ? 2e-7 : 6e-9;
}

template <class Scalar>
constexpr double gradient_tolerance() {
    return std::is_same_v<Scalar, float> ? 2e-2 : 1e-7;
}

/// The message of the exception that `f` throws, or "" when it throws none.
template <class Exception, class F>
std::string message_of(F&& f) {
    try {
        f();
    } catch (const Exception& e) {
        return e.what();
    }
    return "";
}

}  // namespace nndl_test

// Checks that two matrices agree entry by entry to an absolute tolerance, and
// prints both when they do not.
#define NNDL_CHECK_CLOSE(actual, expected, tolerance)                                             \
    do {                                                                                          \
        const auto& nndl_actual_ = (actual);                                                      \
        const auto& nndl_expected_ = (expected);                                                  \
        const double nndl_diff_ = ::nndl_test::max_abs_difference(nndl_actual_, nndl_expected_);  \
        INFO("max |difference| = ", nndl_diff_, "\nactual:\n", nndl_actual_, "\nexpected:\n", nndl_expected_); \
        CHECK(nndl_diff_ <= (tolerance));                                                         \
    } while (false)
