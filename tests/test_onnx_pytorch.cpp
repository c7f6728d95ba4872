// Models trained and exported by PyTorch (tools/onnx_pytorch_models.py) run in nndl:
// every output on the 10,000 Fashion-MNIST test images within 1e-5 of PyTorch's, and the
// same test accuracy. Usage: test_onnx_pytorch MODELS_DIR [FASHION_MNIST_DIR]
// Exit code 77 (a skip in ctest) when the models were not made (no PyTorch here).

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include <nndl/data/idx.hpp>
#include <nndl/io/npz.hpp>
#include <nndl/io/onnx.hpp>
#include <nndl/metrics.hpp>

namespace fs = std::filesystem;

namespace {

/// Compares one model with PyTorch's outputs; true when it matches.
bool check(const fs::path& model_path, const nndl::Matrix<float>& x, const nndl::Matrix<float>& labels,
           const nndl::Matrix<float>& expected, double expected_accuracy) {
    const nndl::Network<float> network = nndl::load_onnx<float>(model_path);
    const nndl::Matrix<float> output = network.predict_proba(x);
    if (output.rows() != expected.rows() || output.cols() != expected.cols()) {
        std::cout << model_path.filename().string() << ": output is " << output.rows() << " x " << output.cols()
                  << ", PyTorch's " << expected.rows() << " x " << expected.cols() << "\n";
        return false;
    }
    const double difference = (output - expected).cwiseAbs().maxCoeff();
    const nndl::Matrix<float> predicted = nndl::labels_from_output(output, 0.5);
    const double accuracy = (predicted.array() == labels.array()).cast<double>().mean();
    const bool same_accuracy = accuracy == expected_accuracy;
    std::printf("%-18s %zu layers, largest difference from PyTorch %.3g (limit 1e-5), test accuracy %.4f "
                "(PyTorch %.4f)\n",
                model_path.filename().string().c_str(), network.depth(), difference, accuracy, expected_accuracy);
    return difference <= 1e-5 && same_accuracy;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::cerr << "usage: test_onnx_pytorch MODELS_DIR [FASHION_MNIST_DIR]\n";
        return 2;
    }
    const fs::path models = argv[1];
    const fs::path data = argc == 3 ? argv[2] : "/usr/share/datasets/fashion-mnist";
    if (!fs::exists(models / "reference.npz")) {
        std::cout << "test_onnx_pytorch: skipped, no PyTorch models in " << models.string()
                  << " (tools/onnx_pytorch_models.py makes them where PyTorch is installed)\n";
        return 77;
    }
    try {
        const auto test = nndl::load_idx_dataset<float>(data / "t10k-images-idx3-ubyte.gz",
                                                        data / "t10k-labels-idx1-ubyte.gz");
        const auto reference = nndl::read_npz(models / "reference.npz");
        // PyTorch's outputs are 10000 x 10 (examples in rows); nndl's have examples in columns.
        const nndl::Matrix<float> mlp = nndl::npy_to_matrix<float>(reference.at("mlp_output"), "mlp_output").transpose();
        const nndl::Matrix<float> cnn = nndl::npy_to_matrix<float>(reference.at("cnn_output"), "cnn_output").transpose();
        const double mlp_accuracy = nndl::npy_to_matrix<double>(reference.at("mlp_accuracy"), "mlp_accuracy")(0, 0);
        const double cnn_accuracy = nndl::npy_to_matrix<double>(reference.at("cnn_accuracy"), "cnn_accuracy")(0, 0);
        bool passed = check(models / "mlp.onnx", test.x, test.y, mlp, mlp_accuracy);
        passed = check(models / "cnn.onnx", test.x, test.y, cnn, cnn_accuracy) && passed;
        passed = check(models / "cnn_external.onnx", test.x, test.y, cnn, cnn_accuracy) && passed;
        std::cout << (passed ? "passed\n" : "FAILED\n");
        return passed ? 0 : 1;
    } catch (const std::exception& e) {
        std::cout << "error: " << e.what() << "\n";
        return 1;
    }
}
