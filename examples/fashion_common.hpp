#pragma once
// What the Fashion-MNIST programs share: the command line's training options, loading
// the data set (the last N training images held out for validation), the training loop
// with one line per epoch, the test accuracy, the confusion matrix, the learning-curve
// chart and --save. Each program only builds its network.
#include "example_support.hpp"
#include "model_files.hpp"

#include <nndl/cnn.hpp>
#include <nndl/data/idx.hpp>

#include <functional>

namespace examples {

inline const char* const fashion_class_names[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                  "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

template <class Scalar>
std::unique_ptr<nndl::Optimizer<Scalar>> make_optimizer(const std::string& name, double rate) {
    if (name == "adam") return std::make_unique<nndl::Adam<Scalar>>(rate);
    if (name == "sgd" || name == "gd") return std::make_unique<nndl::GradientDescent<Scalar>>(rate);
    if (name == "momentum") return std::make_unique<nndl::Momentum<Scalar>>(rate);
    if (name == "nesterov") return std::make_unique<nndl::Nesterov<Scalar>>(rate);
    if (name == "rmsprop") return std::make_unique<nndl::RMSProp<Scalar>>(rate);
    if (name == "adagrad") return std::make_unique<nndl::AdaGrad<Scalar>>(rate);
    throw UsageError("--optimizer must be adam, sgd, momentum, nesterov, rmsprop or adagrad, got '" + name + "'");
}

/// fashion_cnn's network (also the benchmark's CNN): two stages of 3x3 convolution (ReLU,
/// same padding), batch norm and 2x2 max pooling, a dense ReLU layer, dropout, softmax.
template <class Scalar>
nndl::Network<Scalar> fashion_cnn(nndl::Index filters1, nndl::Index filters2, nndl::Index dense, double dropout,
                                  std::uint32_t seed) {
    nndl::NumpyRandom random(seed);
    nndl::Network<Scalar> network(nndl::Shape::image(28, 28, 1));
    for (const nndl::Index filters : {filters1, filters2}) {
        auto conv = std::make_unique<nndl::Conv2D<Scalar>>(network.output_shape(), filters, nndl::Window(3),
                                                           nndl::Stride(1), nndl::Padding::same(), nndl::Activation::relu);
        conv->weights() = nndl::initial_weights<Scalar>(filters, conv->fan_in(), {nndl::Init::he}, random);
        network.add(std::move(conv));
        network.add(std::make_unique<nndl::BatchNorm<Scalar>>(network.output_shape()));
        network.add(nndl::make_max_pool<Scalar>(network.output_shape(), nndl::Window(2), nndl::Stride(2)));
    }
    network.add_dense(dense, nndl::Activation::relu, {nndl::Init::he}, random);  // flat after an image: no flatten
    if (dropout > 0.0) {
        network.add_dropout(1.0 - dropout, seed + 1);
    }
    network.add_dense(10, nndl::Activation::softmax, {nndl::Init::xavier}, random);
    return network;
}

/// The options every Fashion-MNIST program takes, with its own defaults.
struct FashionDefaults {
    const char* epochs;
    const char* learning_rate;
    const char* lr_decay;
    bool single_precision = false;  ///< float32 by default (--double), else float64 (--float)
};

inline void add_fashion_options(Options& options, const FashionDefaults& defaults) {
    options.value("data", "DIR", "folder of the IDX files", "/usr/share/datasets/fashion-mnist")
        .value("epochs", "N", "passes over the training images", defaults.epochs)
        .value("batch-size", "N", "examples per mini-batch", "128")
        .value("learning-rate", "R", "learning rate", defaults.learning_rate)
        .value("lr-decay", "F", "multiply the learning rate by F after every epoch", defaults.lr_decay)
        .value("optimizer", "NAME", "adam, sgd, momentum, nesterov, rmsprop or adagrad", "adam")
        .value("l2", "LAMBDA", "L2 regularization strength", "0")
        .value("validation", "N", "training images held out for validation (the last N; 0: none)",
               "a twelfth: 5000 of the 60000")
        .value("limit", "N", "use only the first N training images (0: all)", "0")
        .value("seed", "N", "seed of the weights, shuffling, dropout and augmentation", "0");
    if (defaults.single_precision) {
        options.flag("double", "train in double precision");
    } else {
        options.flag("float", "train in single precision");
    }
    options
        .value("plot", "FILE.png", "learning curves (data also as FILE.csv)")
        .value("save", "FILE.npz|FILE.onnx", "save the trained model (nndl's .npz, or ONNX by the extension)");
}

/// Loads the data, trains `network` (built by the caller from `random`) and reports.
/// `describe` is the network's one-word description for the first line and the chart.
template <class Scalar>
int train_on_fashion(const Options& options, nndl::Network<Scalar>& network, const std::string& describe) {
    const long epochs = options.integer("epochs", 1);
    const long batch = options.integer("batch-size", 1);
    const double rate = options.number("learning-rate");
    const double l2 = options.number("l2", false);
    const long limit = options.integer("limit", 0);
    const bool validation_given = options.has("validation");
    const long validation_asked = validation_given ? options.integer("validation", 0) : 0;
    const double decay = options.number("lr-decay");
    if (decay > 1.0) {
        throw UsageError("--lr-decay must be in (0, 1], got " + options.text("lr-decay"));
    }
    if (l2 < 0.0) {
        throw UsageError("--l2 must be >= 0, got " + options.text("l2"));
    }
    auto optimizer = make_optimizer<Scalar>(options.text("optimizer"), rate);
    const std::filesystem::path dir = options.text("data");
    Files().reads_folder(dir).writes("--save", options.text("save")).writes_chart("--plot", options.text("plot")).check();
    if (options.has("save")) {
        check_model_output(options.text("save"), "--save");
    }

    const auto started_loading = std::chrono::steady_clock::now();
    const auto train_set = nndl::load_idx_dataset<Scalar>(dir / "train-images-idx3-ubyte.gz",
                                                          dir / "train-labels-idx1-ubyte.gz", limit);
    const auto test_set = nndl::load_idx_dataset<Scalar>(dir / "t10k-images-idx3-ubyte.gz", dir / "t10k-labels-idx1-ubyte.gz");
    const long validation = validation_given ? validation_asked : static_cast<long>(train_set.x.cols() / 12);
    if (validation >= train_set.x.cols()) {
        throw UsageError("--validation " + std::to_string(validation) + " leaves no training examples (" +
                         std::to_string(train_set.x.cols()) + " in all)");
    }
    std::cerr << "loaded " << train_set.x.cols() << " training and " << test_set.x.cols() << " test images in "
              << std::setprecision(2)
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - started_loading).count() << " s\n";

    // The last `validation` training images are held out.
    const nndl::Index m = train_set.x.cols() - validation;
    const nndl::Matrix<Scalar> x = train_set.x.leftCols(m);
    const nndl::Matrix<Scalar> y = nndl::one_hot(nndl::Matrix<Scalar>(train_set.y.leftCols(m)), 10);
    const nndl::Matrix<Scalar> vx = train_set.x.rightCols(validation);
    const nndl::Matrix<Scalar> vy = nndl::one_hot(nndl::Matrix<Scalar>(train_set.y.rightCols(validation)), 10);
    const bool validates = validation > 0;
    network.set_l2(l2);

    std::cout << describe << ", " << optimizer->name() << " (learning rate " << rate << "), batch " << batch << ", "
              << (std::is_same_v<Scalar, float> ? "float32" : "float64") << ", " << m << " training / "
              << validation << " validation images\n";

    nndl::TrainOptions train_options;
    train_options.epochs = epochs;
    train_options.batch_size = batch;
    train_options.seed = static_cast<std::uint32_t>(options.integer("seed", 0, largest_seed));
    train_options.schedule = {nndl::LearningRateSchedule::Kind::exponential, decay, 1.0};
    Progress progress("epoch");
    train_options.on_batch_end = [&](const nndl::Progress& p) {
        progress.update(p.batch + 1, p.batches, p.loss);
        return true;
    };
    train_options.on_epoch_end = [&](const nndl::Progress& p) {
        const nndl::EpochRecord& r = *p.record;
        std::cout << "Epoch " << r.epoch + 1 << "/" << epochs << ": loss " << std::fixed << std::setprecision(4) << r.loss
                  << ", train accuracy " << r.accuracy;
        if (r.has_validation) {
            std::cout << ", validation accuracy " << r.validation_accuracy;
        }
        std::cout << ", " << std::setprecision(2) << r.seconds << " s\n" << std::defaultfloat << std::flush;
        return true;
    };
    const auto started = std::chrono::steady_clock::now();
    const auto history = train_saving_on_failure(network, options.text("save"), [&] {
        return nndl::train(network, x, y, *optimizer, train_options, validates ? &vx : nullptr, validates ? &vy : nullptr);
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cout << "Trained " << history.epochs.size() << " epochs in " << std::setprecision(3) << seconds << " s\n";

    const nndl::Matrix<Scalar> predicted = network.predict(test_set.x);
    print_accuracy("Test", network.accuracy(test_set.x, test_set.y));
    const auto confusion = nndl::confusion_matrix(test_set.y, predicted, 10);
    std::cout << "Confusion matrix (rows: true class, columns: predicted):\n";
    for (int k = 0; k < 10; ++k) {
        std::cout << std::setw(12) << fashion_class_names[k];
        for (int p = 0; p < 10; ++p) {
            std::cout << std::setw(6) << confusion(k, p);
        }
        std::cout << '\n';
    }

    // The trained model first: a chart that fails must not cost the training.
    if (options.has("save")) {
        save_model(network, options.text("save"));
    }
    if (options.has("plot")) {
        Series loss{"training loss", {}}, val_loss{"validation loss", {}}, acc{"training accuracy", {}},
            val_acc{"validation accuracy", {}};
        for (const auto& r : history.epochs) {
            const double e = static_cast<double>(r.epoch + 1);
            loss.points.emplace_back(e, r.loss);
            val_loss.points.emplace_back(e, r.validation_loss);
            acc.points.emplace_back(e, r.accuracy);
            val_acc.points.emplace_back(e, r.validation_accuracy);
        }
        // The chart's title leaves out a parenthesized remark (it would not fit beside the key).
        plot_lines(options.text("plot"), "Fashion-MNIST " + describe.substr(0, describe.find(" (")) + ": learning curves",
                   "epoch", "loss / accuracy",
                   validates ? std::vector<Series>{loss, val_loss, acc, val_acc} : std::vector<Series>{loss, acc});
    }
    return 0;
}

}  // namespace examples
