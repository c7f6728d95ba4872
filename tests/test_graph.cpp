// Graphs and merge layers: the merges' values worked by hand, whole-graph gradient checks
// (fan-out, residual blocks with convolutions and batch normalization, several inputs and
// outputs), a chain graph trained bit for bit as the same Network, and the errors that name
// the node.
#include "scale_layer.hpp"
#include "test_support.hpp"

#include <nndl/all.hpp>
#include <nndl/layers/embedding.hpp>
#include <nndl/layers/gru.hpp>
#include <nndl/layers/lstm.hpp>
#include <nndl/layers/sequence_dense.hpp>
#include <nndl/layers/simple_rnn.hpp>
#include <nndl/cnn.hpp>
#include <nndl/gradient_check.hpp>
#include <nndl/graph.hpp>
#include <nndl/io/model.hpp>
#include <nndl/nndl.hpp>

using nndl::Activation;
using nndl::Graph;
using nndl::Matrix;
using nndl::Shape;

namespace graph_test {

/// Every parameter of `layer` drawn from randn, scaled.
template <class Scalar>
void randomize(nndl::Layer<Scalar>& layer, nndl::NumpyRandom& random, double scale = 0.5) {
    for (auto& p : layer.parameters()) {
        *p.value = random.randn<Scalar>(p.value->rows(), p.value->cols()) * static_cast<Scalar>(scale);
    }
}

template <class Scalar>
std::unique_ptr<nndl::Layer<Scalar>> dense(Shape in, nndl::Index units, Activation activation,
                                           nndl::NumpyRandom& random) {
    auto layer = nndl::make_dense<Scalar>(in.size(), units, activation);
    randomize(*layer, random);
    return layer;
}

template <class Scalar>
Matrix<Scalar> column(std::initializer_list<double> values) {
    Matrix<Scalar> m(static_cast<nndl::Index>(values.size()), 1);
    nndl::Index i = 0;
    for (double v : values) {
        m(i++, 0) = static_cast<Scalar>(v);
    }
    return m;
}

/// conv (same) -> batch norm -> relu -> conv (same) -> batch norm, added to the input, relu.
template <class Scalar>
Graph<Scalar> residual_block(Shape in, nndl::NumpyRandom& random) {
    Graph<Scalar> g(in);
    const auto x = g.input();
    auto y = g.add(std::make_unique<nndl::Conv2D<Scalar>>(in, in.channels, nndl::Window(3), nndl::Stride(1),
                                                          nndl::Padding::same()),
                   x);
    randomize(*g.layer(y), random);
    y = g.add(std::make_unique<nndl::BatchNorm<Scalar>>(g.shape(y)), y);
    y = g.add(nndl::make_activation_layer<Scalar>(g.shape(y), Activation::relu), y);
    y = g.add(std::make_unique<nndl::Conv2D<Scalar>>(g.shape(y), in.channels, nndl::Window(3), nndl::Stride(1),
                                                     nndl::Padding::same()),
              y);
    randomize(*g.layer(y), random);
    y = g.add(std::make_unique<nndl::BatchNorm<Scalar>>(g.shape(y)), y);
    y = g.template merge<nndl::Add>({y, x});
    g.add(nndl::make_activation_layer<Scalar>(g.shape(y), Activation::relu), y);
    return g;
}

/// The same parameters, state, predictions and summary, bit for bit.
template <class Scalar>
void check_same_network(nndl::Network<Scalar>& network, nndl::Network<Scalar>& loaded, const Matrix<Scalar>& x) {
    auto a = network.parameters();
    auto b = loaded.parameters();
    REQUIRE(a.size() == b.size());
    for (std::size_t k = 0; k < a.size(); ++k) {
        CHECK(a[k].name == b[k].name);
        CHECK(*a[k].value == *b[k].value);
    }
    REQUIRE(network.state().size() == loaded.state().size());
    for (std::size_t k = 0; k < network.state().size(); ++k) {
        CHECK(*network.state()[k].value == *loaded.state()[k].value);
    }
    CHECK(network.predict_proba(x) == loaded.predict_proba(x));
    CHECK(network.summary() == loaded.summary());
}

}  // namespace graph_test

using graph_test::check_same_network;
using graph_test::column;
using graph_test::dense;
using graph_test::randomize;
using graph_test::residual_block;

TEST_CASE_TEMPLATE("merge layers: values worked by hand", Scalar, float, double) {
    const Matrix<Scalar> a = column<Scalar>({1, 2, 3, 4});
    const Matrix<Scalar> b = column<Scalar>({10, 20, 30, 40});
    const Matrix<Scalar> c = column<Scalar>({-1, 0, 0.5, 2});
    const Shape flat(4);

    nndl::Add<Scalar> add({flat, flat, flat});
    CHECK(add.forward({&a, &b, &c}, nndl::Mode::training) == column<Scalar>({10, 22, 33.5, 46}));
    const Matrix<Scalar> g = column<Scalar>({1, -1, 2, -2});
    for (const Matrix<Scalar>* d : add.backward(g)) {
        CHECK(*d == g);
    }

    nndl::Multiply<Scalar> multiply({flat, flat, flat});
    CHECK(multiply.forward({&a, &b, &c}, nndl::Mode::training) == column<Scalar>({-10, 0, 45, 320}));
    const auto& d = multiply.backward(g);
    REQUIRE(d.size() == 3u);
    CHECK(*d[0] == column<Scalar>({-10, 0, 30, -160}));  // g * b * c
    CHECK(*d[1] == column<Scalar>({-1, 0, 3, -16}));     // g * a * c
    CHECK(*d[2] == column<Scalar>({10, -40, 180, -320}));  // g * a * b

    // Images 1x2: one channel, then two; each position holds input 1's channel, then input 2's.
    nndl::Concatenate<Scalar> concatenate({Shape::image(1, 2, 1), Shape::image(1, 2, 2)});
    CHECK(concatenate.output_shape() == Shape::image(1, 2, 3));
    Matrix<Scalar> x1(2, 2), x2(4, 2);
    x1 << 1, 5, 2, 6;
    x2 << 10, 50, 11, 51, 20, 60, 21, 61;
    Matrix<Scalar> expected(6, 2);
    expected << 1, 5, 10, 50, 11, 51, 2, 6, 20, 60, 21, 61;
    CHECK(concatenate.forward({&x1, &x2}, nndl::Mode::training) == expected);
    const auto& back = concatenate.backward(expected);
    CHECK(*back[0] == x1);
    CHECK(*back[1] == x2);
    Matrix<Scalar> inferred;
    concatenate.infer({&x1, &x2}, inferred);
    CHECK(inferred == expected);

    // Sequences join per step; flat vectors end to end.
    CHECK(nndl::Concatenate<Scalar>({Shape::sequence(5, 3), Shape::sequence(5, 4)}).output_shape() ==
          Shape::sequence(5, 7));
    CHECK(nndl::Concatenate<Scalar>({Shape(3), Shape(4)}).output_shape() == Shape(7));
}

