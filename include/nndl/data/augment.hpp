#pragma once
// Data augmentation on image columns (height x width x channels, channel fastest):
// new training examples made from the ones a data set has.

#include "../errors.hpp"
#include "../layer.hpp"
#include "../types.hpp"

namespace nndl {

/// Each column of `x` (an image of `shape`) mirrored left to right.
template <class Scalar>
Matrix<Scalar> flip_horizontally(const Matrix<Scalar>& x, const Shape& shape) {
    if (!shape.valid() || x.rows() != shape.size()) {
        detail::throw_invalid("flip_horizontally: columns of ", x.rows(), " values, expected images of ",
                              shape.to_string(), " = ", shape.size(), " values");
    }
    Matrix<Scalar> flipped(x.rows(), x.cols());
    for (Index j = 0; j < x.cols(); ++j) {
        for (Index h = 0; h < shape.height; ++h) {
            for (Index w = 0; w < shape.width; ++w) {
                // the channels of one pixel are contiguous: move them as one block
                flipped.col(j).segment(shape.offset(h, shape.width - 1 - w, 0), shape.channels) =
                    x.col(j).segment(shape.offset(h, w, 0), shape.channels);
            }
        }
    }
    return flipped;
}

/// The examples followed by their mirror images: 2m columns, labels repeated.
template <class Scalar>
void append_horizontal_flips(Matrix<Scalar>& x, Matrix<Scalar>& y, const Shape& shape) {
    if (y.cols() != x.cols()) {
        detail::throw_invalid("append_horizontal_flips: ", y.cols(), " label columns, expected one per example (",
                              x.cols(), ")");
    }
    const Matrix<Scalar> flipped = flip_horizontally(x, shape);
    const Index m = x.cols();
    x.conservativeResize(Eigen::NoChange, 2 * m);
    x.rightCols(m) = flipped;
    y.conservativeResize(Eigen::NoChange, 2 * m);
    y.rightCols(m) = y.leftCols(m);
}

}  // namespace nndl
