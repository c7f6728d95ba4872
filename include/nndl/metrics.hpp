#pragma once
// Labels and metrics: one-hot encoding, labels from a network's outputs, accuracy,
// the confusion matrix, precision / recall / F1 for classifiers, and MAE / RMSE / R^2
// for regressions. The one place that turns outputs into labels: the network, the
// training loop and the programs all use it.

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

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

/// Precision, recall and F1 of one class, and how many examples truly belong to it.
struct ClassScores {
    double precision = 0.0;  ///< right predictions of the class / all predictions of it (0 when never predicted)
    double recall = 0.0;     ///< right predictions of the class / its examples (0 when it has none)
    double f1 = 0.0;         ///< harmonic mean of precision and recall (0 when both are 0)
    long support = 0;        ///< examples whose actual class this is
};

/// Per-class scores and their unweighted (macro) means over every class 0..classes-1, as
/// scikit-learn's classification_report computes them with labels=range(classes): a class
/// absent from both the actual and the predicted labels counts with scores 0, and an
/// undefined ratio counts as 0.
struct ClassificationReport {
    std::vector<ClassScores> classes;  ///< one entry per class, in class order
    double macro_precision = 0.0;      ///< mean of the classes' precision
    double macro_recall = 0.0;         ///< mean of the classes' recall
    double macro_f1 = 0.0;             ///< mean of the classes' F1 (not the F1 of the means)
    double accuracy = 0.0;             ///< right predictions / examples
};

/// Precision, recall and F1 per class and their macro means, from a confusion matrix
/// counts(actual, predicted) (confusion_matrix's). Throws InvalidArgument when it is not
/// square, is empty, or holds a negative count.
inline ClassificationReport classification_report(const Eigen::Matrix<long, Eigen::Dynamic, Eigen::Dynamic>& counts) {
    if (counts.rows() != counts.cols() || counts.rows() < 1) {
        detail::throw_invalid("classification_report: the confusion matrix is ", counts.rows(), "x", counts.cols(),
                              ", expected square with at least one class");
    }
    if (counts.size() > 0 && counts.minCoeff() < 0) {
        detail::throw_invalid("classification_report: the confusion matrix holds a negative count (",
                              counts.minCoeff(), "), expected counts >= 0");
    }
    if (counts.maxCoeff() > std::numeric_limits<long>::max() / counts.size()) {  // sums must not overflow
        detail::throw_invalid("classification_report: the confusion matrix holds a count of ", counts.maxCoeff(),
                              ", expected at most ", std::numeric_limits<long>::max() / counts.size(),
                              " so that its sums fit a long");
    }
    const auto ratio = [](long part, long whole) {
        return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
    };
    ClassificationReport report;
    long right = 0;
    long total = 0;
    for (Index k = 0; k < counts.rows(); ++k) {
        ClassScores scores;
        const long hits = counts(k, k);
        scores.support = counts.row(k).sum();
        scores.precision = ratio(hits, counts.col(k).sum());
        scores.recall = ratio(hits, scores.support);
        const double both = scores.precision + scores.recall;
        scores.f1 = both > 0.0 ? 2.0 * scores.precision * scores.recall / both : 0.0;
        report.macro_precision += scores.precision;
        report.macro_recall += scores.recall;
        report.macro_f1 += scores.f1;
        report.classes.push_back(scores);
        right += hits;
        total += scores.support;
    }
    const auto k = static_cast<double>(counts.rows());
    report.macro_precision /= k;
    report.macro_recall /= k;
    report.macro_f1 /= k;
    report.accuracy = ratio(right, total);
    return report;
}

/// classification_report of labels (1 x m class indices 0..classes-1 each); errors as
/// confusion_matrix's.
template <class Scalar>
ClassificationReport classification_report(const Matrix<Scalar>& actual, const Matrix<Scalar>& predicted,
                                           Index classes) {
    return classification_report(confusion_matrix(actual, predicted, classes));
}

namespace detail {

/// A power of two near the largest |value| (1 when all are 0): dividing by it is exact,
/// and keeps the squares of huge or tiny finite values finite and nonzero.
template <class Derived>
double power_of_two_scale(const Eigen::MatrixBase<Derived>& values) {
    const double largest = values.cwiseAbs().maxCoeff();
    if (!(largest > 0.0)) {
        return 1.0;
    }
    int exponent = 0;
    std::frexp(largest, &exponent);
    return std::ldexp(1.0, exponent - 1);  // 2^1023 at most: finite
}

/// Checks that a regression metric's two matrices can be compared: the same shape, at
/// least one value, and every value finite.
template <class Scalar>
void require_regression_pair(const char* where, const Matrix<Scalar>& predicted, const Matrix<Scalar>& target) {
    require_same_shape(where, "predicted", predicted, "target", target);
    if (predicted.size() == 0) {
        throw_invalid(where, ": no values, expected at least one prediction");
    }
    require_finite(where, "predicted", predicted);
    require_finite(where, "target", target);
}

}  // namespace detail

