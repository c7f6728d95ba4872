// Regression on a CSV table of your own, by default the Auto MPG data set (a car's
// miles per gallon from its cylinders, displacement, horsepower, weight, acceleration,
// model year and origin). The steps a new data set needs: read_csv, a seeded
// train/test split, scalers fitted on the training rows only, a network trained on mean
// squared error, and RMSE / MAE / R^2 on the test rows in the target's own units.
#include "example_support.hpp"
#include "model_files.hpp"

#include <limits>
#include <sstream>
#include <string>

#include <nndl/data/csv.hpp>
#include <nndl/data/scalers.hpp>
#include <nndl/data/split.hpp>

namespace {

nndl::Scaler<double> fit_scaler(const std::string& kind, const nndl::Matrix<double>& x) {
    return kind == "min_max" ? nndl::Scaler<double>::min_max(x) : nndl::Scaler<double>::standardize(x);
}

/// One line per target: each target keeps its own units. Written whole, after every
/// score is computed.
std::string scores(const std::string& label, const nndl::Matrix<double>& predicted, const nndl::Matrix<double>& target,
                   const std::vector<std::string>& names) {
    std::ostringstream out;
    out << std::setprecision(4);
    for (nndl::Index t = 0; t < target.rows(); ++t) {
        const nndl::Matrix<double> p = predicted.row(t);
        const nndl::Matrix<double> y = target.row(t);
        out << label << (target.rows() > 1 ? " " + nndl::printable(names[static_cast<std::size_t>(t)]) : std::string())
            << ": RMSE " << nndl::root_mean_squared_error(p, y) << "  MAE " << nndl::mean_absolute_error(p, y)
            << "  R^2 " << nndl::r2_score(p, y) << '\n';
    }
    return out.str();
}

/// The scaler's statistics as float32 (an ONNX file's weights): refused before training.
void require_float32(const nndl::Scaler<double>& scaler, const char* what) {
    const double largest = std::max(scaler.center().cwiseAbs().maxCoeff(), scaler.spread().maxCoeff());
    if (largest > static_cast<double>(std::numeric_limits<float>::max()) ||
        scaler.spread().minCoeff() < static_cast<double>(std::numeric_limits<float>::min())) {
        throw examples::UsageError(std::string("--save as .onnx: the ") + what +
                                   " scaler's statistics do not fit float32 (ONNX's weights); save a .npz");
    }
}

}  // namespace

