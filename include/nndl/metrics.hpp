#pragma once
// Labels and metrics for classification: one-hot encoding, labels from a network's
// outputs, accuracy and the confusion matrix. The one place that turns outputs into
// labels: the network, the training loop and the programs all use it.

#include <cmath>
#include <optional>

#include <Eigen/Core>

#include "errors.hpp"
#include "layers/activations.hpp"
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

/// The threshold that splits a single output into two classes: 0.5 for a sigmoid
/// (a probability), 0 for tanh (labels -1 / 1 or 0 / 1); none for other activations,
/// whose single output is a regression with no classes.
inline std::optional<double> decision_threshold(Activation output_activation) {
    switch (output_activation) {
        case Activation::sigmoid: return 0.5;
        case Activation::tanh: return 0.0;
        default: return std::nullopt;
    }
}

/// Labels, 1 x m: for one output row, 1 where the output is > threshold (strictly, as
/// the course predicts) else 0; for several rows, the row index of the largest entry.
template <class Scalar>
Matrix<Scalar> labels_from_output(const Matrix<Scalar>& output, double threshold = 0.5) {
    if (output.rows() != 1) {
        return class_indices(output);
    }
    Matrix<Scalar> labels(1, output.cols());
    for (Index j = 0; j < output.cols(); ++j) {
        labels(0, j) = static_cast<double>(output(0, j)) > threshold ? Scalar(1) : Scalar(0);
    }
    return labels;
}

/// How many columns of `output` name the class of the same column of `target`.
/// One row: both sides split at `threshold`. Several rows: argmax of the output against
/// a one-hot (or probability) target's argmax, or against a 1 x m row of class indices.
template <class Scalar>
Index count_correct(const Matrix<Scalar>& output, const Matrix<Scalar>& target, double threshold = 0.5) {
    detail::require_cols("count_correct", "target", target.cols(), output.cols(), "output has");
    if (target.rows() != 1 && target.rows() != output.rows()) {
        detail::throw_shape("count_correct: target has ", target.rows(), " rows, expected 1 (labels) or ",
                            output.rows(), " (one per output)");
    }
    Index right = 0;
    for (Index j = 0; j < output.cols(); ++j) {
        if (output.rows() == 1) {
            right += (static_cast<double>(output(0, j)) > threshold) == (static_cast<double>(target(0, j)) > threshold);
        } else {
            Index predicted = 0;
            output.col(j).maxCoeff(&predicted);
            Index expected = 0;
            if (target.rows() == 1) {
                expected = static_cast<Index>(target(0, j));
                if (static_cast<Scalar>(expected) != target(0, j)) {
                    expected = -1;  // not a class index: never right
                }
            } else {
                target.col(j).maxCoeff(&expected);
            }
            right += predicted == expected ? 1 : 0;
        }
    }
    return right;
}

/// counts(actual, predicted): how often class `actual` was predicted as `predicted`.
template <class Scalar>
Eigen::Matrix<long, Eigen::Dynamic, Eigen::Dynamic> confusion_matrix(const Matrix<Scalar>& actual,
                                                                     const Matrix<Scalar>& predicted, Index classes) {
    detail::require_same_shape("confusion_matrix", "actual labels", actual, "predicted labels", predicted);
    if (actual.rows() != 1) {
        detail::throw_shape("confusion_matrix: labels have ", actual.rows(), " rows, expected 1");
    }
    if (classes < 1) {
        detail::throw_invalid("confusion_matrix: classes is ", classes, ", expected at least 1");
    }
    Eigen::Matrix<long, Eigen::Dynamic, Eigen::Dynamic> counts =
        Eigen::Matrix<long, Eigen::Dynamic, Eigen::Dynamic>::Zero(classes, classes);
    const auto is_class = [classes](double v) {
        return v >= 0.0 && v < static_cast<double>(classes) && v == std::floor(v);
    };
    for (Index j = 0; j < actual.cols(); ++j) {
        if (!is_class(static_cast<double>(actual(0, j))) || !is_class(static_cast<double>(predicted(0, j)))) {
            detail::throw_invalid("confusion_matrix: column ", j, " has labels ", actual(0, j), " and ",
                                  predicted(0, j), ", expected class indices in 0..", classes - 1);
        }
        ++counts(static_cast<Index>(actual(0, j)), static_cast<Index>(predicted(0, j)));
    }
    return counts;
}

}  // namespace nndl
