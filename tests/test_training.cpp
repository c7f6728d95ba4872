// Mini-batch training, dropout, L2 regularization, multi-class softmax.
#include "scale_layer.hpp"
#include "test_support.hpp"

#include <nndl/all.hpp>

#include <functional>
#include <sstream>
#include <string>
#include <vector>
#include <limits>

using nndl::Activation;
using nndl::Index;
using nndl::Matrix;
using nndl::NumpyRandom;
using nndl_test::rows;

namespace {

// Three Gaussian blobs in 2-D, labels 0, 1, 2.
struct Blobs {
    Matrix<double> x;
    Matrix<double> labels;
};

Blobs blobs(Index per_class, std::uint32_t seed) {
    NumpyRandom random(seed);
    const double centers[3][2] = {{0, 3}, {3, -2}, {-3, -2}};
    Blobs b{Matrix<double>(2, 3 * per_class), Matrix<double>(1, 3 * per_class)};
    for (Index k = 0; k < 3; ++k) {
        const Matrix<double> noise = random.randn(2, per_class);
        for (Index j = 0; j < per_class; ++j) {
            b.x(0, k * per_class + j) = centers[k][0] + noise(0, j);
            b.x(1, k * per_class + j) = centers[k][1] + noise(1, j);
            b.labels(0, k * per_class + j) = static_cast<double>(k);
        }
    }
    return b;
}

}  // namespace

TEST_CASE_TEMPLATE("dropout: gradient check with a fixed mask; evaluation passes through", Scalar, float, double) {
    nndl::Dropout<Scalar> dropout(4, 0.6, 3);
    NumpyRandom random(4);
    const Matrix<Scalar> x = random.randn<Scalar>(4, 6);
    dropout.forward(x, nndl::Mode::training);
    dropout.freeze_mask(true);
    const auto result = nndl::check_layer_gradients<Scalar>(dropout, x);
    INFO(result.summary());
    CHECK(result.passed(nndl_test::gradient_tolerance<Scalar>()));
    // Inverted dropout: the mask is 0/1, kept units are divided by keep_prob.
    const auto& mask = dropout.mask();
    CHECK(((mask.array() == Scalar(0)) || (mask.array() == Scalar(1))).all());
    const Matrix<Scalar> dropped = dropout.forward(x, nndl::Mode::training);
    CHECK(dropped == Matrix<Scalar>((x.array() * mask.array() / static_cast<Scalar>(0.6)).matrix()));
    CHECK(dropout.forward(x, nndl::Mode::evaluation) == x);
    Matrix<Scalar> out;
    dropout.infer(x, out);
    CHECK(out == x);
    // About keep_prob of the units survive.
    nndl::Dropout<Scalar> many(100, 0.8, 1);
    const Matrix<Scalar> ones = Matrix<Scalar>::Ones(100, 100);
    const double kept = static_cast<double>((many.forward(ones, nndl::Mode::training).array() > Scalar(0)).count()) / 1e4;
    CHECK(kept == doctest::Approx(0.8).epsilon(0.03));
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] { nndl::Dropout<Scalar> bad(3, 0.0); }) ==
          "Dropout::Dropout: keep_prob is 0, expected a number in (0, 1]");
}

TEST_CASE_TEMPLATE("L2 regularization: cost includes the term and gradients check", Scalar, float, double) {
    nndl::Network<Scalar> net({3, 4, 1}, {Activation::tanh, Activation::sigmoid}, {nndl::Init::xavier}, 5);
    NumpyRandom random(6);
    const Matrix<Scalar> x = random.randn<Scalar>(3, 5);
    const Matrix<Scalar> y = rows<Scalar>({{1, 0, 1, 1, 0}});
    net.forward(x);
    const double plain = static_cast<double>(net.cost(y));
    net.set_l2(0.7);
    net.forward(x);
    double squares = 0;
    for (const auto& p : net.parameters()) {
        if (p.name == "W") {
            squares += static_cast<double>(p.value->squaredNorm());
        }
    }
    CHECK(static_cast<double>(net.cost(y)) == doctest::Approx(plain + 0.7 / (2 * 5) * squares).epsilon(1e-6));
    const auto result = nndl::check_network_gradients(net, x, y);
    INFO(result.summary());
    CHECK(result.passed(nndl_test::gradient_tolerance<Scalar>()));
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { net.set_l2(-1); }) ==
          "Network::set_l2: lambda is -1, expected a finite number >= 0");
}

