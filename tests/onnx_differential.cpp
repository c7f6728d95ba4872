// Random small ONNX models exported by PyTorch (tools/onnx_random_models.py) run in nndl:
// each model either loads and gives PyTorch's outputs within 1e-5 (relative to the
// output's scale, float32), or is refused with nndl's error naming what it cannot read.
// A crash, a wrong number, or fewer than 50 models that load fail the test.
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
        if (output.rows() != expected.rows() || output.cols() != expected.cols()) {
            ++wrong;
            std::printf("WRONG    %s\n         output %ld x %ld, PyTorch's %ld x %ld\n", line.c_str(),
                        static_cast<long>(output.rows()), static_cast<long>(output.cols()),
                        static_cast<long>(expected.rows()), static_cast<long>(expected.cols()));
            continue;
        }
        const double scale = std::max(1.0, static_cast<double>(expected.cwiseAbs().maxCoeff()));
        const double difference = static_cast<double>((output - expected).cwiseAbs().maxCoeff());
        const bool same = difference <= 1e-5 * scale;
        wrong += same ? 0 : 1;
        std::printf("%s %s\n         %zu layers, largest difference %.3g (limit %.3g)\n", same ? "matches " : "WRONG   ",
                    line.c_str(), network.depth(), difference, 1e-5 * scale);
    }
    std::printf("onnx_differential: %d models load and %d of them differ from PyTorch; %d refused\n", loaded, wrong,
                refused);
    if (loaded < 50) {
        std::printf("onnx_differential: expected at least 50 models that load\n");
        return 1;
    }
    return wrong == 0 ? 0 : 1;
}
