// SequenceDense (a dense layer at every time step), SequenceCrossEntropy (summed over the
// steps, padded steps left out) and Network::set_steps: the course's rnn_forward outputs
// y (course 5 week 1, ../shared/reference/course5.md), gradients against central
// differences, padding against shorter sequences run alone, and a bit-exact save/load.
#include "course5_support.hpp"
#include "test_support.hpp"

#include <nndl/gradient_check.hpp>
#include <nndl/io/model.hpp>
#include <nndl/layers/activation_layer.hpp>
#include <nndl/layers/sequence_dense.hpp>
#include <nndl/layers/simple_rnn.hpp>
#include <nndl/network.hpp>
#include <nndl/optim/optimizer.hpp>
#include <nndl/optim/optimizers.hpp>
#include <nndl/training.hpp>

#include <cmath>
#include <filesystem>
#include <memory>

namespace {

using nndl::Index;
using nndl::Matrix;
using nndl::Shape;

/// One-hot targets per step for `classes` classes from a class index per step and example
/// (-1: a padded step, all zeros).
Matrix<double> step_targets(const std::vector<std::vector<int>>& classes_per_example, Index classes) {
    const Index steps = static_cast<Index>(classes_per_example.front().size());
    Matrix<double> y = Matrix<double>::Zero(steps * classes, static_cast<Index>(classes_per_example.size()));
    for (std::size_t i = 0; i < classes_per_example.size(); ++i) {
        for (Index t = 0; t < steps; ++t) {
            const int k = classes_per_example[i][static_cast<std::size_t>(t)];
            if (k >= 0) {
                y(t * classes + k, static_cast<Index>(i)) = 1.0;
            }
        }
    }
    return y;
}

/// SimpleRNN (3 features, 5 units) then SequenceDense to `classes` with softmax, weights drawn from `seed`.
nndl::Network<double> small_sequence_model(Index steps, Index classes, std::uint32_t seed) {
    nndl::Network<double> net(Shape::sequence(steps, 3));
    net.add(std::make_unique<nndl::SimpleRNN<double>>(net.output_shape(), 5, true));
    net.add(std::make_unique<nndl::SequenceDense<double>>(net.output_shape(), classes, nndl::Activation::softmax));
    nndl::NumpyRandom random(seed);
    for (auto& p : net.parameters()) {
        *p.value = random.randn(p.value->rows(), p.value->cols());
    }
    return net;
}

}  // namespace

TEST_CASE("SequenceDense: the course's rnn_forward outputs y_pred at every step") {
    // np.random.seed(1): x (3,10,4), a0 (5,10), Waa (5,5), Wax (5,3), Wya (2,5), ba (5,1), by (2,1)
    nndl::NumpyRandom random(1);
    const Matrix<double> x = random.randn_sequence(3, 10, 4);
    const Matrix<double> a0 = random.randn(5, 10);
    nndl::Network<double> net(Shape::sequence(4, 3));
    net.add(std::make_unique<nndl::SimpleRNN<double>>(net.output_shape(), 5, true));
    net.add(std::make_unique<nndl::SequenceDense<double>>(net.output_shape(), 2, nndl::Activation::softmax));
    const auto rnn = net.layer(0).parameters();
    const auto dense = net.layer(1).parameters();
    *rnn[1].value = random.randn(5, 5);
    *rnn[0].value = random.randn(5, 3);
    *dense[0].value = random.randn(2, 5);
    *rnn[2].value = random.randn(5, 1);
    *dense[1].value = random.randn(2, 1);
    dynamic_cast<nndl::RecurrentState<double>&>(net.layer(0)).set_initial_state(a0);
    CHECK(net.output_shape() == Shape::sequence(4, 2));
    CHECK(net.loss().name() == "SequenceCrossEntropy");
    const Matrix<double> y = net.forward(x, nndl::Mode::training);
    const double y13[] = {0.79560373, 0.86224861, 0.11118257, 0.81515947};  // y_pred[1][3], steps 0..3
    for (Index t = 0; t < 4; ++t) {
        nndl_test::check_printed(y(t * 2 + 1, 3), y13[t]);
        CHECK(y(t * 2, 3) + y(t * 2 + 1, 3) == doctest::Approx(1.0).epsilon(1e-15));  // each step sums to 1
    }
    Matrix<double> inferred;
    net.layer(1).infer(net.layer(0).forward(x, nndl::Mode::training), inferred);
    CHECK(inferred == y);
    net.release_batch();
    net.layer(1).release_batch();
}