TEST_CASE_TEMPLATE("network with dropout: gradient check with frozen masks", Scalar, float, double) {
    NumpyRandom random(8);
    nndl::Network<Scalar> net(3);
    net.add_dense(5, Activation::relu, {nndl::Init::he}, random);
    net.add(std::make_unique<nndl::Dropout<Scalar>>(5, 0.7, 2));
    net.add_dense(3, Activation::softmax, {nndl::Init::xavier}, random);
    const Matrix<Scalar> x = random.randn<Scalar>(3, 4);
    const Matrix<Scalar> y = nndl::one_hot<Scalar>(rows<Scalar>({{0, 2, 1, 2}}), 3);
    net.forward(x);
    static_cast<nndl::Dropout<Scalar>&>(net.layer(1)).freeze_mask(true);
    const auto result = nndl::check_network_gradients(net, x, y);
    INFO(result.summary());
    CHECK(result.passed(nndl_test::gradient_tolerance<Scalar>()));
}

TEST_CASE("multi-class: softmax network learns three blobs with mini-batches") {
    const auto train_set = blobs(100, 1);
    const auto test_set = blobs(50, 2);
    nndl::Network<double> net({2, 8, 3}, {Activation::relu, Activation::softmax}, {nndl::Init::he}, 1);
    CHECK(net.loss().name() == "CategoricalCrossEntropy");
    nndl::Adam<double> adam(0.01);
    nndl::TrainOptions options;
    options.epochs = 30;
    options.batch_size = 32;  // 300 examples: 9 full batches and one of 12
    long batches_seen = 0;
    options.on_batch_end = [&](const nndl::Progress& p) {
        CHECK(p.batches == 10);
        ++batches_seen;
        return true;
    };
    const Matrix<double> y = nndl::one_hot(train_set.labels, 3);
    const auto history = nndl::train(net, train_set.x, y, adam, options);
    CHECK(batches_seen == 300);
    REQUIRE(history.epochs.size() == 30);
    CHECK(history.epochs.back().loss < history.epochs.front().loss);
    CHECK(history.epochs.back().accuracy > 0.95);
    // Accuracy with class-index labels and with one-hot labels agree.
    CHECK(net.accuracy(test_set.x, test_set.labels) > 0.95);
    CHECK(net.accuracy(test_set.x, nndl::one_hot(test_set.labels, 3)) == net.accuracy(test_set.x, test_set.labels));
    const auto confusion = nndl::confusion_matrix(test_set.labels, net.predict(test_set.x), 3);
    CHECK(confusion.sum() == 150);
    CHECK(confusion.trace() >= 143);
}

TEST_CASE("training: shuffling is reproducible from the seed; validation split and early stopping") {
    const auto data = blobs(60, 3);
    const Matrix<double> y = nndl::one_hot(data.labels, 3);
    const auto run = [&](std::uint32_t seed) {
        nndl::Network<double> net({2, 6, 3}, {Activation::tanh, Activation::softmax}, {nndl::Init::xavier}, 2);
        nndl::GradientDescent<double> gd(0.1);
        nndl::TrainOptions options;
        options.epochs = 3;
        options.batch_size = 16;
        options.seed = seed;
        options.validation_split = 0.2;
        const auto history = nndl::train(net, data.x, y, gd, options);
        return std::make_pair(history, net.predict_proba(data.x));
    };
    const auto a = run(5);
    const auto b = run(5);
    const auto c = run(6);
    CHECK(a.second == b.second);
    CHECK(a.second != c.second);
    CHECK(a.first.epochs.back().has_validation);

    nndl::Network<double> net({2, 6, 3}, {Activation::tanh, Activation::softmax}, {nndl::Init::xavier}, 2);
    nndl::Adam<double> adam(0.5);  // far too large: the validation loss stops improving
    nndl::TrainOptions options;
    options.epochs = 200;
    options.batch_size = 8;
    options.validation_split = 0.25;
    options.early_stopping.enabled = true;
    options.early_stopping.patience = 3;
    const auto history = nndl::train(net, data.x, y, adam, options);
    CHECK(history.stopped_early);
    CHECK(history.epochs.size() < 200u);
    REQUIRE(history.best_epoch >= 0);
    CHECK(static_cast<long>(history.epochs.size()) == history.best_epoch + 1 + 3);
    // The network holds the best epoch's weights again.
    const Matrix<double> validation_x = data.x.rightCols(45);
    const Matrix<double> validation_y = y.rightCols(45);
    const auto [loss, accuracy] = nndl::evaluate(net, validation_x, validation_y);
    (void)accuracy;
    CHECK(loss == doctest::Approx(history.epochs[static_cast<std::size_t>(history.best_epoch)].validation_loss));
}

