#pragma once
// Optional part: needs zlib (Debian's zlib1g-dev); link the nndl::idx target.
// IDX files (MNIST, Fashion-MNIST), plain or gzip-compressed.
//
// Images become columns of height * width values scaled to [0, 1] (row-major
// pixels), labels a 1 x m row of class indices.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <zlib.h>

#include "../errors.hpp"
#include "image_array.hpp"
#include "../detail/file_util.hpp"
#include "../types.hpp"

namespace nndl {

/// The raw contents of an unsigned-byte IDX file: its dimensions and values.
struct IdxArray {
    std::vector<std::size_t> dims;      ///< the dimensions from the header, outermost first (1 to 4)
    std::vector<unsigned char> values;  ///< the product of dims bytes, the last dimension fastest
};

/// Parses IDX data held in memory (already decompressed); `name` is used in messages.
/// Throws FileError unless `bytes` are exactly an unsigned-byte IDX header and the values
/// it declares.
inline IdxArray parse_idx(const std::vector<unsigned char>& bytes, const std::string& name) {
    const auto need = [&](std::size_t at, std::size_t size, const char* what) {
        if (at + size > bytes.size()) {
            throw FileError(detail::concat("read_idx: '", printable(name), "' is truncated or corrupt: ", what, " needs ", size,
                                           " bytes, got ", bytes.size() > at ? bytes.size() - at : 0));
        }
    };
    need(0, 4, "the header");
    if (bytes[0] != 0 || bytes[1] != 0) {
        throw FileError(detail::concat("read_idx: '", printable(name), "' has the wrong magic number (not an IDX file)"));
    }
    if (bytes[2] != 0x08) {
        throw FileError(detail::concat("read_idx: '", printable(name), "' holds data type 0x",
                                       bytes[2] >= 16 ? std::string(1, "0123456789abcdef"[bytes[2] >> 4]) : std::string(),
                                       "0123456789abcdef"[bytes[2] & 15],
                                       ", expected 0x08 (unsigned bytes)"));
    }
    const int rank = bytes[3];
    if (rank < 1 || rank > 4) {
        throw FileError(detail::concat("read_idx: '", printable(name), "' has ", rank, " dimensions, expected 1 to 4"));
    }
    need(4, 4 * static_cast<std::size_t>(rank), "the dimensions");
    IdxArray array;
    std::size_t count = 1;
    for (int i = 0; i < rank; ++i) {
        const unsigned char* b = bytes.data() + 4 + 4 * i;
        const std::size_t d = (std::size_t(b[0]) << 24) | (std::size_t(b[1]) << 16) | (std::size_t(b[2]) << 8) | b[3];
        array.dims.push_back(d);
        if (d != 0 && count > bytes.size() / d) {
            throw FileError(detail::concat("read_idx: '", printable(name), "' declares more values than its ", bytes.size(),
                                           " bytes hold (truncated or corrupt)"));
        }
        count *= d;
    }
    const std::size_t data_start = 4 + 4 * static_cast<std::size_t>(rank);
    need(data_start, count, "the data");
    if (bytes.size() > data_start + count) {
        throw FileError(detail::concat("read_idx: '", printable(name), "' has ", bytes.size() - data_start - count,
                                       " bytes after the ", count, " values its header declares (corrupt)"));
    }
    array.values.assign(bytes.begin() + static_cast<long>(data_start),
                        bytes.begin() + static_cast<long>(data_start + count));
    return array;
}

/// The size in bytes that an IDX header at the start of `bytes` declares (header and
/// values), or nothing while the header is incomplete or not an unsigned-byte IDX header.
inline std::optional<std::uint64_t> idx_declared_size(const std::vector<unsigned char>& bytes) {
    if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 || bytes[3] < 1 || bytes[3] > 4) {
        return std::nullopt;
    }
    const std::size_t header = 4 + 4 * std::size_t(bytes[3]);
    if (bytes.size() < header) {
        return std::nullopt;
    }
    std::uint64_t count = 1;
    for (std::size_t at = 4; at < header; at += 4) {
        const std::uint64_t d = (std::uint64_t(bytes[at]) << 24) | (std::uint64_t(bytes[at + 1]) << 16) |
                                (std::uint64_t(bytes[at + 2]) << 8) | bytes[at + 3];
        count = d == 0 ? 0 : std::min<std::uint64_t>(count * d, std::uint64_t(1) << 40);  // no wrap
    }
    return header + count;
}