TEST_CASE("merge layers refuse inputs that do not fit, saying which") {
    const auto message_of = [](auto&& f) { return nndl_test::message_of<nndl::InvalidArgument>(f); };
    CHECK(message_of([] { nndl::Add<double>({Shape(3)}); }) ==
          "Add::Add: 1 inputs, expected at least 2");
    CHECK(message_of([] { nndl::Add<double>({Shape(3), Shape(4)}); }) ==
          "Add::Add: input 2 is 4, expected 3 as input 1");
    CHECK(message_of([] { nndl::Concatenate<double>({Shape::image(2, 2, 1), Shape::image(2, 3, 1)}); })
              .find("input 2 is 2x3x1") != std::string::npos);
    CHECK(message_of([] { nndl::Concatenate<double>({Shape(4), Shape::image(2, 2, 1)}); })
              .find("Concatenate::Concatenate: input 2") == 0);
    CHECK(message_of([] { nndl::create_merge<double>("sub\ntract", {Shape(1), Shape(1)}); }) ==
          "create_merge: type 'sub\\x0atract', expected 'add', 'multiply' or 'concatenate'");
    nndl::Add<double> add({Shape(2), Shape(2)});
    const Matrix<double> two = Matrix<double>::Ones(2, 3), three = Matrix<double>::Ones(3, 3);
    const Matrix<double> narrow = Matrix<double>::Ones(2, 2);
    CHECK(message_of([&] { add.forward({&two, &three}, nndl::Mode::training); }) ==
          "MergeLayer::forward ('add'): input 2 has 3 rows, expected 2 (shape 2)");
    CHECK(message_of([&] { add.forward({&two, &narrow}, nndl::Mode::training); })
              .find("input 2 has 2 columns, expected 3") != std::string::npos);
    CHECK(message_of([&] { add.backward(two); }).find("called before forward") != std::string::npos);
}

TEST_CASE_TEMPLATE("a graph whose node feeds two layers passes the gradient check", Scalar, float, double) {
    // x -> dense a, x -> dense b, a + b, a * b, concatenate -> dense out: x's gradient is a sum.
    nndl::NumpyRandom random(3);
    Graph<Scalar> g(Shape(5));
    const auto x = g.input();
    const auto a = g.add(dense<Scalar>(5, 4, Activation::tanh, random), x, "a");
    const auto b = g.add(dense<Scalar>(5, 4, Activation::sigmoid, random), x, "b");
    const auto sum = g.template merge<nndl::Add>({a, b});
    const auto product = g.template merge<nndl::Multiply>({a, b, b});
    const auto both = g.template merge<nndl::Concatenate>({sum, product, x});
    g.add(dense<Scalar>(g.shape(both), 3, Activation::identity, random), both, "out");
    CHECK(g.input_shape() == Shape(5));
    CHECK(g.output_shape() == Shape(3));
    CHECK(g.name(sum) == "add_1");
    CHECK(g.parameters().size() == 6u);
    CHECK(g.parameters()[0].name == "a/W");

    const Matrix<Scalar> input = random.randn<Scalar>(5, 7);
    const auto result = nndl::check_layer_gradients<Scalar>(g, input);
    INFO(result.summary());
    CHECK(result.entries_checked == 4u * 5 + 4 + 4 * 5 + 4 + 3 * 13 + 3 + 35);
    CHECK(result.passed(nndl_test::gradient_tolerance<Scalar>()));

    // infer gives forward's evaluation output to the bit, from a const graph.
    const Matrix<Scalar> forward = g.forward(input, nndl::Mode::evaluation);
    Matrix<Scalar> inferred;
    static_cast<const Graph<Scalar>&>(g).infer(input, inferred);
    CHECK(inferred == forward);
    // A clone is deep: changing the copy leaves the original.
    auto copy = g.clone();
    copy->parameters()[0].value->setZero();
    Matrix<Scalar> again;
    g.infer(input, again);
    CHECK(again == forward);
    Matrix<Scalar> from_copy;
    copy->infer(input, from_copy);
    CHECK(from_copy != forward);
}

