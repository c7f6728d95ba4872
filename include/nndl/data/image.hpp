#pragma once
// Optional part: needs stb (Debian's libstb-dev); link the nndl::image target.
// Image files (PNG, JPEG, BMP, ...) to network inputs, and image folders to data
// sets.
//
// An image becomes a column the way the course flattens it: resized to the model's
// height x width, RGB, row-major (h, then w, channel fastest), divided by 255.

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <cctype>
#include <limits>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <stb_image.h>
#include <stb_image_resize.h>
#include <stb_image_write.h>

#include "../errors.hpp"
#include "../detail/file_util.hpp"
#include "image_array.hpp"
#include "../layer.hpp"
#include "../types.hpp"

namespace nndl {

/// Images larger than this many pixels are refused instead of exhausting memory.
inline constexpr long long max_image_pixels = 1LL << 27;

namespace detail {

/// Screens a binary PNM file (P5 gray, P6 RGB) before stb reads it: Debian's stb reads
/// past the end of a 16-bit or truncated one (found by fuzzing). Returns without a word
/// for other formats; throws FileError for a PNM whose maximum value is above 255 or
/// whose pixels are not all there.
inline void screen_pnm(const std::vector<unsigned char>& bytes, const std::filesystem::path& path,
                       const char* function) {
    if (bytes.size() < 2 || bytes[0] != 'P' || (bytes[1] != '5' && bytes[1] != '6')) {
        return;
    }
    std::size_t at = 2;
    const auto is_space = [](unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
    const auto number = [&]() -> long long {
        while (at < bytes.size() && (is_space(bytes[at]) || bytes[at] == '#')) {
            if (bytes[at] == '#') {  // a comment runs to the end of the line
                while (at < bytes.size() && bytes[at] != '\n' && bytes[at] != '\r') {
                    ++at;
                }
            } else {
                ++at;
            }
        }
        long long value = 0;
        bool digits = false;
        while (at < bytes.size() && bytes[at] >= '0' && bytes[at] <= '9') {
            value = std::min(value * 10 + (bytes[at] - '0'), 1LL << 40);  // large stays large, never overflows
            digits = true;
            ++at;
        }
        return digits ? value : -1;
    };
    const long long width = number();
    const long long height = number();
    const long long largest = number();
    if (width < 0 || height < 0 || largest < 0) {
        return;  // not a complete header: stb refuses it itself
    }
    if (largest > 255) {
        throw FileError(concat(function, ": '", printable(path.string()), "' is a 16-bit PNM (maximum value ", largest,
                               "), expected 8-bit (at most 255)"));
    }
    const long long channels = bytes[1] == '5' ? 1 : 3;
    const auto data = at < bytes.size() ? static_cast<long long>(bytes.size() - at - 1) : 0LL;  // after one space
    const bool in_bounds = width > 0 && height > 0 && width <= max_image_pixels && height <= max_image_pixels / width;
    if (in_bounds && data < width * height * channels) {  // larger sizes: refused by decode_image's own check
        throw FileError(concat(function, ": '", printable(path.string()), "' is a PNM of ", width, "x", height, " pixels but holds ",
                               data, " bytes of them, expected ", width * height * channels, " (truncated?)"));
    }
}

}  // namespace detail

/// Decodes an image held in memory to 8-bit pixels with `channels` channels (1 gray,
/// 2 gray + alpha, 3 RGB, 4 RGBA; stb converts); `path` and `function` name it in messages.
/// Throws InvalidArgument for `channels` outside 1 to 4, FileError for bytes that are empty,
/// larger than 2 GiB, not a decodable image, or an image of more than max_image_pixels pixels.
inline ImageArray<unsigned char> decode_image(const std::vector<unsigned char>& bytes, const std::filesystem::path& path,
                                              Index channels, const char* function = "load_image") {
    if (channels < 1 || channels > 4) {
        detail::throw_invalid(function, ": ", channels, " channels asked for '", printable(path.string()),
                              "', expected 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA)");
    }
    if (bytes.empty()) {
        throw FileError(detail::concat(function, ": '", printable(path.string()), "' is empty, expected an image file"));
    }
    if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        throw FileError(detail::concat(function, ": '", printable(path.string()), "' is larger than 2 GiB"));
    }
    detail::screen_pnm(bytes, path, function);
    const int length = static_cast<int>(bytes.size());
    int width = 0;
    int height = 0;
    int stored_channels = 0;
    if (!stbi_info_from_memory(bytes.data(), length, &width, &height, &stored_channels)) {
        // stb refuses a PNG of more than 2^30 bytes as "unknown image type": say what it is.
        static const unsigned char png_start[] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
        if (bytes.size() >= 24 && std::equal(std::begin(png_start), std::end(png_start), bytes.begin())) {
            const auto big_endian = [&](std::size_t at) {
                return (std::uint32_t(bytes[at]) << 24) | (std::uint32_t(bytes[at + 1]) << 16) |
                       (std::uint32_t(bytes[at + 2]) << 8) | bytes[at + 3];
            };
            const std::uint32_t png_width = big_endian(16);
            const std::uint32_t png_height = big_endian(20);
            if (static_cast<long double>(png_width) * png_height > max_image_pixels) {
                throw FileError(detail::concat(function, ": '", printable(path.string()), "' is a PNG of ", png_width, "x",
                                               png_height, " pixels, expected at most ", max_image_pixels, " pixels"));
            }
        }
        throw FileError(detail::concat(function, ": '", printable(path.string()),
                                       "' is not an image nndl can read (PNG, JPEG, BMP, GIF, TGA, PNM): ",
                                       stbi_failure_reason()));
    }
    if (width <= 0 || height <= 0) {
        // Decoding such a header can leak inside stb (found by fuzzing): refuse it first.
        throw FileError(detail::concat(function, ": '", printable(path.string()), "' declares ", width, "x", height,
                                       " pixels, expected at least 1x1"));
    }
    if (static_cast<long long>(width) * height > max_image_pixels) {
        throw FileError(detail::concat(function, ": '", printable(path.string()), "' is ", width, "x", height,
                                       " pixels, expected at most ", max_image_pixels, " pixels"));
    }
    unsigned char* pixels =
        stbi_load_from_memory(bytes.data(), length, &width, &height, &stored_channels, static_cast<int>(channels));
    if (pixels == nullptr) {
        throw FileError(detail::concat(function, ": cannot decode '", printable(path.string()),
                                       "' (truncated or corrupt?): ", stbi_failure_reason()));
    }
    ImageArray<unsigned char> image(height, width, channels);
    std::copy(pixels, pixels + image.values.size(), image.values.begin());
    stbi_image_free(pixels);
    return image;
}

/// Decodes an image held in memory to 8-bit RGB; `path` is used in messages. Throws
/// FileError as decode_image does.
inline ImageArray<unsigned char> decode_image_rgb(const std::vector<unsigned char>& bytes,
                                                  const std::filesystem::path& path) {
    return decode_image(bytes, path, 3, "load_image_rgb");
}

/// Decodes an image file to 8-bit pixels with `channels` channels (see decode_image).
/// Throws FileError also when the file cannot be read.
inline ImageArray<unsigned char> load_image(const std::filesystem::path& path, Index channels) {
    return decode_image(read_file_bytes(path, "load_image"), path, channels, "load_image");
}

/// Decodes an image file to 8-bit RGB (grayscale and RGBA are converted). Throws FileError
/// when the file cannot be read or decoded.
inline ImageArray<unsigned char> load_image_rgb(const std::filesystem::path& path) {
    return decode_image_rgb(read_file_bytes(path, "load_image_rgb"), path);
}

/// The image resized to `height` x `width` pixels, channels kept (stb_image_resize's default
/// filter); a copy when it already has that size. Throws InvalidArgument for a size below
/// 1 x 1 or above max_image_pixels.
inline ImageArray<unsigned char> resize_image(const ImageArray<unsigned char>& image, Index height, Index width) {
    if (height <= 0 || width <= 0 || height > max_image_pixels / width) {
        detail::throw_invalid("resize_image: target size ", height, "x", width, ", expected at least 1x1 and at most ",
                              max_image_pixels, " pixels");
    }
    if (image.height == height && image.width == width) {
        return image;
    }
    ImageArray<unsigned char> resized(height, width, image.channels);
    const int ok = stbir_resize_uint8(image.values.data(), static_cast<int>(image.width),
                                      static_cast<int>(image.height), 0, resized.values.data(),
                                      static_cast<int>(width), static_cast<int>(height), 0,
                                      static_cast<int>(image.channels));
    if (!ok) {
        detail::throw_invalid("resize_image: stb_image_resize failed for ", image.width, "x", image.height, " -> ",
                              width, "x", height);
    }
    return resized;
}

/// The image as a network input: resized to height x width, flattened (h, w, c), / 255,
/// so a column of height * width * image.channels values in [0, 1].
template <class Scalar>
Vector<Scalar> image_to_column(const ImageArray<unsigned char>& image, Index height, Index width) {
    const ImageArray<unsigned char> sized = resize_image(image, height, width);
    Vector<Scalar> column(static_cast<Index>(sized.values.size()));
    for (std::size_t i = 0; i < sized.values.size(); ++i) {
        column(static_cast<Index>(i)) = static_cast<Scalar>(sized.values[i]) / Scalar(255);
    }
    return column;
}

/// load_image_rgb + image_to_column: a column of height * width * 3 values in [0, 1].
template <class Scalar>
Vector<Scalar> load_image_column(const std::filesystem::path& path, Index height = 64, Index width = 64) {
    return image_to_column<Scalar>(load_image_rgb(path), height, width);
}

/// An image file as the input of a network taking `shape` (height x width x channels):
/// decoded with the shape's channels, resized, flattened (h, w, c), / 255. Throws
/// InvalidArgument for a shape that is not an image of 1 to 4 channels and at most
/// max_image_pixels pixels, FileError when the file cannot be read or decoded.
template <class Scalar>
Vector<Scalar> load_image_column(const std::filesystem::path& path, const Shape& shape) {
    if (!shape.valid() || shape.channels > 4 || shape.height > max_image_pixels / shape.width) {
        detail::throw_invalid("load_image_column: input shape ", shape.height, "x", shape.width, "x", shape.channels,
                              " (height x width x channels), expected an image of 1 to 4 channels and at most ",
                              max_image_pixels, " pixels");
    }
    return image_to_column<Scalar>(load_image(path, shape.channels), shape.height, shape.width);
}

/// A column of height * width * 3 values back to an 8-bit RGB image (values clamped to
/// [0, 1], scaled by 255 and rounded). Throws ShapeError for a column of another size.
template <class Derived>
ImageArray<unsigned char> column_to_image(const Eigen::MatrixBase<Derived>& column, Index height, Index width) {
    if (column.size() != height * width * 3) {
        detail::throw_shape("column_to_image: column has ", column.size(), " values, expected ", height, "x", width,
                            "x3 = ", height * width * 3);
    }
    ImageArray<unsigned char> image(height, width, 3);
    for (Index i = 0; i < column.size(); ++i) {
        const double v = std::clamp(static_cast<double>(column(i)), 0.0, 1.0);
        image.values[static_cast<std::size_t>(i)] = static_cast<unsigned char>(v * 255.0 + 0.5);
    }
    return image;
}

/// Writes an 8-bit RGB (or gray/RGBA) image as PNG, atomically (see file_util.hpp). Throws
/// FileError when encoding or writing fails.
inline void write_png(const std::filesystem::path& path, const ImageArray<unsigned char>& image) {
    std::vector<unsigned char> bytes;
    const auto append = [](void* context, void* data, int size) {
        auto* out = static_cast<std::vector<unsigned char>*>(context);
        const auto* begin = static_cast<const unsigned char*>(data);
        out->insert(out->end(), begin, begin + size);
    };
    if (!stbi_write_png_to_func(append, &bytes, static_cast<int>(image.width), static_cast<int>(image.height),
                                static_cast<int>(image.channels), image.values.data(),
                                static_cast<int>(image.width * image.channels))) {
        throw FileError(detail::concat("write_png: cannot encode '", printable(path.string()), "'"));
    }
    write_bytes_atomically(path, "write_png", bytes);
}

/// A labelled image data set, one example per column.
template <class Scalar>
struct ImageDataset {
    Matrix<Scalar> x;                      ///< (height * width * 3) x m, values in [0, 1]
    Matrix<Scalar> y;                      ///< 1 x m class indices
    std::vector<std::string> class_names;  ///< class index -> folder name
    std::vector<std::filesystem::path> files;  ///< column -> source file
};

/// The order of the examples load_image_folder returns.
enum class FolderOrder {
    by_class,      ///< class by class, files sorted by name within each (torchvision's ImageFolder)
    by_file_name,  ///< all files sorted by file name across classes
};

/// How load_image_folder reads a folder.
struct ImageFolderOptions {
    Index height = 64;  ///< every image is resized to this height, in pixels
    Index width = 64;   ///< every image is resized to this width, in pixels
    /// Class names in label order; empty: the sub-folder names, sorted.
    std::vector<std::string> classes;
    FolderOrder order = FolderOrder::by_class;  ///< the order of the examples (columns)
};

/// True when the extension of `path`, in any case, is one load_image_folder reads: .png, .jpg,
/// .jpeg, .bmp, .gif, .tga, .pnm, .ppm or .pgm.
inline bool has_image_extension(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const char* known : {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga", ".pnm", ".ppm", ".pgm"}) {
        if (ext == known) {
            return true;
        }
    }
    return false;
}

/// Loads a folder with one sub-folder of images per class (ImageFolder layout): each image
/// becomes an RGB column of options.height x options.width (see load_image_column), labelled
/// with its class's index. Throws FileError when `root`, a class folder or an image cannot be
/// read, or a class folder holds no images.
template <class Scalar>
ImageDataset<Scalar> load_image_folder(const std::filesystem::path& root, const ImageFolderOptions& options = {}) {
    std::error_code ec;
    if (!std::filesystem::is_directory(root, ec)) {
        throw FileError(detail::concat("load_image_folder: '", printable(root.string()),
                                       "' is not a folder; expected a folder with one sub-folder per class"));
    }
    ImageDataset<Scalar> data;
    data.class_names = options.classes;
    // A folder that cannot be listed, or an entry that cannot be examined (a link loop),
    // is a FileError naming it, not a std::filesystem_error.
    const auto list_folder = [](const std::filesystem::path& folder) {
        std::vector<std::filesystem::directory_entry> entries;
        std::error_code error;
        for (std::filesystem::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
            entries.push_back(*it);
        }
        if (error) {
            throw FileError(detail::concat("load_image_folder: cannot list '", printable(folder.string()), "': ",
                                           error.message()));
        }
        return entries;
    };
    const auto is_kind = [](const std::filesystem::directory_entry& entry, std::filesystem::file_type kind) {
        std::error_code error;
        const auto status = entry.status(error);
        if (error && error != std::errc::no_such_file_or_directory) {
            throw FileError(detail::concat("load_image_folder: cannot examine '", printable(entry.path().string()), "': ",
                                           error.message()));
        }
        return !error && status.type() == kind;
    };
    if (data.class_names.empty()) {
        for (const auto& entry : list_folder(root)) {
            if (is_kind(entry, std::filesystem::file_type::directory)) {
                data.class_names.push_back(entry.path().filename().string());
            }
        }
        std::sort(data.class_names.begin(), data.class_names.end());
    }
    if (data.class_names.empty()) {
        throw FileError(detail::concat("load_image_folder: '", printable(root.string()),
                                       "' has no sub-folders; expected one sub-folder of images per class"));
    }
    struct Item {
        std::filesystem::path path;
        std::size_t label;
    };
    std::vector<Item> items;
    for (std::size_t label = 0; label < data.class_names.size(); ++label) {
        const auto folder = root / data.class_names[label];
        if (!std::filesystem::is_directory(folder, ec)) {
            throw FileError(detail::concat("load_image_folder: class folder '", printable(folder.string()), "' does not exist"));
        }
        std::vector<std::filesystem::path> files;
        for (const auto& entry : list_folder(folder)) {
            if (has_image_extension(entry.path()) && is_kind(entry, std::filesystem::file_type::regular)) {
                files.push_back(entry.path());
            }
        }
        if (files.empty()) {
            throw FileError(detail::concat("load_image_folder: class folder '", printable(folder.string()),
                                           "' has no images (.png, .jpg, .jpeg, .bmp, .gif, .tga, .pnm)"));
        }
        std::sort(files.begin(), files.end());
        for (auto& f : files) {
            items.push_back({std::move(f), label});
        }
    }
    if (options.order == FolderOrder::by_file_name) {
        std::stable_sort(items.begin(), items.end(),
                         [](const Item& a, const Item& b) { return a.path.filename() < b.path.filename(); });
    }
    const Index m = static_cast<Index>(items.size());
    data.x.resize(options.height * options.width * 3, m);
    data.y.resize(1, m);
    for (Index j = 0; j < m; ++j) {
        const auto& item = items[static_cast<std::size_t>(j)];
        data.x.col(j) = load_image_column<Scalar>(item.path, options.height, options.width);
        data.y(0, j) = static_cast<Scalar>(item.label);
        data.files.push_back(item.path);
    }
    return data;
}

}  // namespace nndl

