// Replays the fuzzers' seed corpus and every input that once crashed a reader
// (fuzz/regressions/) through the same entry points, in the normal and the
// sanitizer builds: each must be read or cleanly rejected.
#include "test_support.hpp"

#include "../fuzz/fuzz_file_targets.hpp"
#include "../fuzz/fuzz_hdf5_target.hpp"
#include "../fuzz/fuzz_targets.hpp"

#include <filesystem>

namespace fs = std::filesystem;

namespace {

std::size_t replay(const std::string& target, void (*entry)(const std::uint8_t*, std::size_t)) {
    std::size_t files = 0;
    for (const char* kind : {"fuzz/corpus/", "fuzz/regressions/"}) {
        const fs::path dir = fs::path(kind) / target;
        if (!fs::is_directory(dir)) {
            continue;
        }
        for (const auto& entry_file : fs::directory_iterator(dir)) {
            if (!entry_file.is_regular_file() || entry_file.path().filename() == "README.md") {
                continue;
            }
            const auto bytes = nndl::read_file_bytes(entry_file.path(), "replay");
            INFO(entry_file.path().string());
            CHECK_NOTHROW(entry(bytes.data(), bytes.size()));
            ++files;
        }
    }
    return files;
}

}  // namespace

TEST_CASE("fuzz corpus and regressions: model files") { CHECK(replay("npz", nndl_fuzz::model_file) >= 3); }
TEST_CASE("fuzz corpus and regressions: IDX files") { CHECK(replay("idx", nndl_fuzz::idx_file) >= 3); }
TEST_CASE("fuzz corpus and regressions: CSV files") { CHECK(replay("csv", nndl_fuzz::csv_file) >= 3); }
TEST_CASE("fuzz corpus and regressions: images") { CHECK(replay("image", nndl_fuzz::image_file) >= 4); }
TEST_CASE("fuzz corpus and regressions: HDF5 files") { CHECK(replay("hdf5", nndl_fuzz::hdf5_file) >= 4); }
TEST_CASE("fuzz corpus and regressions: image folders") {
    CHECK(replay("image_folder", nndl_fuzz::image_folder) >= 2);
}

TEST_CASE("fuzz entry points reject garbage without crashing") {
    const std::vector<std::uint8_t> junk = {0x50, 0x4b, 0x03, 0x04, 0xff, 0xff, 0xff, 0xff, 0, 1, 2, 3, 4, 5, 6, 7,
                                            8,    9,    10,   11,   12,   13,   14,   15,   16, 17, 18, 19, 20, 21};
    CHECK_NOTHROW(nndl_fuzz::model_file(junk.data(), junk.size()));
    CHECK_NOTHROW(nndl_fuzz::idx_file(junk.data(), junk.size()));
    CHECK_NOTHROW(nndl_fuzz::csv_file(junk.data(), junk.size()));
    CHECK_NOTHROW(nndl_fuzz::image_file(junk.data(), junk.size()));
    CHECK_NOTHROW(nndl_fuzz::image_file(junk.data(), 0));
    CHECK_NOTHROW(nndl_fuzz::hdf5_file(junk.data(), junk.size()));
    CHECK_NOTHROW(nndl_fuzz::image_folder(junk.data(), junk.size()));
}
