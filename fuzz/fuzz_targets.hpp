#pragma once
// What the fuzzers feed with arbitrary bytes: nndl's readers of model files, IDX
// files, CSV point sets and images. Rejections (nndl's exceptions) are the
// expected outcome for most inputs; a crash, a hang, a sanitizer report or any
// other exception is a bug. Shared by the libFuzzer harnesses (fuzz_*.cpp) and by
// tests/test_fuzz_replay.cpp, which replays the corpus and every past crash.

#include <nndl/data/idx.hpp>
#include <nndl/data/image.hpp>
#include <nndl/all.hpp>

#include "fuzz_rules.hpp"

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace nndl_fuzz {

inline void model_file(const std::uint8_t* data, std::size_t size) {
    const std::vector<unsigned char> bytes(data, data + size);
    expect_clean_rejection([&] {
        const auto arrays = nndl::parse_npz(bytes, "fuzz.npz");
        auto network = nndl::network_from_npz<double>(arrays, "fuzz.npz");
        if (network.depth() == 0) {
            throw std::logic_error("network_from_npz returned a network without layers");
        }
        if (network.input_size() <= (1 << 16)) {  // a column of that size is cheap to build
            const nndl::Matrix<double> x = nndl::Matrix<double>::Constant(network.input_size(), 2, 0.5);
            const auto p = network.predict_proba(x);
            if (p.rows() != network.output_size() || p.cols() != 2) {
                throw std::logic_error("predict_proba returned the wrong shape");
            }
        }
    });
}

inline void idx_file(const std::uint8_t* data, std::size_t size) {
    const std::vector<unsigned char> bytes(data, data + size);
    expect_clean_rejection([&] {
        const auto array = nndl::parse_idx(nndl::gunzip_if_compressed(bytes, "fuzz.idx", 1 << 24), "fuzz.idx");
        std::size_t count = 1;
        for (auto d : array.dims) {
            count *= d;
        }
        if (count != array.values.size()) {
            throw std::logic_error("parse_idx returned a wrong number of values");
        }
        if (array.dims.size() == 3 && array.dims[0] <= (1u << 16)) {
            // As an image set (with labels to match): the image size must not overflow.
            nndl::IdxArray labels{{array.dims[0]}, std::vector<unsigned char>(array.dims[0], 1)};
            const auto set = nndl::idx_dataset<float>(array, labels, "fuzz.idx", "labels.idx");
            if (set.x.rows() != set.height * set.width || set.x.cols() != static_cast<nndl::Index>(array.dims[0])) {
                throw std::logic_error("idx_dataset returned the wrong shape");
            }
        }
    });
}

inline void csv_file(const std::uint8_t* data, std::size_t size) {
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    expect_clean_rejection([&] {
        const auto set = nndl::parse_csv_points<double>(in, "fuzz.csv");
        if (!set.x.allFinite() || set.x.cols() != set.y.cols()) {
            throw std::logic_error("parse_csv_points returned non-finite or mismatched data");
        }
    });
    // The general reader: the first byte picks the options (delimiter, header, targets,
    // a select column) and the rest is the table, read as float (range checks included).
    if (size == 0) {
        return;
    }
    nndl::CsvOptions options;
    const std::uint8_t pick = data[0];
    options.delimiter = "\t;, "[pick & 3];
    options.header = static_cast<nndl::CsvHeader>((pick >> 2) % 3);
    options.target_columns = (pick & 0x20) != 0 ? std::vector<long>{0, -1} : std::vector<long>{-1};
    if ((pick & 0x40) != 0) {
        options.select_column = "split";
        options.select_value = "train";
    }
    if ((pick & 0x80) != 0) {
        options.target_names = {"y"};
    }
    std::istringstream table(std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
    expect_clean_rejection([&] {
        const auto read = nndl::parse_csv<float>(table, "fuzz.csv", options);
        if (!read.x.allFinite() || !read.y.allFinite() || read.x.cols() != read.y.cols() ||
            read.feature_names.size() != static_cast<std::size_t>(read.x.rows()) ||
            read.target_names.size() != static_cast<std::size_t>(read.y.rows())) {
            throw std::logic_error("parse_csv returned non-finite or mismatched data");
        }
    });
}

inline void image_file(const std::uint8_t* data, std::size_t size) {
    const std::vector<unsigned char> bytes(data, data + size);
    expect_clean_rejection([&] {
        const auto image = nndl::decode_image_rgb(bytes, "fuzz.img");
        if (image.height <= 1024 && image.width <= 1024) {
            const auto column = nndl::image_to_column<float>(image, 8, 8);
            if (column.size() != 8 * 8 * 3) {
                throw std::logic_error("image_to_column returned the wrong size");
            }
        }
    });
}

}  // namespace nndl_fuzz