TEST_CASE("training: bad options are rejected with clear messages") {
    nndl::Network<double> net({2, 3}, {Activation::softmax}, {nndl::Init::xavier}, 2);
    nndl::GradientDescent<double> gd(0.1);
    const Matrix<double> x = Matrix<double>::Zero(2, 10);
    const Matrix<double> y = nndl::one_hot<double>(Matrix<double>::Zero(1, 10), 3);
    nndl::TrainOptions options;
    options.validation_split = 1.5;
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::train(net, x, y, gd, options); }) ==
          "train: validation_split is 1.5, expected a fraction in [0, 1)");
    options.validation_split = 0;
    options.early_stopping.enabled = true;
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::train(net, x, y, gd, options); }) ==
          "train: early stopping monitors a validation metric but there is no validation data");
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] {
              nndl::one_hot<double>(rows<double>({{0, 3}}), 3);
          }) == "one_hot: label at column 1 is 3, expected a class index in 0..2");
    CHECK(nndl_test::message_of<nndl::ShapeError>([&] { nndl::train(net, x, Matrix<double>(y.leftCols(4)), gd, {}); }) ==
          "train: Y has 4 columns, X has 10");
}

TEST_CASE("training: the learning-rate schedule sets each epoch's rate") {
    const auto data = blobs(20, 4);
    const Matrix<double> y = nndl::one_hot(data.labels, 3);
    nndl::Network<double> net({2, 4, 3}, {Activation::tanh, Activation::softmax}, {nndl::Init::xavier}, 2);
    nndl::Nesterov<double> nesterov(0.2);
    nndl::TrainOptions options;
    options.epochs = 4;
    options.batch_size = 10;
    options.schedule = {nndl::LearningRateSchedule::Kind::step, 0.5, 2};
    const auto history = nndl::train(net, data.x, y, nesterov, options);
    REQUIRE(history.epochs.size() == 4);
    CHECK(history.epochs[0].learning_rate == doctest::Approx(0.2));
    CHECK(history.epochs[1].learning_rate == doctest::Approx(0.2));
    CHECK(history.epochs[2].learning_rate == doctest::Approx(0.1));
    CHECK(history.epochs[3].learning_rate == doctest::Approx(0.1));
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nesterov.set_learning_rate(0); }) ==
          "Optimizer::set_learning_rate (nesterov): learning rate is 0, expected a finite number > 0");
}

// Each of the next four cases failed with the loop before nndl 0.2.

TEST_CASE("training: a batch callback that stops says so, and the epoch's loss is over the examples seen") {
    const auto data = blobs(20, 5);  // 60 examples, batches of 10
    const Matrix<double> y = nndl::one_hot(data.labels, 3);
    nndl::Network<double> net({2, 4, 3}, {Activation::tanh, Activation::softmax}, {nndl::Init::xavier}, 2);
    nndl::GradientDescent<double> gd(0.1);
    nndl::TrainOptions options;
    options.epochs = 3;
    options.batch_size = 10;
    double first_batch_loss = 0.0;
    options.on_batch_end = [&](const nndl::Progress& p) {
        first_batch_loss = p.loss;
        return false;
    };
    long epoch_callbacks = 0;
    options.on_epoch_end = [&](const nndl::Progress& p) {
        ++epoch_callbacks;
        CHECK(p.record != nullptr);
        return true;
    };
    const auto history = nndl::train(net, data.x, y, gd, options);
    CHECK(history.stopped_early);
    CHECK(history.epochs_run == 1);
    CHECK(epoch_callbacks == 1);  // the cut-short epoch is still reported
    REQUIRE(history.epochs.size() == 1);
    CHECK(history.epochs[0].examples == 10);
    CHECK(history.epochs[0].loss == first_batch_loss);  // not a tenth of it
}

