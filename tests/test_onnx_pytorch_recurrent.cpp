// Recurrent models exported by PyTorch (tools/onnx_pytorch_recurrent.py: nn.LSTM of two
// layers + nn.Linear at every step, nn.GRU + nn.Linear of h_n[-1], nn.RNN + nn.Linear +
// softmax, nn.Embedding + nn.LSTM + nn.Linear) run in nndl: on 100 random sequences of 15
// steps every output within 1e-5 of PyTorch's. The files leave the steps free, so the
// networks are built for one step and set to 15 with Network::set_steps.
// Usage: test_onnx_pytorch_recurrent MODELS_DIR
// Exit code 77 (a skip in ctest) when the models were not made (no PyTorch here).

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>

#include <nndl/io/npz.hpp>
#include <nndl/io/onnx.hpp>

namespace fs = std::filesystem;

namespace {

/// PyTorch's [examples, steps, features] (or [examples, steps] tokens, or [examples,
/// outputs]) as nndl's columns: one example per column, its steps one after the other.
nndl::Matrix<float> columns(const nndl::NpyArray& array, const std::string& name) {
    const nndl::Index examples = static_cast<nndl::Index>(array.shape.at(0));
    nndl::Index per_example = 1;
    for (std::size_t i = 1; i < array.shape.size(); ++i) {
        per_example *= static_cast<nndl::Index>(array.shape[i]);
    }
    nndl::NpyArray flat = array;
    flat.shape = {static_cast<std::size_t>(examples), static_cast<std::size_t>(per_example)};
    return nndl::npy_to_matrix<float>(flat, name).transpose();
}

bool check(const fs::path& folder, const std::string& name, const std::map<std::string, nndl::NpyArray>& reference) {
    nndl::Network<float> network = nndl::load_onnx<float>(folder / (name + ".onnx"));
    const nndl::NpyArray& inputs = reference.at(name + "_x");
    network.set_steps(static_cast<nndl::Index>(inputs.shape.at(1)));
    const nndl::Matrix<float> x = columns(inputs, name + "_x");
    const nndl::Matrix<float> expected = columns(reference.at(name + "_y"), name + "_y");
    const nndl::Matrix<float> output = network.predict_proba(x);
    if (output.rows() != expected.rows() || output.cols() != expected.cols()) {
        std::cout << name << ": output is " << output.rows() << " x " << output.cols() << ", PyTorch's "
                  << expected.rows() << " x " << expected.cols() << "\n";
        return false;
    }
    const double difference = (output - expected).cwiseAbs().maxCoeff();
    std::string layers;
    for (std::size_t i = 0; i < network.depth(); ++i) {
        layers += (i == 0 ? "" : ", ") + network.layer(i).type();
    }
    std::printf("%-11s %s: %ld sequences, largest difference from PyTorch %.3g (limit 1e-5)\n", name.c_str(),
                layers.c_str(), static_cast<long>(x.cols()), difference);
    return difference <= 1e-5;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: test_onnx_pytorch_recurrent MODELS_DIR\n";
        return 2;
    }
    const fs::path models = argv[1];
    if (!fs::exists(models / "reference.npz")) {
        std::cout << "test_onnx_pytorch_recurrent: skipped, no PyTorch models in " << models.string()
                  << " (tools/onnx_pytorch_recurrent.py makes them where PyTorch is installed)\n";
        return 77;
    }
    try {
        const auto reference = nndl::read_npz(models / "reference.npz");
        bool passed = true;
        for (const char* name : {"lstm", "gru", "rnn", "characters"}) {
            passed = check(models, name, reference) && passed;
        }
        std::cout << (passed ? "passed\n" : "FAILED\n");
        return passed ? 0 : 1;
    } catch (const std::exception& e) {
        std::cout << "error: " << e.what() << "\n";
        return 1;
    }
}
