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
