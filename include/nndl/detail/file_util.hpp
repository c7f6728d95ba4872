#pragma once
// File helpers shared by nndl's readers and writers: whole-file reads, and
// writes that never leave a half-written file behind (POSIX: mkstemp, rename).

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include <fcntl.h>   // open
#include <stdlib.h>  // mkstemp
#include <sys/stat.h>  // fchmod, umask
#include <unistd.h>    // close, unlink

#include "../errors.hpp"

namespace nndl {

/// The largest file read_file_bytes reads (4 GiB): more than any model, data set or
/// image nndl reads, and a bound on what a wrong path can make it allocate.
inline constexpr std::uintmax_t max_file_bytes = std::uintmax_t(1) << 32;

/// The bytes of a regular file of at most `max_bytes`, checked before reading, so a
/// device (/dev/zero), a pipe or an oversized file is refused instead of read without end.
/// Throws FileError naming the function and the path.
inline std::vector<unsigned char> read_regular_file(const std::filesystem::path& path, const char* where,
                                                    std::uintmax_t max_bytes) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status)) {
        throw FileError(detail::concat(where, ": cannot open '", printable(path.string()), "': ", std::strerror(ENOENT)));
    }
    if (std::filesystem::is_directory(status)) {
        throw FileError(detail::concat(where, ": '", printable(path.string()), "' is a folder, expected a file"));
    }
    if (!std::filesystem::is_regular_file(status)) {
        throw FileError(detail::concat(where, ": '", printable(path.string()),
                                       "' is not a regular file (a device or a pipe), expected a file"));
    }
    // POSIX reads, not a stream: a stream reports a read error (EIO) as the end of the file.
    // O_NONBLOCK: should the path become a pipe after the check above, open does not wait.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        throw FileError(detail::concat(where, ": cannot open '", printable(path.string()), "': ", std::strerror(errno)));
    }
    struct stat info {};
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        ::close(fd);
        throw FileError(detail::concat(where, ": '", printable(path.string()), "' is not a regular file, expected a file"));
    }
    const auto size = static_cast<std::uintmax_t>(info.st_size);
    if (size > max_bytes) {
        ::close(fd);
        throw FileError(detail::concat(where, ": '", printable(path.string()), "' has ", size, " bytes, more than the ",
                                       max_bytes, " accepted"));
    }
    std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
    std::size_t done = 0;
    // One byte more than the size: a file that grows while read is noticed.
    unsigned char extra = 0;
    for (;;) {
        unsigned char* to = done < bytes.size() ? bytes.data() + done : &extra;
        const std::size_t want = done < bytes.size() ? bytes.size() - done : 1;
        const ssize_t got = ::read(fd, to, want);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            const int error = errno;
            ::close(fd);
            throw FileError(detail::concat(where, ": error reading '", printable(path.string()), "': ", std::strerror(error)));
        }
        if (got == 0 || done >= bytes.size()) {
            ::close(fd);
            if (done != bytes.size() || got != 0) {
                throw FileError(detail::concat(where, ": error reading '", printable(path.string()), "': it has ",
                                               done + (got > 0 ? 1 : 0), got > 0 ? " or more" : "",
                                               " bytes where its size said ", bytes.size(),
                                               " (it changed while being read, or is not a plain file, as in /proc)"));
            }
            return bytes;
        }
        done += static_cast<std::size_t>(got);
    }
}

/// The bytes of a regular file of at most max_file_bytes (see read_regular_file).
inline std::vector<unsigned char> read_file_bytes(const std::filesystem::path& path, const char* where) {
    return read_regular_file(path, where, max_file_bytes);
}

namespace detail {

/// The temporary file write_file_atomically is filling, kept where a signal handler can
/// read it without allocating (the last one started, for programs that save one at a time).
struct PendingTemporary {
    char path[4096] = {};
    volatile std::sig_atomic_t active = 0;
};
inline PendingTemporary& pending_temporary() {
    static PendingTemporary pending;
    return pending;
}

inline void remove_pending_temporary_and_reraise(int signal_number) {
    PendingTemporary& pending = pending_temporary();
    if (pending.active != 0) {
        ::unlink(pending.path);  // async-signal-safe
    }
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
}

/// Clears the pending temporary when the write ends, however it ends.
class PendingTemporaryScope {
public:
    explicit PendingTemporaryScope(const std::string& path) {
        PendingTemporary& pending = pending_temporary();
        if (path.size() < sizeof pending.path) {
            pending.active = 0;
            std::memcpy(pending.path, path.c_str(), path.size() + 1);
            pending.active = 1;
        }
    }
    ~PendingTemporaryScope() { pending_temporary().active = 0; }
    PendingTemporaryScope(const PendingTemporaryScope&) = delete;
    PendingTemporaryScope& operator=(const PendingTemporaryScope&) = delete;
};

}  // namespace detail

