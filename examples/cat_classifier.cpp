// The course's cat classifiers (W4A2): a two-layer model (--layers 7) or the
// L-layer model (default --layers 20,7,5), ReLU hidden layers and a sigmoid
// output, trained full-batch with gradient descent.
#include "example_images.hpp"

namespace {

template <class Scalar>
int run(const examples::Options& options) {
    std::vector<nndl::Index> sizes{12288};
    for (long h : examples::Options::parse_integer_list(options.text("layers"), "--layers", 1)) {
        sizes.push_back(h);
    }
    sizes.push_back(1);
    const long iterations = options.integer("iterations", 1);
    const double rate = options.number("learning-rate");
    // Outputs never replace the images this run reads.
    const std::vector<std::string> photos = options.has("image") ? options.all("image") : examples::bundled_photos();
    const std::vector<std::filesystem::path> inputs(photos.begin(), photos.end());
    for (const char* output : {"save", "plot", "mislabeled"}) {
        if (options.has(output)) {
            examples::refuse_overwriting_input(options.text(output), inputs);
        }
    }

    const std::string dir = options.has("data") ? options.text("data") : examples::data_path("data/catvnoncat");
    const auto data = examples::load_cat_data<Scalar>(dir);
    if (data.train.x.rows() != sizes.front()) {
        throw std::invalid_argument("cat_classifier: images have " + std::to_string(data.train.x.rows()) +
                                    " values, expected 64x64x3 = 12288");
    }

    // As in the course: the two-layer model starts from randn * 0.01, deeper ones
    // from randn / sqrt(n_in); both after np.random.seed(1).
    const nndl::Initializer init = sizes.size() == 3 ? nndl::Initializer{nndl::Init::scaled_normal, 0.01}
                                                     : nndl::Initializer{nndl::Init::inv_sqrt_fan_in};
    nndl::Network<Scalar> network(sizes, nndl::standard_activations(sizes.size() - 1, nndl::Activation::relu,
                                                                    nndl::Activation::sigmoid),
                                  init, 1);
    nndl::GradientDescent<Scalar> optimizer(rate);
    examples::Progress progress("training");
    const auto started = std::chrono::steady_clock::now();
    const auto history =
        network.fit(data.train.x, data.train.y, optimizer, iterations, examples::course_fit_options(progress));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cerr << "trained " << iterations << " iterations in " << std::setprecision(3) << seconds << " s\n";
    examples::print_accuracy("Train", network.accuracy(data.train.x, data.train.y));
    examples::print_accuracy("Test", network.accuracy(data.test.x, data.test.y));

    if (options.has("plot")) {
        std::string shape;
        for (auto s : sizes) {
            shape += (shape.empty() ? "" : "-") + std::to_string(s);
        }
        examples::plot_lines(options.text("plot"), "Cat classifier " + shape + ", learning rate " + options.text("learning-rate"),
                             "iteration", "cost", {{"training cost", examples::cost_points(history)}});
    }
    if (options.has("mislabeled")) {
        const nndl::Matrix<Scalar> predicted = network.predict(data.test.x);
        std::vector<nndl::ImageArray<unsigned char>> images;
        std::vector<std::array<unsigned char, 3>> frames;
        for (nndl::Index j = 0; j < data.test.x.cols(); ++j) {
            if (predicted(0, j) != data.test.y(0, j)) {
                images.push_back(nndl::column_to_image(data.test.x.col(j), 64, 64));
                // red: called a cat but is not; blue: a cat that was missed
                frames.push_back(predicted(0, j) > 0 ? std::array<unsigned char, 3>{220, 40, 40}
                                                     : std::array<unsigned char, 3>{40, 90, 220});
                std::cerr << "mislabeled: " << data.test.files[static_cast<std::size_t>(j)].string() << " (predicted "
                          << (predicted(0, j) > 0 ? "cat" : "non-cat") << ")\n";
            }
        }
        if (images.empty()) {
            std::cerr << "no mislabeled test images: nothing to draw\n";
        } else {
            nndl::write_png(options.text("mislabeled"), examples::image_grid(images, frames, 5, 2));
            std::cerr << "wrote " << options.text("mislabeled") << ": " << images.size()
                      << " mislabeled test images (red frame: predicted cat, blue frame: missed cat)\n";
        }
    }
    if (options.has("save")) {
        nndl::save_network(network, options.text("save"));
        std::cerr << "saved the model to " << options.text("save") << '\n';
    }
    examples::classify_images(network, photos);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return examples::run_main("cat_classifier", [&] {
        examples::Options options("cat_classifier",
                                  "Trains the course's cat/non-cat classifier, prints the cost every 100 iterations\n"
                                  "and the accuracies, then classifies photos (by default those in data/images).");
        options.value("data", "DIR", "cat data: DIR/{train,test}/{cat,non-cat}/*.png", "data/catvnoncat")
            .value("layers", "N,N,...", "hidden layer sizes; 7 is the course's two-layer model", "20,7,5")
            .value("iterations", "N", "gradient-descent iterations", "2500")
            .value("learning-rate", "R", "learning rate", "0.0075")
            .flag("float", "train in single precision")
            .value("save", "FILE.npz", "save the trained model (NumPy .npz)")
            .value("plot", "FILE.png", "the cost curve as a chart (data also as FILE.csv)")
            .value("mislabeled", "FILE.png", "grid of the test images the model gets wrong")
            .list("image", "FILE...", "classify these images after training");
        options.parse(argc, argv);
        return options.has("float") ? run<float>(options) : run<double>(options);
    });
}
