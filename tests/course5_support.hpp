#pragma once
// What the tests of the course's fifth part (sequences) share: the precision its printed
// values have, and its outputs y at every step.

#include <doctest/doctest.h>

#include <cmath>

#include <nndl/layers/dense.hpp>
#include <nndl/random.hpp>
#include <nndl/types.hpp>

namespace nndl_test {

/// A course value printed with 8 decimals (a NumPy array): equal once rounded to them.
inline void check_printed(double actual, double printed) { CHECK(std::abs(actual - printed) <= 5.0000001e-9); }

/// A course value printed with 12 significant digits (a scalar); the course's summation
/// order may differ in the last bits.
inline void check_digits(double actual, double printed) { CHECK(actual == doctest::Approx(printed).epsilon(1e-10)); }

/// softmax(Wy a + by) at every step of a batch of hidden states in the sequence layout, as
/// the course's forward passes compute y: entry (k, i * steps + t) is y[k][i][t]. A Dense
/// layer applied to each step's column.
inline nndl::Matrix<double> per_step_softmax(const nndl::Matrix<double>& wy, const nndl::Matrix<double>& by,
                                             const nndl::Matrix<double>& states, nndl::Index steps) {
    nndl::Dense<double, nndl::Softmax> dense(wy.cols(), wy.rows());
    dense.weights() = wy;
    dense.bias() = by;
    const nndl::Matrix<double> per_step =
        Eigen::Map<const nndl::Matrix<double>>(states.data(), wy.cols(), steps * states.cols());
    nndl::Matrix<double> y;
    dense.infer(per_step, y);
    return y;
}

}  // namespace nndl_test
