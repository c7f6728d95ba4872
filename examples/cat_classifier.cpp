// The course's cat classifiers (W4A2): a two-layer model (--layers 7) or the
// L-layer model (default --layers 20,7,5), ReLU hidden layers and a sigmoid
// output, trained full-batch with gradient descent.
#include "example_images.hpp"
#include "model_files.hpp"

#include <nndl/data/augment.hpp>
#include <nndl/cnn.hpp>

#include <optional>

namespace {

/// The two models learn at different rates: gradient descent at the course's 0.0075, Adam at 0.001.
double learning_rate(const examples::Options& options) {
    const bool given = options.has("learning-rate");
    return examples::Options::parse_number(given ? options.text("learning-rate") : options.has("cnn") ? "0.001" : "0.0075",
                                           "--learning-rate", true);
}

/// The --cnn model: 3x3 convolutions (same padding, ReLU, batch norm) each followed
/// by 2x2 max pooling, then global average pooling and a sigmoid unit.
template <class Scalar>
nndl::Network<Scalar> cat_cnn(const std::vector<long>& filters, std::uint32_t seed) {
    nndl::NumpyRandom random(seed);
    nndl::Network<Scalar> network(nndl::Shape::image(64, 64, 3));
    for (const long count : filters) {
        auto conv = std::make_unique<nndl::Conv2D<Scalar>>(network.output_shape(), count, nndl::Window(3), nndl::Stride(1),
                                                           nndl::Padding::same(), nndl::Activation::relu);
        conv->weights() = nndl::initial_weights<Scalar>(count, conv->fan_in(), {nndl::Init::he}, random);
        network.add(std::move(conv));
        network.add(std::make_unique<nndl::BatchNorm<Scalar>>(network.output_shape()));
        network.add(nndl::make_max_pool<Scalar>(network.output_shape(), nndl::Window(2), nndl::Stride(2)));
    }
    network.add(std::make_unique<nndl::GlobalAvgPool<Scalar>>(network.output_shape()));
    network.add_dense(1, nndl::Activation::sigmoid, {nndl::Init::xavier}, random);
    return network;
}

/// Trains the CNN with Adam on mini-batches of the training images and their mirror
/// images; one cost line per epoch.
template <class Scalar>
nndl::TrainHistory train_cnn(nndl::Network<Scalar>& network, const examples::CatData<Scalar>& data,
                             const examples::Options& options, examples::Progress& progress) {
    const long epochs = options.integer("epochs", 1);
    const long batch = options.integer("batch-size", 1);
    nndl::Matrix<Scalar> x = data.train.x;
    nndl::Matrix<Scalar> y = data.train.y;
    if (!options.has("no-flips")) {
        nndl::append_horizontal_flips(x, y, network.input_shape());
    }
    nndl::Adam<Scalar> optimizer(learning_rate(options));
    nndl::TrainOptions train_options = examples::course_fit_options(progress, true, "epoch");
    train_options.record_every = 1;
    train_options.epochs = epochs;
    train_options.batch_size = batch;
    train_options.seed = static_cast<std::uint32_t>(options.integer("seed", 0, examples::largest_seed));
    return nndl::train(network, x, y, optimizer, train_options);
}

template <class Scalar>
int run(const examples::Options& options) {
    const bool cnn = options.has("cnn");
    // Outputs never replace what this run reads, nor each other.
    const std::vector<std::string> photos = options.has("image") ? options.all("image") : examples::bundled_photos();
    const std::string dir = options.has("data") ? options.text("data") : examples::data_path("data/catvnoncat");
    examples::Files()
        .reads(photos)
        .reads_folder(dir)
        .writes("--save", options.text("save"))
        .writes_chart("--plot", options.text("plot"))
        .writes_png("--mislabeled", options.text("mislabeled"))
        .check();
    if (options.has("save")) {
        examples::check_model_output(options.text("save"), "--save");
    }
    if (cnn && options.has("layers")) {
        throw examples::UsageError("--layers sets the dense model's hidden layers; the CNN's are set by --filters");
    }
    for (const char* cnn_only : {"filters", "epochs", "batch-size", "seed", "no-flips"}) {
        if (!cnn && options.has(cnn_only)) {
            throw examples::UsageError(std::string("--") + cnn_only + " applies to the CNN: add --cnn");
        }
    }
    if (cnn && options.has("iterations")) {
        throw examples::UsageError("--iterations applies to the dense model; the CNN trains for --epochs");
    }
    // Every number is checked before the images are read.
    learning_rate(options);
    std::vector<long> filters;
    if (cnn) {
        filters = examples::Options::parse_integer_list(options.text("filters"), "--filters", 1);
        if (filters.size() > 6) {
            throw examples::UsageError("--filters has " + std::to_string(filters.size()) +
                                       " stages; 64x64 images allow at most 6 (each stage halves the size)");
        }
        for (const long f : filters) {
            if (f > 1024) {
                throw examples::UsageError("--filters entry must be at most 1024, got " + std::to_string(f));
            }
        }
        options.integer("epochs", 1);
        options.integer("batch-size", 1);
        options.integer("seed", 0, examples::largest_seed);
    } else {
        examples::Options::parse_layer_sizes(options.text("layers"), "--layers", 12288, 1);
        options.integer("iterations", 1);
    }

    const auto data = examples::load_cat_data<Scalar>(dir);
    if (data.train.x.rows() != 12288) {
        throw std::invalid_argument("cat_classifier: images have " + std::to_string(data.train.x.rows()) +
                                    " values, expected 64x64x3 = 12288");
    }

    std::string shape;
    std::optional<nndl::Network<Scalar>> built;
    if (cnn) {
        built.emplace(cat_cnn<Scalar>(filters, static_cast<std::uint32_t>(options.integer("seed", 0, examples::largest_seed))));
        shape = "CNN";
        for (const long f : filters) {
            shape += " conv3x3(" + std::to_string(f) + ")-pool";
        }
        shape += " gap-1";
    } else {
        std::vector<nndl::Index> sizes{12288};
        for (const long h : examples::Options::parse_layer_sizes(options.text("layers"), "--layers", 12288, 1)) {
            sizes.push_back(h);
        }
        sizes.push_back(1);
        // As in the course: the two-layer model starts from randn * 0.01, deeper ones
        // from randn / sqrt(n_in); both after np.random.seed(1).
        const nndl::Initializer init = sizes.size() == 3 ? nndl::Initializer{nndl::Init::scaled_normal, 0.01}
                                                         : nndl::Initializer{nndl::Init::inv_sqrt_fan_in};
        built.emplace(sizes,
                      nndl::standard_activations(sizes.size() - 1, nndl::Activation::relu, nndl::Activation::sigmoid),
                      init, 1);
        for (auto s : sizes) {
            shape += (shape.empty() ? "" : "-") + std::to_string(s);
        }
    }
    nndl::Network<Scalar>& network = *built;

    examples::Progress progress(cnn ? "epoch" : "training");
    const auto started = std::chrono::steady_clock::now();
    nndl::TrainHistory history;
    if (cnn) {
        history = examples::train_saving_on_failure(network, options.text("save"),
                                                    [&] { return train_cnn(network, data, options, progress); });
    } else {
        nndl::GradientDescent<Scalar> optimizer(learning_rate(options));
        history = network.fit(data.train.x, data.train.y, optimizer, options.integer("iterations", 1),
                              examples::course_fit_options(progress));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cerr << "trained " << history.epochs_run << (cnn ? " epochs" : " iterations") << " in " << std::setprecision(3)
              << seconds << " s\n";
    examples::print_accuracy("Train", network.accuracy(data.train.x, data.train.y));
    examples::print_accuracy("Test", network.accuracy(data.test.x, data.test.y));

    // The trained model first: a chart or a picture that fails (full disk, no gnuplot)
    // must not cost the training.
    if (options.has("save")) {
        examples::save_model(network, options.text("save"));
    }
    if (options.has("plot")) {
        examples::plot_lines(options.text("plot"), "Cat classifier " + shape + ", learning rate " + examples::Options::format_number(learning_rate(options)),
                             cnn ? "epoch" : "iteration", "cost", {{"training cost", examples::cost_points(history)}});
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
                std::cerr << "mislabeled: " << nndl::printable(data.test.files[static_cast<std::size_t>(j)].string())
                          << " (predicted "
                          << (predicted(0, j) > 0 ? "cat" : "non-cat") << ")\n";
            }
        }
        if (images.empty()) {
            std::cerr << "no mislabeled test images: nothing to draw\n";
        } else {
            nndl::write_png(options.text("mislabeled"), examples::image_grid(images, frames, 5, 2));
            std::cerr << "wrote " << examples::terminal_safe(options.text("mislabeled")) << ": " << images.size()
                      << " mislabeled test images (red frame: predicted cat, blue frame: missed cat)\n";
        }
    }
    examples::classify_images(network, photos);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return examples::run_main("cat_classifier", [&] {
        examples::Options options("cat_classifier",
                                  "Trains the course's cat/non-cat classifier (or, with --cnn, a small CNN), prints the cost\n"
                                  "every 100 iterations (every epoch for the CNN)\n"
                                  "and the accuracies, then classifies photos (by default those in data/images).");
        options.value("data", "DIR", "cat data: DIR/{train,test}/{cat,non-cat}/*.png", "data/catvnoncat")
            .value("layers", "N,N,...", "hidden layer sizes; 7 is the course's two-layer model", "20,7,5")
            .value("iterations", "N", "gradient-descent iterations", "2500")
            .value("learning-rate", "R", "learning rate (default: 0.0075; with --cnn: 0.001)")
            .flag("cnn", "train a small convolutional network instead (Adam, mini-batches, mirrored images added)")
            .value("filters", "N,N,...", "with --cnn: filters of the 3x3 convolution stages (ReLU, batch norm, 2x2 max pool)", "8,16,32")
            .value("epochs", "N", "with --cnn: passes over the training images", "60")
            .value("batch-size", "N", "with --cnn: examples per mini-batch", "32")
            .value("seed", "N", "with --cnn: seed of the weights and the shuffling", "1")
            .flag("no-flips", "with --cnn: train on the training images only, without their mirror images")
            .flag("float", "train in single precision")
            .value("save", "FILE.npz|FILE.onnx", "save the trained model (nndl's .npz, or ONNX by the extension)")
            .value("plot", "FILE.png", "the cost curve as a chart (data also as FILE.csv)")
            .value("mislabeled", "FILE.png", "grid of the test images the model gets wrong")
            .list("image", "FILE...", "classify these images after training");
        options.parse(argc, argv);
        return options.has("float") ? run<float>(options) : run<double>(options);
    });
}
