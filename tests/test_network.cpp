// Network: the course's W4A1 cases, whole-network gradient checks, training loop,
// errors.
#include <array>
#include <limits>
#include <memory>
#include <string>
#include <vector>
#include "test_support.hpp"

#include <nndl/all.hpp>

#include <thread>

using nndl::Activation;
using nndl::Index;
using nndl::Matrix;
using nndl::NumpyRandom;
using nndl_test::rows;

template <class Scalar>
void set_layer(nndl::Network<Scalar>& net, std::size_t layer, const Matrix<Scalar>& w, const Matrix<Scalar>& b) {
    auto params = net.layer(layer).parameters();
    *params[0].value = w;
    *params[1].value = b;
}

TEST_CASE_TEMPLATE("W4A1 initialize_parameters and initialize_parameters_deep", Scalar, float, double) {
    const double tol = nndl_test::decimals_tolerance<Scalar>();
    const nndl::Initializer small{nndl::Init::scaled_normal, 0.01};
    nndl::Network<Scalar> shallow({3, 2, 1}, {Activation::relu, Activation::sigmoid}, small, 1);
    NNDL_CHECK_CLOSE(*shallow.layer(0).parameters()[0].value,
                     rows<double>({{0.01624345, -0.00611756, -0.00528172}, {-0.01072969, 0.00865408, -0.02301539}}), tol);
    NNDL_CHECK_CLOSE(*shallow.layer(1).parameters()[0].value, rows<double>({{0.01744812, -0.00761207}}), tol);
    CHECK(shallow.layer(0).parameters()[1].value->isZero());

    nndl::Network<Scalar> deep({5, 4, 3}, nndl::standard_activations(2, Activation::relu, Activation::sigmoid), small, 3);
    NNDL_CHECK_CLOSE(deep.layer(0).parameters()[0].value->row(0),
                     rows<double>({{0.01788628, 0.0043651, 0.00096497, -0.01863493, -0.00277388}}), tol);
    NNDL_CHECK_CLOSE(deep.layer(1).parameters()[0].value->row(0),
                     rows<double>({{-0.01185047, -0.0020565, 0.01486148, 0.00236716}}), tol);
    CHECK(deep.sizes() == std::vector<Index>{5, 4, 3});
}

TEST_CASE_TEMPLATE("W4A1 L_model_forward", Scalar, float, double) {
    NumpyRandom random(6);
    const auto x = random.randn<Scalar>(5, 4);
    nndl::Network<Scalar> net({5, 4, 3, 1}, {Activation::relu, Activation::relu, Activation::sigmoid},
                              {nndl::Init::zeros}, 0);
    for (std::size_t l = 0; l < 3; ++l) {
        const Index n_out = net.layer(l).output_size();
        const Index n_in = net.layer(l).input_size();
        const auto w = random.randn<Scalar>(n_out, n_in);
        const auto b = random.randn<Scalar>(n_out, 1);
        set_layer(net, l, w, b);
    }
    const auto expected = rows<double>({{0.03921668, 0.70498921, 0.19734387, 0.04728177}});
    const double tol = 1e-8 + 10 * nndl_test::printed_tolerance<Scalar>();
    NNDL_CHECK_CLOSE(net.forward(x), expected, tol);
    NNDL_CHECK_CLOSE(net.predict_proba(x), expected, tol);
    NNDL_CHECK_CLOSE(net.predict(x), rows<double>({{0, 1, 0, 0}}), 0);
}

