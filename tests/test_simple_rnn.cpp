// SimpleRNN: the course's "Building a Recurrent Neural Network - Step by Step" values
// (course 5 week 1, ../shared/reference/course5.md), backpropagation through time against
// numerical gradients, the recurrent state, and a bit-exact save/load round trip.
#include "course5_support.hpp"
#include "test_support.hpp"

#include <nndl/gradient_check.hpp>
#include <nndl/io/model.hpp>
#include <nndl/layers/simple_rnn.hpp>
#include <nndl/network.hpp>

#include <cmath>
#include <filesystem>
#include <vector>

namespace {

using nndl::Index;
using nndl::Matrix;
using nndl::Shape;
using nndl_test::check_digits;
using nndl_test::check_printed;

struct CourseRNN {
    nndl::SimpleRNN<double> layer;
    Matrix<double> wya, by;
    /// Sets Wax, Waa, ba.
    CourseRNN(Index steps, const Matrix<double>& wax, const Matrix<double>& waa, const Matrix<double>& ba)
        : layer(Shape::sequence(steps, wax.cols()), wax.rows(), true) {
        const auto p = layer.parameters();
        *p[0].value = wax;
        *p[1].value = waa;
        *p[2].value = ba;
    }
    /// The course's y at every step.
    Matrix<double> outputs(const Matrix<double>& states, Index steps) const {
        return nndl_test::per_step_softmax(wya, by, states, steps);
    }
};

}  // namespace

TEST_CASE("SimpleRNN: the course's rnn_cell_forward and rnn_forward values") {
    {
        // np.random.seed(1): xt (3,10), a_prev (5,10), Waa (5,5), Wax (5,3), Wya (2,5), ba (5,1), by (2,1)
        nndl::NumpyRandom random(1);
        const Matrix<double> xt = random.randn(3, 10), a_prev = random.randn(5, 10);
        const Matrix<double> waa = random.randn(5, 5), wax = random.randn(5, 3);
        CourseRNN rnn(1, wax, waa, Matrix<double>());
        rnn.wya = random.randn(2, 5);
        *rnn.layer.parameters()[2].value = random.randn(5, 1);
        rnn.by = random.randn(2, 1);
        rnn.layer.set_initial_state(a_prev);
        const Matrix<double> a_next = rnn.layer.forward(xt, nndl::Mode::training);
        REQUIRE(a_next.rows() == 5);
        REQUIRE(a_next.cols() == 10);
        const double a4[] = {0.59584544, 0.18141802, 0.61311866, 0.99808218, 0.85016201,
                             0.99980978, -0.18887155, 0.99815551, 0.6531151, 0.82872037};
        const Matrix<double> yt = rnn.outputs(a_next, 1);
        const double y1[] = {0.9888161, 0.01682021, 0.21140899, 0.36817467, 0.98988387,
                             0.88945212, 0.36920224, 0.9966312, 0.9982559, 0.17746526};
        for (Index i = 0; i < 10; ++i) {
            check_printed(a_next(4, i), a4[i]);
            check_printed(yt(1, i), y1[i]);
        }
    }
    // np.random.seed(1): x (3,10,4), a0 (5,10), Waa, Wax, Wya, ba, by
    nndl::NumpyRandom random(1);
    const Matrix<double> x = random.randn_sequence(3, 10, 4);
    const Matrix<double> a0 = random.randn(5, 10);
    const Matrix<double> waa = random.randn(5, 5), wax = random.randn(5, 3);
    CourseRNN rnn(4, wax, waa, Matrix<double>());
    rnn.wya = random.randn(2, 5);
    *rnn.layer.parameters()[2].value = random.randn(5, 1);
    rnn.by = random.randn(2, 1);
    rnn.layer.set_initial_state(a0);
    const Matrix<double> a = rnn.layer.forward(x, nndl::Mode::training);
    CHECK(rnn.layer.output_shape() == Shape::sequence(4, 5));
    const double a41[] = {-0.99999375, 0.77911235, -0.99861469, -0.99833267};  // a[4][1], steps 0..3
    const Matrix<double> y = rnn.outputs(a, 4);
    const double y13[] = {0.79560373, 0.86224861, 0.11118257, 0.81515947};  // y_pred[1][3]
    for (Index t = 0; t < 4; ++t) {
        check_printed(a(t * 5 + 4, 1), a41[t]);
        check_printed(y(t * 2 + 1, 3), y13[t]);
    }
    // The layer's infer gives the same, and the final state is the last step's.
    Matrix<double> inferred;
    rnn.layer.infer(x, inferred);
    CHECK(inferred == a);
    CHECK(rnn.layer.final_state() == a.bottomRows(5));
}

