// RandomShiftFlip (augmentation as a layer): moves worked by hand, the draws' range, the
// backward as the forward's adjoint, the identity in evaluation and infer(), predictions
// that skip it, a bit-exact save/load round trip, and the settings it refuses.
#include "test_support.hpp"

#include <nndl/cnn.hpp>
#include <nndl/graph.hpp>

#include <set>

using nndl::Index;
using nndl::Matrix;
using nndl::Shape;

namespace shift_flip_test {

/// The moved image computed the plain way: output (h, w) from input (h - down, w - right)
/// of the image mirrored first where asked; 0 where that lies outside.
template <class Scalar>
Matrix<Scalar> moved(const Matrix<Scalar>& x, const Shape& s, Index down, Index right, bool mirrored) {
    Matrix<Scalar> y = Matrix<Scalar>::Zero(x.rows(), 1);
    for (Index h = 0; h < s.height; ++h) {
        for (Index w = 0; w < s.width; ++w) {
            const Index sh = h - down;
            Index sw = w - right;
            if (sh < 0 || sh >= s.height || sw < 0 || sw >= s.width) {
                continue;
            }
            if (mirrored) {
                sw = s.width - 1 - sw;
            }
            for (Index c = 0; c < s.channels; ++c) {
                y(s.offset(h, w, c), 0) = x(s.offset(sh, sw, c), 0);
            }
        }
    }
    return y;
}

}  // namespace shift_flip_test

TEST_CASE_TEMPLATE("RandomShiftFlip moves and mirrors each training image, worked by hand", Scalar, float, double) {
    // A 3x3 image of one channel holding 1..9 row by row.
    const Shape s = Shape::image(3, 3, 1);
    Matrix<Scalar> x(9, 1);
    x << 1, 2, 3, 4, 5, 6, 7, 8, 9;
    // By hand: one row down and one column left, after mirroring: rows (0 0 0), (2 1 0), (5 4 0).
    Matrix<Scalar> expected(9, 1);
    expected << 0, 0, 0, 2, 1, 0, 5, 4, 0;
    CHECK(shift_flip_test::moved(x, s, 1, -1, true) == expected);

    nndl::RandomShiftFlip<Scalar> layer(s, 1, true, 7);
    const Matrix<Scalar> batch = x.replicate(1, 200);
    const Matrix<Scalar>& y = layer.forward(batch, nndl::Mode::training);
    REQUIRE(layer.moves().size() == 200u);
    std::set<Index> downs, rights;
    int mirrored = 0;
    for (Index j = 0; j < 200; ++j) {
        const auto& m = layer.moves()[static_cast<std::size_t>(j)];
        CHECK(y.col(j) == shift_flip_test::moved(x, s, m.down, m.right, m.mirrored));
        downs.insert(m.down);
        rights.insert(m.right);
        mirrored += m.mirrored ? 1 : 0;
    }
    // Every shift from -1 to 1 is drawn in both directions, and about half are mirrored.
    CHECK(downs == std::set<Index>{-1, 0, 1});
    CHECK(rights == std::set<Index>{-1, 0, 1});
    CHECK(mirrored > 70);
    CHECK(mirrored < 130);
    // Evaluation and infer() give the input back.
    CHECK(layer.forward(batch, nndl::Mode::evaluation) == batch);
    Matrix<Scalar> inferred;
    layer.infer(batch, inferred);
    CHECK(inferred == batch);
    CHECK(layer.passes_through_at_inference());
}

TEST_CASE("RandomShiftFlip's backward is its forward's adjoint") {
    // The layer is linear for fixed moves: <forward(x), g> = <x, backward(g)> for any x and g,
    // and each gradient value lands where its output value came from.
    nndl::NumpyRandom random(3);
    const Shape s = Shape::image(5, 4, 3);
    nndl::RandomShiftFlip<double> layer(s, 2, true, 11);
    const Matrix<double> x = random.randn<double>(s.size(), 16);
    const Matrix<double> g = random.randn<double>(s.size(), 16);
    const Matrix<double> y = layer.forward(x, nndl::Mode::training);
    const Matrix<double> dx = layer.backward(g, true);
    CHECK(std::abs((y.array() * g.array()).sum() - (x.array() * dx.array()).sum()) < 1e-12);
    for (Index j = 0; j < 16; ++j) {
        const auto& m = layer.moves()[static_cast<std::size_t>(j)];
        // The adjoint of a moved one-hot image: the gradient of output value r reaches the input value it came from.
        for (Index r = 0; r < s.size(); r += 7) {
            Matrix<double> one_hot = Matrix<double>::Zero(s.size(), 1);
            one_hot(r, 0) = 1.0;
            const Matrix<double> image = shift_flip_test::moved(one_hot, s, m.down, m.right, m.mirrored);
            CHECK((image.array() * g.col(j).array()).sum() == dx(r, j));
        }
    }
    // No input gradient asked: none computed.
    layer.forward(x, nndl::Mode::training);
    CHECK(layer.backward(g, false).size() == 0);
}

TEST_CASE_TEMPLATE("RandomShiftFlip round-trips through a model file, bit for bit", Scalar, float, double) {
    nndl::NumpyRandom random(6);
    nndl::Network<Scalar> net(Shape::image(6, 5, 2));
    net.add(std::make_unique<nndl::RandomShiftFlip<Scalar>>(net.output_shape(), 2, false, 42));
    net.add_dense(3, nndl::Activation::softmax, {nndl::Init::he}, random);
    const auto path = nndl_test::scratch_dir("random_shift_flip") / "augmented.npz";
    nndl::save_network(net, path);
    auto loaded = nndl::load_network<Scalar>(path);
    CHECK(loaded.layer(0).type() == "random_shift_flip");
    CHECK(loaded.layer(0).settings() == net.layer(0).settings());
    const Matrix<Scalar> x = random.randn<Scalar>(60, 5);
    CHECK(loaded.predict_proba(x) == net.predict_proba(x));
    // The same seed draws the same moves in training.
    CHECK(loaded.forward(x, nndl::Mode::training) == net.forward(x, nndl::Mode::training));
}

