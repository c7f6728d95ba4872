// Random small ONNX models exported by PyTorch (tools/onnx_random_models.py) run in nndl:
// each model either loads and gives PyTorch's outputs within 1e-5 (relative to the
// output's scale, float32), and OpenCV's where OpenCV ran it, or is refused with nndl's
// error naming what it cannot read. A crash, a wrong number, fewer than 50 models that
// load, or fewer than 50 of those checked against OpenCV as well fail the test.
// Usage: onnx_differential MODELS_DIR   (exit code 77, a skip, when the models were not made)

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <nndl/io/npz.hpp>
#include <nndl/io/onnx.hpp>

namespace fs = std::filesystem;

namespace {

/// Whether nndl's output equals a consumer's within 1e-5 of the output's scale; prints the line.
bool matches(const nndl::Matrix<float>& output, const nndl::Matrix<float>& expected, const char* whose,
             const std::string& line, std::size_t depth) {
    if (output.rows() != expected.rows() || output.cols() != expected.cols()) {
        std::printf("WRONG    %s\n         output %ld x %ld, %s %ld x %ld\n", line.c_str(),
                    static_cast<long>(output.rows()), static_cast<long>(output.cols()), whose,
                    static_cast<long>(expected.rows()), static_cast<long>(expected.cols()));
        return false;
    }
    const double scale = std::max(1.0, static_cast<double>(expected.cwiseAbs().maxCoeff()));
    const double difference = static_cast<double>((output - expected).cwiseAbs().maxCoeff());
    const bool same = difference <= 1e-5 * scale;
    std::printf("%s %s\n         %zu layers, largest difference from %s output %.3g (limit %.3g)\n",
                same ? "matches " : "WRONG   ", line.c_str(), depth, whose, difference, 1e-5 * scale);
    return same;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: onnx_differential MODELS_DIR\n";
        return 2;
    }
    const fs::path models = argv[1];
    std::ifstream listing(models / "models.txt");
    if (!listing) {
        std::cout << "onnx_differential: skipped, no models in " << models.string()
                  << " (tools/onnx_random_models.py makes them where PyTorch is installed)\n";
        return 77;
    }
    int loaded = 0;
    int refused = 0;
    int wrong = 0;
    int with_opencv = 0;
    std::string line;
    while (std::getline(listing, line)) {
        const std::string file = line.substr(0, line.find(':'));
        const fs::path path = models / file;
        nndl::Network<float> network;
        try {
            network = nndl::load_onnx<float>(path);
        } catch (const nndl::Error& e) {
            ++refused;
            std::printf("refused  %s\n         %s\n", line.c_str(), e.what());
            continue;
        }
        ++loaded;
        fs::path data = path;
        data.replace_extension(".npz");
        const auto arrays = nndl::read_npz(data);
        const nndl::Matrix<float> x = nndl::npy_to_matrix<float>(arrays.at("x"), "x");
        const nndl::Matrix<float> expected = nndl::npy_to_matrix<float>(arrays.at("expected"), "expected");
        const nndl::Matrix<float> output = network.predict_proba(x);
        bool same = matches(output, expected, "PyTorch's", line, network.depth());
        if (arrays.count("opencv") != 0) {
            ++with_opencv;
            same = matches(output, nndl::npy_to_matrix<float>(arrays.at("opencv"), "opencv"), "OpenCV's", line,
                           network.depth()) && same;
        }
        wrong += same ? 0 : 1;
    }
    std::printf("onnx_differential: %d models load (%d of them also run by OpenCV) and %d of them differ; %d refused\n",
                loaded, with_opencv, wrong, refused);
    if (loaded < 50 || with_opencv < 50) {
        std::printf("onnx_differential: expected at least 50 models that load, 50 of them run by OpenCV too\n");
        return 1;
    }
    return wrong == 0 ? 0 : 1;
}
