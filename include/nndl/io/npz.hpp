#pragma once
// NumPy's .npy arrays and .npz archives (what np.save / np.savez write), read and
// written without any dependency: .npz is a zip archive of stored (uncompressed)
// .npy files. Arrays written here are C-ordered (row-major), as NumPy's own.

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "../errors.hpp"
#include "../detail/file_util.hpp"
#include "../types.hpp"

namespace nndl {

/// One array: its dtype ('<f8', '<f4', '<i8', '<U12', ...), its shape and its raw bytes.
struct NpyArray {
    std::string dtype;                 ///< NumPy's type string: byte order, kind and size in bytes, e.g. '<f8'
    std::vector<std::size_t> shape;    ///< the dimensions, outermost first; empty for a 0-d array
    bool fortran_order = false;        ///< true when `bytes` are column-major (Fortran order)
    std::vector<unsigned char> bytes;  ///< the raw values: count() times the dtype's item size

    /// The number of values; SIZE_MAX when the shape's product does not fit in size_t.
    std::size_t count() const {
        std::size_t n = 1;
        for (auto d : shape) {
            if (d != 0 && n > SIZE_MAX / d) {
                n = SIZE_MAX;
            } else {
                n *= d;
            }
        }
        for (auto d : shape) {
            if (d == 0) {
                return 0;
            }
        }
        return n;
    }
};

namespace detail {

/// The zip CRC-32 of `data`; pass the previous result as `crc` to continue over more bytes.
inline std::uint32_t crc32(const unsigned char* data, std::size_t size, std::uint32_t crc = 0) {
    static const auto table = [] {
        std::array<std::uint32_t, 256> t{};
        for (std::uint32_t i = 0; i < 256; ++i) {
            std::uint32_t c = i;
            for (int k = 0; k < 8; ++k) {
                c = (c & 1U) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
            }
            t[i] = c;
        }
        return t;
    }();
    crc ^= 0xFFFFFFFFU;
    for (std::size_t i = 0; i < size; ++i) {
        crc = table[(crc ^ data[i]) & 0xFFU] ^ (crc >> 8);
    }
    return crc ^ 0xFFFFFFFFU;
}

inline void put_le(std::vector<unsigned char>& out, std::uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        out.push_back(static_cast<unsigned char>((value >> (8 * i)) & 0xFFU));
    }
}

inline std::uint64_t get_le(const std::vector<unsigned char>& in, std::size_t at, int bytes, const char* where) {
    if (at > in.size() || static_cast<std::size_t>(bytes) > in.size() - at) {  // no wrap for huge offsets
        throw FileError(concat(where, ": the file is truncated (needs byte ", at + static_cast<std::size_t>(bytes),
                               ", has ", in.size(), ")"));
    }
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) {
        value |= static_cast<std::uint64_t>(in[at + static_cast<std::size_t>(i)]) << (8 * i);
    }
    return value;
}

inline std::size_t dtype_size(const std::string& dtype, const char* where) {
    if (dtype.size() < 3 || (dtype[0] != '<' && dtype[0] != '|' && dtype[0] != '=')) {
        throw FileError(concat(where, ": dtype '", printable(dtype), "' is not little-endian; expected e.g. '<f8'"));
    }
    std::size_t digits = 0;
    std::size_t size = 0;
    try {
        size = static_cast<std::size_t>(std::stoul(dtype.substr(2), &digits));
    } catch (const std::exception&) {
        digits = 0;
    }
    if (digits == 0 || digits != dtype.size() - 2 || size == 0 || size > (1U << 20)) {
        throw FileError(concat(where, ": cannot read dtype '", printable(dtype), "'"));
    }
    return dtype[1] == 'U' ? 4 * size : size;
}

/// The start of the .npy file for one array (format version 1.0): magic, version and header;
/// the array's bytes follow it.
inline std::vector<unsigned char> npy_prefix(const NpyArray& array) {
    std::string header = "{'descr': '" + array.dtype + "', 'fortran_order': " +
                         (array.fortran_order ? "True" : "False") + ", 'shape': (";
    for (std::size_t i = 0; i < array.shape.size(); ++i) {
        header += std::to_string(array.shape[i]) + (array.shape.size() == 1 ? "," : i + 1 < array.shape.size() ? ", " : "");
    }
    header += "), }";
    // Pad with spaces so that the data starts at a multiple of 64, then a newline.
    const std::size_t unpadded = 10 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    std::vector<unsigned char> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    put_le(out, header.size(), 2);
    out.insert(out.end(), header.begin(), header.end());
    return out;
}