TEST_CASE("a residual block of convolutions and batch normalization passes the gradient check") {
    nndl::NumpyRandom random(5);
    Graph<double> block = residual_block<double>(Shape::image(4, 5, 2), random);
    CHECK(block.size() == 8u);
    const Matrix<double> x = random.randn<double>(40, 3);
    for (const nndl::Mode mode : {nndl::Mode::training, nndl::Mode::evaluation}) {
        nndl::GradientCheckOptions options;
        options.mode = mode;
        const auto result = nndl::check_layer_gradients<double>(block, x, options);
        INFO(result.summary());
        CHECK(result.passed(1e-6));
        CHECK(result.entries_checked == 2u * (2 * 18 + 2 + 2 + 2) + 120);
    }
    const std::string summary = block.summary();
    INFO(summary);
    CHECK(summary.find("add_1         add                                                                              batch_norm_2, input  4x5x2") != std::string::npos);
    CHECK(summary.find("outputs: activation_2") != std::string::npos);
}

TEST_CASE("a graph of two inputs and two outputs packs them as rows, and its gradient checks") {
    nndl::NumpyRandom random(9);
    Graph<double> g({{"image", Shape::image(2, 2, 1)}, {"extra", Shape(3)}});
    const auto image = g.input(0);
    const auto extra = g.input(1);
    CHECK(g.node("extra").index == extra.index);
    const auto h = g.add(dense<double>(4, 3, Activation::tanh, random), image, "h");
    const auto joined = g.merge<nndl::Concatenate>({h, extra});
    const auto p = g.add(dense<double>(6, 2, Activation::softmax, random), joined, "probabilities");
    const auto v = g.add(dense<double>(6, 1, Activation::identity, random), joined, "value");
    g.set_outputs({p, v});
    CHECK(g.input_shape() == Shape(7));
    CHECK(g.output_shape() == Shape(3));

    const Matrix<double> x = random.randn<double>(7, 4);
    const auto result = nndl::check_layer_gradients<double>(g, x);
    INFO(result.summary());
    CHECK(result.passed(1e-7));
    // The outputs' rows are each output's own forward.
    const Matrix<double> out = g.forward(x, nndl::Mode::evaluation);
    Matrix<double> h_out, joined_out, p_out;
    const Matrix<double> top = x.topRows(4), bottom = x.bottomRows(3);
    g.layer(h)->infer(top, h_out);
    nndl::Concatenate<double> c({Shape(3), Shape(3)});
    c.infer({&h_out, &bottom}, joined_out);
    g.layer(p)->infer(joined_out, p_out);
    CHECK(out.topRows(2) == p_out);
}

TEST_CASE("a chain graph inside a network trains to the same bits as the chain itself") {
    nndl::NumpyRandom random(11);
    nndl::Network<double> plain(Shape(6));
    plain.add(dense<double>(6, 5, Activation::relu, random));
    plain.add(dense<double>(5, 4, Activation::tanh, random));
    plain.add(dense<double>(4, 1, Activation::sigmoid, random));

    // The whole chain, sigmoid output included, inside one graph: the graph passes its output
    // layer's activation on, so the loss starts from dLoss/dZ as in the plain network.
    Graph<double> chain(Shape(6));
    auto node = chain.input();
    for (std::size_t i = 0; i < plain.depth(); ++i) {
        node = chain.add(plain.layer(i).clone(), node);
    }
    nndl::Network<double> wrapped(Shape(6));
    wrapped.add(std::make_unique<Graph<double>>(std::move(chain)));
    CHECK(nndl::output_activation(wrapped.layer(0)) == Activation::sigmoid);
    CHECK(wrapped.loss().name() == plain.loss().name());
    CHECK(wrapped.is_classifier());

    const Matrix<double> x = random.randn<double>(6, 32);
    Matrix<double> y = (random.rand<double>(1, 32).array() > 0.5).cast<double>();
    nndl::Adam<double> adam_plain(0.01), adam_wrapped(0.01);
    for (int step = 0; step < 20; ++step) {
        const double a = plain.train_step(x, y, adam_plain);
        const double b = wrapped.train_step(x, y, adam_wrapped);
        REQUIRE(a == b);
    }
    CHECK(plain.predict_proba(x) == wrapped.predict_proba(x));
    CHECK(plain.predict(x) == wrapped.predict(x));  // labels: the graph network is a classifier too
    CHECK(wrapped.summary().find("graph") != std::string::npos);
    const auto check = nndl::check_network_gradients<double>(wrapped, x.leftCols(5), y.leftCols(5));
    INFO(check.summary());
    CHECK(check.passed(1e-7));
}

TEST_CASE_TEMPLATE("inside a graph, a convolution computes the batch norm, activation and pooling after it", Scalar,
                   float, double) {
    // infer fuses each chain conv -> batch norm -> relu (-> max pool) that nothing else reads
    // from; forward in evaluation mode runs every node alone. They agree to rounding, and a
    // node read by two (the block's input, an output) is never fused away.
    nndl::NumpyRandom random(21);
    const Shape in = Shape::image(9, 7, 3);
    Graph<Scalar> g(in);
    const auto x = g.input();
    auto block = graph_test::residual_block<Scalar>(in, random);
    auto y = g.add(std::make_unique<Graph<Scalar>>(std::move(block)), x);
    auto branch = g.add(std::make_unique<nndl::Conv2D<Scalar>>(in, 4, nndl::Window(3), nndl::Stride(1),
                                                               nndl::Padding::same()),
                        x);
    graph_test::randomize(*g.layer(branch), random);
    branch = g.add(std::make_unique<nndl::BatchNorm<Scalar>>(g.shape(branch)), branch);
    const auto normalized = branch;
    branch = g.add(nndl::make_activation_layer<Scalar>(g.shape(branch), Activation::relu), branch);
    branch = g.add(nndl::make_max_pool<Scalar>(g.shape(branch), nndl::Window(2), nndl::Stride(2)), branch);
    g.set_outputs({y, branch, normalized});
    for (auto& s : g.state()) {  // running statistics that are not 0 and 1
        *s.value = random.rand<Scalar>(s.value->rows(), s.value->cols()) + Matrix<Scalar>::Constant(s.value->rows(), 1, 0.5);
    }
    for (auto& p : g.parameters()) {
        if (p.value->cols() == 1) {
            *p.value = random.randn<Scalar>(p.value->rows(), 1);
        }
    }
    const Matrix<Scalar> input = random.randn<Scalar>(in.size(), 5);
    Matrix<Scalar> fused;
    g.infer(input, fused);
    const Matrix<Scalar> alone = g.forward(input, nndl::Mode::evaluation);
    REQUIRE(fused.rows() == alone.rows());
    const double tolerance = std::is_same_v<Scalar, float> ? 1e-5 : 1e-12;
    CHECK(((fused - alone).cwiseAbs().array() <= tolerance * (1 + alone.cwiseAbs().array())).all());
}

