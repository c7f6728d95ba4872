// A multi-layer perceptron on Fashion-MNIST: softmax output, mini-batches, Adam
// (or another optimizer), optional dropout and L2, learning curves.
#include "fashion_common.hpp"

namespace {

template <class Scalar>
int run(const examples::Options& options) {
    const auto hidden = examples::Options::parse_layer_sizes(options.text("layers"), "--layers", 784, 10);
    const double dropout = options.number("dropout", false);
    if (!(dropout >= 0.0 && dropout < 1.0)) {
        throw examples::UsageError("--dropout must be a probability in [0, 1), got " + options.text("dropout"));
    }
    const auto seed = static_cast<std::uint32_t>(options.integer("seed", 0, examples::largest_seed));
    nndl::NumpyRandom random(seed);
    nndl::Network<Scalar> network(784);
    std::string shape = "784";
    for (long h : hidden) {
        network.add_dense(h, nndl::Activation::relu, {nndl::Init::he}, random);
        if (dropout > 0.0) {
            network.add_dropout(1.0 - dropout, seed + 1);
        }
        shape += "-" + std::to_string(h);
    }
    network.add_dense(10, nndl::Activation::softmax, {nndl::Init::xavier}, random);
    return examples::train_on_fashion(options, network, "MLP " + shape + "-10");
}

}  // namespace

int main(int argc, char** argv) {
    return examples::run_main("fashion_mnist", [&] {
        examples::Options options("fashion_mnist",
                                  "Trains a multi-layer perceptron on Fashion-MNIST (Debian's dataset-fashion-mnist):\n"
                                  "one line per epoch, then the test accuracy and the confusion matrix.");
        options.value("layers", "N,N,...", "hidden layer sizes (ReLU)", "256,128")
            .value("dropout", "P", "drop probability after each hidden layer (0: none)", "0");
        examples::add_fashion_options(options, {"20", "0.001", "0.85"});
        options.parse(argc, argv);
        return options.has("float") ? run<float>(options) : run<double>(options);
    });
}