TEST_CASE("SequenceDense: gradients match central differences, for the layer and through the loss") {
    nndl::NumpyRandom random(5);
    const Matrix<double> x = random.randn_sequence(4, 3, 6);
    for (const auto activation : {nndl::Activation::tanh, nndl::Activation::softmax, nndl::Activation::sigmoid}) {
        nndl::SequenceDense<double> layer(Shape::sequence(6, 4), 3, activation);
        for (auto& p : layer.parameters()) {
            *p.value = random.randn(p.value->rows(), p.value->cols());
        }
        const auto result = nndl::check_layer_gradients(layer, x);
        INFO(to_string(activation), ": ", result.summary());
        CHECK(result.passed(1e-7));
        CHECK(result.entries_checked == 3 * 4 + 3 + 6 * 4 * 3);
    }
    // The whole model through SequenceCrossEntropy, with padded steps in the second example.
    nndl::Network<double> net = small_sequence_model(5, 4, 9);
    const Matrix<double> xs = random.randn_sequence(3, 2, 5);
    const Matrix<double> ys = step_targets({{0, 3, 1, 2, 2}, {1, 1, 0, -1, -1}}, 4);
    const auto result = nndl::check_network_gradients(net, xs, ys);
    INFO(result.summary());
    CHECK(result.passed(1e-7));
}

TEST_CASE("SequenceCrossEntropy: a sum over the steps; padded steps count for nothing") {
    const nndl::SequenceCrossEntropy<double> loss(3);
    Matrix<double> a(6, 1);
    a << 0.2, 0.5, 0.3, 0.1, 0.1, 0.8;
    const Matrix<double> y = step_targets({{1, 2}}, 3);
    CHECK(loss.value(a, y) == doctest::Approx(-std::log(0.5) - std::log(0.8)).epsilon(1e-15));
    // The fused value from Z is each step's log-softmax.
    Matrix<double> z(6, 1);
    z << 1.0, 2.0, 0.5, -1.0, 0.0, 3.0;
    double expected = 0;
    for (Index t = 0; t < 2; ++t) {
        const auto step = z.col(0).segment(t * 3, 3).array();
        expected -= step(t == 0 ? 1 : 2) - std::log(step.exp().sum());
    }
    CHECK(loss.value_from_preactivation(z, y) == doctest::Approx(expected).epsilon(1e-14));
    // A padded step (all-zero target): no value, no gradient.
    const Matrix<double> padded = step_targets({{1, -1}}, 3);
    CHECK(loss.value(a, padded) == doctest::Approx(-std::log(0.5)).epsilon(1e-15));
    Matrix<double> dz;
    loss.preactivation_gradient(a, padded, dz);
    CHECK(dz.bottomRows(3).isZero(0));
    CHECK(dz(1, 0) == doctest::Approx(-0.5));
    CHECK(nndl_test::message_of<nndl::ShapeError>([&] { loss.value(Matrix<double>::Constant(4, 1, 0.25), Matrix<double>::Zero(4, 1)); }) ==
          "SequenceCrossEntropy::value: the output has 4 rows, expected whole steps of 3 classes");
    CHECK_THROWS_AS(nndl::SequenceCrossEntropy<double>(0), nndl::InvalidArgument);
}