/// Mean absolute error over every value of `predicted` against `target` (same shape,
/// one example per column, several outputs allowed), in the targets' units. Throws
/// ShapeError on different shapes and InvalidArgument on an empty or non-finite input.
template <class Scalar>
double mean_absolute_error(const Matrix<Scalar>& predicted, const Matrix<Scalar>& target) {
    detail::require_regression_pair("mean_absolute_error", predicted, target);
    return (predicted.template cast<double>() - target.template cast<double>()).cwiseAbs().mean();
}

/// Root of the mean squared error over every value, in the targets' units; shapes and
/// errors as mean_absolute_error.
template <class Scalar>
double root_mean_squared_error(const Matrix<Scalar>& predicted, const Matrix<Scalar>& target) {
    detail::require_regression_pair("root_mean_squared_error", predicted, target);
    const Matrix<double> error = predicted.template cast<double>() - target.template cast<double>();
    if (!error.allFinite()) {  // finite values whose difference overflows
        detail::throw_invalid("root_mean_squared_error: a difference of predicted and target overflows a double");
    }
    const double scale = detail::power_of_two_scale(error);  // no overflow or underflow in the squares
    return scale * std::sqrt((error / scale).array().square().mean());
}

/// Coefficient of determination R^2 = 1 - SS_res / SS_tot per output row, averaged
/// over the rows (scikit-learn's r2_score with its default uniform average). A row whose
/// target is constant scores 1 when predicted exactly, else 0, as scikit-learn does.
/// 1 is perfect, 0 is no better than predicting the mean, and it can be negative.
/// Shapes and errors as mean_absolute_error; it also needs at least 2 examples (columns).
template <class Scalar>
double r2_score(const Matrix<Scalar>& predicted, const Matrix<Scalar>& target) {
    detail::require_regression_pair("r2_score", predicted, target);
    if (target.cols() < 2) {
        detail::throw_invalid("r2_score: ", target.cols(),
                              " example, expected at least 2 (R^2 compares with the targets' spread)");
    }
    const Matrix<double> p = predicted.template cast<double>();
    const Matrix<double> t = target.template cast<double>();
    double sum = 0.0;
    for (Index i = 0; i < t.rows(); ++i) {
        if (t.row(i).minCoeff() == t.row(i).maxCoeff()) {  // a constant target: exact, as scikit-learn
            sum += t.row(i) == p.row(i) ? 1.0 : 0.0;
            continue;
        }
        // R^2 is a ratio: dividing the row by a power of two (exactly) keeps the squares of
        // large or tiny finite values finite.
        const double scale = std::max(detail::power_of_two_scale(t.row(i)), detail::power_of_two_scale(p.row(i)));
        const Eigen::RowVectorXd tr = t.row(i) / scale;
        const Eigen::RowVectorXd pr = p.row(i) / scale;
        const double residual = (tr - pr).squaredNorm();
        const double total = (tr.array() - tr.mean()).square().sum();
        sum += total > 0.0 ? 1.0 - residual / total : (residual == 0.0 ? 1.0 : 0.0);
    }
    return sum / static_cast<double>(t.rows());
}

namespace detail {
/// Refuses labels `where`'s accuracy cannot compare with a network of `outputs` outputs: for
/// one output a label or probability in [0, 1] (in [-1, 1] where the threshold is at or
/// below 0, as for tanh), split at the threshold; for K outputs class indices 0..K-1 or
/// (one-hot) values in [0, 1]. Throws InvalidArgument naming the first bad entry.
template <class Scalar>
void require_accuracy_labels(const char* where, const Matrix<Scalar>& y, Index outputs, double threshold) {
    for (Index j = 0; j < y.cols(); ++j) {
        for (Index i = 0; i < y.rows(); ++i) {
            const double v = static_cast<double>(y(i, j));
            bool ok = false;
            const char* expected = "";
            if (outputs == 1) {
                ok = v >= (threshold <= 0.0 ? -1.0 : 0.0) && v <= 1.0;
                expected = threshold <= 0.0 ? "a label in [-1, 1]" : "a label in [0, 1]";
            } else if (y.rows() == 1) {
                ok = v >= 0.0 && v < static_cast<double>(outputs) && v == std::floor(v);
                expected = "a class index";
            } else {
                ok = v >= 0.0 && v <= 1.0;
                expected = "a one-hot value in [0, 1]";
            }
            if (!ok) {
                if (outputs > 1 && y.rows() == 1) {
                    throw_invalid(where, ": Y at column ", j, " is ", y(i, j), ", expected ", expected, " in 0..",
                                  outputs - 1);
                }
                throw_invalid(where, ": Y at row ", i, ", column ", j, " is ", y(i, j), ", expected ", expected);
            }
        }
    }
}
}  // namespace detail

}  // namespace nndl