/// While it lives, `path` (a temporary file of the program's own, at most 4095 characters)
/// is removed when a signal that remove_temporary_files_on_signals() handles ends the
/// program. One file at a time: a later scope replaces an earlier one. save_network,
/// save_onnx and the PNG writers keep their temporary files this way.
using TemporaryFileScope = detail::PendingTemporaryScope;

/// For programs: on SIGINT, SIGTERM and SIGHUP, removes the temporary file of a save in progress,
/// then ends the program as the signal would have. A library installs no handler by
/// itself; nndl's example programs call this first.
inline void remove_temporary_files_on_signals() {
    for (const int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
        // A signal the shell set to be ignored (a background job's SIGINT) stays ignored.
        if (std::signal(signal_number, detail::remove_pending_temporary_and_reraise) == SIG_IGN) {
            std::signal(signal_number, SIG_IGN);
        }
    }
}

/// Writes a file atomically: `write` fills a temporary file of a unique name
/// (".NAME.XXXXXX", made by mkstemp) in the target's folder, which is flushed and then
/// renamed over the target. If anything fails, the previous file (if any) is left
/// untouched and the temporary file is removed. A symbolic link stays a link: the file
/// it points to is replaced. An existing file keeps its permissions; a new one gets
/// 0666 less the umask, as any new file. Devices, pipes and folders are refused.
inline void write_file_atomically(const std::filesystem::path& path, const char* where,
                                  const std::function<void(std::ofstream&)>& write) {
    std::error_code ec;
    std::filesystem::path target = path;
    // Follow links one step at a time, so a link to a file not yet made is followed too.
    for (int hops = 0; std::filesystem::is_symlink(std::filesystem::symlink_status(target, ec)); ++hops) {
        const std::filesystem::path next = std::filesystem::read_symlink(target, ec);
        if (ec || hops == 40) {
            throw FileError(detail::concat(where, ": cannot follow the link '", printable(path.string()), "'",
                                           ec ? ": " + ec.message() : std::string(": too many levels of links")));
        }
        target = next.is_absolute() ? next : target.parent_path() / next;
    }
    // Renaming over a device (/dev/null), a pipe or a folder would replace it with a file.
    const auto status = std::filesystem::status(target, ec);
    const bool exists = std::filesystem::exists(status);
    if (exists && !std::filesystem::is_regular_file(status)) {
        throw FileError(detail::concat(where, ": '", printable(path.string()),
                                       "' exists and is not a regular file; expected a file to create or replace"));
    }
    const std::filesystem::path folder = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
    std::string name = (folder / ("." + target.filename().string() + ".XXXXXX")).string();
    const int fd = ::mkstemp(name.data());
    if (fd < 0) {
        throw FileError(detail::concat(where, ": cannot write '", printable(path.string()), "': ", std::strerror(errno)));
    }
    mode_t mode = 0;
    if (exists) {
        mode = static_cast<mode_t>(status.permissions()) & 07777;
    } else {
        const mode_t mask = ::umask(0);  // read it: there is no other way
        ::umask(mask);
        mode = 0666 & ~mask;
    }
    ::fchmod(fd, mode);
    ::close(fd);
    const std::filesystem::path temporary = name;
    const detail::PendingTemporaryScope pending(name);
    const auto fail = [&](const std::string& message) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        throw FileError(message);
    };
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (!out) {
            fail(detail::concat(where, ": cannot write '", printable(path.string()), "': ", std::strerror(errno)));
        }
        errno = 0;  // what a failing write sets is the reason given below
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
            const int error = errno;
            out.close();
            fail(detail::concat(where, ": writing '", printable(path.string()), "' failed: ",
                                error != 0 ? std::strerror(error) : "the stream failed (disk full?)"));
        }
    }
    std::filesystem::rename(temporary, target, ec);
    if (ec) {
        fail(detail::concat(where, ": cannot replace '", printable(path.string()), "': ", ec.message()));
    }
}

inline void write_bytes_atomically(const std::filesystem::path& path, const char* where,
                                   const std::vector<unsigned char>& bytes) {
    write_file_atomically(path, where, [&](std::ofstream& out) {
        out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    });
}

}  // namespace nndl