TEST_CASE_TEMPLATE("W4A1 L_model_backward through the building blocks", Scalar, float, double) {
    NumpyRandom random(3);
    const auto al = random.randn<Scalar>(1, 2);
    const auto y = rows<Scalar>({{1, 0}});
    const auto a1 = random.randn<Scalar>(4, 2);
    const auto w1 = random.randn<Scalar>(3, 4);
    random.randn(3, 1);  // b1
    const auto z1 = random.randn<Scalar>(3, 2);
    const auto a2 = random.randn<Scalar>(3, 2);
    const auto w2 = random.randn<Scalar>(1, 3);
    random.randn(1, 1);  // b2
    const auto z2 = random.randn<Scalar>(1, 2);
    const Scalar m = 2;

    // The course's caches are random, not a real forward pass (AL is not sigmoid(Z2)),
    // so the chain is replayed with the functions Dense uses, from the course's dAL.
    const Matrix<Scalar> dal = (-(y.array() / al.array() - (1 - y.array()) / (1 - al.array())) / m).matrix();
    Matrix<Scalar> s2, dz2, dw2, db2, da1, s1, dz1, dw1, db1;
    nndl::Sigmoid::forward(z2, s2);
    nndl::Sigmoid::backward(z2, s2, dal, dz2);
    nndl::linear_backward(dz2, a2, w2, dw2, db2, &da1);
    nndl::ReLU::forward(z1, s1);
    nndl::ReLU::backward(z1, s1, da1, dz1);
    nndl::linear_backward<Scalar>(dz1, a1, w1, dw1, db1, nullptr);

    const double tol = 1e-8 + 10 * nndl_test::printed_tolerance<Scalar>();
    NNDL_CHECK_CLOSE(dw1, rows<double>({{0.41010002, 0.07807203, 0.13798444, 0.10502167},
                                        {0., 0., 0., 0.},
                                        {0.05283652, 0.01005865, 0.01777766, 0.0135308}}),
                     tol);
    NNDL_CHECK_CLOSE(db1, rows<double>({{-0.22007063}, {0.}, {-0.02835349}}), tol);
    NNDL_CHECK_CLOSE((m * da1).eval(),
                     rows<double>({{0.12913162, -0.44014127}, {-0.14175655, 0.48317296}, {0.01663708, -0.05670698}}),
                     tol);
}

TEST_CASE_TEMPLATE("W4A1 update_parameters with gradient descent", Scalar, float, double) {
    nndl::Network<Scalar> net({4, 3, 1}, {Activation::relu, Activation::sigmoid}, {nndl::Init::zeros}, 0);
    NumpyRandom random(2);
    const auto w1 = random.randn<Scalar>(3, 4);
    const auto b1 = random.randn<Scalar>(3, 1);
    const auto w2 = random.randn<Scalar>(1, 3);
    const auto b2 = random.randn<Scalar>(1, 1);
    set_layer(net, 0, w1, b1);
    set_layer(net, 1, w2, b2);
    random.seed(3);
    auto params = net.parameters();
    REQUIRE(params.size() == 4);
    for (auto& p : params) {
        *p.gradient = random.randn<Scalar>(p.value->rows(), p.value->cols());
    }
    nndl::GradientDescent<Scalar> gd(0.1);
    net.apply(gd);
    const double tol = 1e-8 + 10 * nndl_test::printed_tolerance<Scalar>();
    NNDL_CHECK_CLOSE(params[0].value->row(0), rows<double>({{-0.59562069, -0.09991781, -2.14584584, 1.82662008}}), tol);
    NNDL_CHECK_CLOSE(*params[1].value, rows<double>({{-0.04659241}, {-1.28888275}, {0.53405496}}), tol);
    NNDL_CHECK_CLOSE(*params[2].value, rows<double>({{-0.55569196, 0.0354055, 1.32964895}}), tol);
    NNDL_CHECK_CLOSE(*params[3].value, rows<double>({{-0.84610769}}), tol);
}