inline std::string header_value(const std::string& header, const std::string& key, const char* where) {
    const auto at = header.find("'" + key + "'");
    if (at == std::string::npos) {
        throw FileError(concat(where, ": .npy header has no '", key, "'"));
    }
    const auto colon = header.find(':', at);
    if (colon == std::string::npos) {
        throw FileError(concat(where, ": malformed .npy header"));
    }
    return header.substr(colon + 1);
}

inline NpyArray parse_npy(const std::vector<unsigned char>& file, const std::string& entry_name, const char* where) {
    const std::string name = printable(entry_name);  // for messages: the archive's own words
    static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    if (file.size() < 10 || std::memcmp(file.data(), magic, 6) != 0) {
        throw FileError(concat(where, ": entry '", name, "' is not a .npy array (wrong magic)"));
    }
    const int major = file[6];
    std::size_t header_length = 0;
    std::size_t header_start = 0;
    if (major == 1) {
        header_length = static_cast<std::size_t>(get_le(file, 8, 2, where));
        header_start = 10;
    } else if (major == 2 || major == 3) {
        header_length = static_cast<std::size_t>(get_le(file, 8, 4, where));
        header_start = 12;
    } else {
        throw FileError(concat(where, ": entry '", name, "' has .npy format version ", major, ", expected 1, 2 or 3"));
    }
    if (header_start + header_length > file.size()) {
        throw FileError(concat(where, ": entry '", name, "' is truncated"));
    }
    const std::string header(file.begin() + static_cast<long>(header_start),
                             file.begin() + static_cast<long>(header_start + header_length));
    NpyArray array;
    const std::string descr = header_value(header, "descr", where);
    const auto q1 = descr.find('\'');
    const auto q2 = q1 == std::string::npos ? q1 : descr.find('\'', q1 + 1);
    if (q2 == std::string::npos) {
        throw FileError(concat(where, ": entry '", name, "' has an unreadable dtype"));
    }
    array.dtype = descr.substr(q1 + 1, q2 - q1 - 1);
    array.fortran_order = header_value(header, "fortran_order", where).find("True") <
                          header_value(header, "fortran_order", where).find(',');
    const std::string shape_text = header_value(header, "shape", where);
    const auto open = shape_text.find('(');
    const auto close = shape_text.find(')');
    if (open == std::string::npos || close == std::string::npos || close < open) {
        throw FileError(concat(where, ": entry '", name, "' has an unreadable shape"));
    }
    std::string dims = shape_text.substr(open + 1, close - open - 1);
    std::size_t pos = 0;
    while (pos < dims.size()) {
        while (pos < dims.size() && (dims[pos] == ' ' || dims[pos] == ',')) {
            ++pos;
        }
        if (pos >= dims.size()) {
            break;
        }
        std::size_t used = 0;
        unsigned long long d = 0;
        try {
            d = std::stoull(dims.substr(pos), &used);
        } catch (const std::exception&) {
            throw FileError(concat(where, ": entry '", name, "' has an unreadable shape '(", printable(dims), ")'"));
        }
        if (dims[pos] == '-' || d > static_cast<unsigned long long>(PTRDIFF_MAX)) {
            throw FileError(concat(where, ": entry '", name, "' has a dimension out of range in its shape '(", printable(dims),
                                   ")'"));
        }
        array.shape.push_back(static_cast<std::size_t>(d));
        pos += used;
    }
    const std::size_t item = dtype_size(array.dtype, where);
    const std::size_t data_start = header_start + header_length;
    const std::size_t data_bytes = file.size() - data_start;
    const std::size_t count = array.count();
    if (count > data_bytes / item || count * item != data_bytes) {  // no product that wraps
        throw FileError(concat(where, ": entry '", name, "' holds ", data_bytes, " data bytes, its shape (", printable(dims),
                               ") needs more or fewer"));
    }
    array.bytes.assign(file.begin() + static_cast<long>(data_start), file.end());
    return array;
}

}  // namespace detail

