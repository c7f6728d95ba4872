// The course's "Building a Recurrent Neural Network - Step by Step" (course 5, week 1) with
// nndl's recurrent layers: the RNN cell and the RNN over time, the LSTM cell and the LSTM
// over time, forward and backward, from the assignment's seeds, each value printed as the
// notebook prints it (arrays with up to 8 decimals, scalars with 12 significant digits).
// Every backward pass is then checked against central differences (nndl's gradient checker).
//
// The course keeps time as the last axis, x of shape (n_x, m, T_x); nndl keeps one example
// per column with its time steps one after the other (Shape::sequence), so x[f][i][t] is
// row t * n_x + f of column i. A cell is a layer over one step, started from a_prev (and
// c_prev) with set_initial_state.
#include "example_support.hpp"

#include <nndl/gradient_check.hpp>
#include <nndl/layers/lstm.hpp>
#include <nndl/layers/sequence_dense.hpp>
#include <nndl/layers/simple_rnn.hpp>

namespace {

using nndl::Index;
using nndl::Matrix;
using nndl::Shape;

/// Row r of a matrix, across its columns (the examples), as NumPy prints an array.
std::string across_examples(const Matrix<double>& m, Index r) {
    std::vector<double> values;
    for (Index i = 0; i < m.cols(); ++i) {
        values.push_back(m(r, i));
    }
    return examples::numpy_array(values);
}

/// Entry [k][i] of a sequence batch at every step: the course's array[k][i] of shape (T,).
std::string across_steps(const Matrix<double>& sequence, Index per_step, Index k, Index i) {
    std::vector<double> values;
    for (Index t = 0; t < sequence.rows() / per_step; ++t) {
        values.push_back(sequence(t * per_step + k, i));
    }
    return examples::numpy_array(values);
}

/// A column vector's entry as NumPy prints a one-element array.
std::string one_entry(const Matrix<double>& m, Index r) { return "[" + examples::numpy_array_value(m(r, 0)) + "]"; }

/// The course's y = softmax(Wy a + by) at every step: nndl's SequenceDense, a dense softmax
/// layer applied to each step's hidden state. Entry (t * classes + k, i) is y[k][i][t].
Matrix<double> step_outputs(const Matrix<double>& wy, const Matrix<double>& by, const Matrix<double>& states,
                            Index steps) {
    nndl::SequenceDense<double> dense(Shape::sequence(steps, wy.cols()), wy.rows(), nndl::Activation::softmax);
    const auto p = dense.parameters();
    *p[0].value = wy;
    *p[1].value = by;
    Matrix<double> y;
    dense.infer(states, y);
    return y;
}

/// Checks a layer's backward pass (every parameter and the input) against central
/// differences and says whether it agrees; the errors go to stderr.
void check_backward(const std::string& name, nndl::Layer<double>& layer, const Matrix<double>& input) {
    const nndl::GradientCheckResult result = nndl::check_layer_gradients(layer, input);
    std::cerr << name << ": " << result.summary() << '\n';
    std::cout << "gradient check of " << name << ": "
              << (result.passed(1e-7) ? "backward agrees with central differences (relative error below 1e-07)"
                                      : "backward DISAGREES with central differences")
              << '\n';
    if (!result.passed(1e-7)) {
        throw std::runtime_error("the gradient check of " + name + " failed: " + result.summary());
    }
}

/// The RNN's parameters, set into a layer of `steps` steps.
nndl::SimpleRNN<double> rnn_layer(Index steps, const Matrix<double>& wax, const Matrix<double>& waa,
                                  const Matrix<double>& ba) {
    nndl::SimpleRNN<double> layer(Shape::sequence(steps, wax.cols()), wax.rows(), true);
    const auto p = layer.parameters();
    *p[0].value = wax;
    *p[1].value = waa;
    *p[2].value = ba;
    return layer;
}

/// The start state of an LSTM: a on top of c.
Matrix<double> stacked(const Matrix<double>& a, const Matrix<double>& c) {
    Matrix<double> state(a.rows() + c.rows(), a.cols());
    state << a, c;
    return state;
}

/// The course's LSTM parameters in its drawing order (Wf, bf, Wi, bi, Wo, bo, Wc, bc), as
/// nndl's LSTM stacks them (rows of Wf, Wi, Wc, Wo; columns for a_prev, then for xt).
nndl::LSTM<double> lstm_layer(nndl::NumpyRandom& random, Index steps, Index units, Index features) {
    nndl::LSTM<double> layer(Shape::sequence(steps, features), units, true);
    Matrix<double>& w = *layer.parameters()[0].value;
    Matrix<double>& b = *layer.parameters()[1].value;
    for (const Index gate : {0, 1, 3, 2}) {  // f, i, o, c
        w.middleRows(gate * units, units) = random.randn(units, units + features);
        b.middleRows(gate * units, units) = random.randn(units, 1);
    }
    return layer;
}

void rnn_cell_forward() {
    std::cout << "== rnn_cell_forward\n";
    nndl::NumpyRandom random(1);
    const Matrix<double> xt = random.randn(3, 10), a_prev = random.randn(5, 10);
    const Matrix<double> waa = random.randn(5, 5), wax = random.randn(5, 3), wya = random.randn(2, 5);
    const Matrix<double> ba = random.randn(5, 1), by = random.randn(2, 1);
    nndl::SimpleRNN<double> cell = rnn_layer(1, wax, waa, ba);
    cell.set_initial_state(a_prev);
    const Matrix<double> a_next = cell.forward(xt, nndl::Mode::training);
    const Matrix<double> yt_pred = step_outputs(wya, by, a_next, 1);
    std::cout << "a_next[4] = " << across_examples(a_next, 4) << '\n'
              << "a_next.shape = (" << a_next.rows() << ", " << a_next.cols() << ")\n"
              << "yt_pred[1] = " << across_examples(yt_pred, 1) << '\n'
              << "yt_pred.shape = (" << yt_pred.rows() << ", " << yt_pred.cols() << ")\n";
}

void rnn_forward() {
    std::cout << "== rnn_forward\n";
    nndl::NumpyRandom random(1);
    const Matrix<double> x = random.randn_sequence(3, 10, 4);
    const Matrix<double> a0 = random.randn(5, 10);
    const Matrix<double> waa = random.randn(5, 5), wax = random.randn(5, 3), wya = random.randn(2, 5);
    const Matrix<double> ba = random.randn(5, 1), by = random.randn(2, 1);
    nndl::SimpleRNN<double> rnn = rnn_layer(4, wax, waa, ba);
    rnn.set_initial_state(a0);
    const Matrix<double> a = rnn.forward(x, nndl::Mode::training);
    const Matrix<double> y = step_outputs(wya, by, a, 4);
    std::vector<double> y13;
    for (Index t = 0; t < 4; ++t) {
        y13.push_back(y(t * 2 + 1, 3));
    }
    std::cout << "a[4][1] = " << across_steps(a, 5, 4, 1) << '\n'
              << "a.shape = (5, " << a.cols() << ", " << rnn.output_shape().steps() << ")\n"
              << "y_pred[1][3] = " << examples::numpy_array(y13) << '\n'
              << "y_pred.shape = (2, " << a.cols() << ", 4)\n"
              << "caches[1][1][3] = " << across_steps(x, 3, 1, 3) << "  (the input the layer keeps for backward)\n";
}

void lstm_cell_forward() {
    std::cout << "== lstm_cell_forward\n";
    nndl::NumpyRandom random(1);
    const Matrix<double> xt = random.randn(3, 10), a_prev = random.randn(5, 10), c_prev = random.randn(5, 10);
    nndl::LSTM<double> cell = lstm_layer(random, 1, 5, 3);
    const Matrix<double> wy = random.randn(2, 5), by = random.randn(2, 1);
    cell.set_initial_state(stacked(a_prev, c_prev));
    const Matrix<double> a_next = cell.forward(xt, nndl::Mode::training);
    const Matrix<double>& c_next = cell.cell_states();
    const Matrix<double> yt = step_outputs(wy, by, a_next, 1);
    std::cout << "a_next[4] = " << across_examples(a_next, 4) << '\n'
              << "a_next.shape = (" << a_next.rows() << ", " << a_next.cols() << ")\n"
              << "c_next[2] = " << across_examples(c_next, 2) << '\n'
              << "c_next.shape = (" << c_next.rows() << ", " << c_next.cols() << ")\n"
              << "yt[1] = " << across_examples(yt, 1) << '\n'
              << "yt.shape = (" << yt.rows() << ", " << yt.cols() << ")\n"
              << "cache[1][3] = " << across_examples(c_next, 3) << "  (c_next[3])\n";
}

void lstm_forward() {
    std::cout << "== lstm_forward\n";
    nndl::NumpyRandom random(1);
    const Matrix<double> x = random.randn_sequence(3, 10, 7);
    const Matrix<double> a0 = random.randn(5, 10);
    nndl::LSTM<double> lstm = lstm_layer(random, 7, 5, 3);
    const Matrix<double> wy = random.randn(2, 5), by = random.randn(2, 1);
    lstm.set_initial_state(stacked(a0, Matrix<double>::Zero(5, 10)));  // c0 = 0, as the course
    const Matrix<double> a = lstm.forward(x, nndl::Mode::training);
    const Matrix<double> y = step_outputs(wy, by, a, 7);
    std::cout << "a[4][3][6] = " << examples::numpy_scalar(a(6 * 5 + 4, 3)) << '\n'
              << "a.shape = (5, 10, 7)\n"
              << "y[1][4][3] = " << examples::numpy_scalar(y(3 * 2 + 1, 4)) << '\n'
              << "y.shape = (2, 10, 7)\n"
              << "caches[1][1][1] = " << across_steps(x, 3, 1, 1) << "  (the input the layer keeps for backward)\n"
              << "c[1][2][1] = " << examples::numpy_scalar(lstm.cell_states()(1 * 5 + 1, 2)) << '\n';
}

void rnn_cell_backward() {
    std::cout << "== rnn_cell_backward\n";
    nndl::NumpyRandom random(1);
    const Matrix<double> xt = random.randn(3, 10), a_prev = random.randn(5, 10);
    const Matrix<double> wax = random.randn(5, 3), waa = random.randn(5, 5);
    random.randn(2, 5);  // Wya: drawn, not used by the backward pass
    const Matrix<double> ba = random.randn(5, 1);
    random.randn(2, 1);  // by
    nndl::SimpleRNN<double> cell = rnn_layer(1, wax, waa, ba);
    cell.set_initial_state(a_prev);
    cell.forward(xt, nndl::Mode::training);
    const Matrix<double> da_next = random.randn(5, 10);
    const Matrix<double> dxt = cell.backward(da_next, true);
    const auto p = cell.parameters();
    std::cout << "dxt[1][2] = " << examples::numpy_scalar(dxt(1, 2)) << '\n'
              << "dxt.shape = (" << dxt.rows() << ", " << dxt.cols() << ")\n"
              << "da_prev[2][3] = " << examples::numpy_scalar(cell.initial_state_gradient()(2, 3)) << '\n'
              << "da_prev.shape = (" << a_prev.rows() << ", " << a_prev.cols() << ")\n"
              << "dWax[3][1] = " << examples::numpy_scalar((*p[0].gradient)(3, 1)) << '\n'
              << "dWax.shape = (5, 3)\n"
              << "dWaa[1][2] = " << examples::numpy_scalar((*p[1].gradient)(1, 2)) << '\n'
              << "dWaa.shape = (5, 5)\n"
              << "dba[4] = " << one_entry(*p[2].gradient, 4) << '\n'
              << "dba.shape = (5, 1)\n";
    check_backward("rnn_cell_backward", cell, xt);
}

void rnn_backward() {
    std::cout << "== rnn_backward\n";
    nndl::NumpyRandom random(1);
    const Matrix<double> x = random.randn_sequence(3, 10, 4);
    const Matrix<double> a0 = random.randn(5, 10);
    const Matrix<double> wax = random.randn(5, 3), waa = random.randn(5, 5);
    random.randn(2, 5);  // Wya
    const Matrix<double> ba = random.randn(5, 1);
    random.randn(2, 1);  // by
    nndl::SimpleRNN<double> rnn = rnn_layer(4, wax, waa, ba);
    rnn.set_initial_state(a0);
    rnn.forward(x, nndl::Mode::training);
    const Matrix<double> da = random.randn_sequence(5, 10, 4);
    const Matrix<double> dx = rnn.backward(da, true);
    const auto p = rnn.parameters();
    std::cout << "dx[1][2] = " << across_steps(dx, 3, 1, 2) << '\n'
              << "dx.shape = (3, 10, 4)\n"
              << "da0[2][3] = " << examples::numpy_scalar(rnn.initial_state_gradient()(2, 3)) << '\n'
              << "da0.shape = (5, 10)\n"
              << "dWax[3][1] = " << examples::numpy_scalar((*p[0].gradient)(3, 1)) << '\n'
              << "dWax.shape = (5, 3)\n"
              << "dWaa[1][2] = " << examples::numpy_scalar((*p[1].gradient)(1, 2)) << '\n'
              << "dWaa.shape = (5, 5)\n"
              << "dba[4] = " << one_entry(*p[2].gradient, 4) << '\n'
              << "dba.shape = (5, 1)\n";
    check_backward("rnn_backward", rnn, x);
}

/// Prints the LSTM gradients the course prints: dW of each gate and db of each gate.
void print_lstm_gradients(const nndl::LSTM<double>& layer, const Matrix<double>& dw, const Matrix<double>& db) {
    const Index u = layer.units();
    const Index columns = dw.cols();
    const char* names[] = {"f", "i", "c", "o"};
    for (Index gate = 0; gate < 4; ++gate) {
        const bool second = gate == 1 || gate == 3;  // the course prints [1][2] of Wi and Wo, [3][1] of Wf and Wc
        std::cout << "dW" << names[gate] << (second ? "[1][2] = " : "[3][1] = ")
                  << examples::numpy_scalar(dw(gate * u + (second ? 1 : 3), second ? 2 : 1)) << '\n'
                  << "dW" << names[gate] << ".shape = (" << u << ", " << columns << ")\n";
    }
    for (Index gate = 0; gate < 4; ++gate) {
        std::cout << "db" << names[gate] << "[4] = " << one_entry(db, gate * u + 4) << '\n'
                  << "db" << names[gate] << ".shape = (" << u << ", 1)\n";
    }
}

void lstm_cell_backward() {
    std::cout << "== lstm_cell_backward\n";
    nndl::NumpyRandom random(1);
    const Matrix<double> xt = random.randn(3, 10), a_prev = random.randn(5, 10), c_prev = random.randn(5, 10);
    nndl::LSTM<double> cell = lstm_layer(random, 1, 5, 3);
    random.randn(2, 5);  // Wy
    random.randn(2, 1);  // by
    cell.set_initial_state(stacked(a_prev, c_prev));
    cell.forward(xt, nndl::Mode::training);
    const Matrix<double> da_next = random.randn(5, 10), dc_next = random.randn(5, 10);
    cell.set_final_state_gradient(stacked(Matrix<double>::Zero(5, 10), dc_next));  // dc_next reaches c directly
    const Matrix<double> dxt = cell.backward(da_next, true);
    const Matrix<double>& start = cell.initial_state_gradient();
    std::cout << "dxt[1][2] = " << examples::numpy_scalar(dxt(1, 2)) << '\n'
              << "dxt.shape = (" << dxt.rows() << ", " << dxt.cols() << ")\n"
              << "da_prev[2][3] = " << examples::numpy_scalar(start(2, 3)) << '\n'
              << "da_prev.shape = (5, 10)\n"
              << "dc_prev[2][3] = " << examples::numpy_scalar(start(5 + 2, 3)) << '\n'
              << "dc_prev.shape = (5, 10)\n";
    print_lstm_gradients(cell, *cell.parameters()[0].gradient, *cell.parameters()[1].gradient);
    check_backward("lstm_cell_backward", cell, xt);
}

void lstm_backward() {
    std::cout << "== lstm_backward\n";
    nndl::NumpyRandom random(1);
    const Matrix<double> x = random.randn_sequence(3, 10, 7);
    const Matrix<double> a0 = random.randn(5, 10);
    // The course takes T from da (4 steps): its backward covers the first 4 steps of x.
    nndl::LSTM<double> lstm = lstm_layer(random, 4, 5, 3);
    lstm.set_initial_state(stacked(a0, Matrix<double>::Zero(5, 10)));
    const Matrix<double> first_steps = x.topRows(4 * 3);
    lstm.forward(first_steps, nndl::Mode::training);
    const Matrix<double> da = random.randn_sequence(5, 10, 4);
    const Matrix<double> dx = lstm.backward(da, true);
    std::cout << "dx[1][2] = " << across_steps(dx, 3, 1, 2) << '\n'
              << "dx.shape = (3, 10, 4)\n"
              << "da0[2][3] = " << examples::numpy_scalar(lstm.initial_state_gradient()(2, 3)) << '\n'
              << "da0.shape = (5, 10)\n";
    print_lstm_gradients(lstm, *lstm.parameters()[0].gradient, *lstm.parameters()[1].gradient);
    check_backward("lstm_backward", lstm, first_steps);
}

}  // namespace

int main(int argc, char** argv) {
    return examples::run_main("rnn_step_by_step", [&] {
        examples::Options options("rnn_step_by_step",
                                  "Building a Recurrent Neural Network - Step by Step (course 5, week 1) with nndl's\n"
                                  "SimpleRNN and LSTM layers: every value the assignment's tests print, then a\n"
                                  "gradient check of each backward pass.");
        options.parse(argc, argv);
        rnn_cell_forward();
        rnn_forward();
        lstm_cell_forward();
        lstm_forward();
        rnn_cell_backward();
        rnn_backward();
        lstm_cell_backward();
        lstm_backward();
        return 0;
    });
}
