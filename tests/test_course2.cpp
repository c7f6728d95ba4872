// The unit-test cases of the course's second part ("Improving Deep Neural Networks"):
// the values its notebooks print, from ../shared/reference/course2.md.
#include "test_support.hpp"

#include <nndl/all.hpp>

using nndl::Activation;
using nndl::Matrix;

namespace {

// Parameters from the course's seeded draws, in its order: W1, b1, W2, b2, W3, b3 for the
// given sizes, into a network of Dense layers (and dropout layers where keep < 1).
nndl::Network<double> course_network(nndl::NumpyRandom& random, const std::vector<nndl::Index>& sizes, double keep = 1.0) {
    nndl::Network<double> net{nndl::Shape(sizes[0])};
    for (std::size_t l = 1; l < sizes.size(); ++l) {
        const bool last = l + 1 == sizes.size();
        auto dense = nndl::make_dense<double>(sizes[l - 1], sizes[l], last ? Activation::sigmoid : Activation::relu);
        *dense->parameters()[0].value = random.randn(sizes[l], sizes[l - 1]);
        *dense->parameters()[1].value = random.randn(sizes[l], 1);
        net.add(std::move(dense));
        if (!last && keep < 1.0) {
            net.add_dropout(keep, 1);
        }
    }
    nndl::restart_dropout_every_pass(net);
    return net;
}

void check_rounded(const Matrix<double>& actual, const Matrix<double>& printed) {
    REQUIRE(actual.rows() == printed.rows());
    REQUIRE(actual.cols() == printed.cols());
    for (nndl::Index i = 0; i < printed.rows(); ++i) {
        for (nndl::Index j = 0; j < printed.cols(); ++j) {
            INFO("entry (", i, ", ", j, ")");
            CHECK(std::abs(actual(i, j) - printed(i, j)) <= 5.000001e-9);  // printed to 8 decimals
        }
    }
}

}  // namespace

TEST_CASE("course 2, initialization: zeros, random x10 and He for the test layer sizes") {
    nndl::NumpyRandom random(3);
    Matrix<double> w1 = nndl::initial_weights<double>(2, 3, {nndl::Init::scaled_normal, 10.0}, random);
    Matrix<double> w2 = nndl::initial_weights<double>(1, 2, {nndl::Init::scaled_normal, 10.0}, random);
    Matrix<double> printed1(2, 3), printed2(1, 2);
    printed1 << 17.88628473, 4.36509851, 0.96497468, -18.63492703, -2.77388203, -3.54758979;
    printed2 << -0.82741481, -6.27000677;
    check_rounded(w1, printed1);
    check_rounded(w2, printed2);

    random.seed(3);
    w1 = nndl::initial_weights<double>(4, 2, {nndl::Init::he}, random);
    w2 = nndl::initial_weights<double>(1, 4, {nndl::Init::he}, random);
    Matrix<double> he1(4, 2), he2(1, 4);
    he1 << 1.78862847, 0.43650985, 0.09649747, -1.8634927, -0.2773882, -0.35475898, -0.08274148, -0.62700068;
    he2 << -0.03098412, -0.33744411, -0.92904268, 0.62552248;
    check_rounded(w1, he1);
    check_rounded(w2, he2);
    CHECK(nndl::initial_weights<double>(2, 3, {nndl::Init::zeros}, random).isZero());
}

TEST_CASE("course 2, regularization: the cost with L2 prints 1.7864859451590758") {
    nndl::NumpyRandom random(1);
    auto net = course_network(random, {3, 2, 3, 1});
    Matrix<double> a3(1, 5), y(1, 5);
    a3 << 0.40682402, 0.01629284, 0.16722898, 0.10118111, 0.40682402;
    y << 1, 1, 0, 1, 0;
    net.set_loss(std::make_unique<nndl::CourseBinaryCrossEntropy<double>>());
    net.set_l2(0.1);
    CHECK(net.cost_of_output(a3, y) == 1.7864859451590758);
}

