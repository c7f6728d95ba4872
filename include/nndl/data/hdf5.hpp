#pragma once
// Optional part: needs HDF5 (Debian's libhdf5-dev); link the nndl::hdf5 target.
// The course's original .h5 data files, read with HDF5's C API.

#include <filesystem>
#include <string>
#include <vector>

#include <hdf5.h>

#include "../detail/file_util.hpp"
#include "../errors.hpp"
#include "image_array.hpp"
#include "../types.hpp"

namespace nndl {

namespace detail {

// Owns one HDF5 identifier and closes it with the matching function.
class H5Handle {
public:
    H5Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
    H5Handle(const H5Handle&) = delete;
    H5Handle& operator=(const H5Handle&) = delete;
    ~H5Handle() {
        if (id_ >= 0) {
            close_(id_);
        }
    }
    hid_t get() const { return id_; }
    bool valid() const { return id_ >= 0; }

private:
    hid_t id_;
    herr_t (*close_)(hid_t);
};

inline std::vector<hsize_t> h5_dimensions(hid_t dataset) {
    H5Handle space(H5Dget_space(dataset), H5Sclose);
    const int rank = space.valid() ? H5Sget_simple_extent_ndims(space.get()) : -1;
    if (rank < 0) {
        return {};
    }
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    return dims;
}

}  // namespace detail

/// An HDF5 data set read as a flat array of T (row-major), with its dimensions.
template <class T>
struct H5Array {
    std::vector<hsize_t> dims;  ///< the data set's dimensions, outermost first
    std::vector<T> values;      ///< the product of dims values, the last dimension fastest
};

/// Reads the dataset `name` of the .h5 file at `path`, converted by HDF5 to T (unsigned char,
/// long long or double). A dataset of more than `max_bytes` (as T) is refused before anything
/// is allocated. Throws FileError when the file is missing or not HDF5, has no such dataset,
/// the dataset is too large, or it cannot be read as T.
template <class T>
H5Array<T> read_h5_array(const std::filesystem::path& path, const std::string& name,
                         std::uintmax_t max_bytes = max_file_bytes) {
    static_assert(std::is_same_v<T, unsigned char> || std::is_same_v<T, long long> || std::is_same_v<T, double>,
                  "read_h5_array: T must be unsigned char, long long or double");
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors become exceptions, not prints
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw FileError(detail::concat("read_h5_array: '", printable(path.string()), "' does not exist or is not a file"));
    }
    detail::H5Handle file(H5Fopen(path.string().c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    if (!file.valid()) {
        throw FileError(detail::concat("read_h5_array: '", printable(path.string()), "' is not an HDF5 file"));
    }
    if (H5Lexists(file.get(), name.c_str(), H5P_DEFAULT) <= 0) {
        throw FileError(detail::concat("read_h5_array: '", printable(path.string()), "' has no dataset '", name, "'"));
    }
    detail::H5Handle dataset(H5Dopen2(file.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
    if (!dataset.valid()) {
        throw FileError(detail::concat("read_h5_array: cannot open dataset '", name, "' in '", printable(path.string()), "'"));
    }
    H5Array<T> array;
    array.dims = detail::h5_dimensions(dataset.get());
    // The size is checked before anything is allocated: at most 4 GiB in memory (an
    // unwritten dataset is valid and reads as its fill value, so the file's size is no bound).
    long double values = 1;
    for (hsize_t d : array.dims) {
        values *= static_cast<long double>(d);
    }
    if (values * sizeof(T) > static_cast<long double>(max_bytes)) {
        std::string shape;
        for (hsize_t d : array.dims) {
            shape += (shape.empty() ? "" : ", ") + std::to_string(d);
        }
        throw FileError(detail::concat("read_h5_array: dataset '", name, "' of '", printable(path.string()), "' has shape (",
                                       shape, "), more than the ", max_bytes, " bytes accepted"));
    }
    const auto count = static_cast<std::size_t>(values);
    array.values.resize(count);
    hid_t memory_type = H5T_NATIVE_DOUBLE;
    if constexpr (std::is_same_v<T, unsigned char>) {
        memory_type = H5T_NATIVE_UCHAR;
    } else if constexpr (std::is_same_v<T, long long>) {
        memory_type = H5T_NATIVE_LLONG;
    }
    if (count > 0 && H5Dread(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, array.values.data()) < 0) {
        throw FileError(detail::concat("read_h5_array: cannot read dataset '", name, "' of '", printable(path.string()),
                                       "' as ", sizeof(T) == 1 ? "uint8" : "numbers"));
    }
    return array;
}

/// An image set stored as (m, height, width, channels) uint8 plus (m,) labels, as in
/// the course's train_catvnoncat.h5 / test_catvnoncat.h5: X is (h*w*c) x m in [0, 1]
/// (each image flattened row-major, the course's order), Y is 1 x m.
template <class Scalar>
using H5ImageSet = LabelledImages<Scalar>;

/// Loads an image set from two datasets of the .h5 file at `path`: `images_name`, of shape
/// (m, height, width, channels), read as uint8, and `labels_name`, of shape (m,), read as
/// integers (see H5ImageSet). X may take at most `max_bytes` as Scalar (it is refused before
/// reading when larger). Throws FileError as read_h5_array does, and when the datasets do not
/// have those shapes.
template <class Scalar>
H5ImageSet<Scalar> load_h5_image_set(const std::filesystem::path& path, const std::string& images_name,
                                     const std::string& labels_name, std::uintmax_t max_bytes = max_file_bytes) {
    // Each uint8 pixel becomes a Scalar: bound the dataset by what X will take.
    const auto images = read_h5_array<unsigned char>(path, images_name, max_bytes / sizeof(Scalar));
    const auto labels = read_h5_array<long long>(path, labels_name, max_bytes);
    if (images.dims.size() != 4) {
        throw FileError(detail::concat("load_h5_image_set: dataset '", images_name, "' has ", images.dims.size(),
                                       " dimensions, expected 4 (m, height, width, channels)"));
    }
    if (labels.dims.size() != 1 || labels.dims[0] != images.dims[0]) {
        throw FileError(detail::concat("load_h5_image_set: dataset '", labels_name, "' holds ", labels.values.size(),
                                       " labels, expected one per image (", images.dims[0], ")"));
    }
    const auto m = static_cast<Index>(images.dims[0]);
    const auto features = static_cast<Index>(images.dims[1] * images.dims[2] * images.dims[3]);
    H5ImageSet<Scalar> set;
    set.height = static_cast<Index>(images.dims[1]);
    set.width = static_cast<Index>(images.dims[2]);
    images_to_columns(images.values.data(), labels.values.data(), features, m, set.x, set.y);
    return set;
}

}  // namespace nndl