// nndl::compiled_image (nndl::compiled's image part, built where stb is found) holds the
// loaders for float and double: a program that links it (NNDL_COMPILED_IMAGE) compiles
// none of their code (listing and sorting folders, decoding, resizing).
#if defined(NNDL_COMPILED_IMAGE) || defined(NNDL_COMPILED_IMAGE_DEFINITIONS)
// The library and the program (and nndl::compiled, which the library links) must agree on
// Eigen's alignment: a program built with other -march flags fails to link.
#include "../detail/compiled_fingerprint.hpp"
#ifdef NNDL_COMPILED_IMAGE_DEFINITIONS
#define NNDL_DETAIL_IMAGE_KIND
#else
#define NNDL_DETAIL_IMAGE_KIND extern
#endif
/// \cond
namespace nndl {
#define NNDL_DETAIL_IMAGE_FOR(S)                                                                                       \
    NNDL_DETAIL_IMAGE_KIND template Vector<S> image_to_column<S>(const ImageArray<unsigned char>&, Index, Index);     \
    NNDL_DETAIL_IMAGE_KIND template Vector<S> load_image_column<S>(const std::filesystem::path&, Index, Index);       \
    NNDL_DETAIL_IMAGE_KIND template Vector<S> load_image_column<S>(const std::filesystem::path&, const Shape&);       \
    NNDL_DETAIL_IMAGE_KIND template ImageDataset<S> load_image_folder<S>(const std::filesystem::path&,                \
                                                                         const ImageFolderOptions&);
NNDL_DETAIL_IMAGE_FOR(float)
NNDL_DETAIL_IMAGE_FOR(double)
#undef NNDL_DETAIL_IMAGE_FOR
}  // namespace nndl
/// \endcond
#undef NNDL_DETAIL_IMAGE_KIND
#endif
