// Upsample2D (nearest-neighbour upsampling): values worked by hand, the gradient check, a
// bit-exact save/load round trip, and the shapes it refuses.
#include "test_support.hpp"

#include <nndl/gradient_check.hpp>
#include <nndl/layers/upsample.hpp>
#include <nndl/nndl.hpp>

using nndl::Matrix;
using nndl::Shape;

TEST_CASE_TEMPLATE("Upsample2D repeats each pixel in a factor x factor block", Scalar, float, double) {
    // A 2x2 image of two channels: pixel (h, w) holds (10 h + w, -(10 h + w)).
    nndl::Upsample2D<Scalar> up(Shape::image(2, 2, 2), 2, 3);
    CHECK(up.output_shape() == Shape::image(4, 6, 2));
    Matrix<Scalar> x(8, 1);
    x << 0, -0, 1, -1, 10, -10, 11, -11;
    const Matrix<Scalar>& y = up.forward(x, nndl::Mode::training);
    const Shape out = up.output_shape();
    for (nndl::Index h = 0; h < 4; ++h) {
        for (nndl::Index w = 0; w < 6; ++w) {
            const Scalar v = static_cast<Scalar>(10 * (h / 2) + w / 3);
            CHECK(y(out.offset(h, w, 0), 0) == v);
            CHECK(y(out.offset(h, w, 1), 0) == -v);
        }
    }
    // Backward sums each block: a gradient of ones gives 6 per input value.
    const Matrix<Scalar>& dx = up.backward(Matrix<Scalar>::Ones(48, 1), true);
    CHECK(dx == Matrix<Scalar>::Constant(8, 1, 6));
    Matrix<Scalar> inferred;
    up.infer(x, inferred);
    CHECK(inferred == y);
}

TEST_CASE("Upsample2D passes the gradient check") {
    nndl::NumpyRandom random(4);
    nndl::Upsample2D<double> up(Shape::image(3, 2, 3), 3, 2);
    const auto result = nndl::check_layer_gradients<double>(up, random.randn<double>(18, 4));
    INFO(result.summary());
    CHECK(result.entries_checked == 72u);
    CHECK(result.passed(1e-7));
}

TEST_CASE_TEMPLATE("Upsample2D round-trips through a model file, bit for bit", Scalar, float, double) {
    nndl::NumpyRandom random(6);
    nndl::Network<Scalar> net(Shape::image(3, 3, 2));
    net.add(std::make_unique<nndl::Upsample2D<Scalar>>(net.output_shape(), 2, 1));
    net.add_dense(3, nndl::Activation::softmax, {nndl::Init::he}, random);
    const auto path = nndl_test::scratch_dir("upsample") / "up.npz";
    nndl::save_network(net, path);
    auto loaded = nndl::load_network<Scalar>(path);
    CHECK(loaded.layer(0).type() == "upsample2d");
    CHECK(loaded.layer(0).settings() == net.layer(0).settings());
    const Matrix<Scalar> x = random.randn<Scalar>(18, 5);
    CHECK(loaded.predict_proba(x) == net.predict_proba(x));
}

TEST_CASE("Upsample2D refuses factors below 1 and outputs beyond the bound") {
    const auto message = [](auto&& f) { return nndl_test::message_of<nndl::InvalidArgument>(f); };
    CHECK(message([] { nndl::Upsample2D<double>(Shape::image(2, 2, 1), 0, 2); }) ==
          "Upsample2D::Upsample2D: factors 0 x 2 over 2x2x1 (height x width x channels), expected at least 1 each and "
          "at most 1099511627776 output values");
    CHECK(message([] { nndl::Upsample2D<double>(Shape::image(2, 2, 1), Shape::max_values, 2); }).find("factors") !=
          std::string::npos);
    CHECK(message([] { nndl::Upsample2D<double>(Shape::sequence(3, 2), 2, 2); }) ==
          "Upsample2D::Upsample2D: input is 3 steps x 2 features, expected an image");
}
