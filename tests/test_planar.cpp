// Planar point sets: the flower generated exactly as NumPy does, and CSV files.
#include "test_support.hpp"

#include <nndl/basics.hpp>
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
    CHECK(error(dir).find("is a folder, expected a file") != std::string::npos);
    CHECK(error("/dev/zero").find("'/dev/zero' is not a regular file") != std::string::npos);  // an endless line
    // A subnormal is a number; a long bad cell is cut in the message; a file without a header is refused.
    const auto tiny = write("tiny.csv", "x1,x2,label\n1e-320,2,0\n");
    CHECK(nndl::load_csv_points<double>(tiny).x(0, 0) == 1e-320);
    const auto long_cell = write("long.csv", ("x1,x2,label\n1," + std::string(1000, 'z') + ",0\n").c_str());
    CHECK(error(long_cell) == "load_csv_points: " + long_cell.string() + ":2: column 2 is '" + std::string(40, 'z') +
                                  "...', expected a finite number");
    const auto no_header = write("no_header.csv", "0.5,1.5,1\n2,3,0\n");
    CHECK(error(no_header) == "load_csv_points: " + no_header.string() +
                                  ":1: '0.5,1.5,1' is numbers, expected a header line naming the columns");
    const auto bom = write("bom.csv", "\xef\xbb\xbf" "0.5,0.3,1\n-0.5,-0.3,0\n");
    CHECK(error(bom).find("is numbers, expected a header line") != std::string::npos);
    const auto nan_row = write("nan.csv", "nan,0.3,\n-0.5,-0.3,0\n");
    CHECK(error(nan_row).find("is numbers, expected a header line") != std::string::npos);
    const auto windows = write("crlf.csv", "x1,x2,label\r\n1,2,0\r\n3,4,1\r\n");
    CHECK(nndl::load_csv_points<double>(windows).x.cols() == 2);
    fs::remove_all(dir);
}

namespace {

// The fingerprints in the course's reference (course2.md, "make_circles and make_moons"):
// scikit-learn 1.2.1 on NumPy's legacy stream with glibc's cos and sin.
struct PointFingerprint {
    const char* name;
    std::uint32_t seed;
    nndl::Index n;
    double noise;
    int first_labels[10];
    double x1, x2;
    double sum;
};

void check_fingerprint(const nndl::PointSet<double>& set, const PointFingerprint& f) {
    INFO(f.name);
    REQUIRE(set.x.rows() == 2);
    REQUIRE(set.x.cols() == f.n);
    REQUIRE(set.y.cols() == f.n);
    for (int k = 0; k < 10; ++k) {
        CHECK(set.y(0, k) == f.first_labels[k]);
    }
    CHECK(set.y.sum() == static_cast<double>(f.n - f.n / 2));  // the inner circle or lower moon
    CHECK(set.x(0, 0) == f.x1);
    CHECK(set.x(1, 0) == f.x2);
    CHECK(nndl::numpy_sum(set.x) == f.sum);
}

}  // namespace

TEST_CASE("planar: make_circles and make_moons equal scikit-learn's on the same stream, bit for bit") {
    const PointFingerprint circles_train{"circles, training", 1, 300, 0.05, {1, 0, 1, 1, 0, 0, 1, 0, 1, 1},
                                         -0.07741354010048114, 0.8526022642742742, 0.10318058999808777};
    const PointFingerprint circles_test{"circles, test", 2, 100, 0.05, {1, 0, 1, 0, 0, 0, 0, 0, 0, 0},
                                        -0.5242373850862546, -0.6091036148461817, -0.418253070660783};
    const PointFingerprint moons{"moons", 3, 300, 0.2, {0, 1, 1, 1, 0, 0, 1, 1, 0, 1},
                                 -0.21687013460912397, 1.0154493742029873, 229.31214774688254};
    for (const auto& f : {circles_train, circles_test}) {
        nndl::NumpyRandom random(f.seed);
        check_fingerprint(nndl::make_circles<double>(f.n, f.noise, random), f);
    }
    nndl::NumpyRandom random(moons.seed);
    check_fingerprint(nndl::make_moons<double>(moons.n, moons.noise, random), moons);

    // The permutation comes first from the stream: the reference lists its start.
    nndl::NumpyRandom again(1);
    const auto order = again.permutation(300);
    CHECK(std::vector<nndl::Index>(order.begin(), order.begin() + 8) ==
          std::vector<nndl::Index>{189, 123, 185, 213, 106, 127, 176, 73});

    // An odd count puts the extra point on the inner circle, as scikit-learn does.
    nndl::NumpyRandom odd(0);
    CHECK(nndl::make_circles<float>(7, 0.0, odd).y.sum() == 4.0f);
}

TEST_CASE("planar: make_circles and make_moons refuse sizes they cannot make") {
    nndl::NumpyRandom random(0);
    CHECK_THROWS_WITH_AS(nndl::make_circles<double>(1, 0.05, random),
                         doctest::Contains("make_circles: 1 points, expected 2 to 2^31"), nndl::InvalidArgument);
    CHECK_THROWS_WITH_AS(nndl::make_moons<double>(10, -1.0, random),
                         doctest::Contains("make_moons: noise -1, expected a finite standard deviation >= 0"),
                         nndl::InvalidArgument);
    CHECK_THROWS_WITH_AS(nndl::make_circles<double>(10, 0.1, random, 1.0),
                         doctest::Contains("make_circles: factor 1, expected a value in [0, 1)"), nndl::InvalidArgument);
    CHECK(nndl::numpy_linspace(2.0, 5.0, 1) == std::vector<double>{2.0});  // NumPy: [start]
}

TEST_CASE("planar: the football data set reads by split and matches data/README.md's checks") {
    const auto train = nndl::load_csv_points<double>("data/football/football.csv", "train");
    const auto test = nndl::load_csv_points<double>("data/football/football.csv", "test");
    REQUIRE(train.x.rows() == 2);
    REQUIRE(train.x.cols() == 211);
    REQUIRE(test.x.cols() == 200);
    CHECK(train.y.sum() == 106);
    CHECK(test.y.sum() == 87);
    CHECK(train.x(0, 0) == -0.158986);
    CHECK(train.x(1, 210) == 0.184503);
    CHECK(test.x(0, 0) == -0.3530623458334412);
    CHECK(test.x(1, 0) == -0.6739018129665528);
    // NumPy's pairwise sum over X as MATLAB stores it (all x1, then all x2).
    CHECK(nndl::numpy_sum(nndl::Matrix<double>(train.x.transpose())) == -40.087648097999995);
    CHECK(nndl::numpy_sum(nndl::Matrix<double>(test.x.transpose())) == -37.94197603129829);

    CHECK_THROWS_WITH_AS(nndl::load_csv_points<double>("data/football/football.csv", "validation"),
                         doctest::Contains("has no 'validation' rows"), nndl::FileError);
    CHECK_THROWS_WITH_AS(nndl::load_csv_points<double>("data/planar/blobs.csv", "train"),
                         doctest::Contains("blobs.csv:1: the header starts with"), nndl::FileError);
    CHECK_THROWS_WITH_AS(nndl::load_csv_points<double>("data/football/football.csv"),
                         doctest::Contains("football.csv:2: column 1 is 'train', expected a finite number"),
                         nndl::FileError);
}