TEST_CASE("SimpleRNN: the course's rnn_cell_backward and rnn_backward values") {
    {
        // np.random.seed(1): xt (3,10), a_prev (5,10), Wax (5,3) before Waa (5,5), Wya, ba, by; then da_next (5,10)
        nndl::NumpyRandom random(1);
        const Matrix<double> xt = random.randn(3, 10), a_prev = random.randn(5, 10);
        const Matrix<double> wax = random.randn(5, 3), waa = random.randn(5, 5);
        (void)random.randn(2, 5);  // Wya
        const Matrix<double> ba = random.randn(5, 1);
        (void)random.randn(2, 1);  // by
        CourseRNN rnn(1, wax, waa, ba);
        rnn.layer.set_initial_state(a_prev);
        rnn.layer.forward(xt, nndl::Mode::training);
        const Matrix<double> da_next = random.randn(5, 10);
        const Matrix<double> dxt = rnn.layer.backward(da_next, true);
        const auto p = rnn.layer.parameters();
        check_digits(dxt(1, 2), -1.3872130506);
        check_digits(rnn.layer.initial_state_gradient()(2, 3), -0.152399493774);
        check_digits((*p[0].gradient)(3, 1), 0.410772824935);
        check_digits((*p[1].gradient)(1, 2), 1.15034506685);
        check_printed((*p[2].gradient)(4, 0), 0.20023491);
    }
    // np.random.seed(1): x (3,10,4), a0 (5,10), Wax, Waa, Wya, ba, by; forward; then da (5,10,4)
    nndl::NumpyRandom random(1);
    const Matrix<double> x = random.randn_sequence(3, 10, 4);
    const Matrix<double> a0 = random.randn(5, 10);
    const Matrix<double> wax = random.randn(5, 3), waa = random.randn(5, 5);
    (void)random.randn(2, 5);
    const Matrix<double> ba = random.randn(5, 1);
    (void)random.randn(2, 1);
    CourseRNN rnn(4, wax, waa, ba);
    rnn.layer.set_initial_state(a0);
    rnn.layer.forward(x, nndl::Mode::training);
    const Matrix<double> da = random.randn_sequence(5, 10, 4);
    const Matrix<double> dx = rnn.layer.backward(da, true);
    const auto p = rnn.layer.parameters();
    const double dx12[] = {-2.07101689, -0.59255627, 0.02466855, 0.01483317};  // dx[1][2], steps 0..3
    for (Index t = 0; t < 4; ++t) {
        check_printed(dx(t * 3 + 1, 2), dx12[t]);
    }
    check_digits(rnn.layer.initial_state_gradient()(2, 3), -0.314942375127);
    check_digits((*p[0].gradient)(3, 1), 11.2641044965);
    check_digits((*p[1].gradient)(1, 2), 2.30333312658);
    check_printed((*p[2].gradient)(4, 0), -0.74747722);
}

