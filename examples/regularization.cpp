// The course's "Regularization" assignment (course 2, week 1): a 2-20-3-1 network (ReLU,
// ReLU, sigmoid) on the football data, without regularization, with L2, or with dropout
// on the hidden layers, in the course's arithmetic.
#include "course2_support.hpp"

int main(int argc, char** argv) {
    return examples::run_main("regularization", [&] {
        examples::Options options("regularization",
                                  "Trains the course's 2-20-3-1 network on the football data (where the goalkeeper\n"
                                  "should kick: 1 when the own team heads the ball) with no regularization, L2 or\n"
                                  "dropout; prints the cost every 10000 iterations and the accuracies.");
        options.value("mode", "NAME", "none, l2 or dropout", "none")
            .value("lambda", "L", "with --mode l2: the L2 strength", "0.7")
            .value("keep-prob", "P", "with --mode dropout: probability of keeping a hidden unit", "0.86")
            .value("iterations", "N", "gradient-descent iterations", "30000")
            .value("learning-rate", "R", "learning rate", "0.3")
            .value("data", "FILE.csv", "the football data (split,x1,x2,label)", "data/football/football.csv")
            .value("plot", "FILE.png", "decision boundary over the training points");
        options.parse(argc, argv);
        const std::string mode = options.text("mode");
        if (mode != "none" && mode != "l2" && mode != "dropout") {
            throw examples::UsageError("--mode must be none, l2 or dropout, got '" + mode + "'");
        }
        if (options.has("lambda") && mode != "l2") {
            throw examples::UsageError("--lambda applies to --mode l2");
        }
        if (options.has("keep-prob") && mode != "dropout") {
            throw examples::UsageError("--keep-prob applies to --mode dropout");
        }
        const double lambda = options.number("lambda");
        const double keep = options.number("keep-prob");
        if (keep > 1.0) {
            throw examples::UsageError("--keep-prob must be a probability in (0, 1], got " + options.text("keep-prob"));
        }
        const long iterations = options.integer("iterations", 1);
        const double rate = options.number("learning-rate");
        const std::string file = options.has("data") ? options.text("data") : examples::data_path("data/football/football.csv");
        examples::Files().reads(file).writes_png("--plot", options.text("plot")).check();
        const auto train = nndl::load_csv_points<double>(file, "train");
        const auto test = nndl::load_csv_points<double>(file, "test");

        // seed(3), then W_l = randn(n_l, n_{l-1}) / sqrt(n_{l-1}) in layer order; biases zero.
        nndl::NumpyRandom random(3);
        nndl::Network<double> network{nndl::Shape(2)};
        for (const nndl::Index units : {20, 3}) {
            network.add_dense(units, nndl::Activation::relu, {nndl::Init::inv_sqrt_fan_in}, random);
            if (mode == "dropout") {
                network.add_dropout(keep, 1);
            }
        }
        network.add_dense(1, nndl::Activation::sigmoid, {nndl::Init::inv_sqrt_fan_in}, random);
        nndl::restart_dropout_every_pass(network);  // the course reseeds 1 at every pass, then draws D1, D2
        network.set_loss(std::make_unique<nndl::CourseBinaryCrossEntropy<double>>());
        if (mode == "l2") {
            network.set_l2(lambda);
        }
        examples::course2_fit(network, train, rate, iterations, 10000);
        examples::course2_report(network, train, test, options);
        return 0;
    });
}