TEST_CASE_TEMPLATE("a graph over sequences takes another number of steps (set_steps), alone and in a network", Scalar,
                   float, double) {
    // x -> LSTM h (every step); h + x; a GRU over that; both concatenated -> a softmax per step.
    const auto build = [](nndl::Index steps) {
        auto g = std::make_unique<Graph<Scalar>>(Shape::sequence(steps, 4));
        const auto x = g->input();
        const auto h = g->add(std::make_unique<nndl::LSTM<Scalar>>(g->shape(x), 4), x, "h");
        const auto r = g->template merge<nndl::Add>({h, x}, "residual");
        const auto q = g->add(std::make_unique<nndl::GRU<Scalar>>(g->shape(r), 3), r, "q");
        const auto both = g->template merge<nndl::Concatenate>({r, q}, "both");
        g->add(std::make_unique<nndl::SequenceDense<Scalar>>(g->shape(both), 2, Activation::softmax), both, "out");
        return g;
    };
    const auto copy_parameters = [](nndl::Layer<Scalar>& from, nndl::Layer<Scalar>& to) {
        const auto source = from.parameters();
        const auto target = to.parameters();
        REQUIRE(source.size() == target.size());
        for (std::size_t k = 0; k < source.size(); ++k) {
            *target[k].value = *source[k].value;
        }
    };
    nndl::NumpyRandom random(8);
    auto g = build(5);
    randomize(*g, random);
    auto built_for_seven = build(7);
    copy_parameters(*g, *built_for_seven);
    g->set_steps(7);
    CHECK(g->input_shape() == Shape::sequence(7, 4));
    CHECK(g->output_shape() == Shape::sequence(7, 2));
    CHECK(g->shape(g->node("both")) == Shape::sequence(7, 7));
    const Matrix<Scalar> x7 = random.randn<Scalar>(28, 3);
    const Matrix<Scalar> y7 = g->forward(x7, nndl::Mode::evaluation);
    CHECK(y7 == built_for_seven->forward(x7, nndl::Mode::evaluation));
    const auto result = nndl::check_layer_gradients<Scalar>(*g, x7);
    INFO(result.summary());
    CHECK(result.passed(nndl_test::gradient_tolerance<Scalar>()));

    // In a network, Network::set_steps reaches into the graph, both ways.
    nndl::Network<Scalar> net(Shape::sequence(5, 4));
    auto inside = build(5);
    copy_parameters(*g, *inside);
    net.add(std::move(inside));
    net.set_steps(7);
    CHECK(net.predict_proba(x7) == y7);
    net.set_steps(3);
    auto built_for_three = build(3);
    copy_parameters(*g, *built_for_three);
    const Matrix<Scalar> x3 = random.randn<Scalar>(12, 2);
    CHECK(net.predict_proba(x3) == built_for_three->forward(x3, nndl::Mode::evaluation));

    // After a layer that returns the last step, the nodes keep their shapes.
    Graph<Scalar> last(Shape::sequence(6, 3));
    const auto state = last.add(std::make_unique<nndl::LSTM<Scalar>>(Shape::sequence(6, 3), 5, false), last.input());
    last.add(dense<Scalar>(Shape(5), 2, Activation::sigmoid, random), state, "head");
    last.set_steps(11);
    CHECK(last.input_shape() == Shape::sequence(11, 3));
    CHECK(last.output_shape() == Shape(2));
    const Matrix<Scalar> x11 = random.randn<Scalar>(33, 2);
    CHECK(last.forward(x11, nndl::Mode::evaluation).rows() == 2);

    // Refusals name the node and change nothing.
    Graph<Scalar> whole(Shape::sequence(5, 4));
    const auto y = whole.add(std::make_unique<nndl::SimpleRNN<Scalar>>(Shape::sequence(5, 4), 4), whole.input(), "rnn");
    whole.add(dense<Scalar>(Shape(20), 1, Activation::sigmoid, random), y, "whole");
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { whole.set_steps(6); }) ==
          "Graph::set_steps: node 'whole' ('dense') takes 20, the whole sequence as one vector; its steps cannot change");
    CHECK(whole.input_shape() == Shape::sequence(5, 4));
    CHECK(whole.shape(y) == Shape::sequence(5, 4));
    const Matrix<Scalar> x5 = random.randn<Scalar>(20, 2);
    CHECK(whole.forward(x5, nndl::Mode::evaluation).rows() == 1);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { whole.set_steps(0); })
              .find("Graph::set_steps: node 'input': steps is 0, expected at least 1") == 0);
    Graph<Scalar> flat(Shape(4));
    flat.add(dense<Scalar>(Shape(4), 2, Activation::tanh, random), flat.input());
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { flat.set_steps(2); }) ==
          "Graph::set_steps: the graph takes 4, expected a sequence");
    // The same number of steps is checked too, so a graph that can never change is told at once.
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { whole.set_steps(5); })
              .find("node 'whole' ('dense') takes 20") != std::string::npos);

    // Inside a network, a refusal by a graph's node leaves every layer as it was, the layers
    // before the graph included.
    nndl::Network<Scalar> holding(Shape::sequence(5, 4));
    holding.add(std::make_unique<nndl::LSTM<Scalar>>(Shape::sequence(5, 4), 4));
    auto refusing = std::make_unique<Graph<Scalar>>(Shape::sequence(5, 4));
    const auto inner = refusing->add(std::make_unique<nndl::SimpleRNN<Scalar>>(Shape::sequence(5, 4), 4),
                                     refusing->input(), "inner");
    refusing->add(dense<Scalar>(Shape(20), 1, Activation::sigmoid, random), inner, "whole");
    holding.add(std::move(refusing));
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { holding.set_steps(6); })
              .find("Graph::set_steps: node 'whole' ('dense') takes 20") != std::string::npos);
    CHECK(holding.input_shape() == Shape::sequence(5, 4));
    CHECK(holding.layer(0).input_shape() == Shape::sequence(5, 4));
    CHECK(holding.predict_proba(x5).rows() == 1);

    // A graph inside a graph changes with it.
    Graph<Scalar> outer(Shape::sequence(5, 4));
    auto nested = build(5);
    copy_parameters(*g, *nested);
    const auto through = outer.add(std::move(nested), outer.input(), "nested");
    outer.add(std::make_unique<nndl::ActivationLayer<Scalar, nndl::Identity>>(Shape::sequence(5, 2)), through);
    outer.set_steps(7);
    CHECK(outer.output_shape() == Shape::sequence(7, 2));
    CHECK(outer.forward(x7, nndl::Mode::evaluation) == y7);

    // Several outputs are joined into one flat vector: one that is a sequence would change its size.
    Graph<Scalar> two(Shape::sequence(5, 4));
    const auto seq = two.add(std::make_unique<nndl::GRU<Scalar>>(Shape::sequence(5, 4), 3), two.input(), "seq");
    const auto last_state = two.add(std::make_unique<nndl::GRU<Scalar>>(Shape::sequence(5, 4), 2, false), two.input());
    two.set_outputs({seq, last_state});
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { two.set_steps(6); })
              .find("Graph::set_steps: output node 'seq' is a sequence, and the graph's 2 outputs are joined") == 0);
    CHECK(two.input_shape() == Shape::sequence(5, 4));
}

