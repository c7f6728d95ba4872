#pragma once
// Shape: what one example of a layer's input or output is (a flat vector, an image, a
// sequence) and where its entries lie in a column. Data loaders, layers and model files
// all speak of it, so it stands alone: it needs Eigen's Index and nothing else of nndl.

#include <string>

#include "types.hpp"

namespace nndl {

/// The shape of one example: channels x height x width. A flat vector of n values is
/// {n, 1, 1}. In memory (one column of a batch) an image is stored height x width x
/// channels with channels fastest: entry (h, w, c) is at (h * width + w) * channels + c.
/// That is the order of NumPy's (m, H, W, C) arrays read row-major, and of nndl's image,
/// HDF5 and IDX loaders, so a flat layer can follow an image layer without a reshape.
///
/// A sequence (Shape::sequence(steps, features)) is one example per column too, its time
/// steps one after the other: step t's features are rows t * features to
/// (t + 1) * features - 1 of the column. It is stored as height = steps, width = 1,
/// channels = features, marked as a sequence, so it is never mistaken for an image or a
/// flat vector of the same size.
struct Shape {
    Index channels = 1;  ///< values per pixel (features of a flat vector)
    Index height = 1;    ///< rows of an image; 1 for a flat vector
    Index width = 1;     ///< columns of an image; 1 for a flat vector
    bool time_steps = false;  ///< a sequence: height counts its time steps (see Shape::sequence)

    /// The shape of a single value, {1, 1, 1}.
    Shape() = default;
    /// A shape in channels, height, width order; not checked (see valid()). Implicit, so
    /// a size n converts to the flat shape {n, 1, 1}.
    Shape(Index channels_, Index height_ = 1, Index width_ = 1) : channels(channels_), height(height_), width(width_) {}
    /// An image shape in the memory order's words.
    static Shape image(Index height, Index width, Index channels) { return Shape(channels, height, width); }
    /// A sequence of `steps` time steps of `features` values each.
    static Shape sequence(Index steps, Index features) {
        Shape shape(features, steps, 1);
        shape.time_steps = true;
        return shape;
    }

    /// Values per example: the rows of a batch of this shape.
    Index size() const { return channels * height * width; }
    /// Whether height and width are both 1 (a plain vector of `channels` values) and the
    /// shape is not a sequence.
    bool is_flat() const { return height == 1 && width == 1 && !time_steps; }
    /// Whether the shape is a sequence (Shape::sequence).
    bool is_sequence() const { return time_steps; }
    /// A sequence's time steps (its height).
    Index steps() const { return height; }
    /// A sequence's values per time step (its channels).
    Index features() const { return channels; }
    /// The row of entry (h, w, c) in an example's column; no bounds check.
    Index offset(Index h, Index w, Index c) const { return (h * width + w) * channels + c; }
    /// Every dimension at least 1 and at most max_values values in all.
    bool valid() const {
        return channels > 0 && height > 0 && width > 0 && channels <= max_values / height &&
               channels * height <= max_values / width;
    }
    static constexpr Index max_values = Index(1) << 40;  ///< values per example that nndl accepts

    /// Equal channels, height, width and kind (an image, a sequence and a flat vector of the
    /// same size differ).
    friend bool operator==(const Shape& a, const Shape& b) {
        return a.channels == b.channels && a.height == b.height && a.width == b.width && a.time_steps == b.time_steps;
    }
    /// True when the shapes differ in any dimension.
    friend bool operator!=(const Shape& a, const Shape& b) { return !(a == b); }

    /// "12" for a flat shape, "28x28x1 (height x width x channels)" for an image, "4 steps x
    /// 3 features" for a sequence.
    std::string to_string() const {
        if (time_steps) {
            return std::to_string(height) + " steps x " + std::to_string(channels) + " features";
        }
        if (is_flat()) {
            return std::to_string(channels);
        }
        return std::to_string(height) + "x" + std::to_string(width) + "x" + std::to_string(channels) +
               " (height x width x channels)";
    }
};

}  // namespace nndl
