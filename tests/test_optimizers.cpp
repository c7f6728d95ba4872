// Optimizers: first steps against NumPy, convergence on a convex problem, state
// keyed by slot, learning-rate schedules.
#include "test_support.hpp"

#include <nndl/all.hpp>

using nndl::Matrix;
using nndl_test::rows;

namespace {

template <class Scalar>
Matrix<Scalar> three_steps(nndl::Optimizer<Scalar>& optimizer) {
    Matrix<Scalar> p = rows<Scalar>({{1.0, -2.0}, {0.5, 3.0}});
    const Matrix<Scalar> grads[] = {rows<Scalar>({{0.1, -0.2}, {0.3, 0.4}}), rows<Scalar>({{-0.5, 0.25}, {0.05, 1.0}}),
                                    rows<Scalar>({{0.2, 0.2}, {-0.3, -0.1}})};
    for (const auto& g : grads) {
        optimizer.begin_step();
        optimizer.update(0, p, g);
    }
    return p;
}

}  // namespace

// Reference values: tools/optimizer_reference.py (NumPy), learning rate 0.1,
// beta 0.9, Adam betas 0.9 / 0.999, epsilon 1e-8.
TEST_CASE_TEMPLATE("optimizers: three steps match NumPy", Scalar, float, double) {
    const double tol = std::is_same_v<Scalar, float> ? 5e-6 : 1e-14;
    nndl::Momentum<Scalar> momentum(0.1, 0.9);
    NNDL_CHECK_CLOSE(three_steps(momentum), rows<double>({{1.00479, -2.00133}, {0.49392, 2.9711600000000002}}), tol);
    nndl::Nesterov<Scalar> nesterov(0.1, 0.9);
    NNDL_CHECK_CLOSE(three_steps(nesterov), rows<double>({{1.0063110000000002, -2.003697}, {0.494028, 2.961044}}), tol);
    nndl::RMSProp<Scalar> rmsprop(0.1, 0.9);
    NNDL_CHECK_CLOSE(three_steps(rmsprop), rows<double>({{0.8734338618863019, -2.1119981544791284},
                                                         {0.36249828625058944, 2.4191307173443723}}),
                     tol);
    nndl::Adam<Scalar> adam(0.1);
    NNDL_CHECK_CLOSE(three_steps(adam), rows<double>({{0.9795549188742791, -1.9608018923145385},
                                                      {0.32346258895431323, 2.7396102159723386}}),
                     tol);
    CHECK(adam.step() == 3);
    nndl::AdaGrad<Scalar> adagrad(0.1);
    NNDL_CHECK_CLOSE(three_steps(adagrad), rows<double>({{0.9615432391456697, -2.0310681763843714},
                                                         {0.45378479181718073, 2.8163973374584934}}),
                     tol);
    nndl::GradientDescent<Scalar> gd(0.1);
    NNDL_CHECK_CLOSE(three_steps(gd), rows<double>({{1.02, -2.025}, {0.495, 2.87}}), tol);
}

TEST_CASE("optimizers: every optimizer minimises a convex problem (logistic regression)") {
    nndl::NumpyRandom random(3);
    const Matrix<double> x = random.randn(3, 200);
    const Matrix<double> w_true = rows<double>({{2.0, -1.0, 0.5}});
    const Matrix<double> y = ((w_true * x).array() > 0.0).cast<double>();
    std::vector<std::unique_ptr<nndl::Optimizer<double>>> optimizers;
    optimizers.push_back(std::make_unique<nndl::GradientDescent<double>>(0.5));
    optimizers.push_back(std::make_unique<nndl::Momentum<double>>(0.5));
    optimizers.push_back(std::make_unique<nndl::Nesterov<double>>(0.5));
    optimizers.push_back(std::make_unique<nndl::RMSProp<double>>(0.01));
    optimizers.push_back(std::make_unique<nndl::Adam<double>>(0.05));
    optimizers.push_back(std::make_unique<nndl::AdaGrad<double>>(0.5));
    for (auto& optimizer : optimizers) {
        nndl::Network<double> net({3, 1}, {nndl::Activation::sigmoid}, {nndl::Init::zeros}, 0);
        const auto history = net.fit(x, y, *optimizer, 300);
        INFO(optimizer->name(), ": cost ", history.epochs.front().loss, " -> ", history.epochs.back().loss);
        CHECK(history.epochs.back().loss < 0.25 * history.epochs.front().loss);
        CHECK(net.accuracy(x, y) >= 0.97);
    }
}

