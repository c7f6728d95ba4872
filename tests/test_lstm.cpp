// LSTM: the course's "Building a Recurrent Neural Network - Step by Step" values for the
// LSTM cell and the LSTM over time (course 5 week 1, ../shared/reference/course5.md), the
// correct backward pass (da_prev and dc_prev carried between steps), backpropagation
// through time against numerical gradients, the recurrent state, and a bit-exact save/load.
#include "course5_support.hpp"
#include "test_support.hpp"

#include <nndl/gradient_check.hpp>
#include <nndl/io/model.hpp>
#include <nndl/io/npz.hpp>
#include <nndl/layers/lstm.hpp>
#include <nndl/network.hpp>

#include <filesystem>

namespace {

using nndl::Index;
using nndl::Matrix;
using nndl::Shape;
using nndl_test::check_digits;
using nndl_test::check_printed;

/// The course's LSTM parameters, drawn in its order: Wf, bf, Wi, bi, Wo, bo, Wc, bc (then
/// Wy, by when asked), each Wg (5, 8) and bg (5, 1).
struct CourseLSTM {
    Matrix<double> w = Matrix<double>(20, 8), b = Matrix<double>(20, 1), wy, by;
    CourseLSTM(nndl::NumpyRandom& random, bool with_output) {
        for (const Index gate : {0, 1, 3, 2}) {  // drawn f, i, o, c; stored f, i, c, o
            w.middleRows(gate * 5, 5) = random.randn(5, 8);
            b.middleRows(gate * 5, 5) = random.randn(5, 1);
        }
        if (with_output) {
            wy = random.randn(2, 5);
            by = random.randn(2, 1);
        }
    }
    /// An LSTM over `steps` steps of 3 features with these parameters.
    nndl::LSTM<double> layer(Index steps) const {
        nndl::LSTM<double> lstm(Shape::sequence(steps, 3), 5, true);
        *lstm.parameters()[0].value = w;
        *lstm.parameters()[1].value = b;
        return lstm;
    }
};

/// The start state: a on top of c.
Matrix<double> stacked(const Matrix<double>& a, const Matrix<double>& c) {
    Matrix<double> state(a.rows() + c.rows(), a.cols());
    state << a, c;
    return state;
}

}  // namespace