TEST_CASE("training: the optimizer's learning rate is what it was after training, however it ends") {
    const auto data = blobs(10, 6);
    const Matrix<double> y = nndl::one_hot(data.labels, 3);
    nndl::Network<double> net({2, 4, 3}, {Activation::tanh, Activation::softmax}, {nndl::Init::xavier}, 2);
    nndl::GradientDescent<double> gd(0.1);
    nndl::TrainOptions options;
    options.epochs = 3;
    options.batch_size = 10;
    options.schedule = {nndl::LearningRateSchedule::Kind::exponential, 0.5, 1.0};
    const auto history = nndl::train(net, data.x, y, gd, options);
    CHECK(history.epochs.back().learning_rate == doctest::Approx(0.025));
    CHECK(gd.learning_rate() == 0.1);
    // A second run starts from 0.1 again instead of compounding the schedule.
    CHECK(nndl::train(net, data.x, y, gd, options).epochs.front().learning_rate == 0.1);
    // A run that fails midway restores it too.
    options.on_epoch_end = [](const nndl::Progress& p) {
        if (p.epoch == 1) {
            throw std::runtime_error("stop here");
        }
        return true;
    };
    CHECK_THROWS_AS(nndl::train(net, data.x, y, gd, options), std::runtime_error);
    CHECK(gd.learning_rate() == 0.1);
    // A schedule that decays to 0 is refused before the first epoch, with nothing trained.
    options.on_epoch_end = nullptr;
    options.schedule = {nndl::LearningRateSchedule::Kind::exponential, 1e-200, 1.0};
    const Matrix<double> before = *net.parameters()[0].value;
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::train(net, data.x, y, gd, options); }) ==
          "train: the learning-rate schedule gives 0 at epoch 2, expected a finite rate > 0");
    CHECK(*net.parameters()[0].value == before);
}

TEST_CASE("training: an epoch callback cannot undo early stopping's verdict") {
    const auto data = blobs(10, 7);
    const Matrix<double> y = nndl::one_hot(data.labels, 3);
    nndl::Network<double> net({2, 4, 3}, {Activation::tanh, Activation::softmax}, {nndl::Init::xavier}, 2);
    nndl::GradientDescent<double> gd(0.1);
    nndl::TrainOptions options;
    options.epochs = 2;
    options.batch_size = 0;
    options.early_stopping.enabled = true;
    options.early_stopping.monitor = nndl::Monitor::loss;
    options.early_stopping.min_delta = 1e9;  // nothing counts as better than epoch 0
    options.early_stopping.patience = 1;     // so epoch 1, the last, stops
    options.on_epoch_end = [](const nndl::Progress& p) { return p.epoch == 0; };
    const auto history = nndl::train(net, data.x, y, gd, options);
    CHECK(history.epochs_run == 2);
    CHECK(history.best_epoch == 0);
    CHECK(history.stopped_early);
}

