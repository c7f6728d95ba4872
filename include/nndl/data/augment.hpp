#pragma once
// Data augmentation on image columns (height x width x channels, channel fastest):
// new training examples made from the ones a data set has.

#include "../errors.hpp"
#include "../layer.hpp"
#include "../types.hpp"

namespace nndl {

/// Each column of `x` (an image of `shape`) mirrored left to right. Throws InvalidArgument
/// for an invalid shape or when `x` does not have shape.size() rows.
template <class Scalar>
Matrix<Scalar> flip_horizontally(const Matrix<Scalar>& x, const Shape& shape) {
    if (!shape.valid()) {
        detail::throw_invalid("flip_horizontally: image shape ", shape.height, "x", shape.width, "x", shape.channels,
                              ", expected every size >= 1");
    }
    if (x.rows() != shape.size()) {
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

/// Replaces `x` (images of `shape`, one per column) by the examples followed by their mirror
/// images: 2m columns, with the labels `y` repeated to match. Throws InvalidArgument when
/// `x` and `y` are the same matrix, their column counts differ, or flip_horizontally refuses
/// `x`. On an error (also running out of memory) x and y are left as they were.
template <class Scalar>
void append_horizontal_flips(Matrix<Scalar>& x, Matrix<Scalar>& y, const Shape& shape) {
    if (&x == &y) {
        detail::throw_invalid("append_horizontal_flips: the images and the labels are the same matrix");
    }
    if (y.cols() != x.cols()) {
        detail::throw_invalid("append_horizontal_flips: ", y.cols(), " label columns, expected one per example (",
                              x.cols(), ")");
    }
    const Index m = x.cols();
    Matrix<Scalar> grown_x(x.rows(), 2 * m);
    grown_x.leftCols(m) = x;
    grown_x.rightCols(m) = flip_horizontally(x, shape);
    Matrix<Scalar> grown_y(y.rows(), 2 * m);
    grown_y.leftCols(m) = y;
    grown_y.rightCols(m) = y;
    x.swap(grown_x);  // no allocation: nothing can fail from here on
    y.swap(grown_y);
}

}  // namespace nndl