TEST_CASE("LSTM: the course's lstm_cell_forward and lstm_forward values") {
    {
        // np.random.seed(1): xt (3,10), a_prev (5,10), c_prev (5,10), then the parameters
        nndl::NumpyRandom random(1);
        const Matrix<double> xt = random.randn(3, 10), a_prev = random.randn(5, 10), c_prev = random.randn(5, 10);
        const CourseLSTM course(random, true);
        nndl::LSTM<double> lstm = course.layer(1);
        lstm.set_initial_state(stacked(a_prev, c_prev));
        const Matrix<double> a_next = lstm.forward(xt, nndl::Mode::training);
        const Matrix<double> c_next = lstm.cell_states();
        const Matrix<double> yt = nndl_test::per_step_softmax(course.wy, course.by, a_next, 1);
        const double a4[] = {-0.66408471, 0.0036921,  0.02088357, 0.22834167,  -0.85575339,
                             0.00138482,  0.76566531, 0.34631421, -0.00215674, 0.43827275};
        const double c2[] = {0.63267805, 1.00570849, 0.35504474, 0.20690913,  -1.64566718,
                             0.11832942, 0.76449811, -0.0981561, -0.74348425, -0.26810932};
        const double y1[] = {0.79913913, 0.15986619, 0.22412122, 0.15606108, 0.97057211,
                             0.31146381, 0.00943007, 0.12666353, 0.39380172, 0.07828381};
        const double c3[] = {-0.16263996, 1.03729328, 0.72938082,  -0.54101719, 0.02752074,
                             -0.30821874, 0.07651101, -1.03752894, 1.41219977,  -0.37647422};
        for (Index i = 0; i < 10; ++i) {
            check_printed(a_next(4, i), a4[i]);
            check_printed(c_next(2, i), c2[i]);
            check_printed(yt(1, i), y1[i]);
            check_printed(c_next(3, i), c3[i]);
        }
        CHECK(lstm.final_state() == stacked(a_next, c_next));
    }
    // np.random.seed(1): x (3,10,7), a0 (5,10), then the parameters; c0 = 0
    nndl::NumpyRandom random(1);
    const Matrix<double> x = random.randn_sequence(3, 10, 7);
    const Matrix<double> a0 = random.randn(5, 10);
    const CourseLSTM course(random, true);
    nndl::LSTM<double> lstm = course.layer(7);
    lstm.set_initial_state(stacked(a0, Matrix<double>::Zero(5, 10)));
    const Matrix<double> a = lstm.forward(x, nndl::Mode::training);
    const Matrix<double> y = nndl_test::per_step_softmax(course.wy, course.by, a, 7);
    check_digits(a(6 * 5 + 4, 3), 0.172117767533);  // a[4][3][6]
    check_digits(y(3 * 2 + 1, 4), 0.95087346185);   // y[1][4][3]
    check_digits(lstm.cell_states()(1 * 5 + 1, 2), -0.855544916718);  // c[1][2][1]
    const double x11[] = {0.82797464, 0.23009474, 0.76201118, -0.22232814, -0.20075807, 0.18656139, 0.41005165};
    for (Index t = 0; t < 7; ++t) {
        check_printed(x(t * 3 + 1, 1), x11[t]);  // the input the course's caches keep, x[1][1]
    }
    Matrix<double> inferred;
    lstm.infer(x, inferred);
    CHECK(inferred == a);
}

TEST_CASE("LSTM: the course's lstm_cell_backward and lstm_backward values (the correct pass)") {
    {
        // np.random.seed(1): xt, a_prev, c_prev, the parameters with Wy, by; forward; then da_next, dc_next
        nndl::NumpyRandom random(1);
        const Matrix<double> xt = random.randn(3, 10), a_prev = random.randn(5, 10), c_prev = random.randn(5, 10);
        const CourseLSTM course(random, true);
        nndl::LSTM<double> lstm = course.layer(1);
        lstm.set_initial_state(stacked(a_prev, c_prev));
        lstm.forward(xt, nndl::Mode::training);
        const Matrix<double> da_next = random.randn(5, 10), dc_next = random.randn(5, 10);
        lstm.set_final_state_gradient(stacked(Matrix<double>::Zero(5, 10), dc_next));
        const Matrix<double> dxt = lstm.backward(da_next, true);
        const Matrix<double>& dw = *lstm.parameters()[0].gradient;
        const Matrix<double>& db = *lstm.parameters()[1].gradient;
        check_digits(dxt(1, 2), 3.23055911511);
        check_digits(lstm.initial_state_gradient()(2, 3), -0.0639621419711);      // da_prev
        check_digits(lstm.initial_state_gradient()(5 + 2, 3), 0.797522038797);    // dc_prev
        check_digits(dw(0 * 5 + 3, 1), -0.147954838164);   // dWf[3][1]
        check_digits(dw(1 * 5 + 1, 2), 1.05749805523);     // dWi[1][2]
        check_digits(dw(2 * 5 + 3, 1), 2.30456216369);     // dWc[3][1]
        check_digits(dw(3 * 5 + 1, 2), 0.331311595289);    // dWo[1][2]
        check_printed(db(0 * 5 + 4, 0), 0.18864637);       // dbf[4]
        check_printed(db(1 * 5 + 4, 0), -0.40142491);      // dbi[4]
        check_printed(db(2 * 5 + 4, 0), 0.25587763);       // dbc[4]
        check_printed(db(3 * 5 + 4, 0), 0.13893342);       // dbo[4]
    }
    // np.random.seed(1): x (3,10,7), a0, the parameters without Wy, by; forward; then da (5,10,4).
    // The course back-propagates the first 4 steps only (T from da): an LSTM over them.
    nndl::NumpyRandom random(1);
    const Matrix<double> x = random.randn_sequence(3, 10, 7);
    const Matrix<double> a0 = random.randn(5, 10);
    const CourseLSTM course(random, false);
    nndl::LSTM<double> lstm = course.layer(4);
    lstm.set_initial_state(stacked(a0, Matrix<double>::Zero(5, 10)));
    const Matrix<double> first_steps = x.topRows(4 * 3);
    lstm.forward(first_steps, nndl::Mode::training);
    const Matrix<double> da = random.randn_sequence(5, 10, 4);
    const Matrix<double> dx = lstm.backward(da, true);
    const Matrix<double>& dw = *lstm.parameters()[0].gradient;
    const Matrix<double>& db = *lstm.parameters()[1].gradient;
    const double dx12[] = {0.00218254, 0.28205375, -0.48292508, -0.43281115};  // dx[1][2], steps 0..3
    for (Index t = 0; t < 4; ++t) {
        check_printed(dx(t * 3 + 1, 2), dx12[t]);
    }
    check_digits(lstm.initial_state_gradient()(2, 3), 0.312770310257);  // da0[2][3]
    check_digits(dw(0 * 5 + 3, 1), -0.0809802310938);
    check_digits(dw(1 * 5 + 1, 2), 0.40512433093);
    check_digits(dw(2 * 5 + 3, 1), -0.0793746735512);
    check_digits(dw(3 * 5 + 1, 2), 0.038948775763);
    check_printed(db(0 * 5 + 4, 0), -0.15745657);
    check_printed(db(1 * 5 + 4, 0), -0.50848333);
    check_printed(db(2 * 5 + 4, 0), -0.42510818);
    check_printed(db(3 * 5 + 4, 0), -0.17958196);
}

