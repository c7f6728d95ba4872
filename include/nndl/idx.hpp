#pragma once
// IDX files (MNIST, Fashion-MNIST), plain or gzip-compressed. Optional: needs zlib
// (Debian's zlib1g-dev); link the nndl::idx target.
//
// Images become columns of height * width values scaled to [0, 1] (row-major
// pixels), labels a 1 x m row of class indices.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <zlib.h>

#include "errors.hpp"
#include "types.hpp"

namespace nndl {

/// The raw contents of an unsigned-byte IDX file: its dimensions and values.
struct IdxArray {
    std::vector<std::size_t> dims;
    std::vector<unsigned char> values;
};

/// Reads an IDX file of unsigned bytes (type 0x08), gzip-compressed or not.
inline IdxArray read_idx(const std::filesystem::path& path, std::size_t max_bytes = std::size_t(1) << 31) {
    const std::string name = path.string();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        throw FileError(detail::concat("read_idx: '", name, "' does not exist or is not a file"));
    }
    gzFile file = gzopen(name.c_str(), "rb");  // reads plain files too
    if (file == nullptr) {
        throw FileError(detail::concat("read_idx: cannot open '", name, "'"));
    }
    struct Closer {
        gzFile f;
        ~Closer() { gzclose(f); }
    } closer{file};
    const auto read_exact = [&](void* buffer, std::size_t size, const char* what) {
        auto* out = static_cast<unsigned char*>(buffer);
        std::size_t done = 0;
        while (done < size) {
            const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(size - done, 1U << 30));
            const int got = gzread(file, out + done, chunk);
            if (got <= 0) {
                int code = 0;
                const char* message = gzerror(file, &code);
                throw FileError(detail::concat("read_idx: '", name, "' is truncated or corrupt: ", what, " needs ",
                                               size, " bytes, got ", done, code < 0 ? std::string(" (") + message + ")" : ""));
            }
            done += static_cast<std::size_t>(got);
        }
    };
    unsigned char magic[4];
    read_exact(magic, 4, "the header");
    if (magic[0] != 0 || magic[1] != 0) {
        throw FileError(detail::concat("read_idx: '", name, "' has the wrong magic number (not an IDX file)"));
    }
    if (magic[2] != 0x08) {
        throw FileError(detail::concat("read_idx: '", name, "' holds data type 0x", std::hex, int(magic[2]),
                                       ", expected 0x08 (unsigned bytes)"));
    }
    const int rank = magic[3];
    if (rank < 1 || rank > 4) {
        throw FileError(detail::concat("read_idx: '", name, "' has ", rank, " dimensions, expected 1 to 4"));
    }
    IdxArray array;
    std::size_t count = 1;
    for (int i = 0; i < rank; ++i) {
        unsigned char b[4];
        read_exact(b, 4, "the dimensions");
        const std::size_t d = (std::size_t(b[0]) << 24) | (std::size_t(b[1]) << 16) | (std::size_t(b[2]) << 8) | b[3];
        array.dims.push_back(d);
        if (d != 0 && count > max_bytes / d) {
            throw FileError(detail::concat("read_idx: '", name, "' declares more than ", max_bytes, " values"));
        }
        count *= d;
    }
    array.values.resize(count);
    read_exact(array.values.data(), count, "the data");
    return array;
}

/// An image/label pair of IDX files as (X, Y): X is (rows * cols) x m in [0, 1], Y is 1 x m.
template <class Scalar>
struct IdxDataset {
    Matrix<Scalar> x;
    Matrix<Scalar> y;
    Index height = 0;
    Index width = 0;
};

template <class Scalar>
IdxDataset<Scalar> load_idx_dataset(const std::filesystem::path& images_path, const std::filesystem::path& labels_path,
                                    Index limit = 0) {
    const IdxArray images = read_idx(images_path);
    const IdxArray labels = read_idx(labels_path);
    if (images.dims.size() != 3) {
        throw FileError(detail::concat("load_idx_dataset: '", images_path.string(), "' has ", images.dims.size(),
                                       " dimensions, expected 3 (images, rows, columns)"));
    }
    if (labels.dims.size() != 1) {
        throw FileError(detail::concat("load_idx_dataset: '", labels_path.string(), "' has ", labels.dims.size(),
                                       " dimensions, expected 1 (labels)"));
    }
    if (images.dims[0] != labels.dims[0]) {
        throw FileError(detail::concat("load_idx_dataset: '", images_path.string(), "' has ", images.dims[0],
                                       " images but '", labels_path.string(), "' has ", labels.dims[0], " labels"));
    }
    auto m = static_cast<Index>(images.dims[0]);
    if (limit > 0 && limit < m) {
        m = limit;
    }
    IdxDataset<Scalar> set;
    set.height = static_cast<Index>(images.dims[1]);
    set.width = static_cast<Index>(images.dims[2]);
    const Index features = set.height * set.width;
    set.x.resize(features, m);
    set.y.resize(1, m);
    for (Index j = 0; j < m; ++j) {
        for (Index i = 0; i < features; ++i) {
            set.x(i, j) = static_cast<Scalar>(images.values[static_cast<std::size_t>(j * features + i)]) / Scalar(255);
        }
        set.y(0, j) = static_cast<Scalar>(labels.values[static_cast<std::size_t>(j)]);
    }
    return set;
}

}  // namespace nndl