int main(int argc, char** argv) {
    return examples::run_main("regression", [&] {
        examples::Options options(
            "regression",
            "Fits a network to numbers in a CSV table (by default miles per gallon of 392 cars) and\n"
            "reports RMSE, MAE and R^2 on held-out rows in the target's units.");
        options.value("csv", "FILE", "the table: a header line, feature columns and target columns",
                      "data/auto_mpg/auto_mpg.csv")
            .repeatable_value("target", "NAME", "a target column by header name; repeat it for several (default: the last column)")
            .flag("no-header", "the file has no header line: the last column is the target")
            .value("delimiter", "C", "the cell separator (one character, or 'tab')", ",")
            .value("test-fraction", "F", "share of the rows held out for testing", "0.2")
            .value("hidden", "N,N,...", "hidden layer sizes (ReLU)", "16,8")
            .value("epochs", "N", "most training epochs", "500")
            .value("patience", "N", "stop after N epochs without a better validation loss (0: never)", "25")
            .value("batch-size", "N", "examples per mini-batch", "32")
            .value("learning-rate", "R", "Adam's learning rate", "0.003")
            .value("scaler", "NAME", "standardize or min_max, for the features and the target", "standardize")
            .value("seed", "N", "seed of the split, the weights and the shuffling", "1")
            .value("plot", "FILE.png", "predicted against actual values of the test rows")
            .value("save", "FILE", "the trained network with its scalers, .npz or .onnx (it predicts in the target's units)")
            .flag("progress", "print the losses every 25 epochs (of the scaled targets)")
            .excludes("no-header", "target");
        options.parse(argc, argv);
        const std::string scaler = options.text("scaler");
        if (scaler != "standardize" && scaler != "min_max") {
            throw examples::UsageError("--scaler must be standardize or min_max, got '" + scaler + "'");
        }
        const std::string delimiter = options.text("delimiter");
        if (delimiter != "tab" && delimiter.size() != 1) {
            throw examples::UsageError("--delimiter must be one character or 'tab', got '" + delimiter + "'");
        }
        const double test_fraction = options.number("test-fraction");
        if (test_fraction >= 1.0) {
            throw examples::UsageError("--test-fraction must be below 1, got " + options.text("test-fraction"));
        }
        // Inputs and outputs are known only from the file: checked against the largest a CSV line can give.
        const std::vector<long> hidden =
            examples::Options::parse_layer_sizes(options.text("hidden"), "--hidden", 1, 1);
        const long epochs = options.integer("epochs", 1);
        const long patience = options.integer("patience", 0);
        const long batch = options.integer("batch-size", 1);
        const double rate = options.number("learning-rate");
        const auto seed = static_cast<std::uint32_t>(options.integer("seed", 0, examples::largest_seed));
        const std::string csv =
            options.has("csv") ? options.text("csv") : examples::data_path("data/auto_mpg/auto_mpg.csv");
        examples::Files()
            .reads(csv)
            .writes_chart("--plot", options.text("plot"))
            .writes("--save", options.text("save"))
            .check();
        if (options.has("save")) {
            examples::check_model_output(options.text("save"), "--save");
        }

        nndl::CsvOptions read;
        read.delimiter = delimiter == "tab" ? '\t' : delimiter[0];
        read.header = options.has("no-header") ? nndl::CsvHeader::absent : nndl::CsvHeader::present;
        if (options.has("target")) {
            read.target_names = options.all("target");
        }
        const nndl::CsvTable<double> table = nndl::read_csv<double>(csv, read);
        std::cerr << "data: " << table.x.cols() << " rows, " << table.x.rows() << " features, target";
        for (const auto& name : table.target_names) {
            std::cerr << ' ' << nndl::printable(name);  // the file's words, escaped
        }
        std::cerr << '\n';
        examples::Options::parse_layer_sizes(options.text("hidden"), "--hidden", static_cast<long>(table.x.rows()),
                                             static_cast<long>(table.y.rows()));
        const auto split = nndl::train_test_split(table.x, table.y, test_fraction, seed);
        std::cerr << "split: " << split.x_train.cols() << " training rows, " << split.x_test.cols()
                  << " test rows (seed " << seed << ")\n";
        // Checked now, not after training: R^2 needs 2 test rows, early stopping a tenth of the training rows.
        if (split.x_test.cols() < 2 || split.x_train.cols() < 10) {
            throw examples::UsageError("--test-fraction " + options.text("test-fraction") + " of " +
                                       std::to_string(table.x.cols()) + " rows leaves " +
                                       std::to_string(split.x_train.cols()) + " training and " +
                                       std::to_string(split.x_test.cols()) +
                                       " test rows, expected at least 10 and 2");
        }

        // Statistics from the training rows only: the test rows stay unseen until the end.
        const nndl::Scaler<double> features = fit_scaler(scaler, split.x_train);
        const nndl::Scaler<double> targets = fit_scaler(scaler, split.y_train);
        if (examples::lower_extension(options.text("save")) == ".onnx") {
            require_float32(features, "features'");
            require_float32(targets, "targets'");
        }
        nndl::NumpyRandom random(seed);
        nndl::Network<double> network(nndl::Shape(table.x.rows()));
        network.add(features.layer());
        for (const long units : hidden) {
            network.add_dense(units, nndl::Activation::relu, nndl::Init::he, random);
        }
        network.add_dense(table.y.rows(), nndl::Activation::identity, nndl::Init::xavier, random);

        nndl::Adam<double> adam(rate);
        nndl::TrainOptions train;
        train.epochs = epochs;
        train.batch_size = batch;
        train.seed = seed;
        train.record_every = 25;
        // The last tenth of the training rows (after the split's shuffle) tells when to stop;
        // the network keeps the parameters of its best epoch there.
        train.validation_split = 0.1;
        train.early_stopping.enabled = patience > 0;
        train.early_stopping.patience = patience;
        if (options.has("progress")) {
            train.on_epoch_end = nndl::print_progress(std::cerr, 25);
        }
        const nndl::TrainHistory history =
            nndl::train(network, split.x_train, targets.transform(split.y_train), adam, train);
        std::cerr << "trained " << history.epochs_run << " epochs"
                  << (history.best_epoch >= 0 ? ", kept epoch " + std::to_string(history.best_epoch + 1) : std::string())
                  << '\n';
        network.add(targets.inverse_layer());  // from here on, answers in the target's units
        std::cerr << network.summary();

        const nndl::Matrix<double> predicted = network.predict(split.x_test);
        const nndl::Matrix<double> mean = split.y_train.rowwise().mean().replicate(1, split.y_test.cols());
        std::cout << scores("test", predicted, split.y_test, table.target_names)
                  << scores("training", network.predict(split.x_train), split.y_train, table.target_names)
                  << scores("baseline (the training mean)", mean, split.y_test, table.target_names);

        // The trained model first: a chart that fails must not cost the training.
        if (options.has("save")) {
            examples::save_model(network, options.text("save"));
        }
        if (options.has("plot")) {
            std::vector<examples::Series> series;
            double low = split.y_test.minCoeff();
            double high = split.y_test.maxCoeff();
            for (nndl::Index t = 0; t < split.y_test.rows(); ++t) {
                examples::Series points{table.target_names[static_cast<std::size_t>(t)] + ", test rows", {}, true};
                for (nndl::Index j = 0; j < split.y_test.cols(); ++j) {
                    points.points.emplace_back(split.y_test(t, j), predicted(t, j));
                }
                series.push_back(points);
            }
            low = std::min(low, predicted.minCoeff());
            high = std::max(high, predicted.maxCoeff());
            series.push_back({"perfect prediction", {{low, low}, {high, high}}, false});
            examples::plot_lines(options.text("plot"), "Predicted against actual values", "actual", "predicted",
                                 series);
        }
        return 0;
    });
}
