// The course's one-hidden-layer network on planar data (W3A1): tanh hidden layer,
// sigmoid output, on the "flower" or one of the extra point sets.
#include "example_images.hpp"

#include <nndl/data/planar.hpp>

namespace {

const char* const dataset_names[] = {"flower", "noisy_circles", "noisy_moons", "blobs", "gaussian_quantiles"};

nndl::PointSet<double> load_points(const std::string& name, const std::string& dir) {
    if (name == "flower") {
        return nndl::make_flower<double>();
    }
    for (const char* known : dataset_names) {
        if (name == known) {
            return nndl::load_csv_points<double>(std::filesystem::path(dir) / (name + ".csv"));
        }
    }
    throw examples::UsageError("--dataset must be flower, noisy_circles, noisy_moons, blobs or gaussian_quantiles, got '" +
                               name + "'");
}

/// The course's nn_model: seed(3), W1 = randn(n_h, 2) * 0.01, W2 = randn(1, n_h) * 0.01.
nndl::Network<double> hidden_layer_model(nndl::Index inputs, nndl::Index hidden) {
    return nndl::Network<double>({inputs, hidden, 1}, {nndl::Activation::tanh, nndl::Activation::sigmoid},
                                 {nndl::Init::scaled_normal, 0.01}, 3);
}

nndl::ImageArray<unsigned char> boundary(const nndl::Network<double>& network, const nndl::PointSet<double>& points,
                                         int size) {
    return examples::decision_boundary<double>(
        points.x, points.y, [&](const nndl::Matrix<double>& grid) { return network.predict_proba(grid); }, size);
}

}  // namespace

int main(int argc, char** argv) {
    return examples::run_main("planar_classification", [&] {
        examples::Options options("planar_classification",
                                  "A one-hidden-layer network (tanh, then sigmoid) on 2-D points: prints the cost\n"
                                  "every 100 iterations and the accuracy, and draws the decision boundary.");
        options.value("dataset", "NAME", "flower, noisy_circles, noisy_moons, blobs or gaussian_quantiles", "flower")
            .value("data", "DIR", "folder of the CSV point sets", "data/planar")
            .value("hidden", "N", "hidden units", "4")
            .value("iterations", "N", "gradient-descent iterations", "10000")
            .value("learning-rate", "R", "learning rate", "1.2")
            .flag("logistic", "train the logistic-regression baseline instead (no hidden layer)")
            .optional_value("sweep", "N,N,...", "train one network per hidden size, 5000 iterations each",
                            "1,2,3,4,5,20,50")
            .value("plot", "FILE.png", "decision boundary picture (with --sweep: one grid of pictures)")
            .excludes("logistic", "hidden")
            .excludes("sweep", "hidden")
            .excludes("sweep", "logistic");
        options.parse(argc, argv);
        const long iterations = options.integer("iterations", 1);
        const double rate = options.number("learning-rate");
        const long hidden = options.integer("hidden", 1);
        const std::string dir = options.has("data") ? options.text("data") : examples::data_path("data/planar");
        examples::Files().reads_folder(dir).writes_png("--plot", options.text("plot")).check();
        const std::vector<long> sizes = options.has("sweep")  // checked before the data is read
                                            ? examples::Options::parse_integer_list(options.text("sweep"), "--sweep", 1)
                                            : std::vector<long>{};
        const auto points = load_points(options.text("dataset"), dir);
        std::cerr << "data set " << examples::terminal_safe(options.text("dataset")) << ": " << points.x.cols() << " points\n";
        if (options.has("plot") && points.x.rows() != 2) {  // before training, not after
            throw examples::UsageError("--plot draws points in the plane, but " + options.text("dataset") + " has " +
                                       std::to_string(points.x.rows()) + (points.x.rows() == 1 ? " feature" : " features") +
                                       " per point, expected 2");
        }

        if (options.has("sweep")) {
            const long sweep_iterations = options.has("iterations") ? iterations : 5000;
            std::vector<nndl::ImageArray<unsigned char>> pictures;
            for (long n_h : sizes) {
                auto network = hidden_layer_model(points.x.rows(), n_h);
                nndl::GradientDescent<double> optimizer(rate);
                examples::Progress progress("hidden " + std::to_string(n_h));
                network.fit(points.x, points.y, optimizer, sweep_iterations, examples::course_fit_options(progress, false));
                std::cout << "Accuracy for " << n_h << " hidden units: " << std::setprecision(16)
                          << 100.0 * network.accuracy(points.x, points.y) << " %\n";
                if (options.has("plot")) {
                    pictures.push_back(boundary(network, points, 240));
                }
            }
            if (options.has("plot")) {
                const std::vector<std::array<unsigned char, 3>> frames(pictures.size(), {255, 255, 255});
                nndl::write_png(options.text("plot"), examples::image_grid(pictures, frames, 4, 1));
                std::cerr << "wrote " << examples::terminal_safe(options.text("plot")) << " (hidden sizes " << options.text("sweep")
                          << ", left to right, top to bottom)\n";
            }
            return 0;
        }

        auto network = options.has("logistic")
                           ? nndl::Network<double>({points.x.rows(), 1}, {nndl::Activation::sigmoid}, {nndl::Init::zeros}, 0)
                           : hidden_layer_model(points.x.rows(), hidden);
        nndl::GradientDescent<double> optimizer(rate);
        examples::Progress progress("training");
        network.fit(points.x, points.y, optimizer, iterations, examples::course_fit_options(progress));
        std::cout << "Accuracy: " << std::setprecision(16) << network.accuracy(points.x, points.y) << '\n';
        if (options.has("plot")) {
            nndl::write_png(options.text("plot"), boundary(network, points, 480));
            std::cerr << "wrote " << examples::terminal_safe(options.text("plot")) << '\n';
        }
        return 0;
    });
}
