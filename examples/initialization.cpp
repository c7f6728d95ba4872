// The course's "Initialization" assignment (course 2, week 1): a 2-10-5-1 network (ReLU,
// ReLU, sigmoid) on scikit-learn's circles, started from zeros, from large random
// weights (randn * 10) or with He initialisation, in the course's arithmetic.
#include "course2_support.hpp"

namespace {

nndl::Initializer initializer(const std::string& name) {
    if (name == "zeros") return {nndl::Init::zeros};
    if (name == "random") return {nndl::Init::scaled_normal, 10.0};
    if (name == "he") return {nndl::Init::he};
    throw examples::UsageError("--init must be zeros, random or he, got '" + name + "'");
}

}  // namespace

int main(int argc, char** argv) {
    return examples::run_main("initialization", [&] {
        examples::Options options("initialization",
                                  "Trains the course's 2-10-5-1 network on the circles (seed 1: 300 training points,\n"
                                  "seed 2: 100 test points) from one of three initialisations; prints the cost every\n"
                                  "1000 iterations and the accuracies, and draws the decision boundary.");
        options.value("init", "NAME", "zeros, random (randn * 10) or he", "he")
            .value("iterations", "N", "gradient-descent iterations", "15000")
            .value("learning-rate", "R", "learning rate", "0.01")
            .value("plot", "FILE.png", "decision boundary over the training points");
        options.parse(argc, argv);
        examples::Files().writes_png("--plot", options.text("plot")).check();
        const nndl::Initializer init = initializer(options.text("init"));
        const long iterations = options.integer("iterations", 1);
        const double rate = options.number("learning-rate");

        nndl::NumpyRandom circles(1);
        const auto train = nndl::make_circles<double>(300, 0.05, circles);
        circles.seed(2);
        const auto test = nndl::make_circles<double>(100, 0.05, circles);

        // seed(3), then the layers' weights in order; biases zero.
        nndl::Network<double> network({2, 10, 5, 1},
                                      nndl::standard_activations(3, nndl::Activation::relu, nndl::Activation::sigmoid),
                                      init, 3);
        network.set_loss(std::make_unique<nndl::CourseBinaryCrossEntropy<double>>());
        examples::course2_fit(network, train, rate, iterations, 1000);
        examples::course2_report(network, train, test, options);
        return 0;
    });
}