TEST_CASE("LSTM: backpropagation through time matches numerical gradients") {
    nndl::NumpyRandom random(9);
    const Matrix<double> x = random.randn_sequence(3, 4, 5);
    for (const bool sequences : {true, false}) {
        nndl::LSTM<double> layer(Shape::sequence(5, 3), 4, sequences, 2);
        *layer.parameters()[0].value *= 80.0;  // gates away from their middle
        *layer.parameters()[1].value = random.randn(16, 1) * 0.5;
        layer.set_initial_state(random.randn(8, 4) * 0.5);
        const auto result = nndl::check_layer_gradients(layer, x);
        INFO(result.summary());
        CHECK(result.passed(1e-7));
        CHECK(result.entries_checked == 16 * 7 + 16 + 5 * 3 * 4);
    }
    // The gradients that reach the start state (a and c), with one given for the final state.
    nndl::LSTM<double> layer(Shape::sequence(5, 3), 4, false, 2);
    *layer.parameters()[0].value *= 80.0;
    Matrix<double> start = random.randn(8, 4) * 0.5;
    const Matrix<double> projection = random.randn(4, 4), final_projection = random.randn(8, 4);
    const auto value = [&] {
        layer.set_initial_state(start);
        const double out = (layer.forward(x, nndl::Mode::training).array() * projection.array()).sum();
        return out + (layer.final_state().array() * final_projection.array()).sum();
    };
    value();
    layer.set_final_state_gradient(final_projection);  // added to the output's share of dLoss/da
    layer.backward(projection, false);
    const Matrix<double> analytic = layer.initial_state_gradient();
    Matrix<double> numeric(8, 4);
    for (Index i = 0; i < start.size(); ++i) {
        const double kept = start(i);
        start(i) = kept + 1e-6;
        const double up = value();
        start(i) = kept - 1e-6;
        const double down = value();
        start(i) = kept;
        numeric(i) = (up - down) / 2e-6;
    }
    INFO(analytic, "\n", numeric);
    CHECK((analytic - numeric).norm() / (analytic.norm() + numeric.norm()) <= 1e-7);
    layer.release_batch();
}

