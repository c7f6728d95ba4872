// The course's logistic regression on cat pictures (W2A2), with nndl: a network of
// one sigmoid unit whose weights start at zero.
#include "example_images.hpp"

namespace {

struct Trained {
    nndl::Network<double> network;
    nndl::TrainHistory history;
};

Trained train(const examples::CatData<double>& data, long iterations, double rate, bool print) {
    nndl::Network<double> network({data.train.x.rows(), 1}, {nndl::Activation::sigmoid}, {nndl::Init::zeros}, 0);
    nndl::GradientDescent<double> optimizer(rate);
    examples::Progress progress("training");
    auto history = network.fit(data.train.x, data.train.y, optimizer,
                               iterations, examples::course_fit_options(progress, print));
    examples::print_accuracy("Train", network.accuracy(data.train.x, data.train.y));
    examples::print_accuracy("Test", network.accuracy(data.test.x, data.test.y));
    return {std::move(network), std::move(history)};
}

}  // namespace

int main(int argc, char** argv) {
    return examples::run_main("logistic_regression", [&] {
        examples::Options options("logistic_regression",
                                  "Logistic regression on the course's cat pictures: prints the cost every 100\n"
                                  "iterations and the train and test accuracy, then classifies --image files.");
        options.value("data", "DIR", "cat data: DIR/{train,test}/{cat,non-cat}/*.png", "data/catvnoncat")
            .value("iterations", "N", "gradient-descent iterations", "2000")
            .value("learning-rate", "R", "learning rate", "0.005")
            .flag("compare-learning-rates",
                  "train with 0.01, 0.001 and 0.0001 (1500 iterations each; with --plot, one chart)")
            .value("plot", "FILE.png", "cost curve(s) as a chart (data also as FILE.csv)")
            .list("image", "FILE...", "classify these images after training")
            .excludes("compare-learning-rates", "learning-rate")
            .excludes("compare-learning-rates", "image");
        options.parse(argc, argv);
        const long iterations = options.integer("iterations", 1);
        const double rate = options.number("learning-rate");
        const std::string dir = options.has("data") ? options.text("data") : examples::data_path("data/catvnoncat");
        examples::Files().reads(options.all("image")).reads_folder(dir).writes_chart("--plot", options.text("plot")).check();
        const auto data = examples::load_cat_data<double>(dir);

        if (options.has("compare-learning-rates")) {
            std::vector<examples::Series> curves;
            for (double r : {0.01, 0.001, 0.0001}) {
                std::cout << "Learning rate: " << r << '\n';
                const auto trained = train(data, options.has("iterations") ? iterations : 1500, r, true);
                std::ostringstream title;
                title << "learning rate " << r;
                curves.push_back({title.str(), examples::cost_points(trained.history)});
            }
            if (options.has("plot")) {
                examples::plot_lines(options.text("plot"), "Logistic regression: cost for three learning rates",
                                     "iteration", "cost", curves);
            }
            return 0;
        }

        const auto trained = train(data, iterations, rate, true);
        if (options.has("plot")) {
            std::ostringstream title;
            title << "learning rate " << rate;
            examples::plot_lines(options.text("plot"), "Logistic regression on cat pictures", "iteration", "cost",
                                 {{title.str(), examples::cost_points(trained.history)}});
        }
        examples::classify_images(trained.network, options.all("image"));
        return 0;
    });
}