// Random architectures: 2 to 4 layers, random sizes, mixed activations, each
// output with its natural loss (sigmoid: binary cross-entropy, softmax:
// categorical cross-entropy, others: mean squared error).
TEST_CASE_TEMPLATE("Network: whole-network gradients match central differences", Scalar, float, double) {
    NumpyRandom random(2024);
    const Activation hidden_choices[] = {Activation::sigmoid, Activation::tanh, Activation::relu,
                                         Activation::leaky_relu, Activation::identity};
    const Activation output_choices[] = {Activation::sigmoid, Activation::softmax, Activation::identity,
                                         Activation::tanh};
    for (int trial = 0; trial < 12; ++trial) {
        const auto layers = static_cast<std::size_t>(2 + random.below(3));
        std::vector<Index> sizes{static_cast<Index>(1 + random.below(5))};
        std::vector<Activation> activations;
        for (std::size_t l = 0; l < layers; ++l) {
            sizes.push_back(static_cast<Index>(1 + random.below(5)));
            activations.push_back(hidden_choices[random.below(5)]);
        }
        activations.back() = output_choices[trial % 4];
        if (activations.back() == Activation::sigmoid) {
            sizes.back() = 1;
        }
        if (activations.back() == Activation::softmax) {
            sizes.back() = std::max<Index>(sizes.back(), 2);
        }
        nndl::Network<Scalar> net(sizes, activations, {nndl::Init::xavier}, random);
        for (auto& p : net.parameters()) {
            if (p.name == "b") {
                *p.value = random.randn<Scalar>(p.value->rows(), 1) * Scalar(0.1);
            }
        }
        const Index m = 1 + random.below(6);
        const Matrix<Scalar> x = random.randn<Scalar>(sizes.front(), m);
        Matrix<Scalar> y;
        if (activations.back() == Activation::sigmoid) {
            y = (random.rand<Scalar>(1, m).array() > Scalar(0.5)).template cast<Scalar>();
        } else if (activations.back() == Activation::softmax) {
            y = Matrix<Scalar>::Zero(sizes.back(), m);
            for (Index j = 0; j < m; ++j) {
                y(static_cast<Index>(random.below(static_cast<std::uint32_t>(sizes.back()))), j) = 1;
            }
        } else {
            y = random.randn<Scalar>(sizes.back(), m);
        }
        const auto result = nndl::check_network_gradients(net, x, y);
        std::string shape;
        for (std::size_t l = 0; l < sizes.size(); ++l) {
            shape += std::to_string(sizes[l]) + (l + 1 < sizes.size() ? "-" : "");
        }
        INFO("trial ", trial, " sizes ", shape, " output ", nndl::to_string(activations.back()), " loss ",
             net.loss().name(), ": ", result.summary());
        CHECK(result.passed(nndl_test::gradient_tolerance<Scalar>()));
    }
}

TEST_CASE_TEMPLATE("Network: fit records costs before each update and can stop early", Scalar, float, double) {
    NumpyRandom random(1);
    const Matrix<Scalar> x = random.randn<Scalar>(2, 20);
    const Matrix<Scalar> y = (x.row(0).array() > Scalar(0)).template cast<Scalar>();
    nndl::Network<Scalar> net({2, 3, 1}, {Activation::tanh, Activation::sigmoid}, {nndl::Init::scaled_normal, 0.01}, 3);
    nndl::Network<Scalar> twin = net;  // copies train independently
    nndl::GradientDescent<Scalar> gd(0.5);

    nndl::TrainOptions options;
    options.record_every = 100;
    long calls = 0;
    options.on_epoch_end = [&](const nndl::Progress& p) {
        ++calls;
        CHECK(p.epoch == calls - 1);
        CHECK(p.recorded == (p.epoch % 100 == 0 || p.epoch == 249));
        return true;
    };
    const auto history = net.fit(x, y, gd, 250, options);
    CHECK(calls == 250);
    REQUIRE(history.epochs.size() == 4);
    CHECK(history.epochs[0].epoch == 0);
    CHECK(history.epochs[3].epoch == 249);
    CHECK(history.epochs[3].loss < history.epochs[0].loss);
    CHECK(net.accuracy(x, y) > 0.9);

    // The first recorded cost is the cost of the untrained copy.
    twin.forward(x);
    CHECK(static_cast<double>(twin.cost(y)) == history.epochs[0].loss);

    options.on_epoch_end = [](const nndl::Progress& p) { return p.epoch < 9; };
    const auto stopped = twin.fit(x, y, gd, 250, options);
    CHECK(stopped.epochs_run == 10);
    CHECK(stopped.stopped_early);
}