/// A merge of the user's own that keeps its input shapes (no with_input_shapes).
template <class Scalar>
class Keep final : public nndl::MergeLayer<Scalar> {
public:
    explicit Keep(std::vector<Shape> inputs) : inputs_(std::move(inputs)) {}
    std::string type() const override { return "keep"; }
    const std::vector<Shape>& input_shapes() const override { return inputs_; }
    Shape output_shape() const override { return inputs_.front(); }
    std::unique_ptr<nndl::MergeLayer<Scalar>> clone() const override { return std::make_unique<Keep>(*this); }

protected:
    const Matrix<Scalar>& do_forward(const std::vector<const Matrix<Scalar>*>& inputs, nndl::Mode) override {
        output_ = *inputs[0];
        return output_;
    }
    const std::vector<const Matrix<Scalar>*>& do_backward(const Matrix<Scalar>& gradient) override {
        zero_ = Matrix<Scalar>::Zero(gradient.rows(), gradient.cols());
        gradients_ = {&gradient, &zero_};
        return gradients_;
    }
    void do_infer(const std::vector<const Matrix<Scalar>*>& inputs, Matrix<Scalar>& output) const override {
        output = *inputs[0];
    }

private:
    std::vector<Shape> inputs_;
    Matrix<Scalar> output_, zero_;
    std::vector<const Matrix<Scalar>*> gradients_;
};

TEST_CASE("a merge of the user's own without with_input_shapes is refused by set_steps, naming the node") {
    Graph<double> g(Shape::sequence(3, 2));
    const auto a = g.add(std::make_unique<nndl::SimpleRNN<double>>(Shape::sequence(3, 2), 2), g.input(), "a");
    g.add(std::make_unique<Keep<double>>(std::vector<Shape>{Shape::sequence(3, 2), Shape::sequence(3, 2)}),
          std::vector<Graph<double>::Node>{a, g.input()}, "kept");
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { g.set_steps(4); }) ==
          "Graph::set_steps: node 'kept' ('keep'): keep: this merge cannot take inputs of other shapes (2 given); "
          "it does not override MergeLayer::with_input_shapes");
    CHECK(g.input_shape() == Shape::sequence(3, 2));
    CHECK(g.shape(a) == Shape::sequence(3, 2));
}