/// A matrix as a 2-D float64/float32 .npy array of shape (rows, cols) (C order, as NumPy
/// writes).
template <class Scalar>
NpyArray to_npy(const Matrix<Scalar>& m) {
    static_assert(std::is_same_v<Scalar, double> || std::is_same_v<Scalar, float>, "to_npy: float or double");
    NpyArray array;
    array.dtype = std::is_same_v<Scalar, double> ? "<f8" : "<f4";
    array.shape = {static_cast<std::size_t>(m.rows()), static_cast<std::size_t>(m.cols())};
    array.bytes.resize(static_cast<std::size_t>(m.size()) * sizeof(Scalar));
    std::size_t at = 0;
    for (Index i = 0; i < m.rows(); ++i) {
        for (Index j = 0; j < m.cols(); ++j) {
            const Scalar v = m(i, j);
            std::memcpy(array.bytes.data() + at, &v, sizeof(Scalar));
            at += sizeof(Scalar);
        }
    }
    return array;
}

/// A 0-d unicode string array (dtype '<U n'), which np.load reads without pickle.
/// `text` is UTF-8; the array holds its code points (UTF-32), as NumPy's str arrays do.
/// Throws InvalidArgument when `text` is not valid UTF-8.
inline NpyArray to_npy(const std::string& text) {
    std::vector<std::uint32_t> codes;
    for (std::size_t i = 0; i < text.size();) {
        const auto lead = static_cast<unsigned char>(text[i]);
        const std::size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
        if (length == 0 || i + length > text.size()) {
            detail::throw_invalid("to_npy: the text is not valid UTF-8 (byte ", i, ")");
        }
        std::uint32_t code = length == 1 ? lead : lead & (0x7FU >> length);
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0U) != 0x80U) {
                detail::throw_invalid("to_npy: the text is not valid UTF-8 (byte ", i + k, ")");
            }
            code = (code << 6) | (next & 0x3FU);
        }
        codes.push_back(code);
        i += length;
    }
    NpyArray array;
    const std::size_t n = std::max<std::size_t>(codes.size(), 1);
    array.dtype = "<U" + std::to_string(n);
    array.bytes.assign(4 * n, 0);
    for (std::size_t i = 0; i < codes.size(); ++i) {
        for (int k = 0; k < 4; ++k) {
            array.bytes[4 * i + static_cast<std::size_t>(k)] = static_cast<unsigned char>((codes[i] >> (8 * k)) & 0xFFU);
        }
    }
    return array;
}

/// A 1-D or 2-D float/int .npy array as a matrix (a 1-D array becomes a column), values
/// converted to Scalar; `name` is used in messages. Throws FileError for another rank, a dtype
/// other than float64, float32, int64 or int32, or bytes that do not match the shape.
template <class Scalar>
Matrix<Scalar> npy_to_matrix(const NpyArray& array, const std::string& name) {
    if (array.shape.empty() || array.shape.size() > 2) {
        throw FileError(detail::concat("npy_to_matrix: '", printable(name), "' has ", array.shape.size(),
                                       " dimensions, expected 1 or 2"));
    }
    const auto rows = static_cast<Index>(array.shape[0]);
    const auto cols = array.shape.size() == 2 ? static_cast<Index>(array.shape[1]) : Index(1);
    const std::size_t item = detail::dtype_size(array.dtype, "npy_to_matrix");
    if (array.count() > array.bytes.size() / item || array.count() * item != array.bytes.size()) {
        throw FileError(detail::concat("npy_to_matrix: '", printable(name), "' has ", array.bytes.size(),
                                       " data bytes, which its shape does not match"));
    }
    const char kind = array.dtype[1];
    if (!((kind == 'f' && (item == 4 || item == 8)) || (kind == 'i' && (item == 4 || item == 8)))) {
        throw FileError(detail::concat("npy_to_matrix: '", printable(name), "' has dtype '", printable(array.dtype),
                                       "', expected float64, float32, int64 or int32"));
    }
    Matrix<Scalar> m(rows, cols);
    for (Index i = 0; i < rows; ++i) {
        for (Index j = 0; j < cols; ++j) {
            const std::size_t index = static_cast<std::size_t>(array.fortran_order ? j * rows + i : i * cols + j);
            const unsigned char* p = array.bytes.data() + index * item;
            double v = 0;
            if (kind == 'f' && item == 8) {
                std::memcpy(&v, p, 8);
            } else if (kind == 'f') {
                float f = 0;
                std::memcpy(&f, p, 4);
                v = f;
            } else if (item == 8) {
                std::int64_t k = 0;
                std::memcpy(&k, p, 8);
                v = static_cast<double>(k);
            } else {
                std::int32_t k = 0;
                std::memcpy(&k, p, 4);
                v = k;
            }
            m(i, j) = static_cast<Scalar>(v);
        }
    }
    return m;
}