TEST_CASE("Network: a diverging fit stops with an error naming the iteration") {
    const Matrix<double> x = rows<double>({{1e200, -1e200}});
    const Matrix<double> y = rows<double>({{1e200, -1e200}});
    nndl::Network<double> net({1, 1}, {Activation::identity}, {nndl::Init::scaled_normal, 1.0}, 0);
    nndl::GradientDescent<double> gd(10.0);
    const auto message = nndl_test::message_of<nndl::DivergenceError>([&] { net.fit(x, y, gd, 100); });
    CHECK(message.find("train: the loss became") != std::string::npos);
    CHECK(message.find("in epoch 0, batch 0") != std::string::npos);
    CHECK(message.find("smaller learning rate") != std::string::npos);
}

TEST_CASE("Network: wrong shapes and bad sizes throw with clear messages") {
    nndl::Network<double> net({4, 3, 1}, {Activation::relu, Activation::sigmoid}, {nndl::Init::he}, 1);
    nndl::GradientDescent<double> gd(0.1);
    const Matrix<double> x = Matrix<double>::Zero(5, 2);
    CHECK(nndl_test::message_of<nndl::ShapeError>([&] { net.forward(x); }) ==
          "Network::forward: input has 5 rows, network expects 4 (input shape 4)");
    const Matrix<double> good_x = Matrix<double>::Zero(4, 2);
    CHECK(nndl_test::message_of<nndl::ShapeError>([&] { net.fit(good_x, Matrix<double>::Zero(1, 3), gd, 1); }) ==
          "train: Y has 3 columns, X has 2");
    CHECK(nndl_test::message_of<nndl::ShapeError>([&] { net.fit(good_x, Matrix<double>::Zero(2, 2), gd, 1); }) ==
          "train: Y has 2 rows, the network outputs 1");
    Matrix<double> nan_x = good_x;
    nan_x(2, 1) = std::nan("");
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { net.fit(nan_x, Matrix<double>::Zero(1, 2), gd, 1); })
              .find("train: X has a non-finite value (nan) at row 2, column 1") != std::string::npos);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] {
              nndl::Network<double>({4, 0, 1}, {Activation::relu, Activation::sigmoid}, {}, 1);
          }) == "Network::Network: size 1 is 0, expected at least 1");
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] {
              nndl::Network<double>({4, 1}, {Activation::relu, Activation::sigmoid}, {}, 1);
          }) == "Network::Network: 2 activations for 1 layers, expected one per layer");
    nndl::Network<double> by_hand(4);
    CHECK(nndl_test::message_of<nndl::ShapeError>([&] { by_hand.add(nndl::make_dense<double>(5, 2, Activation::relu)); }) ==
          "Network::add: layer 1 ('dense') takes input 5, but the network outputs 4");
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { by_hand.predict(good_x); }) ==
          "Network::predict: the network has no layers, expected at least 1");
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] { nndl::GradientDescent<double> bad(-1.0); }) ==
          "GradientDescent::GradientDescent: learning rate is -1, expected a finite number > 0");
}

TEST_CASE("Network: built layer by layer equals built from sizes") {
    NumpyRandom random(1);
    nndl::Network<double> by_hand(6);
    by_hand.add_dense(4, Activation::relu, {nndl::Init::inv_sqrt_fan_in}, random)
        .add_dense(1, Activation::sigmoid, {nndl::Init::inv_sqrt_fan_in}, random);
    nndl::Network<double> from_sizes({6, 4, 1}, {Activation::relu, Activation::sigmoid}, {nndl::Init::inv_sqrt_fan_in}, 1);
    const Matrix<double> x = NumpyRandom(8).randn(6, 3);
    CHECK(by_hand.predict_proba(x) == from_sizes.predict_proba(x));
    CHECK(by_hand.loss().name() == "BinaryCrossEntropy");
}