TEST_CASE("SimpleRNN: backpropagation through time matches numerical gradients") {
    nndl::NumpyRandom random(7);
    const Matrix<double> x = random.randn_sequence(3, 4, 5);
    for (const bool sequences : {true, false}) {
        nndl::SimpleRNN<double> layer(Shape::sequence(5, 3), 6, sequences, 2);
        *layer.parameters()[0].value *= 50.0;  // weights large enough that tanh bends
        *layer.parameters()[1].value *= 50.0;
        *layer.parameters()[2].value = random.randn(6, 1) * 0.5;
        layer.set_initial_state(random.randn(6, 4) * 0.5);
        const auto result = nndl::check_layer_gradients(layer, x);
        INFO(result.summary());
        CHECK(result.passed(1e-7));
        CHECK(result.entries_checked == 3 * 6 + 6 * 6 + 6 + 5 * 3 * 4);
    }
    // The gradient that reaches the start state, against central differences.
    nndl::SimpleRNN<double> layer(Shape::sequence(5, 3), 6, true, 2);
    *layer.parameters()[0].value *= 50.0;
    *layer.parameters()[1].value *= 50.0;
    Matrix<double> start = random.randn(6, 4) * 0.5;
    const Matrix<double> projection = random.randn(30, 4);
    const auto value = [&] {
        layer.set_initial_state(start);
        return (layer.forward(x, nndl::Mode::training).array() * projection.array()).sum();
    };
    value();
    layer.backward(projection, false);
    const Matrix<double> analytic = layer.initial_state_gradient();
    Matrix<double> numeric(6, 4);
    for (Index i = 0; i < start.size(); ++i) {
        const double kept = start(i);
        start(i) = kept + 1e-6;
        const double up = value();
        start(i) = kept - 1e-6;
        const double down = value();
        start(i) = kept;
        numeric(i) = (up - down) / 2e-6;
    }
    CHECK((analytic - numeric).norm() / (analytic.norm() + numeric.norm()) <= 1e-7);
    layer.release_batch();
}

TEST_CASE("SimpleRNN: a carried state, step() and infer() agree with one long pass") {
    nndl::NumpyRandom random(3);
    const Matrix<double> x = random.randn_sequence(2, 3, 6);
    nndl::SimpleRNN<double> whole(Shape::sequence(6, 2), 4, true, 5);
    *whole.parameters()[0].value *= 80.0;
    *whole.parameters()[1].value *= 80.0;
    const Matrix<double> expected = whole.forward(x, nndl::Mode::training);
    // Two pieces of three steps with carry: the second starts where the first ended.
    nndl::SimpleRNN<double> pieces(Shape::sequence(3, 2), 4, true, 5);
    *pieces.parameters()[0].value = *whole.parameters()[0].value;
    *pieces.parameters()[1].value = *whole.parameters()[1].value;
    pieces.set_carry(true);
    const Matrix<double> first = x.topRows(6), second = x.bottomRows(6);
    Matrix<double> inferred;
    pieces.infer(first, inferred);  // infer changes no state
    CHECK(inferred == expected.topRows(12));
    CHECK(pieces.forward(first, nndl::Mode::training) == expected.topRows(12));
    CHECK(pieces.forward(second, nndl::Mode::training) == expected.bottomRows(12));
    // One step at a time from zeros.
    pieces.reset_state();
    for (Index t = 0; t < 6; ++t) {
        CHECK(pieces.step(x.middleRows(t * 2, 2)) == expected.middleRows(t * 4, 4));
    }
    CHECK(pieces.final_state() == expected.bottomRows(4));
    // A state of another batch size is refused, naming what to do.
    const Matrix<double> two_examples = x.leftCols(2).topRows(6);
    CHECK(nndl_test::message_of<nndl::ShapeError>([&] { pieces.forward(two_examples, nndl::Mode::training); }) ==
          "SimpleRNN::forward: the state holds 3 examples, the batch has 2; expected as many (reset_state() starts "
          "from zeros)");
    CHECK_THROWS_AS(pieces.step(Matrix<double>::Zero(3, 3)), nndl::ShapeError);
    CHECK_THROWS_AS(pieces.set_initial_state(Matrix<double>::Zero(5, 3)), nndl::ShapeError);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] { nndl::SimpleRNN<double>(Shape(6), 4); }) ==
          "SimpleRNN::SimpleRNN: the input is 6, expected a sequence (Shape::sequence(steps, features))");
    CHECK_THROWS_AS(nndl::SimpleRNN<double>(Shape::sequence(2, 3), 0), nndl::InvalidArgument);
}

