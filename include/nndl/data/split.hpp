#pragma once
// A seeded train/test split of examples (columns): the same rows of X and Y go to the
// same side. With the same seed it picks the indices scikit-learn's
// train_test_split(X, y, test_size=f, random_state=seed) picks, since both draw
// np.random.RandomState(seed).permutation(m) and take ceil(f * m) for the test set.

#include <cmath>
#include <cstdint>
#include <vector>

#include "../errors.hpp"
#include "../random.hpp"
#include "../types.hpp"

namespace nndl {

/// The two sides of a split; columns are examples, in the order the permutation drew them.
template <class Scalar>
struct TrainTestSplit {
    Matrix<Scalar> x_train;          ///< features x training examples
    Matrix<Scalar> y_train;          ///< targets x training examples
    Matrix<Scalar> x_test;           ///< features x test examples
    Matrix<Scalar> y_test;           ///< targets x test examples
    std::vector<Index> train_index;  ///< the column of X each training example came from
    std::vector<Index> test_index;   ///< the column of X each test example came from
};

/// Splits the columns of (X, Y) at random: ceil(test_fraction * m) test examples, the rest
/// for training. Throws ShapeError when Y's column count differs from X's, InvalidArgument
/// unless test_fraction is in (0, 1) and both sides get at least one example.
template <class Scalar>
TrainTestSplit<Scalar> train_test_split(const Matrix<Scalar>& x, const Matrix<Scalar>& y, double test_fraction,
                                        std::uint32_t seed) {
    detail::require_cols("train_test_split", "Y", y.cols(), x.cols(), "X has");
    if (!(test_fraction > 0.0 && test_fraction < 1.0)) {
        detail::throw_invalid("train_test_split: test_fraction is ", test_fraction, ", expected a fraction in (0, 1)");
    }
    const Index m = x.cols();
    const auto tests = static_cast<Index>(std::ceil(test_fraction * static_cast<double>(m)));
    if (tests < 1 || tests >= m) {
        detail::throw_invalid("train_test_split: test_fraction ", test_fraction, " of ", m, " examples leaves ", tests,
                              " for testing and ", m - tests, " for training; expected at least 1 of each");
    }
    NumpyRandom random(seed);
    const std::vector<Index> order = random.permutation(m);
    TrainTestSplit<Scalar> split;
    split.test_index.assign(order.begin(), order.begin() + tests);
    split.train_index.assign(order.begin() + tests, order.end());
    const auto take = [](const Matrix<Scalar>& from, const std::vector<Index>& columns, Matrix<Scalar>& to) {
        to.resize(from.rows(), static_cast<Index>(columns.size()));
        for (std::size_t j = 0; j < columns.size(); ++j) {
            to.col(static_cast<Index>(j)) = from.col(columns[j]);
        }
    };
    take(x, split.train_index, split.x_train);
    take(y, split.train_index, split.y_train);
    take(x, split.test_index, split.x_test);
    take(y, split.test_index, split.y_test);
    return split;
}

}  // namespace nndl

// nndl::compiled holds train_test_split for float and double: a program that links it
// (NNDL_COMPILED) compiles none of their code.
#if defined(NNDL_COMPILED) || defined(NNDL_COMPILED_DEFINITIONS_FLOAT) || defined(NNDL_COMPILED_DEFINITIONS_DOUBLE)
#include "../detail/compiled_fingerprint.hpp"
#include "../detail/compiled_kind.hpp"  // NNDL_COMPILED_FLOAT_KIND, NNDL_COMPILED_DOUBLE_KIND
/// \cond
namespace nndl {
NNDL_COMPILED_FLOAT_KIND template TrainTestSplit<float> train_test_split<float>(const Matrix<float>&, const Matrix<float>&,
                                                                                double, std::uint32_t);
NNDL_COMPILED_DOUBLE_KIND template TrainTestSplit<double> train_test_split<double>(const Matrix<double>&, const Matrix<double>&,
                                                                                   double, std::uint32_t);
}  // namespace nndl
/// \endcond
#undef NNDL_COMPILED_FLOAT_KIND
#undef NNDL_COMPILED_DOUBLE_KIND
#endif