TEST_CASE("Network: sizes from any integer container, plain Init and Activation values") {
    const std::vector<int> int_sizes{6, 4, 1};
    const std::array<std::size_t, 3> unsigned_sizes{6, 4, 1};
    nndl::Network<double> reference({6, 4, 1}, {Activation::relu, Activation::sigmoid}, {nndl::Init::he}, 1);
    nndl::Network<double> from_ints(int_sizes, {Activation::relu, Activation::sigmoid}, nndl::Init::he, 1);
    nndl::Network<double> from_pair(unsigned_sizes, Activation::relu, Activation::sigmoid, nndl::Init::he, 1);
    const Matrix<double> x = NumpyRandom(8).randn(6, 3);
    CHECK(from_ints.predict_proba(x) == reference.predict_proba(x));
    CHECK(from_pair.predict_proba(x) == reference.predict_proba(x));
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] {
              nndl::Network<double>(std::vector<int>{6, -4, 1}, Activation::relu, Activation::sigmoid, nndl::Init::he, 1);
          }) == "Network::Network: size 1 is -4, expected at least 1");
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] {
              nndl::LayerSizes(std::vector<unsigned long long>{6, ~0ULL});
          }).find("LayerSizes: size 1 is 18446744073709551615, expected at most 9223372036854775807") !=
          std::string::npos);
    static_assert(!std::is_convertible_v<std::string, nndl::LayerSizes>, "a string is not a list of sizes");
    static_assert(std::is_convertible_v<std::vector<long>, nndl::LayerSizes>);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] {
              nndl::Network<double>(std::vector<int>{6}, Activation::relu, Activation::sigmoid, nndl::Init::he, 1);
          }).find("expected at least 2") != std::string::npos);
}

TEST_CASE("Network: insert puts a layer in front of a network built from sizes") {
    nndl::Network<double> net({2, 3, 1}, Activation::relu, Activation::sigmoid, nndl::Init::he, 1);
    const Matrix<double> x = rows<double>({{1, 2, 3}, {4, 5, 6}});
    const Matrix<double> before = net.predict_proba(x);
    const auto scaler = nndl::Scaler<double>::standardize(x);
    net.insert(0, scaler.layer());
    REQUIRE(net.depth() == 3);
    CHECK(net.layer(0).type() == "normalization");
    CHECK(net.parameters().size() == 4);
    nndl::Network<double> plain({2, 3, 1}, Activation::relu, Activation::sigmoid, nndl::Init::he, 1);
    CHECK(net.predict_proba(x) == plain.predict_proba(scaler.transform(x)));
    CHECK(net.predict_proba(x) != before);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { net.insert(9, scaler.layer()); }) ==
          "Network::insert: position 9 but the network has 3 layers, expected 0..3");
    CHECK(nndl_test::message_of<nndl::ShapeError>([&] {
              net.insert(2, nndl::Scaler<double>::standardize(x).layer());
          }).find("takes input 2, but at position 2 it gets 3") != std::string::npos);
}

TEST_CASE("Network: summary lists layers, output shapes and parameter counts") {
    NumpyRandom random(1);
    nndl::Network<float> net(nndl::Shape::image(8, 8, 1));
    net.add(std::make_unique<nndl::Conv2D<float>>(net.output_shape(), 4, nndl::Window(3), nndl::Stride(1),
                                                  nndl::Padding::same(), Activation::relu));
    net.add(std::make_unique<nndl::BatchNorm<float>>(net.output_shape()));
    net.add_dense(10, Activation::softmax, nndl::Init::xavier, random);
    const std::string text = net.summary();
    INFO(text);
    CHECK(text.rfind("Network<float>, 3 layers\n", 0) == 0);
    // conv: 4 filters of 3x3x1 plus 4 biases = 40; batch norm: gamma and beta, 4 each;
    // dense: 256 x 10 + 10 = 2570. Batch norm keeps 8 running values.
    CHECK(text.find("conv2d(") != std::string::npos);
    CHECK(text.find("8x8x4 (height x width x channels)") != std::string::npos);
    CHECK(text.find("  40\n") != std::string::npos);
    CHECK(text.find("   8\n") != std::string::npos);
    CHECK(text.find("dense(units=10, activation=softmax)") != std::string::npos);
    CHECK(text.find("2570\n") != std::string::npos);
    CHECK(text.find("trained parameters: 2618\n") != std::string::npos);
    CHECK(text.find("state values (not trained): 8\n") != std::string::npos);
    CHECK(text.find("loss: CategoricalCrossEntropy") != std::string::npos);
    CHECK(nndl::Network<double>(nndl::Shape(3)).summary().find("0 layers") != std::string::npos);
}

