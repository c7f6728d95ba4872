// Image loading (stb): formats, conversions, errors, and the cat image folders
// against the pixel sums in data/README.md.
#include "test_support.hpp"

#include <nndl/data/image.hpp>

#include <cstdio>
#include <filesystem>
#include <unistd.h>
#include <fstream>

namespace fs = std::filesystem;
using nndl::Index;

namespace {

long long pixel_sum(const nndl::Matrix<double>& x) {
    long long sum = 0;
    for (Index j = 0; j < x.cols(); ++j) {
        for (Index i = 0; i < x.rows(); ++i) {
            sum += std::llround(x(i, j) * 255.0);
        }
    }
    return sum;
}

}  // namespace

TEST_CASE("image folder: the cat data set has the documented counts and pixel sums") {
    nndl::ImageFolderOptions options;
    options.classes = {"non-cat", "cat"};
    options.order = nndl::FolderOrder::by_file_name;
    const auto train = nndl::load_image_folder<double>("data/catvnoncat/train", options);
    const auto test = nndl::load_image_folder<double>("data/catvnoncat/test", options);
    CHECK(train.x.rows() == 12288);
    CHECK(train.x.cols() == 209);
    CHECK(test.x.cols() == 50);
    CHECK(train.y.sum() == 72);
    CHECK(test.y.sum() == 33);
    CHECK(pixel_sum(train.x) == 264542077);
    CHECK(pixel_sum(test.x) == 65969547);
    CHECK(train.class_names == std::vector<std::string>{"non-cat", "cat"});
    CHECK(train.files.front().filename() == "000.png");
    CHECK(train.x.minCoeff() >= 0.0);
    CHECK(train.x.maxCoeff() <= 1.0);

    // Default order: class by class, classes sorted by name (cat = 0, non-cat = 1).
    const auto by_class = nndl::load_image_folder<float>("data/catvnoncat/test");
    CHECK(by_class.class_names == std::vector<std::string>{"cat", "non-cat"});
    CHECK(by_class.y.leftCols(33).isZero());
    CHECK((by_class.y.rightCols(17).array() == 1.0f).all());
}

TEST_CASE("image: grayscale and RGBA become RGB; photos are resized and flattened (h, w, c)") {
    const fs::path dir = nndl_test::scratch_dir("test_image");
    // A 2x3 grayscale and a 2x3 RGBA image, written with stb_image_write.
    const unsigned char gray[6] = {0, 50, 100, 150, 200, 255};
    REQUIRE(stbi_write_png((dir / "gray.png").string().c_str(), 3, 2, 1, gray, 3));
    unsigned char rgba[24];
    for (int i = 0; i < 6; ++i) {
        rgba[4 * i] = static_cast<unsigned char>(10 * i);
        rgba[4 * i + 1] = static_cast<unsigned char>(20 * i);
        rgba[4 * i + 2] = static_cast<unsigned char>(30 * i);
        rgba[4 * i + 3] = 128;
    }
    REQUIRE(stbi_write_png((dir / "rgba.png").string().c_str(), 3, 2, 4, rgba, 12));

    const auto g = nndl::load_image_rgb(dir / "gray.png");
    CHECK(g.height == 2);
    CHECK(g.width == 3);
    CHECK(g.channels == 3);
    CHECK(g(1, 0, 0) == 150);
    CHECK(g(1, 0, 2) == 150);
    const auto c = nndl::load_image_rgb(dir / "rgba.png");
    CHECK(c(1, 2, 0) == 50);  // pixel 5 = (50, 100, 150)
    CHECK(c(1, 2, 2) == 150);

    const auto column = nndl::image_to_column<double>(c, 2, 3);  // already that size: no resampling
    REQUIRE(column.rows() == 18);
    CHECK(column(3 * (1 * 3 + 2) + 1) == doctest::Approx(100.0 / 255.0));

    const auto photo = nndl::load_image_column<float>("data/images/chelsea.png");
    CHECK(photo.rows() == 64 * 64 * 3);
    CHECK(photo.minCoeff() >= 0.0f);
    CHECK(photo.maxCoeff() <= 1.0f);

    // A 1x1 image scales up to the model's size.
    const unsigned char one[3] = {255, 0, 0};
    REQUIRE(stbi_write_png((dir / "one.png").string().c_str(), 1, 1, 3, one, 3));
    const auto red = nndl::load_image_column<double>(dir / "one.png", 4, 4);
    CHECK(red(0) == 1.0);
    CHECK(red(1) == 0.0);
    CHECK(red(3 * 15) == 1.0);
    fs::remove_all(dir);
}

