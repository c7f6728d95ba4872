// IDX reader: plain and gzip files, the Fashion-MNIST package, broken files.
#include "test_support.hpp"

#include <nndl/data/idx.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

std::vector<unsigned char> idx_bytes(const std::vector<std::size_t>& dims, const std::vector<unsigned char>& values,
                                     unsigned char type = 0x08) {
    std::vector<unsigned char> out = {0, 0, type, static_cast<unsigned char>(dims.size())};
    for (auto d : dims) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            out.push_back(static_cast<unsigned char>((d >> shift) & 0xFF));
        }
    }
    out.insert(out.end(), values.begin(), values.end());
    return out;
}

void write_plain(const fs::path& p, const std::vector<unsigned char>& bytes) {
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write_gzip(const fs::path& p, const std::vector<unsigned char>& bytes) {
    gzFile f = gzopen(p.string().c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) == static_cast<int>(bytes.size()));
    gzclose(f);
}

}  // namespace

TEST_CASE("idx: plain and gzip files give the same data set") {
    const fs::path dir = fs::temp_directory_path() / ("nndl_test_idx_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    // Two 2x3 images and their labels.
    const std::vector<unsigned char> pixels = {0, 51, 102, 153, 204, 255, 255, 0, 0, 0, 0, 255};
    write_plain(dir / "images", idx_bytes({2, 2, 3}, pixels));
    write_plain(dir / "labels", idx_bytes({2}, {7, 1}));
    write_gzip(dir / "images.gz", idx_bytes({2, 2, 3}, pixels));
    write_gzip(dir / "labels.gz", idx_bytes({2}, {7, 1}));
    const auto plain = nndl::load_idx_dataset<double>(dir / "images", dir / "labels");
    const auto zipped = nndl::load_idx_dataset<float>(dir / "images.gz", dir / "labels.gz");
    CHECK(plain.height == 2);
    CHECK(plain.width == 3);
    REQUIRE(plain.x.rows() == 6);
    REQUIRE(plain.x.cols() == 2);
    CHECK(plain.x(1, 0) == doctest::Approx(0.2));
    CHECK(plain.x(5, 1) == 1.0);
    CHECK(plain.y(0, 0) == 7);
    CHECK(plain.y(0, 1) == 1);
    CHECK(zipped.x.cast<double>().isApprox(plain.x, 1e-7));
    CHECK(zipped.y.cast<double>() == plain.y);

    // Broken files.
    const auto error = [&](const fs::path& images, const fs::path& labels) {
        return nndl_test::message_of<nndl::FileError>([&] { nndl::load_idx_dataset<double>(images, labels); });
    };
    write_plain(dir / "magic", {1, 2, 8, 1, 0, 0, 0, 1, 5});
    CHECK(error(dir / "magic", dir / "labels").find("wrong magic number") != std::string::npos);
    write_plain(dir / "type", idx_bytes({2}, {1, 2}, 0x0D));
    CHECK(error(dir / "images", dir / "type").find("expected 0x08 (unsigned bytes)") != std::string::npos);
    auto truncated = idx_bytes({2, 2, 3}, pixels);
    truncated.resize(truncated.size() - 5);
    write_gzip(dir / "truncated.gz", truncated);
    CHECK(error(dir / "truncated.gz", dir / "labels").find("is truncated or corrupt: the data needs 12 bytes, got 7") !=
          std::string::npos);
    write_plain(dir / "three_labels", idx_bytes({3}, {1, 2, 3}));
    CHECK(error(dir / "images", dir / "three_labels").find("has 2 images but") != std::string::npos);
    CHECK(error(dir / "labels", dir / "labels").find("expected 3 (images, rows, columns)") != std::string::npos);
    CHECK(error(dir / "none", dir / "labels").find("does not exist") != std::string::npos);
    write_plain(dir / "huge", idx_bytes({0xFFFFFF, 0xFFFFFF, 0xFFFF}, {}));
    CHECK(error(dir / "huge", dir / "labels").find("declares more values than") != std::string::npos);
    fs::remove_all(dir);
}

// ctest runs this case on its own (test_idx_fashion_mnist), and reports it skipped
// where the package is not installed.
TEST_CASE("idx: the Fashion-MNIST package") {
    const fs::path dir = "/usr/share/datasets/fashion-mnist";
    REQUIRE_MESSAGE(fs::exists(dir / "t10k-images-idx3-ubyte.gz"), "dataset-fashion-mnist is not installed");
    const auto test = nndl::load_idx_dataset<float>(dir / "t10k-images-idx3-ubyte.gz", dir / "t10k-labels-idx1-ubyte.gz");
    CHECK(test.x.rows() == 784);
    CHECK(test.x.cols() == 10000);
    CHECK(test.y.minCoeff() == 0);
    CHECK(test.y.maxCoeff() == 9);
    CHECK(test.x.minCoeff() == 0.0f);
    CHECK(test.x.maxCoeff() == 1.0f);
    // The test set is balanced: 1000 of each class.
    for (int k = 0; k < 10; ++k) {
        CHECK((test.y.array() == static_cast<float>(k)).count() == 1000);
    }
    const auto first = nndl::load_idx_dataset<double>(dir / "train-images-idx3-ubyte.gz", dir / "train-labels-idx1-ubyte.gz", 100);
    CHECK(first.x.cols() == 100);
}
