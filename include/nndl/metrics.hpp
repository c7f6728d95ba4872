#pragma once
// Labels and metrics for classification: one-hot encoding, class indices,
// accuracy and the confusion matrix.

#include <Eigen/Core>

#include "errors.hpp"
#include "types.hpp"

namespace nndl {

/// Class indices (1 x m, values 0..classes-1) to one-hot columns (classes x m).
template <class Scalar>
Matrix<Scalar> one_hot(const Matrix<Scalar>& labels, Index classes) {
    if (labels.rows() != 1) {
        detail::throw_shape("one_hot: labels have ", labels.rows(), " rows, expected 1 (one label per column)");
    }
    if (classes < 1) {
        detail::throw_invalid("one_hot: classes is ", classes, ", expected at least 1");
    }
    Matrix<Scalar> encoded = Matrix<Scalar>::Zero(classes, labels.cols());
    for (Index j = 0; j < labels.cols(); ++j) {
        const Scalar v = labels(0, j);
        const auto k = static_cast<Index>(v);
        if (!(v >= Scalar(0)) || static_cast<Scalar>(k) != v || k >= classes) {
            detail::throw_invalid("one_hot: label at column ", j, " is ", v, ", expected a class index in 0..",
                                  classes - 1);
        }
        encoded(k, j) = Scalar(1);
    }
    return encoded;
}

/// Row index of the largest entry of each column (1 x m).
template <class Scalar>
Matrix<Scalar> class_indices(const Matrix<Scalar>& scores) {
    Matrix<Scalar> labels(1, scores.cols());
    for (Index j = 0; j < scores.cols(); ++j) {
        Index best = 0;
        scores.col(j).maxCoeff(&best);
        labels(0, j) = static_cast<Scalar>(best);
    }
    return labels;
}

/// counts(actual, predicted): how often class `actual` was predicted as `predicted`.
template <class Scalar>
Eigen::Matrix<long, Eigen::Dynamic, Eigen::Dynamic> confusion_matrix(const Matrix<Scalar>& actual,
                                                                     const Matrix<Scalar>& predicted, Index classes) {
    detail::require_same_shape("confusion_matrix", "actual labels", actual, "predicted labels", predicted);
    if (actual.rows() != 1) {
        detail::throw_shape("confusion_matrix: labels have ", actual.rows(), " rows, expected 1");
    }
    Eigen::Matrix<long, Eigen::Dynamic, Eigen::Dynamic> counts =
        Eigen::Matrix<long, Eigen::Dynamic, Eigen::Dynamic>::Zero(classes, classes);
    for (Index j = 0; j < actual.cols(); ++j) {
        const auto a = static_cast<Index>(actual(0, j));
        const auto p = static_cast<Index>(predicted(0, j));
        if (a < 0 || a >= classes || p < 0 || p >= classes) {
            detail::throw_invalid("confusion_matrix: column ", j, " has labels ", actual(0, j), " and ",
                                  predicted(0, j), ", expected class indices in 0..", classes - 1);
        }
        ++counts(a, p);
    }
    return counts;
}

}  // namespace nndl