TEST_CASE("graphs refuse what cannot be built, naming the node") {
    const auto message_of = [](auto&& f) { return nndl_test::message_of<nndl::InvalidArgument>(f); };
    nndl::NumpyRandom random(1);
    Graph<double> g(Shape::image(4, 4, 3));
    const auto x = g.input();
    const auto conv = g.add(std::make_unique<nndl::Conv2D<double>>(g.shape(x), 6, nndl::Window(1), nndl::Stride(2)),
                            x, "shortcut");
    CHECK(nndl_test::message_of<nndl::ShapeError>([&] { g.merge<nndl::Add>({conv, x}); }) ==
          "Graph::merge: a 'new' node over 'shortcut', 'input': Add::Add: input 2 is 4x4x3 (height x width x "
          "channels), expected 2x2x6 (height x width x channels) as input 1");
    CHECK(message_of([&] { g.add(dense<double>(Shape(10), 2, Activation::relu, random), x, "head"); }) ==
          "Graph::add: node 'head' ('dense') takes input 10, but node 'input' outputs 4x4x3 (height x width x "
          "channels)");
    CHECK(message_of([&] { g.add(dense<double>(Shape(24), 2, Activation::relu, random), Graph<double>::Node{7}); }) ==
          "Graph::add: node 7, but the graph has 2 nodes, expected one of this graph's nodes");
    CHECK(message_of([&] { g.add(dense<double>(Shape(24), 2, Activation::relu, random), conv, "shortcut"); }) ==
          "Graph::add: a node named 'shortcut' exists, expected a new name");
    CHECK(message_of([&] { g.add(std::unique_ptr<nndl::Layer<double>>(), conv); }) ==
          "Graph::add: layer is null, expected a layer");
    CHECK(message_of([&] { g.node("no\x1b[2Jde"); }) == "Graph::node: no node named 'no\\x1b[2Jde'");
    // A merge takes its inputs' exact shapes (a model file rebuilds it from them).
    CHECK(message_of([&] { g.add(std::make_unique<nndl::Add<double>>(std::vector<Shape>{Shape(24), Shape(24)}),
                                 {conv, conv}); }) ==
          "Graph::add: node 'add_1' ('add') takes 24 as input 1, but node 'shortcut' outputs 2x2x6 (height x width x "
          "channels)");
    CHECK(message_of([&] { g.add(dense<double>(Shape(24), 2, Activation::relu, random), conv, "block.dense"); }) ==
          "Graph::add: the node name 'block.dense', expected 1 to 200 letters, digits, _, - and : (it names the "
          "node's arrays in model files)");
    CHECK(message_of([&] { g.set_outputs({}); }) == "Graph::set_outputs: no outputs, expected at least one node");
    CHECK(message_of([&] { g.set_outputs({conv, conv}); }) ==
          "Graph::set_outputs: node 'shortcut' is named twice, expected each output once");
    CHECK(message_of([] { Graph<double>(std::vector<std::pair<std::string, Shape>>{}); }) ==
          "Graph::Graph: no inputs, expected at least one");
    CHECK(message_of([] { Graph<double>({{"a", Shape(2)}, {"a", Shape(3)}}); }) ==
          "Graph::Graph: a node named 'a' exists, expected a new name");

    // A branch that leads nowhere is refused when the graph runs, not silently left untrained.
    const auto side = g.add(dense<double>(Shape(24), 2, Activation::relu, random), conv, "side");
    g.add(dense<double>(Shape(24), 3, Activation::relu, random), conv, "main");
    const Matrix<double> batch = random.randn<double>(48, 2);
    CHECK(message_of([&] { g.forward(batch, nndl::Mode::training); }) ==
          "Graph::forward: node 'side' leads to no output, expected every node to feed an output (set_outputs)");
    Matrix<double> out;
    CHECK(message_of([&] { g.infer(batch, out); }).find("Graph::infer: node 'side' leads to no output") == 0);
    g.set_outputs({side, g.node("main")});
    CHECK(g.forward(batch, nndl::Mode::training).rows() == 5);
    CHECK(message_of([&] { g.backward(Matrix<double>::Zero(4, 2), false); }) ==
          "Layer::backward ('graph'): output gradient has 4 rows, the layer outputs 5");
}

