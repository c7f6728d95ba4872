#pragma once
// The helpers of the course's first assignment ("Python basics with NumPy") as
// library functions. Softmax here works on rows, as in that assignment; the
// network's Softmax activation works on columns (one example per column).

#include <cmath>

#include "layers/activations.hpp"
#include "errors.hpp"
#include "data/image_array.hpp"
#include "numpy_sum.hpp"
#include "types.hpp"

namespace nndl {

/// Elementwise 1 / (1 + exp(-x)).
template <class Scalar>
Matrix<Scalar> sigmoid(const Matrix<Scalar>& x) {
    Matrix<Scalar> result;
    Sigmoid::forward(x, result);
    return result;
}

/// 1 / (1 + exp(-x)) of one value.
template <class Scalar>
Scalar sigmoid(Scalar x) {
    return Sigmoid::value(x);
}

/// Elementwise s (1 - s) with s = sigmoid(x).
template <class Scalar>
Matrix<Scalar> sigmoid_derivative(const Matrix<Scalar>& x) {
    const Matrix<Scalar> s = sigmoid(x);
    return (s.array() * (Scalar(1) - s.array())).matrix();
}

/// Each row divided by its Euclidean norm. A zero row is rejected with InvalidArgument
/// (its direction is undefined).
template <class Scalar>
Matrix<Scalar> normalize_rows(const Matrix<Scalar>& x) {
    Matrix<Scalar> result = x;
    for (Index i = 0; i < x.rows(); ++i) {
        const Scalar norm = x.row(i).norm();
        if (norm == Scalar(0)) {
            detail::throw_invalid("normalize_rows: row ", i, " has norm 0, expected a non-zero row");
        }
        result.row(i) /= norm;
    }
    return result;
}

/// Softmax of each row (numerically stable: the row maximum is subtracted first).
template <class Scalar>
Matrix<Scalar> softmax_rows(const Matrix<Scalar>& x) {
    Matrix<Scalar> transposed_result;
    Softmax::forward(Matrix<Scalar>(x.transpose()), transposed_result);
    return transposed_result.transpose();
}

/// sum |y - yhat| over all entries. Throws ShapeError when the shapes differ.
template <class Scalar>
Scalar l1_loss(const Matrix<Scalar>& yhat, const Matrix<Scalar>& y) {
    detail::require_same_shape("l1_loss", "yhat", yhat, "y", y);
    return (y - yhat).cwiseAbs().sum();
}

/// sum (y - yhat)^2 over all entries. Throws ShapeError when the shapes differ.
template <class Scalar>
Scalar l2_loss(const Matrix<Scalar>& yhat, const Matrix<Scalar>& y) {
    detail::require_same_shape("l2_loss", "yhat", yhat, "y", y);
    return (y - yhat).squaredNorm();
}

/// The image as one column of height * width * channels values, in row-major
/// (h, w, c) order: NumPy's image.reshape(-1, 1). Throws ShapeError when the image does
/// not hold height * width * channels values.
template <class Scalar>
Vector<Scalar> image2vector(const ImageArray<Scalar>& image) {
    const auto expected = static_cast<std::size_t>(image.height * image.width * image.channels);
    if (image.values.size() != expected) {
        detail::throw_shape("image2vector: image holds ", image.values.size(), " values, expected ", image.height,
                            "x", image.width, "x", image.channels, " = ", expected);
    }
    Vector<Scalar> column(static_cast<Index>(expected));
    for (std::size_t i = 0; i < expected; ++i) {
        column(static_cast<Index>(i)) = image.values[i];
    }
    return column;
}

}  // namespace nndl