TEST_CASE("Predictions skip layers that pass through at inference, first, last or alone") {
    nndl::NumpyRandom random(8);
    const Shape image = Shape::image(4, 4, 2);
    nndl::Network<double> plain(image);
    plain.add_dense(3, nndl::Activation::softmax, {nndl::Init::he}, random);
    nndl::Network<double> augmented(image);
    augmented.add(std::make_unique<nndl::RandomShiftFlip<double>>(image, 1, true, 2));
    augmented.add(plain.layer(0).clone());
    augmented.add_dropout(0.5, 3);
    const Matrix<double> x = random.randn<double>(32, 6);
    CHECK(augmented.predict_proba(x) == plain.predict_proba(x));
    nndl::Network<double> alone(image);
    alone.add(std::make_unique<nndl::RandomShiftFlip<double>>(image, 2, false, 2));
    CHECK(alone.predict_proba(x) == x);
    // A clone draws the same moves; a backward after an evaluation pass gives the gradient back.
    nndl::RandomShiftFlip<double> layer(image, 1, true, 4);
    auto copy = layer.clone();
    CHECK(layer.forward(x, nndl::Mode::training) == copy->forward(x, nndl::Mode::training));
    layer.forward(x, nndl::Mode::evaluation);
    const Matrix<double> g = random.randn<double>(32, 6);
    CHECK(layer.backward(g, true) == g);
}

TEST_CASE("A layer that says it passes through at inference must keep the number of values") {
    // A layer claiming to pass through while changing the shape would be skipped with the wrong size.
    struct Liar final : nndl::Layer<double> {
        std::string type() const override { return "liar"; }
        Shape input_shape() const override { return Shape(4); }
        Shape output_shape() const override { return Shape(2); }
        bool passes_through_at_inference() const override { return true; }
        std::unique_ptr<nndl::Layer<double>> clone() const override { return std::make_unique<Liar>(*this); }

    protected:
        const Matrix<double>& do_forward(const Matrix<double>& input, nndl::Mode) override {
            out_ = input.topRows(2);
            return out_;
        }
        const Matrix<double>& do_backward(const Matrix<double>& g, bool) override { return g; }
        void do_infer(const Matrix<double>& input, Matrix<double>& output) const override { output = input.topRows(2); }
        Matrix<double> out_;
    };
    nndl::Network<double> net(Shape(4));
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { net.add(std::make_unique<Liar>()); }) ==
          "Network::add: the 'liar' layer passes its input through at inference but takes 4 and outputs 2, expected "
          "the same number of values");
    CHECK(net.depth() == 0);
    nndl::Graph<double> g(Shape(4));
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { g.add(std::make_unique<Liar>(), g.input(), "fib"); }) ==
          "Graph::add: node 'fib' ('liar') passes its input through at inference but takes 4 and outputs 2, expected "
          "the same number of values");
    CHECK(g.size() == 1);
}

TEST_CASE("RandomShiftFlip refuses settings that do nothing or reach past the image") {
    const auto message = [](auto&& f) { return nndl_test::message_of<nndl::InvalidArgument>(f); };
    CHECK(message([] { nndl::RandomShiftFlip<double>(Shape::image(4, 6, 1), 4, true); }) ==
          "RandomShiftFlip::RandomShiftFlip: max_shift is 4, expected 0 to 3 for images of 4x6x1 (height x width x "
          "channels)");
    CHECK(message([] { nndl::RandomShiftFlip<double>(Shape::image(4, 6, 1), -1, true); }).find("max_shift is -1") !=
          std::string::npos);
    CHECK(message([] { nndl::RandomShiftFlip<double>(Shape::image(4, 6, 1), 0, false); }) ==
          "RandomShiftFlip::RandomShiftFlip: max_shift 0 without flip changes nothing");
    CHECK(message([] { nndl::RandomShiftFlip<double>(Shape(12), 1, true); }) ==
          "RandomShiftFlip::RandomShiftFlip: input shape is 12, expected an image (height x width x channels, each "
          "at least 1)");
    // A model file's settings are checked before the layer is made.
    const auto from = [](long long shift, long long flip, long long seed) {
        return nndl::detail::random_shift_flip_from_settings<double>(
            Shape::image(4, 6, 1), nndl::Settings().set("max_shift", shift).set("flip", flip).set("seed", seed));
    };
    CHECK(message([&] { from(1, 2, 0); }) == "RandomShiftFlip: flip is 2, expected 0 or 1");
    CHECK(message([&] { from(1, 1, -5); }) == "RandomShiftFlip: seed is -5, expected 0 to 4294967295");
    CHECK(message([&] { from(1LL << 40, 1, 0); }).find("max_shift is 1099511627776") != std::string::npos);
    CHECK(message([&] {
              nndl::detail::random_shift_flip_from_settings<double>(
                  Shape(784), nndl::Settings().set("max_shift", 2LL).set("flip", 1LL).set("seed", 1LL));
          }) == "RandomShiftFlip: its input is 784, expected an image");
    const nndl::Settings made = from(3, 0, 9)->settings();
    CHECK(made.integer("max_shift") == 3);
    CHECK(made.integer("flip") == 0);
    CHECK(made.integer("seed") == 9);
}