TEST_CASE_TEMPLATE("a network holding graphs round-trips bit-exactly through a model file (format 3)", Scalar, float,
                   double) {
    nndl::NumpyRandom random(21);
    // A residual block, then a graph whose two branches (pooled and convolved) are concatenated.
    nndl::Network<Scalar> network(Shape::image(4, 4, 2));
    network.add(std::make_unique<Graph<Scalar>>(residual_block<Scalar>(Shape::image(4, 4, 2), random)));
    Graph<Scalar> branches(Shape::image(4, 4, 2), "image");
    const auto image = branches.input();
    const auto pooled = branches.add(nndl::make_max_pool<Scalar>(Shape::image(4, 4, 2), nndl::Window(2), nndl::Stride(2)),
                                     image, "pool");
    const auto strided = branches.add(
        std::make_unique<nndl::Conv2D<Scalar>>(Shape::image(4, 4, 2), 3, nndl::Window(2), nndl::Stride(2)), image,
        "strided");
    randomize(*branches.layer(strided), random);
    const auto joined = branches.template merge<nndl::Concatenate>({pooled, strided}, "joined");
    branches.add(dense<Scalar>(branches.shape(joined), 3, Activation::softmax, random), joined, "classes");
    network.add(std::make_unique<Graph<Scalar>>(std::move(branches)));

    const Matrix<Scalar> x = random.randn<Scalar>(32, 6);
    Matrix<Scalar> y = Matrix<Scalar>::Zero(3, 6);
    for (int j = 0; j < 6; ++j) {
        y(j % 3, j) = 1;
    }
    nndl::Adam<Scalar> adam(0.01);
    for (int step = 0; step < 3; ++step) {
        network.train_step(x, y, adam);  // batch statistics move the running averages away from 0 and 1
    }
    const auto dir = nndl_test::scratch_dir("graph_model");
    nndl::save_network(network, dir / "graph.npz");
    const auto arrays = nndl::read_npz(dir / "graph.npz");
    CHECK(arrays.count("layer1.conv2d_1.W") == 1u);
    CHECK(arrays.count("layer1.batch_norm_2.running_var") == 1u);
    CHECK(arrays.count("layer2.classes.b") == 1u);
    const std::string arch = nndl::npy_to_string(arrays.at("architecture"), "architecture");
    CHECK(arch.find("\"version\":3") != std::string::npos);
    CHECK(arch.find("{\"merge\":\"add\",\"name\":\"add_1\",\"from\":[\"batch_norm_2\",\"input\"]}") != std::string::npos);

    nndl::Network<Scalar> loaded = nndl::load_network<Scalar>(dir / "graph.npz");
    check_same_network(network, loaded, x);

    // A file that breaks the graph is refused, naming the node.
    const auto with_arch = [&](const char* name, const std::string& from, const std::string& to) {
        auto copy = arrays;
        std::string text = arch;
        REQUIRE(text.find(from) != std::string::npos);
        text.replace(text.find(from), from.size(), to);
        copy["architecture"] = nndl::to_npy(text);
        std::vector<std::pair<std::string, nndl::NpyArray>> list(copy.begin(), copy.end());
        nndl::write_npz(dir / name, list);
        return nndl_test::message_of<nndl::FileError>([&] { nndl::load_network<Scalar>(dir / name); });
    };
    CHECK(with_arch("nowhere.npz", "\"from\":[\"batch_norm_2\",\"input\"]", "\"from\":[\"batch_norm_9\",\"input\"]")
              .find("layer1 ('graph'): node 'add_1': it takes 'batch_norm_9', which is not an input or a node named "
                    "before it") != std::string::npos);
    // A node that takes a later one (a cycle, written as a forward reference) is the same error.
    CHECK(with_arch("cycle.npz", "\"name\":\"conv2d_1\",\"from\":[\"input\"]", "\"name\":\"conv2d_1\",\"from\":[\"activation_2\"]")
              .find("node 'conv2d_1': it takes 'activation_2', which is not an input or a node named before it") !=
          std::string::npos);
    CHECK(with_arch("unused.npz", "\"outputs\":[\"activation_2\"]", "\"outputs\":[\"add_1\"]")
              .find("Graph::validate: node 'activation_2' leads to no output") != std::string::npos);
    CHECK(with_arch("mismatch.npz", "{\"merge\":\"concatenate\"", "{\"merge\":\"add\"")
              .find("node 'joined': Add::Add: input 2 is 2x2x3") != std::string::npos);
    CHECK(with_arch("twice.npz", "\"name\":\"pool\"", "\"name\":\"image\"")
              .find("Graph::add: a node named 'image' exists") != std::string::npos);
    CHECK(with_arch("name.npz", "\"name\":\"pool\"", "\"name\":\"\\u001b]0;x\\u0007\"")
              .find("layer2 ('graph'): node '\\x1b]0;x\\x07': expected a name of 1 to 200 letters") !=
          std::string::npos);
    CHECK(with_arch("weird.npz", "\"merge\":\"add\"", "\"merge\":\"a\\u001bdd\"")
              .find("node 'add_1': create_merge: type 'a\\x1bdd', expected") != std::string::npos);
    // Graphs came with version 3: a graph in a file that says version 2 is a damaged file.
    CHECK(with_arch("version.npz", "\"version\":3", "\"version\":2")
              .find("layer1 ('graph'): layer1 is a graph, which model files hold from version 3 on; the file says "
                    "version 2") != std::string::npos);
}

TEST_CASE_TEMPLATE("every built-in layer and a registered one round-trip bit-exactly inside branching graphs", Scalar,
                   float, double) {
    nndl::NumpyRandom random(5);
    Scale<Scalar>::register_type();
    const auto dir = nndl_test::scratch_dir("graph_every_layer");
    const auto train_and_reload = [&](nndl::Network<Scalar>& network, const Matrix<Scalar>& x, const Matrix<Scalar>& y,
                                      const char* file) {
        nndl::Adam<Scalar> adam(0.01);
        for (int step = 0; step < 2; ++step) {
            network.train_step(x, y, adam);  // moves the running statistics and the registered layer's state
        }
        nndl::save_network(network, dir / file);
        nndl::Network<Scalar> loaded = nndl::load_network<Scalar>(dir / file);
        check_same_network(network, loaded, x);
    };
    SUBCASE("images: normalization, convolution, batch norm, both poolings, upsampling, the registered layer, "
            "global pooling, dropout, dense and activation layers; concatenated and multiplied") {
        const Shape in = Shape::image(6, 6, 2);
        Graph<Scalar> g(in);
        const Matrix<Scalar> spread = random.rand<Scalar>(in.size(), 1).array() + Scalar(1);
        auto n = g.add(std::make_unique<nndl::Normalization<Scalar>>(in, random.randn<Scalar>(in.size(), 1), spread),
                       g.input());
        n = g.add(std::make_unique<nndl::Conv2D<Scalar>>(in, 3, nndl::Window(3), nndl::Stride(1),
                                                         nndl::Padding::same(), Activation::relu),
                  n);
        randomize(*g.layer(n), random);
        n = g.add(std::make_unique<nndl::BatchNorm<Scalar>>(g.shape(n)), n);
        const auto max = g.add(nndl::make_max_pool<Scalar>(g.shape(n), nndl::Window(2), nndl::Stride(2)), n);
        const auto avg = g.add(nndl::make_avg_pool<Scalar>(g.shape(n), nndl::Window(2), nndl::Stride(2)), n);
        n = g.template merge<nndl::Concatenate>({max, avg});
        n = g.add(std::make_unique<nndl::Upsample2D<Scalar>>(g.shape(n), 2, 2), n);
        n = g.add(std::make_unique<Scale<Scalar>>(g.shape(n), 0.5), n);
        randomize(*g.layer(n), random);
        n = g.add(std::make_unique<nndl::GlobalAvgPool<Scalar>>(g.shape(n)), n);
        n = g.add(std::make_unique<nndl::Dropout<Scalar>>(g.shape(n), 0.8, 3), n);
        const auto features = g.add(dense<Scalar>(g.shape(n), 4, Activation::identity, random), n);
        const auto gate = g.add(nndl::make_activation_layer<Scalar>(Shape(4), Activation::sigmoid), features);
        n = g.template merge<nndl::Multiply>({features, gate});
        g.add(dense<Scalar>(Shape(4), 3, Activation::softmax, random), n);
        nndl::Network<Scalar> network(in);
        network.add(std::make_unique<Graph<Scalar>>(std::move(g)));
        Matrix<Scalar> y = Matrix<Scalar>::Zero(3, 5);
        for (int j = 0; j < 5; ++j) {
            y(j % 3, j) = 1;
        }
        train_and_reload(network, random.randn<Scalar>(in.size(), 5), y, "images.npz");
    }
    SUBCASE("sequences: embedding, the three recurrent layers and a dense layer per step; concatenated and added") {
        const Shape in = Shape::sequence(4, 1);
        Graph<Scalar> g(in);
        const auto e = g.add(std::make_unique<nndl::Embedding<Scalar>>(in, 7, 3, 2), g.input());
        const auto rnn = g.add(std::make_unique<nndl::SimpleRNN<Scalar>>(g.shape(e), 2, true, 3), e);
        const auto lstm = g.add(std::make_unique<nndl::LSTM<Scalar>>(g.shape(e), 2, true, 4), e);
        const auto gru = g.add(std::make_unique<nndl::GRU<Scalar>>(g.shape(e), 2, true, 5), e);
        const auto both = g.template merge<nndl::Concatenate>({rnn, lstm});
        const auto wide =
            g.add(std::make_unique<nndl::SequenceDense<Scalar>>(g.shape(both), 2, Activation::tanh), both);
        randomize(*g.layer(wide), random);
        const auto sum = g.template merge<nndl::Add>({wide, gru});
        g.add(std::make_unique<nndl::SequenceDense<Scalar>>(g.shape(sum), 5, Activation::softmax), sum);
        nndl::Network<Scalar> network(in);
        network.add(std::make_unique<Graph<Scalar>>(std::move(g)));
        Matrix<Scalar> x(4, 3);
        Matrix<Scalar> y = Matrix<Scalar>::Zero(20, 3);
        for (int j = 0; j < 3; ++j) {
            for (int t = 0; t < 4; ++t) {
                x(t, j) = static_cast<Scalar>((j + 2 * t) % 7);
                y(t * 5 + (j + t) % 5, j) = 1;
            }
        }
        train_and_reload(network, x, y, "sequences.npz");
    }
}

