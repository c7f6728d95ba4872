// The README's "A short tour" as a whole program: the course's L-layer cat classifier on
// the bundled images, trained, evaluated, summarized, saved and loaded again. It is the
// program whose compile time the README's table reports (benchmarks/compile_time/run.sh).
#include <nndl/nndl.hpp>
#include <nndl/data/image.hpp>

#include <iostream>

int main(int argc, char** argv) {
    const std::string data = argc > 1 ? argv[1] : "data/catvnoncat";
    const int iterations = argc > 2 ? std::stoi(argv[2]) : 2500;
    const auto train_set = nndl::load_image_folder<double>(data + "/train");
    const auto test_set = nndl::load_image_folder<double>(data + "/test");
    const nndl::Matrix<double>& X = train_set.x;  // 12288 x 209, values in [0, 1]
    const nndl::Matrix<double>& Y = train_set.y;  // 1 x 209, 1 for a cat

    // 12288 inputs, three ReLU layers, a sigmoid output; weights randn / sqrt(n_in) after seed(1).
    nndl::Network<double> net({12288, 20, 7, 5, 1},
                              nndl::standard_activations(4, nndl::Activation::relu, nndl::Activation::sigmoid),
                              {nndl::Init::inv_sqrt_fan_in}, /*seed=*/1);

    nndl::GradientDescent<double> optimizer(0.0075);
    nndl::TrainOptions options;
    options.record_every = 100;
    options.on_epoch_end = [](const nndl::Progress& p) {
        if (p.recorded) {
            std::cout << p.epoch << ": " << p.loss << '\n';
        }
        return true;
    };
    const nndl::TrainHistory history = net.fit(X, Y, optimizer, iterations, options);

    const nndl::Matrix<double> p = net.predict_proba(test_set.x);
    std::cout << "first test probability " << p(0, 0) << ", test accuracy " << net.accuracy(test_set.x, test_set.y)
              << " after " << history.epochs.size() << " recorded costs\n";
    std::cout << net.summary();
    nndl::save_network(net, "cat.npz");
    const auto again = nndl::load_network<double>("cat.npz");
    std::cout << "reloaded test accuracy " << again.accuracy(test_set.x, test_set.y) << '\n';
    return 0;
}