TEST_CASE("optimizers: state is per slot and a changed shape needs reset") {
    nndl::Adam<double> adam(0.1);
    Matrix<double> a = Matrix<double>::Ones(2, 2);
    Matrix<double> b = Matrix<double>::Ones(3, 1);
    adam.begin_step();
    adam.update(0, a, a);
    adam.update(1, b, b);
    CHECK(nndl_test::message_of<nndl::ShapeError>([&] { adam.update(0, b, b); }) ==
          "Adam::update: slot 0 was 2x2 and is now 3x1; call reset() before training another network");
    adam.reset();
    CHECK(adam.step() == 0);
    adam.begin_step();
    adam.update(0, b, b);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] { nndl::Adam<double> bad(0.1, 1.0); }) ==
          "Adam::Adam: beta1 is 1, expected a number in [0, 1)");
}

TEST_CASE("learning-rate schedules") {
    using Kind = nndl::LearningRateSchedule::Kind;
    CHECK(nndl::LearningRateSchedule{}.at(0.1, 7) == 0.1);
    CHECK(nndl::LearningRateSchedule{Kind::exponential, 0.5, 2}.at(0.1, 2) == doctest::Approx(0.05));
    CHECK(nndl::LearningRateSchedule{Kind::exponential, 0.5, 2}.at(0.1, 1) == doctest::Approx(0.1 * std::sqrt(0.5)));
    CHECK(nndl::LearningRateSchedule{Kind::step, 0.1, 10}.at(1.0, 25) == doctest::Approx(0.01));
    // The course's schedule_lr_decay(0.5, epoch_num=100, decay_rate=0.3, time_interval=10) = 0.125.
    CHECK(nndl::LearningRateSchedule{Kind::scheduled, 0.3, 10}.at(0.5, 100) == doctest::Approx(0.125));
}

TEST_CASE("gradient clipping by value: the course's clip test (Dinosaur Island)") {
    // np.random.seed(3); dWax, dWaa, dWya, db, dby = randn(5,3)*10, randn(5,5)*10,
    // randn(2,5)*10, randn(5,1)*10, randn(2,1)*10; expected values from course5.md.
    for (const double limit : {10.0, 5.0}) {
        nndl::NumpyRandom random(3);
        std::vector<nndl::Matrix<double>> gradients;
        for (const auto& [r, c] : std::vector<std::pair<int, int>>{{5, 3}, {5, 5}, {2, 5}, {5, 1}, {2, 1}}) {
            gradients.push_back(random.randn(r, c) * 10.0);
        }
        std::vector<nndl::Matrix<double>> values = gradients;  // the parameters themselves are not touched
        std::vector<nndl::Parameter<double>> parameters;
        for (std::size_t k = 0; k < gradients.size(); ++k) {
            parameters.push_back({"p" + std::to_string(k), &values[k], &gradients[k]});
        }
        nndl::clip_gradients_by_value(parameters, limit);
        const auto& [dWax, dWaa, dWya, db, dby] = std::tie(gradients[0], gradients[1], gradients[2], gradients[3],
                                                           gradients[4]);
        CHECK(dWaa(1, 2) == limit);
        CHECK(dWax(3, 1) == -limit);
        CHECK(dWya(1, 2) == 0.2971381536101662);
        CHECK(db(4, 0) == limit);
        CHECK(dby(1, 0) == doctest::Approx(limit == 10.0 ? 8.45833407 : 5.0).epsilon(1e-9));
        for (const auto& g : gradients) {
            CHECK(g.cwiseAbs().maxCoeff() <= limit);
        }
    }
}

TEST_CASE("gradient clipping by global norm, and a network that clips every step") {
    nndl::Matrix<double> a = rows<double>({{3.0}}), b = rows<double>({{0.0, 4.0}, {12.0, 0.0}});
    nndl::Matrix<double> value_a = a, value_b = b;
    const std::vector<nndl::Parameter<double>> parameters{{"a", &value_a, &a}, {"b", &value_b, &b}};
    CHECK(nndl::global_gradient_norm(parameters) == 13.0);
    CHECK(nndl::clip_gradients_by_global_norm(parameters, 20.0) == 13.0);  // below the limit: unchanged
    CHECK(a(0, 0) == 3.0);
    CHECK(nndl::clip_gradients_by_global_norm(parameters, 6.5) == 13.0);  // halved: same direction
    CHECK(a(0, 0) == 1.5);
    CHECK(b(1, 0) == 6.0);
    CHECK(nndl::global_gradient_norm(parameters) == 6.5);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::clip_gradients_by_global_norm(parameters, 0.0); }) ==
          "clip_gradients_by_global_norm: the limit is 0, expected a finite number > 0");

    // A network's train_step clips after backward (L2 term included) and before the update.
    nndl::Network<double> net({3, 4, 2}, {nndl::Activation::tanh, nndl::Activation::sigmoid}, {nndl::Init::xavier}, 4);
    net.set_l2(0.5);
    const nndl::Matrix<double> x = nndl::NumpyRandom(5).randn(3, 6) * 3.0;
    const nndl::Matrix<double> y = (nndl::NumpyRandom(6).rand(2, 6).array() > 0.5).cast<double>();
    nndl::Network<double> manual = net;
    manual.forward(x, nndl::Mode::training);
    manual.backward(y);
    const auto gradients = manual.parameters();
    nndl::clip_gradients_by_value(gradients, 0.05);
    const double norm = nndl::clip_gradients_by_global_norm(gradients, 0.1);
    REQUIRE(norm > 0.1);  // both kinds act on this step
    nndl::GradientDescent<double> by_hand(1.0);
    manual.apply(by_hand);
    net.set_gradient_clipping({0.05, 0.1});
    nndl::GradientDescent<double> gd(1.0);
    net.train_step(x, y, gd);
    const auto clipped = net.parameters();
    for (std::size_t k = 0; k < clipped.size(); ++k) {
        CHECK(*clipped[k].value == *gradients[k].value);
    }
    CHECK(nndl::Network<double>(net).gradient_clipping().global_norm == 0.1);  // copies keep it
    CHECK_THROWS_AS(net.set_gradient_clipping({-1.0, 0.0}), nndl::InvalidArgument);
}

