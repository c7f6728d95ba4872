// examples/output_files.hpp's Files, compiled once for every example program.
#include "../output_files.hpp"

#include "../charts.hpp"
#include "../command_line.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include <unistd.h>

namespace examples {

Files& Files::reads(const std::filesystem::path& file) {
    files_.push_back(file);
    return *this;
}

Files& Files::reads(const std::vector<std::string>& files) {
    files_.insert(files_.end(), files.begin(), files.end());
    return *this;
}

Files& Files::reads(const std::vector<std::filesystem::path>& files) {
    files_.insert(files_.end(), files.begin(), files.end());
    return *this;
}

Files& Files::reads_folder(const std::filesystem::path& folder) {
    folders_.push_back(folder);
    return *this;
}

Files& Files::writes(const std::string& option, const std::filesystem::path& path) {
    if (!path.empty()) {
        outputs_.push_back({option, path});
    }
    return *this;
}

Files& Files::writes_as(const std::string& option, const std::filesystem::path& path, const std::string& extension,
                 const std::string& what) {
    if (!path.empty()) {
        std::string given = path.extension().string();
        std::transform(given.begin(), given.end(), given.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (given != extension) {
            throw UsageError(option + " " + path.string() + ": expected a file name ending in " + extension + " (" +
                             what + " is written)");
        }
        writes(option, path);
    }
    return *this;
}

Files& Files::writes_png(const std::string& option, const std::filesystem::path& png) {
    return writes_as(option, png, ".png", "a PNG");
}

Files& Files::writes_chart(const std::string& option, const std::filesystem::path& png) {
    if (!png.empty()) {
        writes_png(option, png);
        writes(option + "'s data file", chart_data_path(png));
    }
    return *this;
}

void Files::check() const {
    for (const auto& in : files_) {
        std::error_code ec;
        const auto status = std::filesystem::status(in, ec);
        if (!std::filesystem::exists(status)) {
            throw UsageError("cannot read " + in.string() + ": no such file");
        }
        if (std::filesystem::is_directory(status)) {
            throw UsageError("cannot read " + in.string() + ": it is a folder, expected a file");
        }
    }
    for (std::size_t i = 0; i < outputs_.size(); ++i) {
        const auto& [option, path] = outputs_[i];
        const auto resolved = resolve(path);  // through links, a dangling one too: the file written
        const auto folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
        std::error_code ec;
        if (!std::filesystem::is_directory(folder, ec)) {
            throw UsageError(option + " " + path.string() + ": the folder " + folder.string() + " does not exist");
        }
        if (std::filesystem::is_symlink(std::filesystem::symlink_status(resolved, ec))) {
            throw UsageError(option + " " + path.string() + " is a link that leads nowhere (a loop of links)");
        }
        const auto status = std::filesystem::status(resolved, ec);
        if (path.filename().empty() || std::filesystem::is_directory(status)) {
            throw UsageError(option + " " + path.string() + " is a folder; expected a file name");
        }
        if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
            throw UsageError(option + " " + path.string() + " is not a regular file (a device or a pipe)");
        }
        if (resolved.filename().string().size() > 255) {
            throw UsageError(option + " " + path.string().substr(0, 60) + "...: the file name is longer than 255 "
                             "bytes");
        }
        if (::access(resolved.parent_path().c_str(), W_OK) != 0) {
            throw UsageError(option + " " + path.string() + ": cannot write in the folder " +
                             resolved.parent_path().string() + ": " + std::strerror(errno));
        }
        for (const auto& in : files_) {
            std::error_code ec;
            if (resolved == resolve(in) || std::filesystem::equivalent(path, in, ec)) {
                throw UsageError(option + " " + path.string() + " is a file this program reads; choose another "
                                 "name");
            }
        }
        for (const auto& folder : folders_) {
            const auto inside = resolve(folder);
            for (auto at = resolved.parent_path(); !at.empty(); at = at.parent_path()) {
                if (at == inside) {
                    throw UsageError(option + " " + path.string() + " is inside the data folder " +
                                     folder.string() + " this program reads; choose another place");
                }
                if (at == at.root_path()) {
                    break;
                }
            }
        }
        for (std::size_t j = 0; j < i; ++j) {
            if (resolve(outputs_[j].second) == resolved) {
                throw UsageError(option + " " + path.string() + " is also " + outputs_[j].first + "; each output "
                                 "needs its own file");
            }
        }
    }
}

std::filesystem::path Files::resolve(const std::filesystem::path& path) {
    std::error_code ec;
    auto target = std::filesystem::absolute(path, ec);
    // Follow links one at a time: weakly_canonical leaves a link to a file not made yet
    // unresolved, and the save would follow it.
    for (int hops = 0; hops < 40 && std::filesystem::is_symlink(std::filesystem::symlink_status(target, ec)); ++hops) {
        const auto next = std::filesystem::read_symlink(target, ec);
        if (ec) {
            break;
        }
        target = next.is_absolute() ? next : target.parent_path() / next;
    }
    auto resolved = std::filesystem::weakly_canonical(target, ec);
    return ec ? target.lexically_normal() : resolved;
}

}  // namespace examples