TEST_CASE("course 2, regularization: the forward pass with the course's dropout masks") {
    nndl::NumpyRandom random(1);
    const Matrix<double> x = random.randn(3, 5);
    auto net = course_network(random, {3, 2, 3, 1}, 0.7);
    Matrix<double> printed(1, 5);
    printed << 0.36974721, 0.00305176, 0.04565099, 0.49683389, 0.36974721;
    check_rounded(net.forward(x, nndl::Mode::training), printed);
    check_rounded(net.forward(x, nndl::Mode::training), printed);  // seed(1) at every pass: the same masks
    // The masks NumPy draws after seed(1): rand(2, 5) < 0.7, then rand(3, 5) < 0.7.
    auto& first = static_cast<nndl::Dropout<double>&>(net.layer(1));
    auto& second = static_cast<nndl::Dropout<double>&>(net.layer(3));
    CHECK(first.restart_rows() == 0);
    CHECK(second.restart_rows() == 2);
    nndl::NumpyRandom numpy(1);
    const Matrix<double> draws = numpy.rand(5, 5);  // the 25 draws in order: 10 for D1, 15 for D2
    for (nndl::Index k = 0; k < 25; ++k) {
        const double expected = draws(k / 5, k % 5) < 0.7 ? 1.0 : 0.0;
        const double actual = k < 10 ? first.mask()(k / 5, k % 5) : second.mask()((k - 10) / 5, (k - 10) % 5);
        CHECK(actual == expected);
    }
    net.release_batch();
}

TEST_CASE("course 2, gradient checking: the 1-D difference and bad arguments") {
    const double x = 3.0;
    const auto check = nndl::check_vector_gradient([&](const nndl::Vector<double>& t) { return t(0) * x; },
                                                   nndl::Vector<double>::Constant(1, 4.0),
                                                   nndl::Vector<double>::Constant(1, x));
    CHECK(check.difference == 7.814075313343006e-11);  // printed by the course
    CHECK(check.approximation(0) == doctest::Approx(3.0).epsilon(1e-9));
    const auto cost = [](const nndl::Vector<double>& t) { return t.squaredNorm(); };
    CHECK_THROWS_WITH_AS(nndl::check_vector_gradient(cost, nndl::Vector<double>::Zero(3), nndl::Vector<double>::Zero(2)),
                         doctest::Contains("check_vector_gradient: the gradient has 2 entries, theta has 3"),
                         nndl::InvalidArgument);
    CHECK_THROWS_WITH_AS(
        nndl::check_vector_gradient(cost, nndl::Vector<double>::Zero(2), nndl::Vector<double>::Zero(2), -1.0),
        doctest::Contains("epsilon -1, expected a positive finite number"), nndl::InvalidArgument);
    CHECK_THROWS_WITH_AS(nndl::check_vector_gradient([](const nndl::Vector<double>& t) { return std::log(t(0)); },
                                                     nndl::Vector<double>::Zero(1), nndl::Vector<double>::Zero(1)),
                         doctest::Contains("expected a finite number"), nndl::InvalidArgument);
}

namespace {

// The optimization notebook's update cases: seed(1); W1 (2x3), b1 (2x1), W2 (3x2), b2 (3x1),
// then their gradients of the same shapes; one update of each parameter (slots 0..3).
std::vector<Matrix<double>> updated(nndl::Optimizer<double>& optimizer, long steps_before = 0) {
    nndl::NumpyRandom random(1);
    const std::pair<nndl::Index, nndl::Index> shapes[] = {{2, 3}, {2, 1}, {3, 2}, {3, 1}};
    std::vector<Matrix<double>> parameters;
    std::vector<Matrix<double>> gradients;
    for (const auto& [r, c] : shapes) {
        parameters.push_back(random.randn(r, c));
    }
    for (const auto& [r, c] : shapes) {
        gradients.push_back(random.randn(r, c));
    }
    for (long s = 0; s <= steps_before; ++s) {
        optimizer.begin_step();  // Adam's t: the case sets t = 2 directly
    }
    for (std::size_t k = 0; k < parameters.size(); ++k) {
        optimizer.update(k, parameters[k], gradients[k]);
    }
    return parameters;
}

// Passes its input through and remembers the values of every training batch.
class Recorder final : public nndl::Layer<double> {
public:
    explicit Recorder(std::vector<double>& seen) : seen_(&seen) {}
    std::string type() const override { return "recorder"; }
    nndl::Shape input_shape() const override { return nndl::Shape(1); }
    nndl::Shape output_shape() const override { return nndl::Shape(1); }
    std::unique_ptr<nndl::Layer<double>> clone() const override { return std::make_unique<Recorder>(*this); }

protected:
    const Matrix<double>& do_forward(const Matrix<double>& x, nndl::Mode mode) override {
        if (mode == nndl::Mode::training) {
            seen_->insert(seen_->end(), x.data(), x.data() + x.size());
        }
        out_ = x;
        return out_;
    }
    const Matrix<double>& do_backward(const Matrix<double>& dy, bool) override {
        dx_ = dy;
        return dx_;
    }
    void do_infer(const Matrix<double>& x, Matrix<double>& y) const override { y = x; }

private:
    std::vector<double>* seen_;
    Matrix<double> out_, dx_;
};

Matrix<double> literal(nndl::Index r, nndl::Index c, std::initializer_list<double> values) {
    Matrix<double> m(r, c);
    auto it = values.begin();
    for (nndl::Index i = 0; i < r; ++i) {
        for (nndl::Index j = 0; j < c; ++j) {
            m(i, j) = *it++;
        }
    }
    return m;
}

}  // namespace

