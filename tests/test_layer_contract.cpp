// The layer contract (layer.hpp): shapes and their errors, the checks every layer
// gets from the base class, state, the weight-decay flag, self-description, and that
// nothing in the library leaves a layer holding a batch that is gone.
#include "scale_layer.hpp"
#include "test_support.hpp"

#include <nndl/all.hpp>

using nndl::Activation;
using nndl::Matrix;
using nndl::Shape;
using nndl_test::message_of;

TEST_CASE("Shape: sizes, the memory order of an image column, and how it prints") {
    const Shape flat(12);
    CHECK(flat.size() == 12);
    CHECK(flat.is_flat());
    CHECK(flat.to_string() == "12");
    const Shape image = Shape::image(4, 5, 3);  // height 4, width 5, 3 channels
    CHECK(image.channels == 3);
    CHECK(image.height == 4);
    CHECK(image.width == 5);
    CHECK(image.size() == 60);
    CHECK_FALSE(image.is_flat());
    CHECK(image.to_string() == "4x5x3 (height x width x channels)");
    // Channels fastest, then width, then height: NumPy's (H, W, C) read row-major.
    CHECK(image.offset(0, 0, 1) == 1);
    CHECK(image.offset(0, 1, 0) == 3);
    CHECK(image.offset(1, 0, 0) == 15);
    CHECK(image.offset(3, 4, 2) == 59);
    CHECK(image != Shape(60));
    CHECK(Shape(3, 4, 5) == Shape::image(4, 5, 3));
}

TEST_CASE("Network: shapes are checked as layers are added, and errors name both shapes") {
    nndl::Network<double> net(Shape::image(2, 2, 3));
    net.add_activation(Activation::relu);  // keeps the image shape
    CHECK(net.output_shape() == Shape::image(2, 2, 3));
    // A flat layer may follow an image layer of the same size: the column is already flat.
    net.add(nndl::make_dense<double>(12, 4, Activation::tanh));
    CHECK(net.output_shape() == Shape(4));
    CHECK(message_of<nndl::ShapeError>([&] { net.add(nndl::make_dense<double>(5, 2, Activation::sigmoid)); }) ==
          "Network::add: layer 3 ('dense') takes input 5, but the network outputs 4");
    nndl::Network<double> images(Shape::image(2, 2, 3));
    CHECK(message_of<nndl::ShapeError>([&] {
              images.add(nndl::make_activation_layer<double>(Shape::image(3, 2, 2), Activation::relu));
          }) == "Network::add: layer 1 ('activation') takes input 3x2x2 (height x width x channels), but the "
                "network outputs 2x2x3 (height x width x channels)");
    CHECK(net.depth() == 2);  // the refused layer was not added
    CHECK(message_of<nndl::InvalidArgument>([] { nndl::Network<double> bad(Shape(0)); }).find("expected at least 1") !=
          std::string::npos);
}