/// The text of a unicode string array holding one string, as UTF-8; `name` is used in
/// messages. Throws FileError for another dtype or count, or a value that is not a character.
inline std::string npy_to_string(const NpyArray& array, const std::string& name) {
    if (array.dtype.size() < 3 || array.dtype[1] != 'U' || array.count() != 1) {
        throw FileError(detail::concat("npy_to_string: '", printable(name), "' has dtype '", printable(array.dtype),
                                       "', expected a single string ('<U...')"));
    }
    std::string text;
    for (std::size_t i = 0; i + 3 < array.bytes.size(); i += 4) {
        const auto code = static_cast<std::uint32_t>(detail::get_le(array.bytes, i, 4, "npy_to_string"));
        if (code == 0) {
            break;
        }
        if (code > 0x10FFFFU || (code >= 0xD800U && code <= 0xDFFFU)) {
            throw FileError(detail::concat("npy_to_string: '", printable(name), "' holds ", code, ", which is not a character"));
        }
        if (code < 0x80U) {
            text += static_cast<char>(code);
        } else if (code < 0x800U) {
            text += static_cast<char>(0xC0U | (code >> 6));
            text += static_cast<char>(0x80U | (code & 0x3FU));
        } else if (code < 0x10000U) {
            text += static_cast<char>(0xE0U | (code >> 12));
            text += static_cast<char>(0x80U | ((code >> 6) & 0x3FU));
            text += static_cast<char>(0x80U | (code & 0x3FU));
        } else {
            text += static_cast<char>(0xF0U | (code >> 18));
            text += static_cast<char>(0x80U | ((code >> 12) & 0x3FU));
            text += static_cast<char>(0x80U | ((code >> 6) & 0x3FU));
            text += static_cast<char>(0x80U | (code & 0x3FU));
        }
    }
    return text;
}

/// Writes an .npz archive (like np.savez), atomically: a failed write leaves any previous
/// file intact. The arrays are streamed to the file, not gathered in memory first.
/// `where` names the caller in messages. Throws InvalidArgument for an array whose bytes its
/// shape and dtype do not describe, FileError for an unreadable dtype, 65535 arrays or more,
/// an array or archive of 4 GiB or more, or a failed write.
inline void write_npz(const std::filesystem::path& path, const std::vector<std::pair<std::string, NpyArray>>& arrays,
                      const char* where = "write_npz") {
    if (arrays.size() >= 0xFFFFU) {
        throw FileError(detail::concat(where, ": ", arrays.size(), " arrays, more than this writer's 65534"));
    }
    write_file_atomically(path, where, [&](std::ofstream& out) {
        std::vector<unsigned char> directory;
        std::uint64_t offset = 0;  // of the next local header
        for (const auto& [key, array] : arrays) {
            const std::string name = key + ".npy";
            const std::size_t value_size = detail::dtype_size(array.dtype, where);
            const std::size_t values = array.count();
            if (values == SIZE_MAX || values > SIZE_MAX / value_size || array.bytes.size() != values * value_size) {
                detail::throw_invalid(where, ": array '", key, "' holds ", array.bytes.size(), " bytes, which its "
                                      "shape and dtype '", array.dtype, "' do not describe");
            }
            const auto prefix = detail::npy_prefix(array);
            const std::uint64_t size = prefix.size() + array.bytes.size();
            if (size >= 0xFFFFFFFFULL || offset >= 0xFFFFFFFFULL) {
                throw FileError(detail::concat(where, ": array '", key, "' is too large for this writer (4 GiB)"));
            }
            std::uint32_t crc = detail::crc32(prefix.data(), prefix.size());
            crc = detail::crc32(array.bytes.data(), array.bytes.size(), crc);
            // The fields a local header and its central directory record share: version 2.0,
            // no flags, stored, DOS time 0 and date 1980-01-01, CRC, sizes, name length, no extra.
            const auto common_fields = [&](std::vector<unsigned char>& to) {
                for (const auto& [value, bytes] : {std::pair<std::uint64_t, int>{20, 2}, {0, 2}, {0, 2}, {0, 2},
                                                   {0x21, 2}, {crc, 4}, {size, 4}, {size, 4}, {name.size(), 2},
                                                   {0, 2}}) {
                    detail::put_le(to, value, bytes);
                }
            };
            std::vector<unsigned char> local;
            detail::put_le(local, 0x04034b50U, 4);
            common_fields(local);
            local.insert(local.end(), name.begin(), name.end());
            local.insert(local.end(), prefix.begin(), prefix.end());
            out.write(reinterpret_cast<const char*>(local.data()), static_cast<std::streamsize>(local.size()));
            out.write(reinterpret_cast<const char*>(array.bytes.data()), static_cast<std::streamsize>(array.bytes.size()));
            detail::put_le(directory, 0x02014b50U, 4);
            detail::put_le(directory, 20, 2);  // made by version 2.0
            common_fields(directory);
            detail::put_le(directory, 0, 2);  // comment length
            detail::put_le(directory, 0, 2);  // disk number
            detail::put_le(directory, 0, 2);  // internal attributes
            detail::put_le(directory, 0x81A4U << 16, 4);  // a regular file, rw-r--r--
            detail::put_le(directory, offset, 4);
            directory.insert(directory.end(), name.begin(), name.end());
            offset += 30 + name.size() + size;
        }
        if (offset >= 0xFFFFFFFFULL) {
            throw FileError(detail::concat(where, ": the arrays are too large for this writer (4 GiB)"));
        }
        std::vector<unsigned char> end = directory;
        detail::put_le(end, 0x06054b50U, 4);
        detail::put_le(end, 0, 2);
        detail::put_le(end, 0, 2);
        detail::put_le(end, arrays.size(), 2);
        detail::put_le(end, arrays.size(), 2);
        detail::put_le(end, directory.size(), 4);
        detail::put_le(end, offset, 4);
        detail::put_le(end, 0, 2);
        out.write(reinterpret_cast<const char*>(end.data()), static_cast<std::streamsize>(end.size()));
    });
}