TEST_CASE("Network::set_steps: a padded batch trains as its sequences would alone") {
    // Example A has 5 steps, B 3 steps padded to 5 (zero inputs and targets after its end).
    nndl::NumpyRandom random(21);
    Matrix<double> x = random.randn_sequence(3, 2, 5);
    x.block(9, 1, 6, 1).setZero();
    const Matrix<double> y = step_targets({{0, 1, 2, 3, 0}, {2, 2, 1, -1, -1}}, 4);
    nndl::Network<double> batch = small_sequence_model(5, 4, 4);
    batch.forward(x, nndl::Mode::training);
    const double batch_cost = batch.cost(y);
    batch.backward(y);
    // Each alone: A over 5 steps, B over its own 3 steps (the same network, set_steps(3)).
    nndl::Network<double> alone = small_sequence_model(5, 4, 4);
    const Matrix<double> xa = x.col(0), ya = y.col(0);
    alone.forward(xa, nndl::Mode::training);
    const double cost_a = alone.cost(ya);
    alone.backward(ya);
    std::vector<Matrix<double>> gradients;
    for (auto& p : alone.parameters()) {
        gradients.push_back(*p.gradient);
    }
    alone.set_steps(3);
    CHECK(alone.input_shape() == Shape::sequence(3, 3));
    CHECK(alone.output_shape() == Shape::sequence(3, 4));
    CHECK_FALSE(alone.layer(0).has_batch());
    const Matrix<double> xb = x.col(1).topRows(9), yb = y.col(1).topRows(12);
    alone.forward(xb, nndl::Mode::training);
    const double cost_b = alone.cost(yb);
    alone.backward(yb);
    CHECK(batch_cost == doctest::Approx((cost_a + cost_b) / 2).epsilon(1e-14));
    const auto p = batch.parameters(), q = alone.parameters();
    for (std::size_t k = 0; k < p.size(); ++k) {
        const Matrix<double> mean = (gradients[k] + *q[k].gradient) / 2.0;
        CHECK((*p[k].gradient - mean).norm() <= 1e-14 * (1.0 + mean.norm()));
    }
    // A training step at the new length updates the same parameters.
    nndl::GradientDescent<double> sgd(0.1);
    const Matrix<double> before = *q[0].value;
    alone.train_step(xb, yb, sgd);
    CHECK(*q[0].value != before);
}

TEST_CASE("Network::set_steps: refusals change nothing") {
    nndl::Network<double> net(Shape::sequence(4, 3));
    net.add(std::make_unique<nndl::SimpleRNN<double>>(net.output_shape(), 5, true));
    net.add(nndl::make_dense<double>(20, 2, nndl::Activation::softmax));  // the whole sequence as one vector
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { net.set_steps(6); }) ==
          "Network::set_steps: layer 2 ('dense') takes 20, the whole sequence as one vector; its steps cannot change");
    CHECK(net.input_shape() == Shape::sequence(4, 3));
    CHECK(net.layer(0).input_shape() == Shape::sequence(4, 3));
    nndl::Network<double> last(Shape::sequence(4, 3));
    last.add(std::make_unique<nndl::SimpleRNN<double>>(last.output_shape(), 5, false));
    last.add(nndl::make_dense<double>(5, 2, nndl::Activation::softmax));
    last.set_steps(9);  // only the last step reaches the dense layer
    CHECK(last.layer(0).input_shape() == Shape::sequence(9, 3));
    CHECK(last.predict_proba(Matrix<double>::Ones(27, 2)).rows() == 2);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { last.set_steps(0); }).find(
              "Network::set_steps: steps is 0, expected at least 1") == 0);
    nndl::Network<double> flat(Shape(4));
    flat.add(nndl::make_dense<double>(4, 2, nndl::Activation::relu));
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { flat.set_steps(2); }) ==
          "Network::set_steps: the network takes 4, expected a sequence");
    nndl::SequenceDense<double> layer(Shape::sequence(2, 3), 4, nndl::Activation::identity);
    CHECK_THROWS_AS(layer.set_steps(-1), nndl::InvalidArgument);
    CHECK(layer.input_shape() == Shape::sequence(2, 3));
    CHECK_THROWS_AS(nndl::SequenceDense<double>(Shape(6), 2, nndl::Activation::identity), nndl::InvalidArgument);
    CHECK_THROWS_AS(nndl::SequenceDense<double>(Shape::sequence(2, 3), 0, nndl::Activation::identity),
                    nndl::InvalidArgument);
}