TEST_CASE("training: the history reports what fits the loss; accuracy for MSE only when asked") {
    // tanh output, labels -1 / 1, outputs that are right in sign but below 0.5. The loss
    // is mean squared error, so training reports an RMSE unless accuracy is asked for.
    const Matrix<double> x = rows<double>({{-3, -2, -1, 1, 2, 3}});
    const Matrix<double> y = rows<double>({{-1, -1, -1, 1, 1, 1}});
    nndl::Network<double> net(1);
    net.add(nndl::make_dense<double>(1, 1, Activation::tanh));
    net.parameters()[0].value->setConstant(0.1);
    CHECK(net.decision_threshold() == 0.0);
    CHECK(net.accuracy(x, y) == 1.0);
    CHECK_FALSE(net.is_classifier());
    CHECK(net.predict(x) == net.predict_proba(x));  // a tanh output is a value
    CHECK(net.predict(x, 0.0) == rows<double>({{0, 0, 0, 1, 1, 1}}));
    nndl::GradientDescent<double> gd(1e-6);
    nndl::Network<double> copy = net;
    const auto automatic = copy.fit(x, y, gd, 1);
    CHECK_FALSE(automatic.epochs[0].has_accuracy);
    CHECK(automatic.epochs[0].has_rmse);
    // RMSE of the outputs before the update: sqrt(mean((tanh(0.1 x + 0.1) - y)^2)).
    const Matrix<double> before = net.predict_proba(x);
    CHECK(automatic.epochs[0].rmse == doctest::Approx(std::sqrt((before - y).squaredNorm() / 6.0)));
    nndl::TrainOptions asked;
    asked.metric = nndl::TrainMetric::accuracy;
    const auto history = net.fit(x, y, gd, 1, asked);
    CHECK(history.epochs[0].has_accuracy);
    CHECK_FALSE(history.epochs[0].has_rmse);
    CHECK(history.epochs[0].accuracy == 1.0);  // thresholding at 0.5 gave 0.5

    nndl::Network<double> regression(1);
    regression.add(nndl::make_dense<double>(1, 1, Activation::identity));
    const auto fitted = regression.fit(x, y, gd, 1);
    CHECK_FALSE(fitted.epochs[0].has_accuracy);
    CHECK(std::isnan(fitted.epochs[0].accuracy));
    CHECK(fitted.epochs[0].has_rmse);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { (void)regression.fit(x, y, gd, 1, asked); }) ==
          "train: the metric is accuracy, but the network's single output ends with identity, which has no "
          "classes; use TrainMetric::rmse");
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { (void)regression.accuracy(x, y); }) ==
          "Network::accuracy: the single output ends with identity, which has no classes; pass a threshold: "
          "accuracy(x, y, threshold)");
    CHECK(regression.accuracy(x, y, 0.0) >= 0.0);
    nndl::TrainOptions none;
    none.metric = nndl::TrainMetric::none;
    const auto bare = regression.fit(x, y, gd, 1, none);
    CHECK_FALSE(bare.epochs[0].has_rmse);
    CHECK_FALSE(bare.epochs[0].has_accuracy);

    // A sigmoid output trained with cross-entropy reports accuracy.
    nndl::Network<double> classifier(1);
    classifier.add(nndl::make_dense<double>(1, 1, Activation::sigmoid));
    const Matrix<double> labels = rows<double>({{0, 0, 0, 1, 1, 1}});
    const auto classified = classifier.fit(x, labels, gd, 1);
    CHECK(classified.epochs[0].has_accuracy);
    CHECK_FALSE(classified.epochs[0].has_rmse);
    CHECK(classifier.is_classifier());
    CHECK(((classifier.predict(x).array() == 0.0) || (classifier.predict(x).array() == 1.0)).all());
}

TEST_CASE("training: early stopping on an RMSE, and a metric the run does not report is refused") {
    const Matrix<double> x = rows<double>({{-3, -2, -1, 0, 1, 2, 3, 4}});
    const Matrix<double> y = (x * 0.5).array() + 1.0;
    nndl::Network<double> net(1);
    net.add(nndl::make_dense<double>(1, 1, Activation::identity));
    nndl::GradientDescent<double> gd(0.05);
    nndl::TrainOptions options;
    options.epochs = 30;
    options.batch_size = 0;
    options.shuffle = false;
    options.early_stopping.enabled = true;
    options.early_stopping.monitor = nndl::Monitor::rmse;
    const auto history = nndl::train(net, x, y, gd, options);
    REQUIRE(!history.epochs.empty());
    CHECK(history.epochs.back().rmse < history.epochs.front().rmse);
    options.early_stopping.monitor = nndl::Monitor::accuracy;
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::train(net, x, y, gd, options); })
              .find("early stopping monitors an accuracy, which this training does not report") != std::string::npos);
}

TEST_CASE("training: print_progress writes one line per epoch with the reported metrics") {
    const Blobs data = blobs(40, 2);
    nndl::Network<double> net({2, 8, 3}, {Activation::relu, Activation::softmax}, nndl::Init::he, 1);
    nndl::Adam<double> adam(0.01);
    nndl::TrainOptions options;
    options.epochs = 4;
    options.validation_split = 0.25;
    std::ostringstream out;
    options.on_epoch_end = nndl::print_progress(out, 2);
    nndl::train(net, data.x, nndl::one_hot(data.labels, 3), adam, options);
    std::istringstream lines(out.str());
    std::string line;
    std::vector<std::string> printed;
    while (std::getline(lines, line)) {
        printed.push_back(line);
    }
    REQUIRE(printed.size() == 3);  // epochs 1 and 3 (every 2nd), and the last
    CHECK(printed[0].rfind("epoch 1/4  loss ", 0) == 0);
    CHECK(printed[1].rfind("epoch 3/4  loss ", 0) == 0);
    CHECK(printed[2].rfind("epoch 4/4  loss ", 0) == 0);
    for (const auto& text : printed) {
        CHECK(text.find("  accuracy ") != std::string::npos);
        CHECK(text.find("  validation accuracy ") != std::string::npos);
        CHECK(text.find("rmse") == std::string::npos);
        CHECK(text.find(" s") != std::string::npos);
    }
    CHECK_THROWS_AS(nndl::print_progress(out, 0), nndl::InvalidArgument);
}