TEST_CASE("course 2, optimization: gradient descent, momentum and Adam updates print the course's values") {
    nndl::GradientDescent<double> gd(0.01);
    auto p = updated(gd);
    check_rounded(p[0], literal(2, 3, {1.63312395, -0.61217855, -0.5339999, -1.06196243, 0.85396039, -2.3105546}));
    check_rounded(p[1], literal(2, 1, {1.73978682, -0.77021546}));
    check_rounded(p[2], literal(3, 2, {0.32587637, -0.24814147, 1.47146563, -2.05746183, -0.32772076, -0.37713775}));
    check_rounded(p[3], literal(3, 1, {1.13773698, -1.09301954, -0.16397615}));

    nndl::Momentum<double> momentum(0.01, 0.9);
    p = updated(momentum);
    check_rounded(p[0], literal(2, 3, {1.62522322, -0.61179863, -0.52875457, -1.071868, 0.86426291, -2.30244029}));
    check_rounded(p[1], literal(2, 1, {1.74430927, -0.76210776}));
    check_rounded(p[2], literal(3, 2, {0.31972282, -0.24924749, 1.46304371, -2.05987282, -0.32294756, -0.38336269}));
    check_rounded(p[3], literal(3, 1, {1.1341662, -1.09920409, -0.171583}));

    nndl::Adam<double> adam(0.02, 0.8, 0.888, 1e-2);
    p = updated(adam, 1);  // t = 2
    REQUIRE(adam.step() == 2);
    check_rounded(p[0], literal(2, 3, {1.63937725, -0.62327448, -0.54308727, -1.0578897, 0.85032154, -2.31657668}));
    check_rounded(p[1], literal(2, 1, {1.72995096, -0.7762447}));
    check_rounded(p[2], literal(3, 2, {0.33400549, -0.23563857, 1.47715417, -2.04561842, -0.33729882, -0.36908457}));
    check_rounded(p[3], literal(3, 1, {1.14852557, -1.08492339, -0.15740527}));
}

TEST_CASE("course 2, optimization: the two learning-rate decays and the course's lag") {
    nndl::LearningRateSchedule inverse{nndl::LearningRateSchedule::Kind::inverse_time, 1.0, 1.0};
    CHECK(inverse.at(0.5, 2) == 0.16666666666666666);  // update_lr(0.5, 2, 1)
    nndl::LearningRateSchedule scheduled{nndl::LearningRateSchedule::Kind::scheduled, 0.3, 100.0};
    CHECK(scheduled.at(0.5, 10) == 0.5);  // schedule_lr_decay(0.5, 10, 0.3, 100)
    CHECK(scheduled.at(0.5, 100) == 0.3846153846153846);
    scheduled.lag = 1;  // the rate computed after epoch 100 trains epoch 101
    CHECK(scheduled.at(0.5, 100) == 0.5);
    CHECK(scheduled.at(0.5, 101) == 0.3846153846153846);
    CHECK(scheduled.at(0.5, 0) == 0.5);
    scheduled.lag = -1;
    CHECK_THROWS_WITH_AS(scheduled.at(0.5, 3), doctest::Contains("lag is -1, expected a number of epochs >= 0"),
                         nndl::InvalidArgument);
}