/// Gunzips `bytes` when they start with the gzip magic; returns them as they are otherwise.
/// Stops as soon as the output passes `max_bytes` or the size its IDX header declares, so a
/// small file cannot make it allocate gigabytes. `name` is used in messages. Throws FileError
/// for damaged gzip data or output beyond either limit.
inline std::vector<unsigned char> gunzip_if_compressed(const std::vector<unsigned char>& bytes, const std::string& name,
                                                       std::size_t max_bytes = std::size_t(1) << 31) {
    if (bytes.size() < 2 || bytes[0] != 0x1f || bytes[1] != 0x8b) {
        return bytes;
    }
    z_stream stream{};
    if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) {
        throw FileError(detail::concat("read_idx: cannot start zlib for '", printable(name), "'"));
    }
    std::vector<unsigned char> out;
    std::vector<unsigned char> chunk(1 << 16);
    stream.next_in = const_cast<unsigned char*>(bytes.data());
    stream.avail_in = static_cast<uInt>(bytes.size());
    int status = Z_OK;
    while (status != Z_STREAM_END) {
        stream.next_out = chunk.data();
        stream.avail_out = static_cast<uInt>(chunk.size());
        status = inflate(&stream, Z_NO_FLUSH);
        if (status != Z_OK && status != Z_STREAM_END) {
            inflateEnd(&stream);
            throw FileError(detail::concat("read_idx: '", printable(name), "' is truncated or corrupt: gzip data ends early or is damaged (",
                                           stream.msg ? stream.msg : "zlib error", ")"));
        }
        out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<long>(chunk.size() - stream.avail_out));
        if (out.size() >= 4 && (out[0] != 0 || out[1] != 0 || out[2] != 0x08 || out[3] < 1 || out[3] > 4)) {
            break;  // not an unsigned-byte IDX header: parse_idx says so, from the first bytes
        }
        if (const auto declared = idx_declared_size(out); declared && out.size() > *declared) {
            inflateEnd(&stream);
            throw FileError(detail::concat("read_idx: '", printable(name), "' decompresses to more than the ", *declared,
                                           " bytes its header declares (corrupt)"));
        }
        if (out.size() > max_bytes) {
            inflateEnd(&stream);
            throw FileError(detail::concat("read_idx: '", printable(name), "' decompresses to more than ", max_bytes, " bytes"));
        }
    }
    inflateEnd(&stream);
    return out;
}

/// Reads an IDX file of unsigned bytes (type 0x08), gzip-compressed or not. Throws FileError
/// when the file cannot be read, does not decompress, or is not such an IDX file.
inline IdxArray read_idx(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw FileError(detail::concat("read_idx: '", printable(path.string()), "' does not exist or is not a file"));
    }
    return parse_idx(gunzip_if_compressed(read_file_bytes(path, "read_idx"), path.string()), path.string());
}

/// An image/label pair of IDX files as (X, Y): X is (rows * cols) x m in [0, 1], Y is 1 x m.
template <class Scalar>
using IdxDataset = LabelledImages<Scalar>;

/// An image/label pair of parsed IDX arrays as (X, Y); the names are used in messages.
/// `images` must be (m, rows, cols) and `labels` (m). `limit` > 0 keeps only the first `limit`
/// examples. Throws FileError when the arrays do not have those shapes, InvalidArgument for
/// a negative `limit`.
template <class Scalar>
IdxDataset<Scalar> idx_dataset(const IdxArray& images, const IdxArray& labels, const std::string& images_name,
                               const std::string& labels_name, Index limit = 0) {
    if (images.dims.size() != 3) {
        throw FileError(detail::concat("load_idx_dataset: '", printable(images_name), "' has ", images.dims.size(),
                                       " dimensions, expected 3 (images, rows, columns)"));
    }
    if (labels.dims.size() != 1) {
        throw FileError(detail::concat("load_idx_dataset: '", printable(labels_name), "' has ", labels.dims.size(),
                                       " dimensions, expected 1 (labels)"));
    }
    if (images.dims[0] != labels.dims[0]) {
        throw FileError(detail::concat("load_idx_dataset: '", printable(images_name), "' has ", images.dims[0],
                                       " images but '", labels_name, "' has ", labels.dims[0], " labels"));
    }
    const std::size_t height = images.dims[1];
    const std::size_t width = images.dims[2];
    if (height == 0 || width == 0 || height * width > (std::size_t(1) << 31)) {  // each < 2^32: no wrap
        throw FileError(detail::concat("load_idx_dataset: '", printable(images_name), "' has images of ", height, "x", width,
                                       " pixels, expected at least 1x1 and at most 2^31 pixels"));
    }
    if (limit < 0) {
        detail::throw_invalid("load_idx_dataset: limit is ", limit, ", expected >= 0 (0: all)");
    }
    auto m = static_cast<Index>(images.dims[0]);
    if (limit > 0 && limit < m) {
        m = limit;
    }
    IdxDataset<Scalar> set;
    set.height = static_cast<Index>(height);
    set.width = static_cast<Index>(width);
    images_to_columns(images.values.data(), labels.values.data(), set.height * set.width, m, set.x, set.y);
    return set;
}

/// An image/label pair of IDX files as (X, Y); see idx_dataset. Throws as read_idx and
/// idx_dataset do.
template <class Scalar>
IdxDataset<Scalar> load_idx_dataset(const std::filesystem::path& images_path, const std::filesystem::path& labels_path,
                                    Index limit = 0) {
    const IdxArray images = read_idx(images_path);  // first: its errors come first
    return idx_dataset<Scalar>(images, read_idx(labels_path), images_path.string(), labels_path.string(), limit);
}

}  // namespace nndl