TEST_CASE("Network: predicting from several threads at once gives the single-thread results") {
    nndl::Network<double> net({20, 16, 8, 1}, {Activation::relu, Activation::tanh, Activation::sigmoid},
                              {nndl::Init::he}, 4);
    const Matrix<double> x = NumpyRandom(5).randn(20, 300);
    const Matrix<double> expected = net.predict_proba(x);
    std::vector<Matrix<double>> results(4);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < results.size(); ++t) {
        threads.emplace_back([&, t] {
            for (int repeat = 0; repeat < 20; ++repeat) {
                results[t] = net.predict_proba(x);
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    for (const auto& r : results) {
        CHECK(r == expected);
    }
}

TEST_CASE("Network: predictions over many examples go a slice of columns at a time, with each column's own values") {
    // 70,000 units hold 70,000 values per example: predicting 600 examples takes several
    // slices (at most 2^24 values each); each column must be the one computed on its own.
    NumpyRandom random(11);
    nndl::Network<double> net(nndl::Shape(4));
    net.add_dense(70000, Activation::relu, {nndl::Init::he}, random);
    net.add_dense(3, Activation::softmax, {nndl::Init::xavier}, random);
    const Matrix<double> x = random.randn<double>(4, 600);
    const Matrix<double> all = net.predict_proba(x);
    REQUIRE(all.rows() == 3);
    REQUIRE(all.cols() == 600);
    double worst = 0.0;
    for (Index j = 0; j < x.cols(); j += 37) {
        const Matrix<double> one = net.predict_proba(x.col(j));
        worst = std::max(worst, (one - all.col(j)).cwiseAbs().maxCoeff());
    }
    CHECK(worst < 1e-12);
    const Matrix<double> labels = net.predict(x);
    CHECK(labels.leftCols(300) == net.predict(Matrix<double>(x.leftCols(300))));
}

// The finiteness test behind every prediction's input check and max pooling's choice of path:
// one vectorized sum, so each position of a packet, its tail and a lone value must count.
TEST_CASE_TEMPLATE("detail::all_finite: a non-finite value anywhere, at any length, is found", Scalar, float, double) {
    const Scalar finite[] = {Scalar(0), -Scalar(0), std::numeric_limits<Scalar>::denorm_min(),
                             std::numeric_limits<Scalar>::max(), std::numeric_limits<Scalar>::lowest()};
    const Scalar non_finite[] = {std::numeric_limits<Scalar>::infinity(), -std::numeric_limits<Scalar>::infinity(),
                                 std::numeric_limits<Scalar>::quiet_NaN()};
    int missed = 0;
    int wrong = 0;
    for (Index length = 1; length <= 40; ++length) {
        Matrix<Scalar> m(length, 1);
        for (Index i = 0; i < length; ++i) {
            m(i, 0) = finite[i % 5];
        }
        wrong += !nndl::detail::all_finite(m);  // huge values of both signs, zeros, denormals: finite
        for (Index at = 0; at < length; ++at) {
            for (const Scalar bad : non_finite) {
                Matrix<Scalar> with_bad = m;
                with_bad(at, 0) = bad;
                missed += nndl::detail::all_finite(with_bad);
            }
        }
    }
    CHECK(wrong == 0);
    CHECK(missed == 0);
    CHECK(nndl::detail::all_finite(Matrix<Scalar>(0, 3)));  // nothing to find
}
