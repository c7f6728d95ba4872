#pragma once
// What the tests of the course's fifth part (sequences) share: the precision its printed
// values have, and its outputs y at every step.

#include <doctest/doctest.h>

#include <cmath>

#include <nndl/layers/sequence_dense.hpp>
#include <nndl/random.hpp>
#include <nndl/types.hpp>

namespace nndl_test {

/// A course value printed with 8 decimals (a NumPy array): equal once rounded to them.
inline void check_printed(double actual, double printed) { CHECK(std::abs(actual - printed) <= 5.0000001e-9); }

/// A course value printed with 12 significant digits (a scalar); the course's summation
/// order may differ in the last bits.
inline void check_digits(double actual, double printed) { CHECK(actual == doctest::Approx(printed).epsilon(1e-10)); }

/// softmax(Wy a + by) at every step of a batch of hidden states (the sequence layout), as
/// the course's forward passes compute y: nndl's SequenceDense. Entry (t * classes + k, i)
/// is y[k][i][t].
inline nndl::Matrix<double> per_step_softmax(const nndl::Matrix<double>& wy, const nndl::Matrix<double>& by,
                                             const nndl::Matrix<double>& states, nndl::Index steps) {
    nndl::SequenceDense<double> dense(nndl::Shape::sequence(steps, wy.cols()), wy.rows(), nndl::Activation::softmax);
    const auto p = dense.parameters();
    *p[0].value = wy;
    *p[1].value = by;
    nndl::Matrix<double> y;
    dense.infer(states, y);
    return y;
}

}  // namespace nndl_test