TEST_CASE("Network::set_steps through a tanh ActivationLayer over a sequence") {
    // SimpleRNN -> tanh at every step -> SequenceDense: the activation takes the new steps
    // too, and its outputs over 3 steps equal the first 3 steps of a 5-step run.
    nndl::Network<double> net(Shape::sequence(5, 3));
    net.add(std::make_unique<nndl::SimpleRNN<double>>(net.output_shape(), 4, true));
    net.add(nndl::make_activation_layer<double>(net.output_shape(), nndl::Activation::tanh));
    net.add(std::make_unique<nndl::SequenceDense<double>>(net.output_shape(), 2, nndl::Activation::identity));
    const Matrix<double> x = Matrix<double>::Random(15, 2);
    const Matrix<double> five = net.predict_proba(x);
    net.set_steps(3);
    CHECK(net.layer(1).input_shape() == Shape::sequence(3, 4));
    CHECK(net.layer(1).output_shape() == Shape::sequence(3, 4));
    const Matrix<double> three = net.predict_proba(x.topRows(9));
    CHECK(three == five.topRows(6));
    auto flat = nndl::make_activation_layer<double>(Shape(4), nndl::Activation::tanh);
    auto& steps = dynamic_cast<nndl::VariableSteps<double>&>(*flat);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { steps.set_steps(2); }) ==
          "ActivationLayer::set_steps: the layer takes 4, expected a sequence");
    CHECK(flat->input_shape() == Shape(4));
}

TEST_CASE("SequenceDense: a network with one saves and loads bit-exactly, its loss too") {
    const std::filesystem::path dir = nndl_test::scratch_dir("test_sequence_dense");
    nndl::Network<double> net = small_sequence_model(6, 4, 13);
    nndl::save_network(net, dir / "sequence.npz");
    nndl::Network<double> loaded = nndl::load_network<double>(dir / "sequence.npz");
    CHECK(loaded.layer(1).type() == "sequence_dense");
    CHECK(loaded.layer(1).settings() == net.layer(1).settings());
    CHECK(loaded.loss().name() == "SequenceCrossEntropy");
    const auto saved = net.parameters(), read = loaded.parameters();
    REQUIRE(saved.size() == read.size());
    for (std::size_t k = 0; k < saved.size(); ++k) {
        CHECK(*saved[k].value == *read[k].value);
    }
    nndl::NumpyRandom random(2);
    const Matrix<double> x = random.randn_sequence(3, 5, 6);
    CHECK(net.predict_proba(x) == loaded.predict_proba(x));
    // A loaded network changes its steps like the one it was saved from.
    loaded.set_steps(2);
    net.set_steps(2);
    const Matrix<double> short_x = x.topRows(6);
    CHECK(net.predict_proba(short_x) == loaded.predict_proba(short_x));
    std::filesystem::remove_all(dir);
}