TEST_CASE("course 2, optimization: mini-batches cut from the course's permutation") {
    // The notebook's check: X[i][j] = j * 12288 + i, seed 0: row 0 of the first batch starts
    // 294912, 86016, 454656; row 12287 of the last batch (20 columns) starts 1425407, 1769471, 897023.
    nndl::NumpyRandom random(0);
    const auto order = random.permutation(148);
    CHECK(std::vector<nndl::Index>(order.begin(), order.begin() + 3) == std::vector<nndl::Index>{24, 7, 37});
    CHECK(order[0] * 12288 == 294912);
    CHECK(order[1] * 12288 == 86016);
    CHECK(order[2] * 12288 == 454656);
    CHECK(order[128] * 12288 + 12287 == 1425407);
    CHECK(order[129] * 12288 + 12287 == 1769471);
    CHECK(order[130] * 12288 + 12287 == 897023);

    // train() with seed_every_epoch shuffles epoch e by permutation(m) after seed(seed + 1 + e):
    // a pass-through layer that records the columns it sees shows the order.
    std::vector<double> seen;
    nndl::Network<double> net{nndl::Shape(1)};
    net.add(std::make_unique<Recorder>(seen));
    net.add(nndl::make_dense<double>(1, 1, Activation::sigmoid));
    Matrix<double> x(1, 10);
    for (int j = 0; j < 10; ++j) {
        x(0, j) = j;
    }
    const Matrix<double> y = Matrix<double>::Zero(1, 10);
    nndl::TrainOptions options;
    options.epochs = 2;
    options.batch_size = 4;
    options.seed = 10;
    options.seed_every_epoch = true;
    nndl::GradientDescent<double> gd(1e-3);
    nndl::train(net, x, y, gd, options);
    REQUIRE(seen.size() == 20u);
    for (int epoch = 0; epoch < 2; ++epoch) {
        nndl::NumpyRandom expected(static_cast<std::uint32_t>(11 + epoch));
        const auto perm = expected.permutation(10);
        for (int k = 0; k < 10; ++k) {
            CHECK(seen[static_cast<std::size_t>(10 * epoch + k)] == static_cast<double>(perm[static_cast<std::size_t>(k)]));
        }
    }
}

TEST_CASE("course 2, regularization: the backward pass with L2 gives the course's weight gradients") {
    // seed(1); X = randn(3, 5); the weights follow (the case's cache holds the forward of
    // these values, printed to 8 decimals); lambda = 0.7.
    nndl::NumpyRandom random(1);
    const Matrix<double> x = random.randn(3, 5);
    auto net = course_network(random, {3, 2, 3, 1});
    net.set_loss(std::make_unique<nndl::CourseBinaryCrossEntropy<double>>());
    net.set_l2(0.7);
    Matrix<double> y(1, 5);
    y << 1, 1, 0, 1, 0;
    Matrix<double> a3(1, 5);
    a3 << 0.40682402, 0.01629284, 0.16722898, 0.10118111, 0.40682402;
    check_rounded(net.forward(x, nndl::Mode::training), a3);
    net.backward(y);
    const auto parameters = net.parameters();
    check_rounded(*parameters[0].gradient,
                  literal(2, 3, {-0.25604646, 0.12298827, -0.28297129, -0.17706303, 0.34536094, -0.4410571}));
    check_rounded(*parameters[2].gradient,
                  literal(3, 2, {0.79276486, 0.85133918, -0.0957219, -0.01720463, -0.13100772, -0.03750433}));
    check_rounded(*parameters[4].gradient, literal(1, 3, {-1.77691347, -0.11832879, -0.09397446}));
    net.release_batch();
}