TEST_CASE("image: loaded with the channels a model's input shape has") {
    const fs::path dir = nndl_test::scratch_dir("test_image");
    const unsigned char gray[6] = {0, 50, 100, 150, 200, 255};
    REQUIRE(stbi_write_png((dir / "gray.png").string().c_str(), 3, 2, 1, gray, 3));
    const unsigned char red[3] = {255, 0, 0};
    REQUIRE(stbi_write_png((dir / "red.png").string().c_str(), 1, 1, 3, red, 3));

    const auto g = nndl::load_image(dir / "gray.png", 1);
    CHECK(g.channels == 1);
    CHECK(g(1, 2, 0) == 255);
    const auto column = nndl::load_image_column<double>(dir / "gray.png", nndl::Shape::image(2, 3, 1));
    REQUIRE(column.rows() == 6);
    for (Index i = 0; i < 6; ++i) {
        CHECK(column(i) == static_cast<double>(gray[i]) / 255.0);
    }
    // stb's luminance of pure red: (77 r + 150 g + 29 b) >> 8 = 76
    CHECK(nndl::load_image(dir / "red.png", 1)(0, 0, 0) == 76);
    CHECK(nndl::load_image(dir / "gray.png", 4)(0, 1, 3) == 255);  // opaque alpha added

    CHECK_THROWS_WITH_AS(nndl::load_image(dir / "gray.png", 5),
                         doctest::Contains("load_image: 5 channels asked for"), nndl::InvalidArgument);
    CHECK_THROWS_WITH_AS(nndl::load_image_column<double>(dir / "gray.png", nndl::Shape(12)),
                         doctest::Contains("load_image_column: input shape 1x1x12 (height x width x channels), "
                                           "expected an image of 1 to 4 channels"),
                         nndl::InvalidArgument);
    // A 1x1 image is an image; one wider than nndl decodes is refused before resizing.
    CHECK(nndl::load_image_column<double>(dir / "red.png", nndl::Shape::image(1, 1, 3)) ==
          nndl::Vector<double>::Unit(3, 0));
    CHECK_THROWS_WITH_AS(nndl::load_image_column<double>(dir / "red.png", nndl::Shape::image(1, 1LL << 31, 1)),
                         doctest::Contains("at most 134217728 pixels"), nndl::InvalidArgument);
    CHECK_THROWS_WITH_AS(nndl::load_image(dir / "missing.png", 1), doctest::Contains("load_image: "), nndl::FileError);
    fs::remove_all(dir);
}