TEST_CASE("training: early stopping restores the best epoch's parameters and state") {
    const auto data = blobs(10, 8);
    const Matrix<double> y = nndl::one_hot(data.labels, 3);
    const auto make = [] {
        nndl::Network<double> net(2);
        net.add(std::make_unique<Scale<double>>(nndl::Shape(2), 0.5));
        NumpyRandom random(3);
        net.add_dense(3, Activation::softmax, {nndl::Init::xavier}, random);
        return net;
    };
    nndl::TrainOptions options;
    options.batch_size = 10;
    options.seed = 4;
    options.early_stopping.enabled = true;
    options.early_stopping.monitor = nndl::Monitor::loss;
    options.early_stopping.min_delta = 1e9;  // epoch 0 stays the best
    options.early_stopping.patience = 2;
    options.epochs = 10;
    nndl::GradientDescent<double> gd(0.5);
    auto net = make();
    const auto history = nndl::train(net, data.x, y, gd, options);
    CHECK(history.stopped_early);
    CHECK(history.epochs_run == 3);
    CHECK(history.best_epoch == 0);

    auto once = make();  // the same run, one epoch long
    options.epochs = 1;
    nndl::train(once, data.x, y, gd, options);
    for (std::size_t i = 0; i < net.parameters().size(); ++i) {
        CHECK(*net.parameters()[i].value == *once.parameters()[i].value);
    }
    REQUIRE(net.state().size() == 2);
    CHECK(net.state()[0].value->coeff(0, 0) == 3.0);  // 3 batches seen by the best epoch's end
    for (std::size_t i = 0; i < net.state().size(); ++i) {
        CHECK(*net.state()[i].value == *once.state()[i].value);
    }
}

TEST_CASE("training: a callback may replace the network it trains (restoring a snapshot)") {
    const auto data = blobs(10, 9);
    const Matrix<double> y = nndl::one_hot(data.labels, 3);
    nndl::Network<double> net({2, 4, 3}, {Activation::tanh, Activation::softmax}, {nndl::Init::xavier}, 2);
    const nndl::Network<double> snapshot = net;
    nndl::GradientDescent<double> gd(0.1);
    nndl::TrainOptions options;
    options.on_epoch_end = [&](const nndl::Progress& p) {
        if (p.epoch == 2) {
            net = snapshot;  // the loop holds the network, not its old layers
        }
        return true;
    };
    const auto history = net.fit(data.x, y, gd, 5, options);
    CHECK(history.epochs_run == 5);
    CHECK(net.predict_proba(data.x).allFinite());
    nndl::Network<double> replay = snapshot;  // 2 more steps from the snapshot give the same network
    replay.fit(data.x, y, gd, 2);
    CHECK(replay.predict_proba(data.x) == net.predict_proba(data.x));
}

