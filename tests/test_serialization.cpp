// Saving and loading networks as .npz: round trips, files written by NumPy,
// and every kind of broken file.
#include "test_support.hpp"

#include <nndl/nndl.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;
using nndl::Activation;
using nndl::Matrix;

namespace {

fs::path scratch_dir() {
    const fs::path dir = fs::temp_directory_path() / ("nndl_test_npz_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return dir;
}

std::vector<unsigned char> bytes_of(const fs::path& p) { return nndl::read_file_bytes(p, "test"); }

void write_bytes(const fs::path& p, const std::vector<unsigned char>& bytes) {
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::string load_error(const fs::path& p) {
    return nndl_test::message_of<nndl::FileError>([&] { nndl::load_network<double>(p); });
}

}  // namespace

TEST_CASE_TEMPLATE("serialization: save then load is bit-exact", Scalar, float, double) {
    const fs::path dir = scratch_dir();
    nndl::Network<Scalar> net({6, 5, 4, 1}, {Activation::relu, Activation::tanh, Activation::sigmoid},
                              {nndl::Init::he}, 3);
    for (auto& p : net.parameters()) {
        if (p.name == "b") {
            *p.value = nndl::NumpyRandom(9).randn<Scalar>(p.value->rows(), 1);
        }
    }
    nndl::save_network(net, dir / "model.npz");
    CHECK_FALSE(fs::exists(dir / "model.npz.tmp"));
    auto loaded = nndl::load_network<Scalar>(dir / "model.npz");
    REQUIRE(loaded.sizes() == net.sizes());
    const auto a = net.parameters();
    const auto b = loaded.parameters();
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        CHECK(*a[i].value == *b[i].value);  // exact
    }
    for (std::size_t l = 0; l < net.depth(); ++l) {
        CHECK(loaded.layer(l).activation() == net.layer(l).activation());
    }
    const Matrix<Scalar> x = nndl::NumpyRandom(1).randn<Scalar>(6, 7);
    CHECK(loaded.predict_proba(x) == net.predict_proba(x));

    // The file lists the course's names and shapes.
    const auto arrays = nndl::read_npz(dir / "model.npz");
    CHECK(arrays.at("W1").shape == std::vector<std::size_t>{5, 6});
    CHECK(arrays.at("b3").shape == std::vector<std::size_t>{1, 1});
    CHECK(nndl::npy_to_string(arrays.at("architecture"), "architecture").find("\"sizes\": [6, 5, 4, 1]") !=
          std::string::npos);

    // Loading in the other precision converts; asking for another architecture is refused.
    auto other = nndl::load_network<std::conditional_t<std::is_same_v<Scalar, float>, double, float>>(dir / "model.npz");
    CHECK(other.sizes() == net.sizes());
    CHECK(nndl_test::message_of<nndl::FileError>([&] {
              nndl::load_network<Scalar>(dir / "model.npz", std::vector<nndl::Index>{12288, 20, 7, 5, 1});
          }) == "load_network: '" + (dir / "model.npz").string() + "' holds a 6-5-4-1 network, expected 12288-20-7-5-1");
    fs::remove_all(dir);
}

TEST_CASE("serialization: a parameters dict written by np.savez loads and predicts like NumPy") {
    // Files written by NumPy 1.24 (tools/make_npz_fixture.py).
    auto net = nndl::load_network<double>("tests/fixtures/numpy_params.npz", {Activation::relu, Activation::sigmoid});
    CHECK(net.sizes() == std::vector<nndl::Index>{4, 3, 1});
    const auto check = nndl::read_npz("tests/fixtures/numpy_forward.npz");
    const auto x = nndl::npy_to_matrix<double>(check.at("X"), "X");
    const auto expected = nndl::npy_to_matrix<double>(check.at("AL"), "AL");
    REQUIRE(x.rows() == 4);
    NNDL_CHECK_CLOSE(net.predict_proba(x), expected, 1e-15);
    CHECK(load_error("tests/fixtures/numpy_params.npz").find("no 'architecture' entry") != std::string::npos);
}

TEST_CASE("serialization: broken files are refused with a message naming the problem") {
    const fs::path dir = scratch_dir();
    nndl::Network<double> net({3, 2, 1}, {Activation::relu, Activation::sigmoid}, {nndl::Init::he}, 1);
    nndl::save_network(net, dir / "good.npz");
    const auto good = bytes_of(dir / "good.npz");

    write_bytes(dir / "truncated.npz", std::vector<unsigned char>(good.begin(), good.begin() + static_cast<long>(good.size() / 2)));
    CHECK(load_error(dir / "truncated.npz").find("truncated") != std::string::npos);

    // A zip archive (written by Python's zipfile) whose entries are not .npy arrays.
    CHECK(load_error("tests/fixtures/bad_magic.npz").find("is not a .npy array (wrong magic)") != std::string::npos);
    { std::ofstream(dir / "text.npz") << "hello, this is not a zip archive at all"; }
    CHECK(load_error(dir / "text.npz").find("is not an .npz (zip) archive") != std::string::npos);
    CHECK(load_error(dir / "missing.npz").find("cannot open") != std::string::npos);

    auto corrupt = good;
    corrupt[200] ^= 0xFF;  // inside W1's data
    write_bytes(dir / "corrupt.npz", corrupt);
    CHECK(load_error(dir / "corrupt.npz").find("checksum") != std::string::npos);

    const auto arrays = nndl::read_npz(dir / "good.npz");
    const auto rewrite = [&](const char* name, auto change) {
        auto copy = arrays;
        change(copy);
        std::vector<std::pair<std::string, nndl::NpyArray>> list(copy.begin(), copy.end());
        nndl::write_npz(dir / name, list);
        return load_error(dir / name);
    };
    CHECK(rewrite("no_b2.npz", [](auto& a) { a.erase("b2"); }).find("array 'b2' is missing") != std::string::npos);
    CHECK(rewrite("shape.npz", [](auto& a) { a["b1"] = nndl::to_npy(Matrix<double>(Matrix<double>::Zero(3, 1))); })
              .find("b1 is 3x1, expected 2x1") != std::string::npos);
    CHECK(rewrite("chain.npz", [](auto& a) { a["W2"] = nndl::to_npy(Matrix<double>(Matrix<double>::Zero(1, 4))); })
              .find("W2 is 1x4 but layer 1 has 2 outputs") != std::string::npos);
    CHECK(rewrite("nan.npz", [](auto& a) {
              Matrix<double> w = Matrix<double>::Zero(2, 3);
              w(1, 1) = std::nan("");
              a["W1"] = nndl::to_npy(w);
          }).find("layer 1 has NaN or infinite weights") != std::string::npos);
    CHECK(rewrite("version.npz", [](auto& a) {
              auto text = nndl::npy_to_string(a.at("architecture"), "architecture");
              text.replace(text.find("\"version\": 1"), 12, "\"version\": 7");
              a["architecture"] = nndl::to_npy(text);
          }).find("model format version 7, this nndl reads version 1") != std::string::npos);
    CHECK(rewrite("arch.npz", [](auto& a) {
              auto text = nndl::npy_to_string(a.at("architecture"), "architecture");
              text.replace(text.find("[3, 2, 1]"), 9, "[3, 5, 1]");
              a["architecture"] = nndl::to_npy(text);
          }).find("does not match the architecture entry") != std::string::npos);
    CHECK(rewrite("magic.npz", [](auto& a) { a["W1"].bytes.resize(3); }).find("W1") != std::string::npos);

    // A failed save leaves the previous file as it was.
    fs::create_directories(dir / "locked");
    nndl::save_network(net, dir / "locked" / "model.npz");
    const auto before = bytes_of(dir / "locked" / "model.npz");
    fs::create_directories(dir / "locked" / "model.npz.tmp");  // the temporary file cannot be created
    nndl::Network<double> other({3, 4, 1}, {Activation::relu, Activation::sigmoid}, {nndl::Init::he}, 2);
    CHECK(nndl_test::message_of<nndl::FileError>([&] { nndl::save_network(other, dir / "locked" / "model.npz"); })
              .find("write_npz: cannot write") == 0);
    CHECK(bytes_of(dir / "locked" / "model.npz") == before);
    fs::remove_all(dir);
}