TEST_CASE_TEMPLATE("optimizers by name: make_optimizer builds each as its constructor does", Scalar, float, double) {
    // The same three steps through the table and through the constructor, bit for bit: with
    // the defaults (the table's fallbacks are the constructors' defaults) and with settings.
    using nndl::Settings;
    const auto same = [](const std::string& name, const Settings& settings, nndl::Optimizer<Scalar>&& direct) {
        const auto built = nndl::make_optimizer<Scalar>(name, settings);
        CHECK(built->name() == name);
        CHECK(built->learning_rate() == direct.learning_rate());
        CHECK(three_steps(*built) == three_steps(direct));
    };
    same("gd", {}, nndl::GradientDescent<Scalar>());
    same("momentum", {}, nndl::Momentum<Scalar>());
    same("nesterov", {}, nndl::Nesterov<Scalar>());
    same("rmsprop", {}, nndl::RMSProp<Scalar>());
    same("adam", {}, nndl::Adam<Scalar>());
    same("adagrad", {}, nndl::AdaGrad<Scalar>());
    same("gd", Settings().set("learning_rate", 0.3), nndl::GradientDescent<Scalar>(0.3));
    same("momentum", Settings().set("learning_rate", 0.1).set("beta", 0.5), nndl::Momentum<Scalar>(0.1, 0.5));
    same("nesterov", Settings().set("learning_rate", 0.1).set("beta", 0.7), nndl::Nesterov<Scalar>(0.1, 0.7));
    same("rmsprop", Settings().set("learning_rate", 0.05).set("beta", 0.8).set("epsilon", 1e-6),
         nndl::RMSProp<Scalar>(0.05, 0.8, 1e-6));
    same("adam", Settings().set("learning_rate", 0.1).set("beta1", 0.8).set("beta2", 0.99).set("epsilon", 1e-7),
         nndl::Adam<Scalar>(0.1, 0.8, 0.99, 1e-7));
    same("adagrad", Settings().set("learning_rate", 1).set("epsilon", 1e-6), nndl::AdaGrad<Scalar>(1.0, 1e-6));

    const auto error = [](const std::string& name, const Settings& settings) {
        return nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::make_optimizer<Scalar>(name, settings); });
    };
    CHECK(error("adam", Settings().set("beta_1", 0.9)) ==
          "make_optimizer: adam takes learning_rate, beta1, beta2, epsilon; got a setting 'beta_1'");
    CHECK(error("gd", Settings().set("learning_rate", "fast")) ==
          "make_optimizer: the setting 'learning_rate' is not a number");
    CHECK(error("adam", Settings().set("learning_rate", 0)).find("Adam::Adam: ") == 0);
    const bool custom = nndl::optimizer_registry<Scalar>().contains("test_halving");
    if (!custom) {  // the list of names before this test adds one
        CHECK(error("sgd", {}) == "make_optimizer: unknown optimizer 'sgd', expected adagrad, adam, gd, momentum, "
                                  "nesterov or rmsprop (register your own with register_optimizer)");
        nndl::register_optimizer<Scalar>("test_halving", [](const Settings& s) {
            return std::make_unique<nndl::GradientDescent<Scalar>>(s.real("learning_rate") / 2);
        });
    }
    CHECK(nndl::make_optimizer<Scalar>("test_halving", Settings().set("learning_rate", 0.5))->learning_rate() == 0.25);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] {
              nndl::register_optimizer<Scalar>("adam", [](const Settings&) {
                  return std::make_unique<nndl::GradientDescent<Scalar>>();
              });
          }) == "register_optimizer: 'adam' is already registered");
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] { nndl::register_optimizer<Scalar>("none", {}); }) ==
          "register_optimizer: expected a name and a factory, got 'none' and no factory");
}
