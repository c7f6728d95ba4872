#pragma once
// Files: what a program reads and writes, checked before any work starts, so no output
// replaces an input and nothing fails after training. Compiled once for every example
// program in examples/support/output_files.cpp.
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace examples {

/// What a program reads and writes, checked before any work starts: no output replaces
/// a file the program reads, lands inside a folder it reads, or is written twice (a
/// chart's .csv included). Paths are compared after resolving links, so another name
/// for the same file is the same file.
class Files {
public:
    Files& reads(const std::filesystem::path& file);
    Files& reads(const std::vector<std::string>& files);
    Files& reads(const std::vector<std::filesystem::path>& files);
    Files& reads_folder(const std::filesystem::path& folder);
    /// An output named by `option` ("--save", "OUT"); nothing when `path` is empty.
    Files& writes(const std::string& option, const std::filesystem::path& path);
    /// A file whose name must end in `extension` (".png"), any case; `what` says what is
    /// written ("a PNG").
    Files& writes_as(const std::string& option, const std::filesystem::path& path, const std::string& extension,
                     const std::string& what);
    /// A PNG picture: its name must end in .png.
    Files& writes_png(const std::string& option, const std::filesystem::path& png);
    /// A chart: the picture and its data file.
    Files& writes_chart(const std::string& option, const std::filesystem::path& png);

    /// Throws UsageError (exit code 2) naming the option and the file. Also: every file
    /// read exists, and every output's folder exists, so nothing fails after training.
    void check() const;

private:
    static std::filesystem::path resolve(const std::filesystem::path& path);

    std::vector<std::filesystem::path> files_;
    std::vector<std::filesystem::path> folders_;
    std::vector<std::pair<std::string, std::filesystem::path>> outputs_;
};

}  // namespace examples
