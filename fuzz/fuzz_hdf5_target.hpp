#pragma once
// Fuzz target: arbitrary bytes as an .h5 file, read as the course's cat data set is (the
// HDF5 C library parses the file). See fuzz_file_targets.hpp.

#include <nndl/data/hdf5.hpp>

#include "fuzz_file_targets.hpp"

namespace nndl_fuzz {

/// The bytes as an .h5 file, read as the cat data set is.
inline void hdf5_file(const std::uint8_t* data, std::size_t size) {
    const auto path = scratch_path("input.h5");
    write_scratch(path, data, size);
    expect_clean_rejection([&] {
        // A smaller bound than the library's 4 GiB, so that a fuzzed header cannot exhaust the fuzzer's memory.
        const auto set = nndl::load_h5_image_set<float>(path, "train_set_x", "train_set_y", std::uintmax_t(1) << 26);
        if (set.x.cols() != set.y.cols() || !set.x.allFinite()) {
            throw std::logic_error("load_h5_image_set returned mismatched or non-finite data");
        }
    });
    expect_clean_rejection([&] { nndl::read_h5_array<double>(path, "train_set_y", std::uintmax_t(1) << 26); });
    std::filesystem::remove(path);
}

}  // namespace nndl_fuzz