TEST_CASE("course 2, regularization: the backward pass through the course's dropout masks") {
    // The case's cache is given as literals (D1, A1, D2, A2 after dropout, A3), with W2 and W3
    // of the L2 case; keep_prob 0.8. The course: dZ3 = A3 - Y, dA2 = ((W3^T dZ3) * D2) / keep_prob,
    // dZ2 = dA2 * [A2 > 0], dA1 = ((W2^T dZ2) * D1) / keep_prob. The masks go into the Dropout
    // layers (set_mask), whose backward gives dA2 and dA1; the ReLU policy gives dZ2.
    const Matrix<double> w2 = literal(3, 2, {0.50249434, 0.90085595, -0.68372786, -0.12289023, -0.93576943, -0.26788808});
    const Matrix<double> w3 = literal(1, 3, {-0.6871727, -0.84520564, -0.67124613});
    const Matrix<double> a1 = literal(2, 5, {0, 0, 4.27989081, 5.21401307, 0, 0, 8.32019881, 1.58102041, 2.92987024, 0});
    const Matrix<double> a2 = literal(3, 5, {1.06071093, 0, 8.21049603, 0, 1.06071093, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    const Matrix<double> a3 = literal(1, 5, {0.32266394, 0.49683389, 0.00348883, 0.49683389, 0.32266394});
    const Matrix<double> y = literal(1, 5, {1, 1, 0, 1, 0});
    nndl::Dropout<double> drop1(2, 0.8, 1);
    nndl::Dropout<double> drop2(3, 0.8, 1);
    drop1.set_mask(literal(2, 5, {1, 0, 1, 1, 1, 1, 1, 1, 1, 0}));
    drop2.set_mask(literal(3, 5, {1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 0}));
    drop1.forward(a1, nndl::Mode::training);
    drop2.forward(a2, nndl::Mode::training);

    const Matrix<double> dz3 = a3 - y;
    const Matrix<double> da2 = drop2.backward(Matrix<double>(w3.transpose() * dz3), true);
    check_rounded(da2, literal(3, 5, {0.58180856, 0., -0.00299679, 0., -0.27715731, 0., 0.53159854, -0., 0.53159854,
                                      -0.34089673, 0., 0., -0.00292733, 0., -0.}));
    Matrix<double> dz2;
    nndl::ReLU::backward(a2, a2, da2, dz2);  // [A2 > 0]: the course takes the mask from A2
    const Matrix<double> da1 = drop1.backward(Matrix<double>(w2.transpose() * dz2), true);
    check_rounded(da1, literal(2, 5, {0.36544439, 0., -0.00188233, 0., -0.17408748, 0.65515713, 0., -0.00337459, 0., -0.}));
    drop1.release_batch();
    drop2.release_batch();

    CHECK_THROWS_WITH_AS(drop1.set_mask(literal(1, 2, {1, 0})), doctest::Contains("expected 2 rows"),
                         nndl::InvalidArgument);
    CHECK_THROWS_WITH_AS(drop1.set_mask(literal(2, 1, {1, 0.5})), doctest::Contains("other than 0 and 1"),
                         nndl::InvalidArgument);
}

TEST_CASE("course 2: what the course's arithmetic must not hide") {
    nndl::CourseBinaryCrossEntropy<double> loss;
    const Matrix<double> y = literal(1, 3, {1, 0, 1});
    // 0 * log(0) terms are dropped (nansum); an output of exactly 1 on a 0 label is inf.
    CHECK(loss.value(literal(1, 3, {1.0, 0.0, 1.0}), y) == 0.0);
    CHECK(std::isinf(loss.value(literal(1, 3, {1.0, 1.0, 1.0}), y)));
    // A NaN output (a diverged network) is not dropped: NaN, so training stops.
    CHECK(std::isnan(loss.value(literal(1, 3, {0.5, std::nan(""), 0.5}), y)));
    CHECK_THROWS_WITH_AS(loss.value(literal(1, 3, {0.5, 0.5, 0.5}), literal(1, 3, {1, 7, 0})),
                         doctest::Contains("CourseBinaryCrossEntropy::value: target at row 0, column 1 is 7"),
                         nndl::InvalidArgument);

    // A NaN gradient is not a pass.
    const auto nan_check = nndl::check_vector_gradient([](const nndl::Vector<double>& t) { return t.sum(); },
                                                       nndl::Vector<double>::Zero(2),
                                                       nndl::Vector<double>::Constant(2, std::nan("")));
    CHECK(std::isinf(nan_check.difference));

    // Epoch seeds past NumPy's largest are refused before training.
    nndl::Network<double> net({1, 1}, {Activation::sigmoid}, {nndl::Init::zeros}, 0);
    nndl::TrainOptions options;
    options.epochs = 3;
    options.seed = 4294967294u;
    options.seed_every_epoch = true;
    nndl::GradientDescent<double> gd(0.1);
    CHECK_THROWS_WITH_AS(nndl::train(net, Matrix<double>(Matrix<double>::Zero(1, 4)),
                                     Matrix<double>(Matrix<double>::Zero(1, 4)), gd, options),
                         doctest::Contains("go past NumPy's largest seed 4294967295"), nndl::InvalidArgument);
}