TEST_CASE("training: option edges the review found") {
    const auto data = blobs(20, 10);
    const Matrix<double> y = nndl::one_hot(data.labels, 3);
    // Early stopping on an accuracy a regression does not have is refused up front.
    nndl::Network<double> regression({2, 4, 1}, {Activation::tanh, Activation::identity}, {nndl::Init::xavier}, 2);
    nndl::GradientDescent<double> gd(0.05);
    nndl::TrainOptions options;
    options.validation_split = 0.25;
    options.early_stopping.enabled = true;
    options.early_stopping.monitor = nndl::Monitor::validation_accuracy;
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] {
              nndl::train(regression, data.x, Matrix<double>(data.x.row(0)), gd, options);
          }).find("early stopping monitors an accuracy, which this training does not report (the loss is "
                  "MeanSquaredError)") != std::string::npos);

    // The L2 term counts once, whatever the chunk size of evaluate.
    nndl::Network<double> net({2, 4, 3}, {Activation::tanh, Activation::softmax}, {nndl::Init::xavier}, 2);
    net.set_l2(0.7);
    const auto whole = nndl::evaluate(net, data.x, y, 60);
    const auto chunked = nndl::evaluate(net, data.x, y, 7);
    CHECK(chunked.first == doctest::Approx(whole.first).epsilon(1e-12));
    net.forward(data.x);
    CHECK(whole.first == doctest::Approx(static_cast<double>(net.cost(y))).epsilon(1e-12));
    net.release_batch();

    // The epoch early stopping ends is reported as recorded, and it is in the history.
    nndl::TrainOptions stopping;
    stopping.epochs = 50;
    stopping.batch_size = 0;
    stopping.record_every = 100;
    stopping.early_stopping.enabled = true;
    stopping.early_stopping.monitor = nndl::Monitor::loss;
    stopping.early_stopping.min_delta = 1e9;
    stopping.early_stopping.patience = 2;
    std::vector<long> recorded;
    stopping.on_epoch_end = [&](const nndl::Progress& p) {
        if (p.recorded) {
            recorded.push_back(p.epoch);
        }
        return true;
    };
    const auto history = nndl::train(net, data.x, y, gd, stopping);
    CHECK(recorded == std::vector<long>{0, 2});
    REQUIRE(history.epochs.size() == 2);
    CHECK(history.epochs[1].epoch == 2);

    // "Train until I say stop": a huge epoch count starts at once.
    nndl::TrainOptions endless;
    endless.epochs = std::numeric_limits<long>::max();
    endless.on_epoch_end = [](const nndl::Progress& p) { return p.epoch < 1; };
    CHECK(nndl::train(net, data.x, y, gd, endless).epochs_run == 2);
}

TEST_CASE("training: a callback that changes X between full-batch steps trains on the changed X") {
    // fit once derived X^T from X's address and kept it, so this trained on stale data.
    const auto data = blobs(30, 4);
    const Matrix<double> y = nndl::one_hot(data.labels, 3);
    const nndl::Network<double> start({2, 5, 3}, {Activation::relu, Activation::softmax}, {nndl::Init::he}, 6);
    Matrix<double> x = data.x;
    nndl::Network<double> net = start;
    nndl::GradientDescent<double> gd(0.05);
    nndl::TrainOptions options;
    options.on_epoch_end = [&](const nndl::Progress&) {
        x *= 1.5;  // e.g. a user's own augmentation, in place
        return true;
    };
    net.fit(x, y, gd, 4, options);

    nndl::Network<double> replay = start;
    Matrix<double> step_x = data.x;
    for (int step = 0; step < 4; ++step) {
        replay.train_step(step_x, y, gd);
        step_x *= 1.5;
    }
    CHECK(replay.predict_proba(data.x) == net.predict_proba(data.x));
}

TEST_CASE("training: a callback that resizes X or Y is refused before the next batch reads past them") {
    const auto data = blobs(40, 4);
    const nndl::Network<double> start({2, 5, 3}, {Activation::relu, Activation::softmax}, {nndl::Init::he}, 6);
    nndl::GradientDescent<double> gd(0.05);
    for (const bool shrink_y : {false, true}) {
        Matrix<double> x = data.x;
        Matrix<double> y = nndl::one_hot(data.labels, 3);
        nndl::Network<double> net = start;
        nndl::TrainOptions options;
        options.epochs = 3;
        options.batch_size = 8;  // shuffled batches: copies of columns by the epoch's order
        options.on_batch_end = [&](const nndl::Progress& p) {
            if (p.batch == 1) {
                (shrink_y ? y : x).conservativeResize(Eigen::NoChange, 5);
            }
            return true;
        };
        const std::string message = nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::train(net, x, y, gd, options); });
        const std::string m = std::to_string(data.x.cols());
        CHECK(message.find("during training, expected 2 x " + m + " and 3 x " + m + " as at the start") !=
              std::string::npos);
    }
}

/// The DivergenceError that `run` throws (the test fails when it throws none).
nndl::DivergenceError divergence_of(const std::function<void()>& run) {
    try {
        run();
    } catch (const nndl::DivergenceError& e) {
        return e;
    }
    FAIL("expected a DivergenceError");
    return nndl::DivergenceError("");
}