TEST_CASE("Layer: the base class checks every call the same way, for any layer") {
    nndl::Dense<double, nndl::ReLU> dense(4, 2);
    const Matrix<double> wrong = Matrix<double>::Zero(3, 2);
    CHECK(message_of<nndl::ShapeError>([&] { dense.forward(wrong, nndl::Mode::training); }) ==
          "Layer::forward ('dense'): input has 3 rows, the layer expects 4 (input shape 4)");
    Matrix<double> out;
    CHECK(message_of<nndl::ShapeError>([&] { dense.infer(wrong, out); }) ==
          "Layer::infer ('dense'): input has 3 rows, the layer expects 4 (input shape 4)");
    CHECK(message_of<nndl::InvalidArgument>([&] { dense.backward(Matrix<double>::Zero(2, 2), true); }) ==
          "Layer::backward ('dense'): called before forward; expected forward on a batch first");
    const Matrix<double> x = Matrix<double>::Ones(4, 2);
    dense.forward(x, nndl::Mode::training);
    CHECK(dense.has_batch());
    CHECK(message_of<nndl::ShapeError>([&] { dense.backward(Matrix<double>::Zero(2, 3), true); }) ==
          "Layer::backward ('dense'): output gradient has 3 columns, the last forward's batch has 2");
    dense.release_batch();
    CHECK_FALSE(dense.has_batch());
    Scale<double> scale(Shape(3), 0.5);
    CHECK(message_of<nndl::ShapeError>([&] { scale.forward(x, nndl::Mode::training); }) ==
          "Layer::forward ('scale'): input has 4 rows, the layer expects 3 (input shape 3)");
    CHECK(message_of<nndl::ShapeError>([&] {
              nndl::Dropout<double> d(Shape::image(2, 2, 1), 0.5);
              d.forward(x, nndl::Mode::training);
              const Matrix<double> five = Matrix<double>::Ones(5, 1);
              d.forward(five, nndl::Mode::training);
          }) == "Layer::forward ('dropout'): input has 5 rows, the layer expects 4 (input shape 2x2x1 (height x "
                "width x channels))");
}

namespace {
/// A user's layer that breaks the contract: its output has one row too few (and so has
/// its input gradient), as a slip in one's own do_forward would make it.
class ShortLayer final : public nndl::Layer<double> {
public:
    std::string type() const override { return "short"; }
    Shape input_shape() const override { return Shape(3); }
    Shape output_shape() const override { return Shape(3); }
    nndl::Settings settings() const override { return {}; }
    std::vector<nndl::Parameter<double>> parameters() override { return {}; }
    std::vector<nndl::StateBuffer<double>> state() override { return {}; }
    std::unique_ptr<nndl::Layer<double>> clone() const override { return std::make_unique<ShortLayer>(*this); }

protected:
    const Matrix<double>& do_forward(const Matrix<double>& input, nndl::Mode) override {
        output_ = input.topRows(2);
        return output_;
    }
    const Matrix<double>& do_backward(const Matrix<double>& dy, bool) override {
        gradient_ = dy.topRows(2);
        return gradient_;
    }
    void do_infer(const Matrix<double>& input, Matrix<double>& output) const override { output = input.topRows(2); }

private:
    Matrix<double> output_;
    Matrix<double> gradient_;
};
}  // namespace

TEST_CASE("Layer: a layer whose own code returns the wrong shape is named, not met as wrong numbers later") {
    ShortLayer layer;
    const Matrix<double> x = Matrix<double>::Ones(3, 4);
    CHECK(message_of<nndl::ShapeError>([&] { layer.forward(x, nndl::Mode::training); }) ==
          "Layer::forward ('short'): the layer returned 2 x 4, expected 3 x 4 (output_size() x the input's columns)");
    Matrix<double> out;
    CHECK(message_of<nndl::ShapeError>([&] { layer.infer(x, out); }) ==
          "Layer::infer ('short'): the layer returned 2 x 4, expected 3 x 4 (output_size() x the input's columns)");
    // The gradient checker reports the shape error instead of a relative error.
    CHECK(message_of<nndl::ShapeError>([&] { nndl::check_layer_gradients(layer, x); })
              .find("Layer::forward ('short'): the layer returned 2 x 4") != std::string::npos);
    CHECK_FALSE(layer.has_batch());  // the failed check let go of its batch
}

