// Planar point sets: the flower generated exactly as NumPy does, and CSV files.
#include "test_support.hpp"

#include <nndl/data/planar.hpp>

#include <filesystem>
#include <unistd.h>
#include <fstream>

namespace fs = std::filesystem;

TEST_CASE("planar: the flower matches the course's NumPy generator") {
    const auto flower = nndl::make_flower<double>();
    REQUIRE(flower.x.rows() == 2);
    REQUIRE(flower.x.cols() == 400);
    CHECK(flower.y.sum() == 200);
    // Reference values computed with NumPy 1.24 running the course's load_planar_dataset().
    const struct { int k; double x1, x2; } points[] = {{0, 1.2044422922543192, 3.576114148128845},
                                                      {1, 0.15870990398255375, -1.4821709003683443},
                                                      {199, -0.5858464101358457, -3.091259938950624},
                                                      {200, -1.0704958072229525, 3.682524609580073},
                                                      {257, 2.7072874551802864, 1.6762053096130287},
                                                      {399, 0.7307808250007515, 3.0683292081876554}};
    for (const auto& p : points) {
        INFO("point ", p.k);
        CHECK(flower.x(0, p.k) == doctest::Approx(p.x1).epsilon(1e-13));
        CHECK(flower.x(1, p.k) == doctest::Approx(p.x2).epsilon(1e-13));
    }
    CHECK(flower.x.sum() == doctest::Approx(10.087983277441637).epsilon(1e-12));
    CHECK(flower.x.squaredNorm() == doctest::Approx(3156.783789349409).epsilon(1e-12));
}

TEST_CASE("planar: the bundled CSV sets load") {
    for (const char* name : {"noisy_circles", "noisy_moons", "blobs", "gaussian_quantiles"}) {
        const auto set = nndl::load_csv_points<double>(std::string("data/planar/") + name + ".csv");
        INFO(name);
        CHECK(set.x.rows() == 2);
        CHECK(set.x.cols() == 200);
        CHECK(((set.y.array() == 0.0) || (set.y.array() == 1.0)).all());
    }
}

TEST_CASE("planar: malformed CSV files name the line") {
    const fs::path dir = fs::temp_directory_path() / ("nndl_test_csv_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const auto write = [&](const char* name, const char* text) {
        std::ofstream(dir / name) << text;
        return dir / name;
    };
    const auto error = [](const fs::path& p) {
        return nndl_test::message_of<nndl::FileError>([&] { nndl::load_csv_points<double>(p); });
    };
    const auto columns = write("columns.csv", "x1,x2,label\n1,2,0\n3,4\n");
    CHECK(error(columns) == "load_csv_points: " + columns.string() + ":3: 2 values, expected 3");
    const auto text = write("text.csv", "x1,x2,label\n1,2,0\n3,abc,1\n");
    CHECK(error(text) == "load_csv_points: " + text.string() + ":3: column 2 is 'abc', expected a finite number");
    const auto partial = write("partial.csv", "x1,x2,label\n1,2x,0\n");
    CHECK(error(partial).find(":2: column 2 is '2x'") != std::string::npos);
    const auto empty = write("empty.csv", "");
    CHECK(error(empty).find("is empty, expected a header line") != std::string::npos);
    const auto header_only = write("header.csv", "x1,x2,label\n");
    CHECK(error(header_only).find("has no data lines") != std::string::npos);
    CHECK(error(dir / "missing.csv").find("cannot open") != std::string::npos);
    const auto windows = write("crlf.csv", "x1,x2,label\r\n1,2,0\r\n3,4,1\r\n");
    CHECK(nndl::load_csv_points<double>(windows).x.cols() == 2);
    fs::remove_all(dir);
}