TEST_CASE("training: divergence late in training puts back the last finished (or best) epoch") {
    const auto data = blobs(64, 5);
    const Matrix<double> y = nndl::one_hot(data.labels, 3);
    nndl::Network<double> net({2, 8, 3}, {Activation::relu, Activation::softmax}, {nndl::Init::he}, 3);
    nndl::GradientDescent<double> gd(0.05);
    nndl::TrainOptions options;
    options.epochs = 6;
    options.batch_size = 16;  // 12 batches an epoch: the last epoch is kept
    options.on_batch_end = [&](const nndl::Progress& p) {
        if (p.epoch == 3 && p.batch == 4) {
            net.layer(1).parameters()[0].value->setConstant(std::numeric_limits<double>::quiet_NaN());
        }
        return true;
    };
    Matrix<double> kept_after_epoch_2;
    options.on_epoch_end = [&](const nndl::Progress& p) {
        if (p.epoch == 2) {
            kept_after_epoch_2 = *net.layer(1).parameters()[0].value;
        }
        return true;
    };
    const nndl::DivergenceError failure = divergence_of([&] { nndl::train(net, data.x, y, gd, options); });
    CHECK(failure.kept_epoch() == 2);
    CHECK(std::string(failure.what()).find("epoch 3, batch 5") != std::string::npos);
    CHECK(std::string(failure.what()).find("holds the parameters of epoch 2 (the last finished)") != std::string::npos);
    CHECK(*net.layer(1).parameters()[0].value == kept_after_epoch_2);
    CHECK(net.predict_proba(data.x).allFinite());

    // Parameters that are no longer finite at an epoch's end (an infinite loss allowed) are
    // not kept: the epoch before is.
    nndl::Network<double> inf_net({2, 8, 3}, {Activation::relu, Activation::softmax}, {nndl::Init::he}, 3);
    nndl::TrainOptions inf_options = options;
    inf_options.allow_infinite_loss = true;
    inf_options.on_epoch_end = nullptr;
    inf_options.on_batch_end = [&](const nndl::Progress& p) {
        if (p.epoch == 2 && p.batch == 11) {
            inf_net.layer(1).parameters()[1].value->setConstant(std::numeric_limits<double>::infinity());
        }
        return true;
    };
    CHECK(divergence_of([&] { nndl::train(inf_net, data.x, y, gd, inf_options); }).kept_epoch() == 1);
    CHECK(inf_net.predict_proba(data.x).allFinite());

    // Full batch: nothing is kept (a copy per step would cost too much), and it says so.
    nndl::Network<double> full({2, 3}, {Activation::softmax}, {nndl::Init::he}, 3);
    nndl::TrainOptions full_options;
    full_options.on_epoch_end = [&](const nndl::Progress& p) {
        if (p.epoch == 1) {
            full.layer(0).parameters()[0].value->setConstant(std::numeric_limits<double>::quiet_NaN());
        }
        return true;
    };
    const nndl::DivergenceError full_failure = divergence_of([&] { full.fit(data.x, y, gd, 5, full_options); });
    CHECK(full_failure.kept_epoch() == -1);
    CHECK(std::string(full_failure.what()).find("holds") == std::string::npos);

    // Early stopping that keeps the best epoch puts that one back.
    nndl::Network<double> stopping({2, 8, 3}, {Activation::relu, Activation::softmax}, {nndl::Init::he}, 3);
    nndl::TrainOptions es = options;
    es.early_stopping.enabled = true;
    es.early_stopping.monitor = nndl::Monitor::loss;
    es.early_stopping.patience = 10;
    es.on_epoch_end = nullptr;
    es.on_batch_end = [&](const nndl::Progress& p) {
        if (p.epoch == 3 && p.batch == 4) {
            stopping.layer(1).parameters()[0].value->setConstant(std::numeric_limits<double>::quiet_NaN());
        }
        return true;
    };
    const nndl::DivergenceError best_failure = divergence_of([&] { nndl::train(stopping, data.x, y, gd, es); });
    CHECK(best_failure.kept_epoch() == 2);  // the loss falls every epoch here, so the best is the last finished
    CHECK(std::string(best_failure.what()).find("(the best so far)") != std::string::npos);
    CHECK(stopping.predict_proba(data.x).allFinite());
}