TEST_CASE("Sequence outputs: losses, labels and saves that would be wrong are refused") {
    nndl::Network<double> net = small_sequence_model(3, 4, 17);
    nndl::NumpyRandom random(8);
    const Matrix<double> x = random.randn_sequence(3, 2, 3);
    const Matrix<double> y = step_targets({{0, 1, 2}, {3, 3, -1}}, 4);
    // A loss that groups the rows otherwise than the output layer does.
    net.set_loss(std::make_unique<nndl::SequenceCrossEntropy<double>>(2));
    net.forward(x, nndl::Mode::training);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { net.cost(y); }) ==
          "Network::cost: the loss SequenceCrossEntropy groups 2 classes per step, but the network outputs 3 steps x "
          "4 features");
    net.set_loss(std::make_unique<nndl::CategoricalCrossEntropy<double>>());
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { net.backward(y); }).find(
              "Network::backward: the loss CategoricalCrossEntropy takes a whole column") == 0);
    net.set_loss(std::make_unique<nndl::SequenceCrossEntropy<double>>(4));
    CHECK(std::isfinite(net.cost(y)));
    // Targets that are neither a distribution nor padding.
    Matrix<double> two_hot = y;
    two_hot(1, 0) = 1.0;
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { net.cost(two_hot); }) ==
          "SequenceCrossEntropy::value_from_preactivation: the targets of step 0 of example 0 sum to 2, expected 1 (a "
          "class or a distribution) or 0 (a padded step)");
    net.release_batch();
    // One class per column does not describe a sequence: labels and accuracy are refused.
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { net.predict(x); }) ==
          "Network::predict: the network outputs a sequence (3 steps x 4 features), a class per step; use "
          "predict_proba and take each step's largest");
    CHECK_THROWS_AS(net.accuracy(x, y), nndl::InvalidArgument);
    CHECK_FALSE(net.is_classifier());
    // A softmax activation layer over a sequence would normalize the whole column.
    CHECK_THROWS_AS(nndl::make_activation_layer<double>(Shape::sequence(3, 4), nndl::Activation::softmax),
                    nndl::InvalidArgument);
    CHECK(nndl::make_activation_layer<double>(Shape::sequence(3, 4), nndl::Activation::tanh)->output_shape() ==
          Shape::sequence(3, 4));
    // save_network writes nothing load_network would refuse.
    const std::filesystem::path dir = nndl_test::scratch_dir("test_sequence_dense_refusals");
    net.set_steps(Index(1) << 24);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::save_network(net, dir / "long.npz"); }).find(
              "save_network: load_network would refuse this model: the input: ") == 0);
    net.set_steps(3);
    (*net.parameters()[0].value)(0, 0) = std::nan("");
    CHECK_THROWS_AS(nndl::save_network(net, dir / "nan.npz"), nndl::InvalidArgument);
    CHECK_FALSE(std::filesystem::exists(dir / "long.npz"));
    CHECK_FALSE(std::filesystem::exists(dir / "nan.npz"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("train() and evaluate() over sequences: losses over values train, classes per step need train_step") {
    nndl::NumpyRandom random(12);
    const Matrix<double> x = random.randn_sequence(3, 8, 3);
    const Matrix<double> y = step_targets({{0, 1, 2}, {1, 2, 3}, {3, 3, 0}, {2, 1, 0}, {0, 0, 1}, {1, 1, 2}, {2, 2, 3},
                                           {3, 0, 1}},
                                          4);
    nndl::Network<double> net = small_sequence_model(3, 4, 31);
    nndl::GradientDescent<double> sgd(0.1);
    nndl::TrainOptions options;
    options.epochs = 3;
    options.batch_size = 4;
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::train(net, x, y, sgd, options); }) ==
          "train: the network outputs a sequence (3 steps x 4 features) and is scored by classes (the loss "
          "SequenceCrossEntropy), which train() counts one per column, not one per step; train it with "
          "Network::train_step, or set TrainOptions::metric to TrainMetric::none or TrainMetric::rmse");
    options.metric = nndl::TrainMetric::rmse;
    const double before = nndl::evaluate(net, x, y).first;
    const nndl::TrainHistory history = nndl::train(net, x, y, sgd, options);
    CHECK(history.epochs.size() == 3);
    CHECK(nndl::evaluate(net, x, y).first < before);
    CHECK(std::isnan(nndl::evaluate(net, x, y).second));  // no accuracy of one class per column
    // A regression at every step (mean squared error) trains with the default options.
    nndl::Network<double> values(Shape::sequence(3, 3));
    values.add(std::make_unique<nndl::SimpleRNN<double>>(values.output_shape(), 2, true, 4));
    nndl::TrainOptions plain;
    plain.epochs = 2;
    CHECK(values.loss().name() == "MeanSquaredError");
    CHECK(nndl::train(values, x, Matrix<double>(Matrix<double>::Constant(6, 8, 0.1)), sgd, plain).epochs.size() == 2);
    // A layer's own set_steps refuses an output the new length would make invalid, and keeps its shape.
    nndl::SequenceDense<double> wide(Shape::sequence(2, 1), Index(1) << 20, nndl::Activation::identity);
    CHECK_THROWS_AS(wide.set_steps(Index(1) << 21), nndl::InvalidArgument);
    CHECK(wide.input_shape() == Shape::sequence(2, 1));
}

