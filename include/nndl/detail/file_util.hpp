#pragma once
// File helpers shared by nndl's readers and writers: whole-file reads, and
// writes that never leave a half-written file behind.

#include <cerrno>
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