TEST_CASE("LSTM: a carried state, step() and infer() agree with one long pass") {
    nndl::NumpyRandom random(4);
    const Matrix<double> x = random.randn_sequence(2, 3, 6);
    nndl::LSTM<double> whole(Shape::sequence(6, 2), 3, true, 5);
    *whole.parameters()[0].value *= 80.0;
    const Matrix<double> expected = whole.forward(x, nndl::Mode::training);
    nndl::LSTM<double> pieces(Shape::sequence(3, 2), 3, true, 5);
    *pieces.parameters()[0].value = *whole.parameters()[0].value;
    pieces.set_carry(true);
    const Matrix<double> first = x.topRows(6), second = x.bottomRows(6);
    CHECK(pieces.forward(first, nndl::Mode::training) == expected.topRows(9));
    CHECK(pieces.forward(second, nndl::Mode::training) == expected.bottomRows(9));
    CHECK(pieces.final_state() == whole.final_state());
    pieces.reset_state();
    for (Index t = 0; t < 6; ++t) {
        CHECK(pieces.step(x.middleRows(t * 2, 2)).topRows(3) == expected.middleRows(t * 3, 3));
    }
    CHECK(pieces.final_state() == whole.final_state());
    CHECK(nndl_test::message_of<nndl::ShapeError>([&] { pieces.set_initial_state(Matrix<double>::Zero(3, 3)); }) ==
          "LSTM::set_initial_state: the state is 3 x 3, expected 6 rows (the hidden state on top of the cell state) "
          "and at least one column");
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] { nndl::LSTM<double>(Shape::image(2, 2, 1), 4); }) ==
          "LSTM::LSTM: the input is 2x2x1 (height x width x channels), expected a sequence (Shape::sequence(steps, "
          "features))");
}

TEST_CASE("LSTM: a network with one saves and loads bit-exactly") {
    const std::filesystem::path dir = nndl_test::scratch_dir("test_lstm");
    nndl::Network<float> net(Shape::sequence(4, 3));
    net.add(std::make_unique<nndl::LSTM<float>>(net.output_shape(), 5, false, 3));
    net.add(nndl::make_dense<float>(5, 1, nndl::Activation::sigmoid));
    nndl::NumpyRandom random(12);
    for (auto& p : net.parameters()) {
        *p.value = random.randn<float>(p.value->rows(), p.value->cols());
    }
    nndl::save_network(net, dir / "lstm.npz");
    nndl::Network<float> loaded = nndl::load_network<float>(dir / "lstm.npz");
    CHECK(loaded.layer(0).type() == "lstm");
    CHECK(loaded.layer(0).settings().integer("units") == 5);
    const auto saved = net.parameters(), read = loaded.parameters();
    REQUIRE(saved.size() == read.size());
    for (std::size_t k = 0; k < saved.size(); ++k) {
        CHECK(*saved[k].value == *read[k].value);
    }
    const Matrix<float> x = random.randn_sequence(3, 6, 4).cast<float>();
    CHECK(net.predict_proba(x) == loaded.predict_proba(x));

    // A file whose W holds three gates' rows (a GRU's count) is refused, naming the array.
    auto arrays = nndl::read_npz(dir / "lstm.npz");
    arrays["layer1.W"] = nndl::to_npy(Matrix<float>(random.randn<float>(15, 8)));
    nndl::write_npz(dir / "three_gates.npz", {arrays.begin(), arrays.end()});
    const std::string message =
        nndl_test::message_of<nndl::FileError>([&] { nndl::load_network<float>(dir / "three_gates.npz"); });
    INFO(message);
    CHECK(message.find("layer1 ('lstm'): layer1.W is 15x8, the layer expects 20x8") != std::string::npos);
    std::filesystem::remove_all(dir);
}