TEST_CASE("SimpleRNN: a network with one saves and loads bit-exactly") {
    const std::filesystem::path dir = nndl_test::scratch_dir("test_simple_rnn");
    nndl::Network<double> net(Shape::sequence(5, 3));
    net.add(std::make_unique<nndl::SimpleRNN<double>>(net.output_shape(), 4, true, 3));
    net.add(std::make_unique<nndl::SimpleRNN<double>>(net.output_shape(), 6, false, 4));
    net.add(nndl::make_dense<double>(6, 2, nndl::Activation::softmax));
    nndl::NumpyRandom random(11);
    for (auto& p : net.parameters()) {
        *p.value = random.randn(p.value->rows(), p.value->cols());
    }
    nndl::save_network(net, dir / "rnn.npz");
    nndl::Network<double> loaded = nndl::load_network<double>(dir / "rnn.npz");
    CHECK(loaded.input_shape() == Shape::sequence(5, 3));
    CHECK(loaded.layer(0).output_shape() == Shape::sequence(5, 4));
    CHECK(loaded.layer(1).settings().integer("return_sequences") == 0);
    const auto saved = net.parameters(), read = loaded.parameters();
    REQUIRE(saved.size() == read.size());
    for (std::size_t k = 0; k < saved.size(); ++k) {
        CHECK(*saved[k].value == *read[k].value);
    }
    const Matrix<double> x = random.randn_sequence(3, 7, 5);
    CHECK(net.predict_proba(x) == loaded.predict_proba(x));
    CHECK(loaded.summary().find("5 steps x 4 features") != std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("SimpleRNN: a failed forward leaves no batch; a pending final-state gradient never blocks backward") {
    nndl::NumpyRandom random(2);
    nndl::SimpleRNN<double> layer(Shape::sequence(3, 2), 4);
    const Matrix<double> two = random.randn_sequence(2, 2, 3), fifty = random.randn_sequence(2, 50, 3);
    layer.forward(two, nndl::Mode::training);
    layer.set_initial_state(Matrix<double>::Zero(4, 2));
    CHECK_THROWS_AS(layer.forward(fifty, nndl::Mode::training), nndl::ShapeError);  // the state holds 2 examples
    CHECK_FALSE(layer.has_batch());
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { layer.backward(Matrix<double>::Ones(12, 50), true); }) ==
          "Layer::backward ('simple_rnn'): called before forward; expected forward on a batch first");
    // A final-state gradient of the wrong width is refused once, then dropped.
    layer.forward(two, nndl::Mode::training);
    layer.set_final_state_gradient(Matrix<double>::Ones(4, 7));
    CHECK(nndl_test::message_of<nndl::ShapeError>([&] { layer.backward(Matrix<double>::Ones(12, 2), true); }) ==
          "SimpleRNN::backward: the final state's gradient has 7 columns, the batch 2");
    layer.forward(two, nndl::Mode::training);
    CHECK_NOTHROW(layer.backward(Matrix<double>::Ones(12, 2), true));
    // reset_state drops one; a copy never takes one over; a NaN is refused.
    layer.set_final_state_gradient(Matrix<double>::Ones(4, 2));
    const auto copy = layer.clone();
    copy->forward(two, nndl::Mode::training);
    copy->backward(Matrix<double>::Ones(12, 2), true);
    layer.reset_state();
    layer.forward(two, nndl::Mode::training);
    layer.backward(Matrix<double>::Ones(12, 2), true);
    CHECK(*layer.parameters()[0].gradient == *copy->parameters()[0].gradient);
    Matrix<double> nan = Matrix<double>::Ones(4, 2);
    nan(1, 1) = std::nan("");
    CHECK_THROWS_AS(layer.set_final_state_gradient(nan), nndl::InvalidArgument);
    CHECK_THROWS_AS(random.randn_sequence(Index(1) << 32, 1, Index(1) << 32), nndl::InvalidArgument);
}
