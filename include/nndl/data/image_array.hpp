#pragma once
// An image as a height x width x channels array stored in row-major order
// (height, then width, channel fastest), the layout of NumPy's (H, W, C) arrays
// and of decoded image files.

#include <vector>

#include "../errors.hpp"
#include "../types.hpp"

namespace nndl {

/// One image as a height x width x channels array, row-major with the channel fastest
/// (NumPy's (H, W, C) layout).
template <class Scalar>
struct ImageArray {
    Index height = 0;    ///< rows of pixels
    Index width = 0;     ///< pixels per row
    Index channels = 0;  ///< values per pixel (1 gray, 3 RGB, ...)
    std::vector<Scalar> values;  ///< height * width * channels entries

    /// An empty 0 x 0 x 0 image.
    ImageArray() = default;
    /// An h x w x c image of zeros. Throws InvalidArgument unless every size is at least 1.
    ImageArray(Index h, Index w, Index c) : height(h), width(w), channels(c) {
        if (h <= 0 || w <= 0 || c <= 0) {
            detail::throw_invalid("ImageArray::ImageArray: shape ", h, "x", w, "x", c,
                                  ", expected every size >= 1");
        }
        values.assign(static_cast<std::size_t>(h * w * c), Scalar(0));
    }

    /// The value of channel `c` of the pixel at row `h`, column `w` (not bounds-checked).
    Scalar& operator()(Index h, Index w, Index c) { return values[offset(h, w, c)]; }
    /// The value of channel `c` of the pixel at row `h`, column `w` (not bounds-checked).
    const Scalar& operator()(Index h, Index w, Index c) const { return values[offset(h, w, c)]; }

private:
    std::size_t offset(Index h, Index w, Index c) const {
        return static_cast<std::size_t>((h * width + w) * channels + c);
    }
};

/// A labelled set of images as columns (what the .h5 and IDX readers return).
template <class Scalar>
struct LabelledImages {
    Matrix<Scalar> x;  ///< (height * width * channels) x m, values in [0, 1]
    Matrix<Scalar> y;  ///< 1 x m labels
    Index height = 0;  ///< height of each image, in pixels
    Index width = 0;   ///< width of each image, in pixels
};

/// Packed 8-bit images (m images of `features` bytes each, one after the other) and
/// their labels as a data set: X is features x m with values / 255, Y is 1 x m.
/// `pixels` must hold features * m bytes and `labels` m values; nothing is checked.
template <class Scalar, class Label>
void images_to_columns(const unsigned char* pixels, const Label* labels, Index features, Index m, Matrix<Scalar>& x,
                       Matrix<Scalar>& y) {
    x.resize(features, m);
    y.resize(1, m);
    for (Index j = 0; j < m; ++j) {
        for (Index i = 0; i < features; ++i) {
            x(i, j) = static_cast<Scalar>(pixels[static_cast<std::size_t>(j * features + i)]) / Scalar(255);
        }
        y(0, j) = static_cast<Scalar>(labels[static_cast<std::size_t>(j)]);
    }
}

}  // namespace nndl