TEST_CASE("image: bad files give FileError naming the file") {
    const fs::path dir = nndl_test::scratch_dir("test_image");
    { std::ofstream(dir / "text.png") << "this is not an image"; }
    { std::ofstream(dir / "empty.png"); }
    // The first 100 bytes of a real PNG: a truncated file.
    const auto bytes = nndl::read_file_bytes("data/catvnoncat/test/cat/001.png", "test");
    {
        std::ofstream out(dir / "truncated.png", std::ios::binary);
        out.write(reinterpret_cast<const char*>(bytes.data()), 100);
    }
    const auto message = [](const fs::path& p) {
        return nndl_test::message_of<nndl::FileError>([&] { nndl::load_image_rgb(p); });
    };
    CHECK(message(dir / "text.png").find("load_image_rgb: '" + (dir / "text.png").string() + "' is not an image") == 0);
    CHECK(message(dir / "empty.png").find("is empty, expected an image file") != std::string::npos);
    CHECK(message(dir / "truncated.png").find("load_image_rgb: ") == 0);
    CHECK(message(dir / "missing.png").find("cannot open") != std::string::npos);
    CHECK(message(dir).find("is a folder") != std::string::npos);

    // A PNG whose header claims 100000 x 100000 pixels is refused before decoding.
    {
        std::vector<unsigned char> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                                          0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0, 8, 2, 0, 0, 0, 0, 0, 0, 0};
        std::ofstream out(dir / "huge.png", std::ios::binary);
        out.write(reinterpret_cast<const char*>(png.data()), static_cast<std::streamsize>(png.size()));
    }
    const auto huge = message(dir / "huge.png");
    INFO(huge);
    // stb itself calls it "unknown image type"; the size is what is wrong with it.
    CHECK(huge.find("is a PNG of 100000x100000 pixels, expected at most 134217728 pixels") != std::string::npos);

    fs::create_directories(dir / "set" / "a");
    fs::create_directories(dir / "set" / "b");
    REQUIRE(stbi_write_png((dir / "set" / "a" / "x.png").string().c_str(), 1, 1, 3, bytes.data(), 3));
    CHECK(nndl_test::message_of<nndl::FileError>([&] { nndl::load_image_folder<double>(dir / "set"); })
              .find("class folder '" + (dir / "set" / "b").string() + "' has no images") != std::string::npos);
    CHECK(nndl_test::message_of<nndl::FileError>([&] { nndl::load_image_folder<double>(dir / "nothing"); })
              .find("is not a folder") != std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("image: binary PNM files are screened before stb reads them") {
    // Debian's stb reads past the end of 16-bit or truncated P5/P6 data (found by fuzzing).
    const auto decode = [](const std::string& text) {
        const std::vector<unsigned char> bytes(text.begin(), text.end());
        return nndl_test::message_of<nndl::FileError>([&] { nndl::decode_image_rgb(bytes, "x.pgm"); });
    };
    CHECK(decode("P5 2 2 5555\n\x01\x02") ==
          "load_image_rgb: 'x.pgm' is a 16-bit PNM (maximum value 5555), expected 8-bit (at most 255)");
    CHECK(decode("P6 # comment\n2 2 255\nabc") ==
          "load_image_rgb: 'x.pgm' is a PNM of 2x2 pixels but holds 3 bytes of them, expected 12 (truncated?)");
    CHECK(decode("P5 4 4 255").find("holds 0 bytes of them, expected 16") != std::string::npos);
    const std::string whole = "P5 2 1 255\n\x10\x20";
    const auto image = nndl::decode_image_rgb(std::vector<unsigned char>(whole.begin(), whole.end()), "ok.pgm");
    CHECK(image.width == 2);
    CHECK(image.values[3] == 0x20);
}

TEST_CASE("image: write_png round-trips and replaces the target atomically") {
    const fs::path dir = nndl_test::scratch_dir("test_image");
    nndl::ImageArray<unsigned char> image(2, 2, 3);
    for (std::size_t i = 0; i < image.values.size(); ++i) {
        image.values[i] = static_cast<unsigned char>(20 * i);
    }
    nndl::write_png(dir / "out.png", image);
    CHECK(nndl::load_image_rgb(dir / "out.png").values == image.values);
    CHECK_FALSE(fs::exists(dir / "out.png.tmp"));
    // Writing into a folder that does not exist fails and leaves nothing behind.
    CHECK(nndl_test::message_of<nndl::FileError>([&] { nndl::write_png(dir / "no" / "out.png", image); })
              .find("write_png: cannot write") == 0);
    fs::remove_all(dir);
}