TEST_CASE("two outputs with a loss each: the weighted cost, its gradient check, training and a model file") {
    nndl::NumpyRandom random(31);
    Graph<double> g(Shape(4));
    const auto h = g.add(dense<double>(4, 6, Activation::tanh, random), g.input(), "h");
    const auto classes = g.add(dense<double>(6, 3, Activation::softmax, random), h, "classes");
    const auto value = g.add(dense<double>(6, 1, Activation::identity, random), h, "value");
    g.set_outputs({classes, value});
    nndl::Network<double> net(Shape(4));
    net.add(std::make_unique<Graph<double>>(std::move(g)));
    auto losses = std::make_unique<nndl::OutputLosses<double>>();
    losses->add(3, std::make_unique<nndl::CategoricalCrossEntropy<double>>(), 1.0)
        .add(1, std::make_unique<nndl::MeanSquaredError<double>>(), 0.5);
    net.set_loss(std::move(losses));
    CHECK(net.loss().name() == "OutputLosses(3:CategoricalCrossEntropy*1,1:MeanSquaredError*0.5)");

    // Targets: a class from the sign pattern of x, and a value, sum(x).
    const Matrix<double> x = random.randn<double>(4, 64);
    Matrix<double> y = Matrix<double>::Zero(4, 64);
    for (nndl::Index j = 0; j < 64; ++j) {
        y((x(0, j) > 0) + (x(1, j) > 0), j) = 1;
        y(3, j) = x.col(j).sum();
    }
    const Matrix<double> out = net.forward(x, nndl::Mode::training);
    const Matrix<double> top = out.topRows(3), y_top = y.topRows(3), bottom = out.bottomRows(1),
                         y_bottom = y.bottomRows(1);
    CHECK(net.cost(y) == doctest::Approx(nndl::CategoricalCrossEntropy<double>().value(top, y_top) +
                                         0.5 * nndl::MeanSquaredError<double>().value(bottom, y_bottom))
                             .epsilon(1e-14));
    const auto check = nndl::check_network_gradients<double>(net, x.leftCols(8), y.leftCols(8));
    INFO(check.summary());
    CHECK(check.passed(1e-7));

    nndl::TrainOptions options;
    options.batch_size = 16;
    options.metric = nndl::TrainMetric::none;
    options.seed = 2;
    options.epochs = 30;
    nndl::Adam<double> adam(0.01);
    const double before = net.cost_of_output(net.predict_proba(x), y);
    nndl::train(net, x, y, adam, options);
    const double after = net.cost_of_output(net.predict_proba(x), y);
    CHECK(after < 0.5 * before);

    const auto path = nndl_test::scratch_dir("output_losses") / "two_outputs.npz";
    nndl::save_network(net, path);
    auto loaded = nndl::load_network<double>(path);
    CHECK(loaded.loss().name() == net.loss().name());
    CHECK(loaded.predict_proba(x) == net.predict_proba(x));
    CHECK(loaded.cost_of_output(loaded.predict_proba(x), y) == net.cost_of_output(net.predict_proba(x), y));
    CHECK(nndl_test::message_of<nndl::ShapeError>([&] {
              nndl::OutputLosses<double> short_losses;
              short_losses.add(3, std::make_unique<nndl::MeanSquaredError<double>>());
              (void)short_losses.value(out, y);
          }) == "OutputLosses::value: the parts cover 3 rows, the output has 4 (add a part per output)");
}
