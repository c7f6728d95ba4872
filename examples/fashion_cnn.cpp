// A small convolutional network on Fashion-MNIST: two convolution + batch norm + max
// pool stages, a dense head with dropout, a softmax output; mini-batches and Adam.
#include "fashion_common.hpp"

namespace {

template <class Scalar>
int run(const examples::Options& options) {
    const auto filters = examples::Options::parse_integer_list(options.text("filters"), "--filters", 1);
    const long dense = options.integer("dense", 1);
    const double dropout = options.number("dropout", false);
    if (filters.size() != 2) {
        throw examples::UsageError("--filters takes two numbers (one per convolution stage), got '" +
                                   options.text("filters") + "'");
    }
    if (!(dropout >= 0.0 && dropout < 1.0)) {
        throw examples::UsageError("--dropout must be a probability in [0, 1), got " + options.text("dropout"));
    }
    const auto seed = static_cast<std::uint32_t>(options.integer("seed", 0, examples::largest_seed));
    auto network = examples::fashion_cnn<Scalar>(filters[0], filters[1], dense, dropout, seed);
    const std::string describe = "CNN conv3x3(" + std::to_string(filters[0]) + ")-pool-conv3x3(" +
                                 std::to_string(filters[1]) + ")-pool-" + std::to_string(dense) + "-10";
    return examples::train_on_fashion(options, network, describe);
}

}  // namespace

int main(int argc, char** argv) {
    return examples::run_main("fashion_cnn", [&] {
        examples::Options options("fashion_cnn",
                                  "Trains a small convolutional network on Fashion-MNIST (Debian's\n"
                                  "dataset-fashion-mnist): one line per epoch, then the test accuracy and the\n"
                                  "confusion matrix.");
        options.value("filters", "N,N", "filters of the two 3x3 convolutions (ReLU, batch norm, 2x2 max pool)", "16,32")
            .value("dense", "N", "units of the dense layer before the output", "128")
            .value("dropout", "P", "drop probability after the dense layer (0: none)", "0.3");
        examples::add_fashion_options(options, {"8", "0.002", "0.8"});
        options.parse(argc, argv);
        return options.has("float") ? run<float>(options) : run<double>(options);
    });
}
