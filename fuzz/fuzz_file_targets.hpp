#pragma once
// Fuzz targets that go through files, as users call them: folders of images (listing,
// decoding, resizing) here, HDF5 files in fuzz_hdf5_target.hpp. Each input is written to
// a scratch file or folder of this process first. Shared by the libFuzzer harnesses
// (fuzz_readers.cpp, fuzz_hdf5.cpp) and tests/test_fuzz_replay.cpp.

#include <nndl/data/image.hpp>

#include "fuzz_rules.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace nndl_fuzz {

inline std::filesystem::path scratch_path(const std::string& name) {
    return std::filesystem::temp_directory_path() / ("nndl_fuzz_" + std::to_string(::getpid()) + "_" + name);
}

inline void write_scratch(const std::filesystem::path& path, const std::uint8_t* data, std::size_t size) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) {
        throw std::runtime_error("fuzz: cannot write the scratch file " + path.string());
    }
}

/// The bytes as a folder of images: split at every "\xff\xfe\xfd\xfc" into files, the
/// first half in class folder "a", the rest in "b", with the extensions nndl knows in turn.
inline void image_folder(const std::uint8_t* data, std::size_t size) {
    static const std::string separator = "\xff\xfe\xfd\xfc";
    static const char* const extensions[] = {".png", ".jpg", ".bmp", ".gif", ".tga", ".pnm"};
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> files;
    for (std::size_t start = 0;;) {
        const std::size_t end = bytes.find(separator, start);
        files.push_back(bytes.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos || files.size() == 8) {
            break;
        }
        start = end + separator.size();
    }
    const auto root = scratch_path("folder");
    std::filesystem::remove_all(root);
    std::filesystem::create_directories(root / "a");
    std::filesystem::create_directories(root / "b");
    for (std::size_t i = 0; i < files.size(); ++i) {
        const auto file = root / (i < (files.size() + 1) / 2 ? "a" : "b") / ("image" + std::to_string(i) + extensions[i % 6]);
        write_scratch(file, reinterpret_cast<const std::uint8_t*>(files[i].data()), files[i].size());
    }
    expect_clean_rejection([&] {
        nndl::ImageFolderOptions options;
        options.height = 8;
        options.width = 8;
        const auto set = nndl::load_image_folder<float>(root, options);
        if (set.x.rows() != 8 * 8 * 3 || set.x.cols() != set.y.cols() || set.files.size() != files.size()) {
            throw std::logic_error("load_image_folder returned the wrong shape");
        }
    });
    std::filesystem::remove_all(root);
}

}  // namespace nndl_fuzz
