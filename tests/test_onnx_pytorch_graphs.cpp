// Branching models exported by PyTorch (tools/onnx_pytorch_graphs.py: torchvision's resnet18
// on 28x28 gray images and a small U-Net, random weights and batch statistics) run in nndl:
// on 1,000 Fashion-MNIST test images every output within 1e-4 of PyTorch's (float32).
// Usage: test_onnx_pytorch_graphs MODELS_DIR
// Exit code 77 (a skip in ctest) when the models were not made (no PyTorch here).

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <string>

#include <nndl/graph.hpp>
#include <nndl/io/npz.hpp>
#include <nndl/io/onnx.hpp>

namespace fs = std::filesystem;

namespace {

/// PyTorch's [examples, ...] as nndl's columns. Images have one channel, so NCHW's order
/// within an example is nndl's height x width x channels.
nndl::Matrix<float> columns(const nndl::NpyArray& array, const std::string& name) {
    const auto examples = static_cast<nndl::Index>(array.shape.at(0));
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
    const nndl::Matrix<float> x = columns(reference.at("images"), "images");
    const nndl::Matrix<float> expected = columns(reference.at(name), name);
    const nndl::Matrix<float> output = network.predict_proba(x);
    if (output.rows() != expected.rows() || output.cols() != expected.cols()) {
        std::cout << name << ": output is " << output.rows() << " x " << output.cols() << ", PyTorch's "
                  << expected.rows() << " x " << expected.cols() << "\n";
        return false;
    }
    const double difference = (output - expected).cwiseAbs().maxCoeff();
    std::size_t nodes = 0;
    std::size_t merges = 0;
    for (std::size_t i = 0; i < network.depth(); ++i) {
        if (const auto* graph = dynamic_cast<const nndl::Graph<float>*>(&network.layer(i))) {
            nodes += graph->size();
            for (std::size_t n = 0; n < graph->size(); ++n) {
                merges += graph->merge_layer(nndl::Graph<float>::Node{n}) != nullptr ? 1 : 0;
            }
        }
    }
    std::printf("%s: a graph of %zu nodes (%zu merges), %ld images, largest difference from PyTorch %.3g (limit "
                "1e-4)\n",
                name.c_str(), nodes, merges, static_cast<long>(x.cols()), difference);
    return merges > 0 && difference <= 1e-4;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: test_onnx_pytorch_graphs MODELS_DIR\n";
        return 2;
    }
    const fs::path models = argv[1];
    if (!fs::exists(models / "reference.npz")) {
        std::cout << "test_onnx_pytorch_graphs: skipped, no PyTorch models in " << models.string()
                  << " (tools/onnx_pytorch_graphs.py makes them where PyTorch and torchvision are installed)\n";
        return 77;
    }
    try {
        const auto reference = nndl::read_npz(models / "reference.npz");
        bool passed = true;
        for (const char* name : {"resnet18", "unet"}) {
            passed = check(models, name, reference) && passed;
        }
        std::cout << (passed ? "passed\n" : "FAILED\n");
        return passed ? 0 : 1;
    } catch (const std::exception& e) {
        std::cout << "error: " << e.what() << "\n";
        return 1;
    }
}