TEST_CASE("Layer: self-description of nndl's layers") {
    const auto dense = nndl::make_dense<float>(3, 2, Activation::leaky_relu);
    CHECK(dense->type() == "dense");
    CHECK(dense->settings() == nndl::Settings().set("units", 2LL).set("activation", std::string("leaky_relu")));
    CHECK(nndl::output_activation(*dense) == Activation::leaky_relu);
    nndl::Dropout<float> dropout(7, 0.8, 42);
    CHECK(dropout.type() == "dropout");
    CHECK(dropout.settings().real("keep_prob") == 0.8);
    CHECK(dropout.settings().integer("seed") == 42);
    CHECK(nndl::output_activation(dropout) == Activation::identity);
    const auto act = nndl::make_activation_layer<float>(Shape(7), Activation::softmax);
    CHECK(act->type() == "activation");
    CHECK(act->settings().text("activation") == "softmax");
    // Parameters carry their own weight-decay flag.
    auto params = dense->parameters();
    REQUIRE(params.size() == 2);
    CHECK(params[0].name == "W");
    CHECK(params[0].decay);
    CHECK(params[1].name == "b");
    CHECK_FALSE(params[1].decay);
    CHECK(message_of<nndl::InvalidArgument>([&] { (void)dropout.settings().text("keep_prob"); }) ==
          "Settings: setting 'keep_prob' is not a word");
    CHECK(message_of<nndl::InvalidArgument>([&] { (void)dropout.settings().integer("rate"); }) ==
          "Settings: no setting 'rate'");
}

TEST_CASE_TEMPLATE("Layer: a user's layer passes the gradient check and its state moves only in training", Scalar,
                   float, double) {
    Scale<Scalar> layer(Shape(3), 0.5);
    layer.factors() = nndl::NumpyRandom(4).randn<Scalar>(3, 1);
    const Matrix<Scalar> x = nndl::NumpyRandom(5).randn<Scalar>(3, 4);
    const auto result = nndl::check_layer_gradients(layer, x);
    INFO(result.summary());
    CHECK(result.passed(nndl_test::gradient_tolerance<Scalar>()));
    CHECK_FALSE(layer.has_batch());  // the checker's copy of x is gone; the layer let go of it

    auto state = layer.state();
    REQUIRE(state.size() == 2);
    const Scalar seen = (*state[0].value)(0, 0);
    CHECK(seen == 0);  // the checker's training passes moved it, and the checker put it back
    layer.forward(x, nndl::Mode::evaluation);
    Matrix<Scalar> out;
    layer.infer(x, out);
    CHECK((*state[0].value)(0, 0) == seen);
    layer.forward(x, nndl::Mode::training);
    CHECK((*state[0].value)(0, 0) == seen + 1);
}

TEST_CASE("Network: L2 follows the decay flag, not the parameter's name") {
    nndl::NumpyRandom random(2);
    const Matrix<double> x = random.randn(3, 6);
    const Matrix<double> y = random.randn(3, 6);
    nndl::Network<double> net(Shape(3));
    net.add(std::make_unique<Scale<double>>(Shape(3), 0.9));  // its "s" has decay = false
    net.layer(0).parameters()[0].value->setConstant(2.0);
    net.forward(x);
    const double plain = net.cost(y);
    net.set_l2(0.7);
    CHECK(net.cost(y) == plain);  // nothing to decay
    net.add_dense(2, Activation::identity, {nndl::Init::he}, random);
    const Matrix<double> y2 = random.randn(2, 6);
    net.set_l2(0.0);
    net.forward(x);
    const double without = net.cost(y2);
    net.set_l2(0.7);
    const Matrix<double>& w = *net.layer(1).parameters()[0].value;
    CHECK(net.cost(y2) == doctest::Approx(without + 0.7 / (2.0 * 6.0) * w.squaredNorm()).epsilon(1e-14));
    net.release_batch();
}

TEST_CASE("Network: parameters and state in layer order; copies are deep") {
    nndl::Network<double> net(Shape(3));
    net.add(std::make_unique<Scale<double>>(Shape(3), 0.5));
    nndl::NumpyRandom random(1);
    net.add_dense(2, Activation::sigmoid, {nndl::Init::he}, random);
    CHECK(net.parameters().size() == 3);
    REQUIRE(net.state().size() == 2);
    CHECK(net.state()[1].name == "mean");
    nndl::Network<double> copy = net;
    net.state()[1].value->setConstant(9.0);
    CHECK(copy.state()[1].value->isZero());
    CHECK(copy.layer(0).type() == "scale");
}