/// The arrays of an .npz archive held in memory, by name (without ".npy");
/// `name_for_messages` is used in messages. Throws FileError for a damaged or compressed
/// archive, or an entry that is not a .npy array.
inline std::map<std::string, NpyArray> parse_npz(const std::vector<unsigned char>& file, const std::string& name_for_messages) {
    const char* where = "read_npz";
    const auto fail = [&](const std::string& what) -> FileError {
        return FileError(detail::concat(where, ": '", printable(name_for_messages), "' ", what));
    };
    if (file.size() < 22 || detail::get_le(file, 0, 4, where) != 0x04034b50U) {
        throw fail("is not an .npz (zip) archive");
    }
    // The end-of-central-directory record is in the last 22 + 65535 bytes.
    std::size_t end = std::string::npos;
    for (std::size_t i = file.size() - 22 + 1; i-- > 0 && file.size() - i <= 22 + 65535;) {
        if (detail::get_le(file, i, 4, where) == 0x06054b50U) {
            end = i;
            break;
        }
    }
    if (end == std::string::npos) {
        throw fail("is truncated or not a zip archive (no end of central directory)");
    }
    std::uint64_t entries = detail::get_le(file, end + 10, 2, where);
    std::uint64_t directory_offset = detail::get_le(file, end + 16, 4, where);
    if (directory_offset == 0xFFFFFFFFU || entries == 0xFFFFU) {
        // Zip64: the locator sits right before the end record.
        if (end < 20 || detail::get_le(file, end - 20, 4, where) != 0x07064b50U) {
            throw fail("has a damaged zip64 directory");
        }
        const auto record = detail::get_le(file, end - 20 + 8, 8, where);
        if (record > file.size() || detail::get_le(file, static_cast<std::size_t>(record), 4, where) != 0x06064b50U) {
            throw fail("has a damaged zip64 directory");
        }
        entries = detail::get_le(file, static_cast<std::size_t>(record) + 32, 8, where);
        directory_offset = detail::get_le(file, static_cast<std::size_t>(record) + 48, 8, where);
    }
    std::map<std::string, NpyArray> arrays;
    std::map<std::size_t, std::size_t> extents;  // start -> end of every entry: entries may not overlap
    if (directory_offset > file.size()) {
        throw fail("has a damaged zip directory");
    }
    std::size_t at = static_cast<std::size_t>(directory_offset);
    for (std::uint64_t e = 0; e < entries; ++e) {
        if (detail::get_le(file, at, 4, where) != 0x02014b50U) {
            throw fail("has a damaged zip directory");
        }
        const auto method = detail::get_le(file, at + 10, 2, where);
        const auto checksum = detail::get_le(file, at + 16, 4, where);
        std::uint64_t compressed = detail::get_le(file, at + 20, 4, where);
        std::uint64_t size = detail::get_le(file, at + 24, 4, where);
        const auto name_length = static_cast<std::size_t>(detail::get_le(file, at + 28, 2, where));
        const auto extra_length = static_cast<std::size_t>(detail::get_le(file, at + 30, 2, where));
        const auto comment_length = static_cast<std::size_t>(detail::get_le(file, at + 32, 2, where));
        std::uint64_t local = detail::get_le(file, at + 42, 4, where);
        if (at + 46 + name_length > file.size()) {
            throw fail("is truncated");
        }
        std::string name(file.begin() + static_cast<long>(at + 46),
                         file.begin() + static_cast<long>(at + 46 + name_length));
        // Zip64 extra field: the 64-bit values of the fields set to 0xFFFFFFFF, in order.
        std::size_t extra = at + 46 + name_length;
        const std::size_t extra_end = extra + extra_length;
        while (extra + 4 <= extra_end) {
            const auto id = detail::get_le(file, extra, 2, where);
            const auto length = static_cast<std::size_t>(detail::get_le(file, extra + 2, 2, where));
            if (id == 0x0001) {
                std::size_t field = extra + 4;
                if (size == 0xFFFFFFFFU) {
                    size = detail::get_le(file, field, 8, where);
                    field += 8;
                }
                if (compressed == 0xFFFFFFFFU) {
                    compressed = detail::get_le(file, field, 8, where);
                    field += 8;
                }
                if (local == 0xFFFFFFFFU) {
                    local = detail::get_le(file, field, 8, where);
                }
            }
            extra += 4 + length;
        }
        at = extra_end + comment_length;
        if (method != 0) {
            throw fail(detail::concat("entry '", printable(name), "' is compressed (method ", method,
                                      "); save with np.savez, not np.savez_compressed"));
        }
        if (local > file.size()) {
            throw fail(detail::concat("entry '", printable(name), "' has a damaged header"));
        }
        const auto l = static_cast<std::size_t>(local);
        if (detail::get_le(file, l, 4, where) != 0x04034b50U) {
            throw fail(detail::concat("entry '", printable(name), "' has a damaged header"));
        }
        const auto data_start = l + 30 + static_cast<std::size_t>(detail::get_le(file, l + 26, 2, where)) +
                                static_cast<std::size_t>(detail::get_le(file, l + 28, 2, where));
        if (data_start > file.size() || size > file.size() - data_start || compressed != size) {
            throw fail(detail::concat("is truncated (entry '", printable(name), "' needs ", size, " bytes)"));
        }
        // Entries that share bytes would let a small file stand for many large arrays.
        const std::size_t entry_end = data_start + static_cast<std::size_t>(size);
        const auto next = extents.lower_bound(l);
        if ((next != extents.end() && next->first < entry_end) ||
            (next != extents.begin() && std::prev(next)->second > l)) {
            throw fail(detail::concat("has entries that overlap (entry '", printable(name), "'); not a valid archive"));
        }
        extents.emplace(l, entry_end);
        if (arrays.count(name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0
                             ? name.substr(0, name.size() - 4)
                             : name) != 0) {
            throw fail(detail::concat("has two entries named '", printable(name), "'"));
        }
        const std::vector<unsigned char> data(file.begin() + static_cast<long>(data_start),
                                              file.begin() + static_cast<long>(data_start + size));
        if (detail::crc32(data.data(), data.size()) != checksum) {
            throw fail(detail::concat("entry '", printable(name), "' fails its checksum (corrupt file)"));
        }
        if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) {
            name.resize(name.size() - 4);
        }
        arrays[name] = detail::parse_npy(data, name, where);
    }
    return arrays;
}

/// Reads every array of an .npz archive written by np.savez (or write_npz).
/// Compressed archives (np.savez_compressed) are refused with a clear message. Throws
/// FileError as parse_npz does, and when the file cannot be read.
inline std::map<std::string, NpyArray> read_npz(const std::filesystem::path& path) {
    return parse_npz(read_file_bytes(path, "read_npz"), path.string());
}

}  // namespace nndl
