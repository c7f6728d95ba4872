#pragma once
// File helpers shared by nndl's readers and writers: whole-file reads, and
// writes that never leave a half-written file behind.

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include "../errors.hpp"

namespace nndl {

/// The bytes of a file; throws FileError naming the function and the path.
inline std::vector<unsigned char> read_file_bytes(const std::filesystem::path& path, const char* where) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        throw FileError(detail::concat(where, ": '", path.string(), "' is a folder, expected a file"));
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw FileError(detail::concat(where, ": cannot open '", path.string(), "': ", std::strerror(errno)));
    }
    std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) {
        throw FileError(detail::concat(where, ": error reading '", path.string(), "'"));
    }
    return bytes;
}

/// The bytes of a regular file of at most `max_bytes`, checked before reading, so a
/// device (/dev/zero), a pipe or an oversized file is refused instead of read without end.
inline std::vector<unsigned char> read_regular_file(const std::filesystem::path& path, const char* where,
                                                    std::uintmax_t max_bytes) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status)) {
        throw FileError(detail::concat(where, ": cannot open '", path.string(), "': no such file"));
    }
    if (!std::filesystem::is_regular_file(status)) {
        throw FileError(detail::concat(where, ": '", path.string(), "' is not a regular file, expected a file"));
    }
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (ec || size > max_bytes) {
        throw FileError(detail::concat(where, ": '", path.string(), "' has ", ec ? std::string("an unknown") :
                                       std::to_string(size), " bytes, more than the ", max_bytes, " accepted"));
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw FileError(detail::concat(where, ": cannot open '", path.string(), "': ", std::strerror(errno)));
    }
    std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
    if (static_cast<std::uintmax_t>(in.gcount()) != size || in.peek() != std::char_traits<char>::eof()) {
        throw FileError(detail::concat(where, ": error reading '", path.string(), "' (it changed while read?)"));
    }
    return bytes;
}

/// Writes a file atomically: `write` fills a temporary file in the target's folder,
/// which is flushed and then renamed over the target. If anything fails, the
/// previous file (if any) is left untouched and the temporary file is removed.
inline void write_file_atomically(const std::filesystem::path& path, const char* where,
                                  const std::function<void(std::ofstream&)>& write) {
    // Renaming over a device (/dev/null), a pipe or a folder would replace it with a file.
    std::error_code status_error;
    const auto status = std::filesystem::status(path, status_error);
    if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
        throw FileError(detail::concat(where, ": '", path.string(),
                                       "' exists and is not a regular file; expected a file to create or replace"));
    }
    const std::filesystem::path temporary = path.string() + ".tmp";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (!out) {
            throw FileError(detail::concat(where, ": cannot write '", path.string(), "': ", std::strerror(errno)));
        }
        try {
            write(out);
        } catch (...) {
            out.close();
            std::error_code ignored;
            std::filesystem::remove(temporary, ignored);
            throw;
        }
        out.flush();
        if (!out) {
            out.close();
            std::error_code ignored;
            std::filesystem::remove(temporary, ignored);
            throw FileError(detail::concat(where, ": writing '", path.string(), "' failed (disk full?)"));
        }
    }
    std::error_code ec;
    std::filesystem::rename(temporary, path, ec);
    if (ec) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw FileError(detail::concat(where, ": cannot replace '", path.string(), "': ", ec.message()));
    }
}

inline void write_bytes_atomically(const std::filesystem::path& path, const char* where,
                                   const std::vector<unsigned char>& bytes) {
    write_file_atomically(path, where, [&](std::ofstream& out) {
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    });
}

}  // namespace nndl