TEST_CASE("Network: training, evaluation and checks leave no layer pointing at a dead batch") {
    nndl::NumpyRandom random(3);
    nndl::Network<double> net({4, 3, 1}, {Activation::relu, Activation::sigmoid}, {nndl::Init::he}, 1);
    nndl::GradientDescent<double> gd(0.1);
    const auto no_batch = [&] {
        for (std::size_t l = 0; l < net.depth(); ++l) {
            if (net.layer(l).has_batch()) {
                return false;
            }
        }
        return true;
    };
    {
        const Matrix<double> x = random.randn(4, 8);
        const Matrix<double> y = Matrix<double>::Ones(1, 8);
        net.fit(x, y, gd, 3);
        CHECK(no_batch());
        nndl::TrainOptions options;
        options.epochs = 2;
        options.batch_size = 3;
        nndl::train(net, x, y, gd, options);
        CHECK(no_batch());
        const auto [loss, accuracy] = nndl::evaluate(net, x, y, 3);  // const: it cannot touch the layers
        CHECK(std::isfinite(loss));
        CHECK(accuracy >= 0.0);
        nndl::check_network_gradients(net, x, y);
        CHECK(no_batch());
    }
    // With the batch gone, backward asks for a forward instead of reading freed memory.
    CHECK(message_of<nndl::InvalidArgument>([&] { net.backward(Matrix<double>::Ones(1, 8)); }) ==
          "Network: no forward pass yet; expected forward(X) before cost/backward");
}

TEST_CASE("errors: one base catches everything nndl throws; the standard kinds still work") {
    const auto caught_as_error = [](auto&& f) {
        try {
            f();
        } catch (const nndl::Error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    nndl::Network<double> net({2, 1}, {Activation::sigmoid}, {nndl::Init::zeros}, 0);
    const Matrix<double> wrong = Matrix<double>::Zero(3, 1);
    CHECK(caught_as_error([&] { net.predict_proba(wrong); }).find("Network::predict_proba") == 0);
    CHECK(caught_as_error([] { nndl::load_network<double>("no/such/model.npz"); }).find("cannot open") !=
          std::string::npos);
    CHECK(caught_as_error([] { throw nndl::DivergenceError("diverged"); }) == "diverged");
    CHECK(nndl_test::message_of<std::invalid_argument>([&] { net.predict_proba(wrong); }).find("Network::") == 0);
    CHECK(nndl_test::message_of<std::runtime_error>([] { nndl::load_network<double>("no/such/model.npz"); }) != "");
    CHECK(nndl_test::message_of<std::exception>([] { throw nndl::ShapeError("shape"); }) == "shape");
}

TEST_CASE("contract edges: a failed gradient check lets go of its batch; bad indices and sizes are nndl errors") {
    nndl::Network<double> net({2, 3, 1}, {Activation::relu, Activation::sigmoid}, {nndl::Init::he}, 1);
    const Matrix<double> x = nndl::NumpyRandom(1).randn(2, 4);
    const Matrix<double> wrong_y = Matrix<double>::Ones(1, 5);
    CHECK_THROWS_AS(nndl::check_network_gradients(net, x, wrong_y), nndl::ShapeError);
    CHECK_FALSE(net.layer(0).has_batch());
    CHECK(message_of<nndl::InvalidArgument>([&] { net.layer(5); }) ==
          "Network::layer: index 5 but the network has 2 layers");
    CHECK(message_of<nndl::InvalidArgument>([] { nndl::Network<double> huge(Shape(1LL << 40, 1LL << 40, 1)); })
              .find("at most 1099511627776 values") != std::string::npos);
    nndl::Settings s;
    s.set("count", std::size_t(3)).set("name", "relu");
    CHECK(s.integer("count") == 3);
    CHECK(s.text("name") == "relu");
}