TEST_CASE("train() with truncate_steps: windows of k steps, the state carried, the gradient stopped between them") {
    nndl::NumpyRandom random(21);
    const Matrix<double> x = random.randn_sequence(3, 4, 6);  // 4 sequences of 6 steps, 3 features each
    const Matrix<double> y = step_targets({{0, 1, 2, 3, 0, 1}, {1, 2, 3, 0, 0, 2}, {3, 3, 0, 1, 2, 2}, {2, 1, 0, 3, 3, 1}},
                                          4);
    const Matrix<double> xv = random.randn_sequence(3, 2, 6);
    const Matrix<double> yv = step_targets({{0, 0, 1, 1, 2, 2}, {3, 2, 1, 0, 1, 2}}, 4);
    nndl::Network<double> net = small_sequence_model(6, 4, 17);
    nndl::Network<double> reference(net);
    nndl::TrainOptions options;
    options.epochs = 1;
    options.batch_size = 0;
    options.shuffle = false;
    options.metric = nndl::TrainMetric::none;
    options.truncate_steps = 4;  // windows of 4 and 2 steps
    nndl::GradientDescent<double> sgd(0.05);
    const nndl::TrainHistory history = nndl::train(net, x, y, sgd, options, &xv, &yv);

    // The same by hand: steps 1-4, one update; steps 5-6 from the state step 4 ended in, one update.
    auto& rnn = dynamic_cast<nndl::SimpleRNN<double>&>(reference.layer(0));
    nndl::GradientDescent<double> by_hand(0.05);
    Matrix<double> outputs(24, 4);
    reference.set_steps(4);
    const Matrix<double> x1 = x.topRows(12), y1 = y.topRows(16);
    outputs.topRows(16) = reference.forward(x1);
    reference.backward(y1);
    reference.apply(by_hand);
    const Matrix<double> carried = rnn.final_state();
    reference.set_steps(2);
    rnn.set_initial_state(carried);
    const Matrix<double> x2 = x.bottomRows(6), y2 = y.bottomRows(8);
    outputs.bottomRows(8) = reference.forward(x2);
    reference.backward(y2);
    reference.apply(by_hand);
    CHECK(rnn.initial_state_gradient().norm() > 0.0);  // the second window's gradient reaches its start, no further
    const auto trained = net.parameters(), expected = reference.parameters();
    REQUIRE(trained.size() == expected.size());
    for (std::size_t k = 0; k < trained.size(); ++k) {
        CHECK(*trained[k].value == *expected[k].value);
    }
    // The batch's loss: the windows' outputs put together, each before its window's update.
    REQUIRE(history.epochs.size() == 1);
    CHECK(history.epochs[0].loss == reference.loss().value(outputs, y));
    // Afterwards the network takes whole sequences again, from zeros: validation scored them so.
    CHECK(net.input_shape() == Shape::sequence(6, 3));
    rnn.reset_state();
    reference.set_steps(6);
    CHECK(net.predict_proba(x) == reference.predict_proba(x));
    CHECK(history.epochs[0].validation_loss == nndl::evaluate(reference, xv, yv).first);
}

TEST_CASE("train() with truncate_steps: a window of every step is plain training; refusals") {
    nndl::NumpyRandom random(22);
    const Matrix<double> x = random.randn_sequence(3, 4, 5);
    const Matrix<double> y = step_targets({{0, 1, 2, 3, 0}, {1, 2, 3, 0, 0}, {3, 3, 0, 1, 2}, {2, 1, 0, 3, 3}}, 4);
    nndl::Network<double> whole = small_sequence_model(5, 4, 18);
    nndl::Network<double> windowed(whole);
    nndl::TrainOptions options;
    options.epochs = 3;
    options.batch_size = 2;
    options.metric = nndl::TrainMetric::none;
    nndl::Adam<double> adam_whole(0.01), adam_windowed(0.01);
    const auto plain = nndl::train(whole, x, y, adam_whole, options);
    options.truncate_steps = 5;
    const auto windows = nndl::train(windowed, x, y, adam_windowed, options);
    const auto a = whole.parameters(), b = windowed.parameters();
    for (std::size_t k = 0; k < a.size(); ++k) {
        CHECK(*a[k].value == *b[k].value);
    }
    CHECK(plain.epochs.back().loss == windows.epochs.back().loss);

    options.truncate_steps = -1;
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::train(windowed, x, y, adam_windowed, options); }) ==
          "train: truncate_steps is -1, expected >= 0 (0: whole sequences)");
    // Only the last step leaves the recurrent layer: nothing to split into windows.
    nndl::Network<double> last(Shape::sequence(5, 3));
    last.add(std::make_unique<nndl::SimpleRNN<double>>(last.output_shape(), 4, false));
    last.add(nndl::make_dense<double>(4, 2, nndl::Activation::softmax));
    options.truncate_steps = 2;
    const Matrix<double> classes = Matrix<double>::Identity(2, 4);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::train(last, x, classes, adam_windowed, options); }) ==
          "train: truncate_steps is 2, which needs a network from a sequence to a sequence of as many steps; this "
          "one takes 5 steps x 3 features and outputs 2");
    CHECK(last.input_shape() == Shape::sequence(5, 3));
}
