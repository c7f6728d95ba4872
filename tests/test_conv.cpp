// Convolution, pooling and batch normalization: values computed by PyTorch
// (tools/conv_reference.py writes tests/fixtures/conv_reference.npz), gradient checks,
// bit-exact save/load round trips, shape errors, and a whole CNN's gradient check.
#include "test_support.hpp"

#include <nndl/all.hpp>

#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <unistd.h>

namespace fs = std::filesystem;
using nndl::Activation;
using nndl::Matrix;
using nndl::Padding;
using nndl::Shape;
using nndl::Stride;
using nndl::Window;

namespace {

const std::map<std::string, nndl::NpyArray>& reference() {
    static const auto arrays = nndl::read_npz("tests/fixtures/conv_reference.npz");
    return arrays;
}

template <class Scalar>
Matrix<Scalar> ref(const std::string& name) {
    return nndl::npy_to_matrix<Scalar>(reference().at(name), name);
}

/// PyTorch's float64 values, to the accuracy of Scalar.
template <class Scalar>
constexpr double tolerance() {
    return std::is_same_v<Scalar, float> ? 2e-5 : 1e-12;
}

/// Forward and backward of `layer` on the case's x and dy against PyTorch's y and dx.
template <class Scalar>
void check_against_reference(nndl::Layer<Scalar>& layer, const std::string& name) {
    const Matrix<Scalar> x = ref<Scalar>(name + ".x");
    const Matrix<Scalar> y = layer.forward(x, nndl::Mode::training);
    NNDL_CHECK_CLOSE(y, ref<double>(name + ".y"), tolerance<Scalar>());
    Matrix<Scalar> inferred;
    layer.infer(x, inferred);
    if (layer.type() != "batch_norm") {  // batch norm infers with its running statistics
        // Inference may sum in another order (Conv2D's kernel for few filters): equal to rounding.
        NNDL_CHECK_CLOSE(inferred, y, tolerance<Scalar>());
    }
    const Matrix<Scalar> dx = layer.backward(ref<Scalar>(name + ".dy"), true);
    NNDL_CHECK_CLOSE(dx, ref<double>(name + ".dx"), 10 * tolerance<Scalar>());
    layer.release_batch();
}

/// The network's parameters, state and predictions survive a save and a load bit for bit.
template <class Scalar>
void check_round_trip(nndl::Network<Scalar>& net, const Matrix<Scalar>& x) {
    const fs::path path = fs::temp_directory_path() / ("nndl_test_conv_" + std::to_string(::getpid()) + ".npz");
    nndl::save_network(net, path);
    auto loaded = nndl::load_network<Scalar>(path);
    fs::remove(path);
    REQUIRE(loaded.depth() == net.depth());
    for (std::size_t l = 0; l < net.depth(); ++l) {
        CHECK(loaded.layer(l).type() == net.layer(l).type());
        CHECK(loaded.layer(l).settings() == net.layer(l).settings());
        CHECK(loaded.layer(l).output_shape() == net.layer(l).output_shape());
    }
    const auto a = net.parameters();
    const auto b = loaded.parameters();
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        CHECK(*a[i].value == *b[i].value);
    }
    const auto sa = net.state();
    const auto sb = loaded.state();
    REQUIRE(sa.size() == sb.size());
    for (std::size_t i = 0; i < sa.size(); ++i) {
        CHECK(*sa[i].value == *sb[i].value);
    }
    CHECK(loaded.predict_proba(x) == net.predict_proba(x));
}

}  // namespace

TEST_CASE("window geometry: output sizes, same padding, and errors") {
    using G = nndl::WindowGeometry;
    const auto valid = G::resolve("test", Shape::image(5, 6, 3), Window(3), Stride(1), Padding::valid());
    CHECK(valid.out_height == 3);
    CHECK(valid.out_width == 4);
    const auto same = G::resolve("test", Shape::image(7, 7, 2), Window(3), Stride(2), Padding::same());
    CHECK(same.out_height == 4);
    CHECK((same.top == 1 && same.bottom == 1 && same.left == 1 && same.right == 1));
    const auto even = G::resolve("test", Shape::image(5, 5, 1), Window(4), Stride(1), Padding::same());
    CHECK(even.out_height == 5);
    CHECK((even.top == 1 && even.bottom == 2));
    const auto course = G::resolve("test", Shape::image(5, 7, 4), Window(3), Stride(2), Padding::uniform(1));
    CHECK(course.out_height == 3);  // the course's conv_forward: Z is (2, 3, 4, 8)
    CHECK(course.out_width == 4);
    CHECK(nndl_test::message_of<nndl::ShapeError>([] {
              G::resolve("Conv2D::Conv2D", Shape::image(2, 2, 1), Window(3), Stride(1), Padding::valid());
          }) == "Conv2D::Conv2D: the 3x3 window does not fit in input 2x2x1 (height x width x channels) padded to 2x2");
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] {
              G::resolve("Conv2D::Conv2D", Shape::image(4, 4, 1), Window(3), Stride(0), Padding::valid());
          }) == "Conv2D::Conv2D: stride is 0x0, expected at least 1x1");
}

TEST_CASE_TEMPLATE("Conv2D: PyTorch's values for strides 1 and 2, valid, same and uneven padding", Scalar, float,
                   double) {
    struct Case {
        const char* name;
        Shape input;
        nndl::Index filters;
        Window kernel;
        Stride stride;
        Padding padding;
    };
    const Case cases[] = {
        {"conv_valid", Shape::image(5, 6, 3), 4, Window(3), Stride(1), Padding::valid()},
        {"conv_stride2_same", Shape::image(7, 7, 2), 3, Window(3), Stride(2), Padding::same()},
        {"conv_rect", Shape::image(6, 5, 1), 2, Window(2, 3), Stride(2, 1), Padding::amounts(1, 0, 2, 1)},
        {"conv_same_even", Shape::image(5, 5, 3), 5, Window(4), Stride(1), Padding::same()},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        nndl::Conv2D<Scalar> conv(c.input, c.filters, c.kernel, c.stride, c.padding);
        conv.weights() = ref<Scalar>(std::string(c.name) + ".W");
        conv.bias() = ref<Scalar>(std::string(c.name) + ".b");
        check_against_reference(conv, c.name);
        auto params = conv.parameters();
        NNDL_CHECK_CLOSE(*params[0].gradient, ref<double>(std::string(c.name) + ".dW"), 10 * tolerance<Scalar>());
        NNDL_CHECK_CLOSE(*params[1].gradient, ref<double>(std::string(c.name) + ".db"), 10 * tolerance<Scalar>());
    }
}

TEST_CASE_TEMPLATE("pooling: PyTorch's max and average pooling, with and without padding", Scalar, float, double) {
    auto max2 = nndl::make_max_pool<Scalar>(Shape::image(6, 6, 3), Window(2), Stride(2));
    check_against_reference(*max2, "max_2x2");
    auto max3 = nndl::make_max_pool<Scalar>(Shape::image(5, 7, 2), Window(3), Stride(2), Padding::uniform(1));
    check_against_reference(*max3, "max_3x3_pad");
    auto avg2 = nndl::make_avg_pool<Scalar>(Shape::image(6, 6, 3), Window(2), Stride(2));
    check_against_reference(*avg2, "avg_2x2");
    auto avg3 = nndl::make_avg_pool<Scalar>(Shape::image(5, 7, 2), Window(3), Stride(1), Padding::uniform(1));
    check_against_reference(*avg3, "avg_3x3_pad");
    nndl::GlobalAvgPool<Scalar> global(Shape::image(3, 5, 4));
    CHECK(global.output_shape() == Shape(4));
    check_against_reference(global, "global");
}

TEST_CASE_TEMPLATE("BatchNorm: PyTorch's training step, running statistics and evaluation", Scalar, float, double) {
    struct Case {
        const char* name;
        Shape shape;
    };
    for (const Case& c : {Case{"bn_image", Shape::image(4, 5, 3)}, Case{"bn_flat", Shape(4)}}) {
        INFO(c.name);
        const std::string n = c.name;
        nndl::BatchNorm<Scalar> bn(c.shape, 0.1, 1e-5);
        bn.gamma() = ref<Scalar>(n + ".gamma");
        bn.beta() = ref<Scalar>(n + ".beta");
        auto state = bn.state();
        *state[0].value = ref<Scalar>(n + ".running_mean0");
        *state[1].value = ref<Scalar>(n + ".running_var0");
        // Evaluation uses the running statistics ...
        const Matrix<Scalar> x = ref<Scalar>(n + ".x");
        Matrix<Scalar> y_eval;
        bn.infer(x, y_eval);
        NNDL_CHECK_CLOSE(y_eval, ref<double>(n + ".y_eval"), tolerance<Scalar>());
        NNDL_CHECK_CLOSE(bn.forward(x, nndl::Mode::evaluation), ref<double>(n + ".y_eval"), tolerance<Scalar>());
        CHECK(*state[0].value == ref<Scalar>(n + ".running_mean0"));  // and leaves them alone
        // ... training the batch's, and it moves the running statistics.
        check_against_reference(bn, n);
        NNDL_CHECK_CLOSE(*state[0].value, ref<double>(n + ".running_mean"), tolerance<Scalar>());
        NNDL_CHECK_CLOSE(*state[1].value, ref<double>(n + ".running_var"), tolerance<Scalar>());
        auto params = bn.parameters();
        NNDL_CHECK_CLOSE(*params[0].gradient, ref<double>(n + ".dgamma"), 10 * tolerance<Scalar>());
        NNDL_CHECK_CLOSE(*params[1].gradient, ref<double>(n + ".dbeta"), 10 * tolerance<Scalar>());
    }
}

TEST_CASE_TEMPLATE("convolution layers pass the gradient check (parameters and input)", Scalar, float, double) {
    nndl::NumpyRandom random(7);
    const double tol = nndl_test::gradient_tolerance<Scalar>();
    const auto check = [&](nndl::Layer<Scalar>& layer, nndl::Index m) {
        const Matrix<Scalar> x = random.randn<Scalar>(layer.input_size(), m);
        const auto result = nndl::check_layer_gradients(layer, x);
        INFO(layer.type(), ": ", result.summary());
        CHECK(result.passed(tol));
    };
    for (Activation a : {Activation::identity, Activation::relu, Activation::tanh}) {
        nndl::Conv2D<Scalar> conv(Shape::image(5, 4, 2), 3, Window(3, 2), Stride(2, 1), Padding::same(), a);
        conv.weights() = nndl::initial_weights<Scalar>(3, conv.fan_in(), {nndl::Init::he}, random);
        conv.bias() = random.randn<Scalar>(3, 1);
        check(conv, 2);
    }
    auto max_pool = nndl::make_max_pool<Scalar>(Shape::image(5, 5, 2), Window(2), Stride(1), Padding::uniform(1));
    check(*max_pool, 2);
    auto avg_pool = nndl::make_avg_pool<Scalar>(Shape::image(5, 5, 2), Window(3), Stride(2), Padding::uniform(1));
    check(*avg_pool, 2);
    nndl::GlobalAvgPool<Scalar> global(Shape::image(3, 3, 4));
    check(global, 3);
    nndl::BatchNorm<Scalar> bn_image(Shape::image(3, 3, 2));
    bn_image.gamma() = random.randn<Scalar>(2, 1);
    bn_image.beta() = random.randn<Scalar>(2, 1);
    check(bn_image, 3);
    nndl::BatchNorm<Scalar> bn_flat(Shape(5));
    bn_flat.gamma() = random.randn<Scalar>(5, 1);
    check(bn_flat, 4);
}

TEST_CASE("BatchNorm: training and evaluation differ; evaluation's backward treats the statistics as constants") {
    nndl::NumpyRandom random(8);
    nndl::BatchNorm<double> bn(Shape(3), 0.5);
    const Matrix<double> x = random.randn(3, 5) * 3.0;
    const Matrix<double> train = bn.forward(x, nndl::Mode::training);
    // Normalized by the batch: each feature has mean 0 and variance 1 (gamma 1, beta 0).
    CHECK(train.rowwise().mean().cwiseAbs().maxCoeff() < 1e-14);
    CHECK((train.array().square().rowwise().mean() - 1.0).abs().maxCoeff() < 1e-4);
    const Matrix<double> eval = bn.forward(x, nndl::Mode::evaluation);
    CHECK(eval != train);
    nndl::GradientCheckOptions options;
    options.mode = nndl::Mode::evaluation;
    const auto result = nndl::check_layer_gradients<double>(bn, x, options);
    INFO(result.summary());
    CHECK(result.passed(1e-7));
}

TEST_CASE("Conv2D: wrong shapes name both shapes") {
    nndl::Conv2D<double> conv(Shape::image(28, 28, 1), 8, Window(3));
    const Matrix<double> x = Matrix<double>::Zero(784 * 3, 2);
    CHECK(nndl_test::message_of<nndl::ShapeError>([&] { conv.forward(x, nndl::Mode::training); }) ==
          "Layer::forward ('conv2d'): input has 2352 rows, the layer expects 784 (input shape 28x28x1 (height x width "
          "x channels))");
    nndl::Network<double> net(Shape::image(28, 28, 3));
    CHECK(nndl_test::message_of<nndl::ShapeError>([&] {
              net.add(std::make_unique<nndl::Conv2D<double>>(Shape::image(28, 28, 1), 8, Window(3)));
          }) == "Network::add: layer 1 ('conv2d') takes input 28x28x1 (height x width x channels), but the network "
                "outputs 28x28x3 (height x width x channels)");
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] {
              nndl::Conv2D<double>(Shape::image(4, 4, 1), 0, Window(3));
          }) == "Conv2D::Conv2D: filters is 0, expected at least 1");
}

TEST_CASE_TEMPLATE("a small CNN: whole-network gradient check and bit-exact save/load", Scalar, float, double) {
    nndl::NumpyRandom random(9);
    nndl::Network<Scalar> net(Shape::image(6, 6, 2));
    auto conv = std::make_unique<nndl::Conv2D<Scalar>>(net.output_shape(), 3, Window(3), Stride(1), Padding::same(),
                                                       Activation::relu);
    conv->weights() = nndl::initial_weights<Scalar>(3, conv->fan_in(), {nndl::Init::he}, random);
    conv->bias() = random.randn<Scalar>(3, 1) * Scalar(0.1);
    net.add(std::move(conv));
    net.add(std::make_unique<nndl::BatchNorm<Scalar>>(net.output_shape()));
    net.add(nndl::make_max_pool<Scalar>(net.output_shape(), Window(2), Stride(2)));
    auto conv2 = std::make_unique<nndl::Conv2D<Scalar>>(net.output_shape(), 4, Window(2), Stride(1),
                                                        Padding::valid(), Activation::tanh);
    conv2->weights() = nndl::initial_weights<Scalar>(4, conv2->fan_in(), {nndl::Init::xavier}, random);
    net.add(std::move(conv2));
    net.add(nndl::make_avg_pool<Scalar>(net.output_shape(), Window(2), Stride(1)));
    net.add_dense(3, Activation::softmax, {nndl::Init::xavier}, random);  // flat after an image: no flatten layer
    CHECK(net.sizes() == std::vector<nndl::Index>{72, 108, 108, 27, 16, 4, 3});
    const Matrix<Scalar> x = random.randn<Scalar>(72, 4);
    const Matrix<Scalar> y = nndl::one_hot<Scalar>(nndl_test::rows<Scalar>({{0, 2, 1, 2}}), 3);
    const auto result = nndl::check_network_gradients(net, x, y);
    INFO(result.summary());
    CHECK(result.passed(std::is_same_v<Scalar, float> ? 5e-2 : 1e-6));

    nndl::Adam<Scalar> adam(0.01);
    net.fit(x, y, adam, 3);  // so that the batch norm's running statistics are not the initial ones
    CHECK(net.state()[0].value->coeff(0, 0) != Scalar(0));
    check_round_trip(net, x);
}

TEST_CASE("Conv2D: the course's conv_forward and conv_backward, in NumPy's summation order and as one product") {
    // Inputs and printed means of "Convolution model, step by step" (course4.md).
    for (const bool numpy_order : {true, false}) {
        INFO("numpy order: ", numpy_order);
        nndl::NumpyRandom random(1);
        const Shape shape = Shape::image(5, 7, 4);
        const Matrix<double> a_prev = random.randn(2, shape.size()).transpose();
        nndl::Conv2D<double> conv(shape, 8, Window(3), Stride(2), Padding::uniform(1));
        conv.set_numpy_order(numpy_order);
        conv.weights() = random.randn(36, 8).transpose();
        conv.bias() = random.randn(8, 1);
        const double z_mean = nndl::numpy_mean(Matrix<double>(conv.forward(a_prev, nndl::Mode::training)));
        conv.release_batch();

        nndl::NumpyRandom again(1);
        const Shape small = Shape::image(4, 4, 3);
        const Matrix<double> x = again.randn(10, small.size()).transpose();
        nndl::Conv2D<double> back(small, 8, Window(2), Stride(2), Padding::uniform(2));
        back.set_numpy_order(numpy_order);
        back.weights() = again.randn(12, 8).transpose();
        back.bias() = again.randn(8, 1);
        const Matrix<double> z = back.forward(x, nndl::Mode::training);
        const double da_mean = nndl::numpy_mean(Matrix<double>(back.backward(z, true)));
        const auto params = back.parameters();
        const double dw_mean = nndl::numpy_mean(*params[0].gradient);
        const double db_mean = nndl::numpy_mean(*params[1].gradient);
        if (numpy_order) {  // to the last bit
            CHECK(z_mean == 0.5511276474566768);
            CHECK(da_mean == 1.4524377775388075);
            CHECK(dw_mean == 1.7269914583139097);
            CHECK(db_mean == 7.839232564616838);
        } else {  // another summation order: the course's tolerance for that
            CHECK(z_mean == doctest::Approx(0.5511276474566768).epsilon(1e-14));
            CHECK(da_mean == doctest::Approx(1.4524377775388075).epsilon(1e-14));
            CHECK(dw_mean == doctest::Approx(1.7269914583139097).epsilon(1e-14));
            CHECK(db_mean == doctest::Approx(7.839232564616838).epsilon(1e-14));
        }
    }
}

TEST_CASE("NumPy's pairwise sum: the blocked order, not left to right") {
    std::vector<double> values(300);
    for (std::size_t i = 0; i < values.size(); ++i) {
        values[i] = 1.0 / static_cast<double>(i + 1) * (i % 2 ? -1.0 : 1.0) * 1e3 + 0.1;
    }
    double left_to_right = 0.0;
    for (double v : values) {
        left_to_right += v;
    }
    const double pairwise = nndl::pairwise_sum(values.data(), 300);
    CHECK(pairwise == 721.4832916556252);  // np.sum of the same values, NumPy 1.24
    CHECK(left_to_right != pairwise);      // so the order shows
    // Small runs are left to right from 0.
    CHECK(nndl::pairwise_sum(values.data(), 5) == ((((values[0] + values[1]) + values[2]) + values[3]) + values[4]));
    Shape padded;
    const Matrix<double> x = Matrix<double>::Ones(4, 1);  // a 2x2 image, one channel
    const Matrix<double> p = nndl::zero_pad(x, Shape::image(2, 2, 1), Padding::amounts(1, 0, 0, 2), padded);
    CHECK(padded == Shape::image(3, 4, 1));
    CHECK(p.transpose() == nndl_test::rows<double>({{0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0}}));
}

TEST_CASE_TEMPLATE("GlobalAvgPool and padded pooling round-trip through a model file", Scalar, float, double) {
    nndl::NumpyRandom random(10);
    nndl::Network<Scalar> net(Shape::image(5, 4, 3));
    net.add(nndl::make_max_pool<Scalar>(net.output_shape(), Window(3, 2), Stride(1, 2), Padding::amounts(1, 1, 0, 1)));
    net.add(nndl::make_avg_pool<Scalar>(net.output_shape(), Window(2), Stride(1), Padding::uniform(1)));
    net.add(std::make_unique<nndl::GlobalAvgPool<Scalar>>(net.output_shape()));
    net.add_dense(2, Activation::sigmoid, {nndl::Init::he}, random);
    CHECK(net.layer(2).output_shape() == Shape(3));
    const Matrix<Scalar> x = random.randn<Scalar>(60, 3);
    check_round_trip(net, x);
}

TEST_CASE("convolution edges the review found: sizes that overflow, one value per channel, flat layers after images") {
    // Padding that would wrap the output's size is refused by the constructor.
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] {
              nndl::Conv2D<double>(Shape(1), 1, Window(1), Stride(1), Padding::amounts(0, 274176, 0, 67280421310720LL));
          }).find("are at most 1048576") != std::string::npos);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] {
              nndl::Conv2D<double>(Shape(1), 1, Window(1), Stride(1), Padding::uniform(1 << 20));
          }).find("more than 1099511627776 values") != std::string::npos);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] {
              nndl::Pool2D<double>(nndl::PoolMode::max, Shape(1), Window(1), Stride(1LL << 40), Padding::same());
          }).find("are at most 1048576") != std::string::npos);
    // Batch norm needs more than one value per channel in training, as PyTorch.
    nndl::BatchNorm<double> bn(Shape(3));
    const Matrix<double> one = Matrix<double>::Ones(3, 1);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { bn.forward(one, nndl::Mode::training); })
              .find("training needs more than one value per channel") != std::string::npos);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] { nndl::BatchNorm<float>(Shape(3), 0.1, 1e-320); })
              .find("smallest normal value") != std::string::npos);

    // A flat layer after an image keeps its own input shape through a model file.
    nndl::NumpyRandom random(11);
    nndl::Network<double> net(Shape::image(2, 2, 3));
    net.add(std::make_unique<nndl::BatchNorm<double>>(Shape(12)));   // per feature, not per channel
    net.add(std::make_unique<nndl::GlobalAvgPool<double>>(Shape(12)));  // a 12-channel 1x1 "image": itself
    net.add_dense(2, Activation::softmax, {nndl::Init::he}, random);
    const Matrix<double> x = random.randn(12, 4);
    nndl::Adam<double> adam(0.01);
    net.fit(x, nndl::one_hot<double>(nndl_test::rows<double>({{0, 1, 1, 0}}), 2), adam, 2);
    check_round_trip(net, x);

    // A gradient check in training mode leaves the running statistics as they were.
    const Matrix<double> before = *net.state()[1].value;
    nndl::check_network_gradients(net, x, nndl::one_hot<double>(nndl_test::rows<double>({{0, 1, 1, 0}}), 2));
    CHECK(*net.state()[1].value == before);
}

namespace conv_inference_test {

/// The largest |a - b| relative to the largest |b| (at least 1).
template <class Scalar>
double relative_difference(const Matrix<Scalar>& a, const Matrix<Scalar>& b) {
    REQUIRE(a.rows() == b.rows());
    REQUIRE(a.cols() == b.cols());
    const double scale = std::max(1.0, static_cast<double>(b.cwiseAbs().maxCoeff()));
    return static_cast<double>((a - b).cwiseAbs().maxCoeff()) / scale;
}

/// Puts the kernels' instruction set back when the test leaves, however it leaves.
struct KeepKernelIsa {
    nndl::detail::KernelIsa saved = nndl::detail::kernel_isa();
    ~KeepKernelIsa() { nndl::detail::kernel_isa() = saved; }
};

/// Calls f(example, output row, filter, weight column k, input row) for every product of a
/// convolution of `examples` images: plain loops over each output value and its window, the
/// padding skipped (read as zeros). Shares no code with the layer's lowering.
template <class F>
void for_each_product(const nndl::WindowGeometry& g, nndl::Index examples, nndl::Index filters, F&& f) {
    for (nndl::Index e = 0; e < examples; ++e) {
        for (nndl::Index oh = 0; oh < g.out_height; ++oh) {
            for (nndl::Index ow = 0; ow < g.out_width; ++ow) {
                for (nndl::Index filter = 0; filter < filters; ++filter) {
                    for (nndl::Index kh = 0; kh < g.window_height; ++kh) {
                        for (nndl::Index kw = 0; kw < g.window_width; ++kw) {
                            const nndl::Index ih = oh * g.stride_vertical - g.top + kh;
                            const nndl::Index iw = ow * g.stride_horizontal - g.left + kw;
                            if (ih < 0 || ih >= g.in_height || iw < 0 || iw >= g.in_width) {
                                continue;
                            }
                            for (nndl::Index c = 0; c < g.channels; ++c) {
                                f(e, (oh * g.out_width + ow) * filters + filter, filter,
                                  (kh * g.window_width + kw) * g.channels + c, (ih * g.in_width + iw) * g.channels + c);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// W patches + b, each output value summed in double by plain loops (for_each_product).
template <class Scalar>
Matrix<Scalar> plain_convolution(const nndl::Conv2D<Scalar>& conv, const Matrix<Scalar>& x) {
    const nndl::Index filters = conv.weights().rows();
    Eigen::MatrixXd z(conv.output_size(), x.cols());
    for (nndl::Index e = 0; e < x.cols(); ++e) {
        for (nndl::Index o = 0; o < z.rows(); ++o) {
            z(o, e) = static_cast<double>(conv.bias()(o % filters, 0));
        }
    }
    for_each_product(conv.geometry(), x.cols(), filters,
                     [&](nndl::Index e, nndl::Index out, nndl::Index filter, nndl::Index k, nndl::Index pixel) {
                         z(out, e) += static_cast<double>(conv.weights()(filter, k)) * static_cast<double>(x(pixel, e));
                     });
    return z.cast<Scalar>();
}

/// dW, db and dX of W patches + b for output gradient dz, summed in double by plain loops
/// (for_each_product).
template <class Scalar>
void plain_gradients(const nndl::Conv2D<Scalar>& conv, const Matrix<Scalar>& x, const Matrix<Scalar>& dz,
                     Matrix<Scalar>& dw, Matrix<Scalar>& db, Matrix<Scalar>& dx) {
    const nndl::Index filters = conv.weights().rows();
    Eigen::MatrixXd w_sum = Eigen::MatrixXd::Zero(filters, conv.fan_in());
    Eigen::MatrixXd b_sum = Eigen::MatrixXd::Zero(filters, 1);
    Eigen::MatrixXd x_sum = Eigen::MatrixXd::Zero(x.rows(), x.cols());
    for (nndl::Index e = 0; e < x.cols(); ++e) {
        for (nndl::Index o = 0; o < dz.rows(); ++o) {
            b_sum(o % filters, 0) += static_cast<double>(dz(o, e));
        }
    }
    for_each_product(conv.geometry(), x.cols(), filters,
                     [&](nndl::Index e, nndl::Index out, nndl::Index filter, nndl::Index k, nndl::Index pixel) {
                         const double d = static_cast<double>(dz(out, e));
                         w_sum(filter, k) += d * static_cast<double>(x(pixel, e));
                         x_sum(pixel, e) += d * static_cast<double>(conv.weights()(filter, k));
                     });
    dw = w_sum.cast<Scalar>();
    db = b_sum.cast<Scalar>();
    dx = x_sum.cast<Scalar>();
}

}  // namespace conv_inference_test

TEST_CASE_TEMPLATE("Conv2D inference (blocked lowering, nndl's kernel for few filters) against the simple kernel on "
                   "random shapes",
                   Scalar, float, double) {
    using conv_inference_test::plain_convolution;
    using conv_inference_test::relative_difference;
    nndl::NumpyRandom random(31);
    const double limit = std::is_same_v<Scalar, float> ? 1e-5 : 1e-12;
    const Activation activations[] = {Activation::identity, Activation::relu,      Activation::tanh,
                                      Activation::sigmoid,  Activation::leaky_relu, Activation::softmax};
    for (int trial = 0; trial < 60; ++trial) {
        const auto draw = [&](nndl::Index low, nndl::Index high) {
            return low + static_cast<nndl::Index>(random.below(static_cast<std::uint32_t>(high - low + 1)));
        };
        // Window rows of up to patch_short_row (64) values are copied from a padded image, longer
        // ones in runs: both.
        const nndl::Index channels = trial % 5 == 0 ? 1 : trial % 5 == 1 ? draw(11, 40) : draw(1, 6);
        const nndl::Index height = draw(1, 9);
        const nndl::Index width = draw(1, 9);
        const nndl::Index filters = trial % 3 == 0 ? draw(40, 70) : draw(1, 33);  // both sides of the kernel's limit
        const nndl::Index largest = trial % 7 == 0 ? 5 : 3;
        const nndl::Index kernel_h = draw(1, std::min<nndl::Index>(height, largest));
        const nndl::Index kernel_w = draw(1, std::min<nndl::Index>(width, largest));
        const nndl::Index stride = draw(1, 2);
        const bool same = random.below(2) == 1;
        const nndl::Index batch = trial % 4 == 0 ? 1 : draw(1, 40);
        const Activation activation = activations[random.below(6)];
        CAPTURE(trial);
        CAPTURE(channels);
        CAPTURE(height);
        CAPTURE(width);
        CAPTURE(filters);
        CAPTURE(stride);
        CAPTURE(same);
        CAPTURE(batch);
        const Shape in = Shape::image(height, width, channels);
        nndl::Conv2D<Scalar> conv(in, filters, Window(kernel_h, kernel_w), Stride(stride),
                                  same ? Padding::same() : Padding::valid(), activation);
        conv.weights() = random.randn<Scalar>(filters, conv.fan_in());
        conv.bias() = random.randn<Scalar>(filters, 1);
        nndl::Conv2D<Scalar> reference = conv;
        reference.set_numpy_order(true);  // the course's loops: one window, one filter at a time
        const Matrix<Scalar> x = random.randn<Scalar>(in.size(), batch);
        Matrix<Scalar> inferred;
        conv.infer(x, inferred);
        CHECK(relative_difference(inferred, reference.forward(x, nndl::Mode::evaluation)) <= limit);
        CHECK(relative_difference(conv.forward(x, nndl::Mode::evaluation), inferred) <= limit);
        nndl::Conv2D<Scalar> linear(in, filters, Window(kernel_h, kernel_w), Stride(stride),
                                    same ? Padding::same() : Padding::valid());
        linear.weights() = conv.weights();
        linear.bias() = conv.bias();
        const Matrix<Scalar> expected = plain_convolution(linear, x);
        // nndl's kernels are picked at run time: each instruction set this processor runs.
        const conv_inference_test::KeepKernelIsa keep;
        for (const auto isa : nndl::detail::runnable_kernel_isas()) {
            CAPTURE(nndl::detail::to_string(isa));
            nndl::detail::kernel_isa() = isa;
            linear.infer(x, inferred);
            CHECK(relative_difference(inferred, expected) <= limit);
        }
        nndl::detail::kernel_isa() = keep.saved;
        CHECK(relative_difference(linear.forward(x, nndl::Mode::training), inferred) <= limit);
    }
}

TEST_CASE_TEMPLATE("Conv2D training (windows read in place where channels are few) against plain loops on random "
                   "shapes, each instruction set",
                   Scalar, float, double) {
    using conv_inference_test::relative_difference;
    nndl::NumpyRandom random(47);
    const double limit = std::is_same_v<Scalar, float> ? 2e-5 : 1e-12;
    const auto isas = nndl::detail::runnable_kernel_isas();
    const conv_inference_test::KeepKernelIsa keep;
    int in_place_chunked = 0;
    int lowered = 0;
    int in_place_long_rows = 0;
    for (int trial = 0; trial < 40; ++trial) {
        const auto draw = [&](nndl::Index low, nndl::Index high) {
            return low + static_cast<nndl::Index>(random.below(static_cast<std::uint32_t>(high - low + 1)));
        };
        // Mostly window rows of up to patch_short_row (64) values (read in place), some longer
        // (lowered).
        nndl::Index channels = trial % 5 == 0 ? 1 : trial % 5 == 1 ? draw(11, 40) : draw(1, 6);
        // Larger images in every other trial: several chunks of a batch.
        const nndl::Index height = trial % 2 == 1 ? draw(10, 20) : draw(1, 11);
        const nndl::Index width = trial % 2 == 1 ? draw(10, 20) : draw(1, 11);
        // Filter counts in whole vectors and not, and past the thin kernels' limit.
        nndl::Index filters = trial % 4 == 0   ? draw(40, 70)
                                    : trial % 4 == 1 ? 16 * draw(1, 2)
                                    : trial % 4 == 2 ? draw(1, 33)
                                                     : draw(1, 6);
        const nndl::Index largest = trial % 7 == 0 ? 5 : 3;
        nndl::Index kernel_h = draw(1, std::min<nndl::Index>(height, largest));
        nndl::Index kernel_w = draw(1, std::min<nndl::Index>(width, largest));
        const nndl::Index stride = draw(1, 2);
        if (trial == 1) {  // window rows of 48 values (3x3 over 16 channels), filters within every tile
            channels = 16;
            filters = 6;
            kernel_h = 3;
            kernel_w = 3;
        }
        const bool same = random.below(2) == 1;
        // With the larger images, several chunks of the batch (about 2048 patch columns each);
        // else one example or a few.
        const nndl::Index batch = trial % 2 == 1 ? draw(60, 90) : trial % 3 == 0 ? 1 : draw(2, 30);
        CAPTURE(trial);
        CAPTURE(channels);
        CAPTURE(height);
        CAPTURE(width);
        CAPTURE(filters);
        CAPTURE(kernel_h);
        CAPTURE(kernel_w);
        CAPTURE(stride);
        CAPTURE(same);
        CAPTURE(batch);
        const Shape in = Shape::image(height, width, channels);
        nndl::Conv2D<Scalar> conv(in, filters, Window(kernel_h, kernel_w), Stride(stride),
                                  same ? Padding::same() : Padding::valid());
        conv.weights() = random.randn<Scalar>(filters, conv.fan_in());
        conv.bias() = random.randn<Scalar>(filters, 1);
        const Matrix<Scalar> x = random.randn<Scalar>(in.size(), batch);
        const Matrix<Scalar> dz = random.randn<Scalar>(conv.output_size(), batch);
        const Matrix<Scalar> expected = conv_inference_test::plain_convolution(conv, x);
        Matrix<Scalar> dw;
        Matrix<Scalar> db;
        Matrix<Scalar> dx;
        conv_inference_test::plain_gradients(conv, x, dz, dw, db, dx);
        // Counted where every instruction set reads in place (filters within the SSE2 kernel's tile).
        if (nndl::detail::short_window_rows(conv.geometry()) && filters <= nndl::detail::tile_rows_for<Scalar>(16) &&
            batch > 2048 / conv.geometry().positions()) {
            ++in_place_chunked;  // windows read in place, the batch in several chunks
        }
        if (nndl::detail::short_window_rows(conv.geometry()) && kernel_w * channels > 32 &&
            filters <= nndl::detail::tile_rows_for<Scalar>(16)) {
            ++in_place_long_rows;  // rows past 32 values, read in place since the limit became 64
        }
        if (!nndl::detail::short_window_rows(conv.geometry())) {
            ++lowered;  // window rows too long to read in place: lowered to patches
        }
        // Forward on one instruction set, backward on the next: the layer keeps what it needs.
        for (std::size_t k = 0; k < isas.size(); ++k) {
            CAPTURE(nndl::detail::to_string(isas[k]));
            nndl::detail::kernel_isa() = isas[k];
            CHECK(relative_difference(conv.forward(x, nndl::Mode::training), expected) <= limit);
            nndl::detail::kernel_isa() = isas[(k + 1) % isas.size()];
            const Matrix<Scalar> input_gradient = conv.backward(dz, true);
            CHECK(relative_difference(input_gradient, dx) <= limit);
            CHECK(relative_difference(*conv.parameters()[0].gradient, dw) <= limit);
            CHECK(relative_difference(*conv.parameters()[1].gradient, db) <= limit);
            // The first layer's backward, without the input's gradient, gives the same weight gradient.
            conv.forward(x, nndl::Mode::training);
            CHECK(conv.backward(dz, false).size() == 0);
            CHECK(relative_difference(*conv.parameters()[0].gradient, dw) <= limit);
            // With a ReLU, A and dZ are taken chunk by chunk beside the products: the same bits
            // as this layer's Z through max(Z, 0), and its backward from the gradient masked
            // where Z > 0.
            nndl::Conv2D<Scalar> relu_conv(in, filters, Window(kernel_h, kernel_w), Stride(stride),
                                           same ? Padding::same() : Padding::valid(), nndl::Activation::relu);
            relu_conv.weights() = conv.weights();
            relu_conv.bias() = conv.bias();
            const Matrix<Scalar> z = conv.forward(x, nndl::Mode::training);
            CHECK(relu_conv.forward(x, nndl::Mode::training) == z.cwiseMax(Scalar(0)));
            const Matrix<Scalar> masked =
                (z.array() > Scalar(0)).select(dz, Matrix<Scalar>::Zero(dz.rows(), dz.cols()));
            const Matrix<Scalar> masked_input_gradient = conv.backward(masked, true);
            CHECK(relu_conv.backward(dz, true) == masked_input_gradient);
            CHECK(*relu_conv.parameters()[0].gradient == *conv.parameters()[0].gradient);
            CHECK(*relu_conv.parameters()[1].gradient == *conv.parameters()[1].gradient);
        }
    }
    CHECK(in_place_chunked >= 3);    // the draws reach the in-place path with several chunks
    CHECK(in_place_long_rows >= 1);  // rows of 33-64 values in place
    CHECK(lowered >= 2);             // and the lowered one
}

TEST_CASE_TEMPLATE("Conv2D's training forward takes its activation a chunk of the batch at a time: the same bits as "
                   "the activation over the whole pre-activation",
                   Scalar, float, double) {
    nndl::NumpyRandom random(53);
    const Shape in = Shape::image(10, 10, 3);
    const Matrix<Scalar> x = random.randn<Scalar>(in.size(), 45);  // 100 positions: chunks of 20 examples
    for (const Activation activation : {Activation::identity, Activation::sigmoid, Activation::tanh, Activation::relu,
                                        Activation::leaky_relu, Activation::softmax}) {
        for (const bool numpy_order : {false, true}) {
            CAPTURE(nndl::to_string(activation));
            CAPTURE(numpy_order);
            nndl::Conv2D<Scalar> conv(in, 4, Window(3), Stride(1), Padding::same(), activation);
            conv.weights() = random.randn<Scalar>(4, conv.fan_in());
            conv.bias() = random.randn<Scalar>(4, 1);
            conv.set_numpy_order(numpy_order);
            const Matrix<Scalar> a = conv.forward(x, nndl::Mode::training);
            Matrix<Scalar> expected;
            nndl::with_activation(activation,
                                  [&](auto policy) { decltype(policy)::forward(conv.preactivation(), expected); });
            CHECK(nndl_test::identical_bits(a, expected));
        }
    }
}

TEST_CASE_TEMPLATE("BatchNorm training over many runs of columns against the formulas in double", Scalar, float,
                   double) {
    // Runs of about 1024 values: 3 channels over 2,000 columns (a partial last run), and 1,100
    // features (one column per run).
    nndl::NumpyRandom random(12);
    const double limit = std::is_same_v<Scalar, float> ? 2e-5 : 1e-12;
    for (const Shape shape : {Shape::image(20, 25, 3), Shape(1100)}) {
        CAPTURE(shape.to_string());
        const nndl::Index m = shape.channels == 3 ? 4 : 7;
        nndl::BatchNorm<Scalar> bn(shape);
        bn.gamma() = random.randn<Scalar>(shape.channels, 1);
        bn.beta() = random.randn<Scalar>(shape.channels, 1);
        const Matrix<Scalar> x = (random.randn<Scalar>(shape.size(), m).array() * Scalar(3) + Scalar(1)).matrix();
        const Matrix<Scalar> dy = random.randn<Scalar>(shape.size(), m);
        const nndl::Index c = shape.channels;
        const nndl::Index count = x.size() / c;
        const Eigen::MatrixXd xv = Eigen::Map<const Matrix<Scalar>>(x.data(), c, count).template cast<double>();
        const Eigen::MatrixXd gv = Eigen::Map<const Matrix<Scalar>>(dy.data(), c, count).template cast<double>();
        const Eigen::VectorXd mean = xv.rowwise().mean();
        const Eigen::VectorXd var = (xv.colwise() - mean).array().square().rowwise().mean();
        const Eigen::VectorXd inverse_std = (var.array() + 1e-5).rsqrt();
        const Eigen::MatrixXd xhat = (xv.colwise() - mean).array().colwise() * inverse_std.array();
        const Eigen::VectorXd gamma = bn.gamma().template cast<double>();
        const Eigen::MatrixXd y =
            (xhat.array().colwise() * gamma.array()).colwise() + bn.beta().template cast<double>().col(0).array();
        const Eigen::VectorXd sum_g = gv.rowwise().sum();
        const Eigen::VectorXd sum_gx = (gv.array() * xhat.array()).rowwise().sum();
        const double n = static_cast<double>(count);
        const Eigen::MatrixXd dx = ((((gv.array() * n).colwise() - sum_g.array()) -
                                     (xhat.array().colwise() * sum_gx.array()))
                                        .colwise() *
                                    (gamma.array() * inverse_std.array() / n));
        const Matrix<Scalar>& out = bn.forward(x, nndl::Mode::training);
        const Matrix<Scalar>& input_gradient = bn.backward(dy, true);
        const auto reshaped = [&](const Eigen::MatrixXd& v) {
            return Matrix<Scalar>(Eigen::Map<const Eigen::MatrixXd>(v.data(), shape.size(), m).template cast<Scalar>());
        };
        CHECK(conv_inference_test::relative_difference(out, reshaped(y)) <= limit);
        CHECK(conv_inference_test::relative_difference(input_gradient, reshaped(dx)) <= limit);
        CHECK(conv_inference_test::relative_difference(*bn.parameters()[0].gradient,
                                                       Matrix<Scalar>(sum_gx.template cast<Scalar>())) <= limit);
        CHECK(conv_inference_test::relative_difference(*bn.parameters()[1].gradient,
                                                       Matrix<Scalar>(sum_g.template cast<Scalar>())) <= limit);
    }
}

namespace {
/// Where the 2x2 window of output (oh, ow), channel c, of example e first holds its maximum, in
/// (row, column) order: a NaN wins, and of equal values the first.
template <class Scalar>
nndl::Index first_maximum_at(const nndl::WindowGeometry& g, const Matrix<Scalar>& x, nndl::Index e, nndl::Index oh,
                             nndl::Index ow, nndl::Index c) {
    nndl::Index best = -1;
    for (nndl::Index kh = 0; kh < 2; ++kh) {
        for (nndl::Index kw = 0; kw < 2; ++kw) {
            const nndl::Index ih = oh * 2 - g.top + kh;
            const nndl::Index iw = ow * 2 - g.left + kw;
            if (ih < 0 || ih >= g.in_height || iw < 0 || iw >= g.in_width) {
                continue;
            }
            const nndl::Index at = (ih * g.in_width + iw) * g.channels + c;
            if (best < 0 || (!std::isnan(x(best, e)) && (std::isnan(x(at, e)) || x(at, e) > x(best, e)))) {
                best = at;
            }
        }
    }
    return best;
}
}  // namespace

TEST_CASE_TEMPLATE("max pooling's backward: the first maximum of each window, ties and NaN, channel runs of any "
                   "length",
                   Scalar, float, double) {
    // 19 channels: two runs of eight and a tail; values drawn from few levels, so windows tie.
    nndl::NumpyRandom random(13);
    const Scalar nan = std::numeric_limits<Scalar>::quiet_NaN();
    // Padded windows, and 2x2 windows tiling the image exactly (each pixel written once).
    for (const bool exact : {false, true})
    for (const nndl::Index channels : {1, 8, 19}) {
        CAPTURE(exact);
        CAPTURE(channels);
        const Shape in = Shape::image(exact ? 4 : 5, 6, channels);
        auto pool = nndl::make_max_pool<Scalar>(in, Window(2), Stride(2),
                                                exact ? Padding::valid() : Padding::amounts(0, 1, 0, 0));
        Matrix<Scalar> x(in.size(), 3);
        for (nndl::Index i = 0; i < x.size(); ++i) {
            x.data()[i] = static_cast<Scalar>(random.below(3));
        }
        x(7, 1) = nan;  // the first NaN of a window wins
        x(7 + 6 * channels, 1) = nan;
        Matrix<Scalar> dy = random.randn<Scalar>(pool->output_size(), 3);
        dy(0, 0) = -Scalar(0);  // 0 + -0 is +0 on the pixel that gets it
        dy(channels, 2) = -Scalar(0);
        // Training's forward (whose recording pass notices the NaN) pools as prediction does.
        const Matrix<Scalar> pooled = pool->forward(x, nndl::Mode::training);
        Matrix<Scalar> predicted;
        pool->infer(x, predicted);
        CHECK(nndl_test::identical_bits(pooled, predicted));
        CHECK(pooled.array().isNaN().any());
        // A backward first that leaves NaN wherever a gradient lands: the second must overwrite
        // every pixel of the same buffer.
        pool->backward(Matrix<Scalar>::Constant(dy.rows(), dy.cols(), nan), true);
        const Matrix<Scalar> dx = pool->backward(dy, true);
        // Each window's first maximum (first_maximum_at) gets its output's gradient.
        Matrix<Scalar> expected = Matrix<Scalar>::Zero(x.rows(), x.cols());
        const nndl::WindowGeometry& g = dynamic_cast<const nndl::Pool2D<Scalar>&>(*pool).geometry();
        for (nndl::Index e = 0; e < x.cols(); ++e) {
            for (nndl::Index oh = 0; oh < g.out_height; ++oh) {
                for (nndl::Index ow = 0; ow < g.out_width; ++ow) {
                    for (nndl::Index c = 0; c < channels; ++c) {
                        expected(first_maximum_at(g, x, e, oh, ow, c), e) += dy((oh * g.out_width + ow) * channels + c, e);
                    }
                }
            }
        }
        REQUIRE(dx.rows() == expected.rows());
        REQUIRE(dx.cols() == expected.cols());
        nndl::Index differences = 0;  // signed zeros too
        for (nndl::Index i = 0; i < dx.size(); ++i) {
            differences += dx.data()[i] != expected.data()[i] ||
                           std::signbit(dx.data()[i]) != std::signbit(expected.data()[i]);
        }
        CHECK(differences == 0);
    }
}

TEST_CASE_TEMPLATE("max pooling and batch norm take the gradient through the ReLU before them: the bits of the two "
                   "backward passes",
                   Scalar, float, double) {
    nndl::NumpyRandom random(41);
    const Scalar nan = std::numeric_limits<Scalar>::quiet_NaN();
    // 2x2 windows tiling the image, overlapping padded ones, batch norm after training and
    // after evaluation forwards.
    for (const char* taker_kind : {"max pool 2x2", "max pool 3x3", "batch norm", "batch norm evaluated"})
    for (const nndl::Index channels : {1, 8, 19}) {
        const std::string kind = taker_kind;
        CAPTURE(kind);
        CAPTURE(channels);
        const Shape in = Shape::image(kind == "max pool 2x2" ? 4 : 5, 6, channels);
        auto relu = nndl::make_activation_layer<Scalar>(in, Activation::relu);
        std::unique_ptr<nndl::Layer<Scalar>> layer;
        if (kind == "max pool 2x2") {
            layer = nndl::make_max_pool<Scalar>(in, Window(2), Stride(2));
        } else if (kind == "max pool 3x3") {
            layer = nndl::make_max_pool<Scalar>(in, Window(3), Stride(2), Padding::same());
        } else {
            auto norm = std::make_unique<nndl::BatchNorm<Scalar>>(in);
            norm->gamma() = random.randn<Scalar>(channels, 1);
            layer = std::move(norm);
        }
        // Few levels, half of them at or below zero: windows of zeros only, ties, and -0 and NaN.
        Matrix<Scalar> z(in.size(), 3);
        for (nndl::Index i = 0; i < z.size(); ++i) {
            z.data()[i] = static_cast<Scalar>(random.below(4)) - Scalar(2);
        }
        z(5, 0) = -Scalar(0);
        if (kind.rfind("max pool", 0) == 0) {  // batch norm's statistics would be NaN
            z(9, 2) = nan;
            z(11, 1) = std::numeric_limits<Scalar>::infinity();
            z(13, 1) = -std::numeric_limits<Scalar>::infinity();
        }
        Matrix<Scalar> dy = random.randn<Scalar>(layer->output_size(), 3);
        dy(1, 1) = -Scalar(0);
        const Matrix<Scalar>& a = relu->forward(z, nndl::Mode::training);
        layer->forward(a, kind == "batch norm evaluated" ? nndl::Mode::evaluation : nndl::Mode::training);
        const Matrix<Scalar> alone = layer->backward(dy, true);
        const Matrix<Scalar> one_by_one = relu->backward(alone, true);
        auto& taker = dynamic_cast<nndl::BackwardThroughRelu<Scalar>&>(*layer);
        REQUIRE(taker.takes_relu_backward());
        const Matrix<Scalar> through = taker.backward_through_relu(dy);
        REQUIRE(through.rows() == one_by_one.rows());
        REQUIRE(through.cols() == one_by_one.cols());
        nndl::Index differences = 0, nonzero = 0;
        for (nndl::Index i = 0; i < through.size(); ++i) {
            differences += std::memcmp(through.data() + i, one_by_one.data() + i, sizeof(Scalar)) != 0;
            nonzero += one_by_one.data()[i] != Scalar(0);
        }
        CHECK(differences == 0);
        CHECK(nonzero > 0);  // some gradient passes, and some is stopped by the ReLU:
        CHECK(alone.cwiseAbs().sum() > one_by_one.cwiseAbs().sum());
        // The layer's own backward is as it was.
        CHECK(layer->backward(dy, true) == alone);
        // Bad input is refused as backward refuses it.
        CHECK_THROWS_AS(taker.backward_through_relu(Matrix<Scalar>::Zero(dy.rows() + 1, 3)), nndl::ShapeError);
    }
    auto average = nndl::make_avg_pool<Scalar>(Shape::image(4, 4, 2), Window(2), Stride(2));
    auto& taker = dynamic_cast<nndl::BackwardThroughRelu<Scalar>&>(*average);
    CHECK_FALSE(taker.takes_relu_backward());
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { taker.backward_through_relu(Matrix<Scalar>::Zero(8, 1)); })
              .find("expected a max pool") != std::string::npos);
}

TEST_CASE_TEMPLATE("a network's backward through a ReLU and the batch norm or max pool after it in one pass gives the "
                   "bits of the layers one by one",
                   Scalar, float, double) {
    nndl::NumpyRandom random(42);
    // The ReLU as an activation layer (layer 0 too: only the input gradient needs it), at the
    // end of a convolution (fashion_cnn: convolution, batch norm, pool) or of a dense layer.
    // A graph whose output node is a convolution with ReLU counts as such a layer too.
    for (const char* architecture : {"relu pool", "conv relu-pool", "conv-relu pool", "conv-relu norm pool",
                                     "conv norm relu pool", "dense-relu norm", "graph(conv-relu) norm"}) {
        const std::string kind = architecture;
        CAPTURE(kind);
        nndl::Network<Scalar> net(Shape::image(6, 6, 2));
        if (kind.rfind("conv", 0) == 0) {
            const Activation activation = kind.rfind("conv-relu", 0) == 0 ? Activation::relu : Activation::identity;
            auto conv = std::make_unique<nndl::Conv2D<Scalar>>(net.output_shape(), 4, Window(3), Stride(1),
                                                               Padding::same(), activation);
            conv->weights() = random.randn<Scalar>(4, conv->fan_in());
            net.add(std::move(conv));
        }
        if (kind == "graph(conv-relu) norm") {
            nndl::Graph<Scalar> graph(net.output_shape());
            auto conv = std::make_unique<nndl::Conv2D<Scalar>>(net.output_shape(), 4, Window(3), Stride(1),
                                                               Padding::same(), Activation::relu);
            conv->weights() = random.randn<Scalar>(4, conv->fan_in());
            graph.add(std::move(conv), graph.input());
            net.add(std::make_unique<nndl::Graph<Scalar>>(std::move(graph)));
        }
        if (kind == "dense-relu norm") {
            net.add_dense(7, Activation::relu, {nndl::Init::he}, random);
        }
        if (kind.find("norm") != std::string::npos) {
            net.add(std::make_unique<nndl::BatchNorm<Scalar>>(net.output_shape()));
        }
        if (kind.find(" relu") != std::string::npos || kind.rfind("relu", 0) == 0) {
            net.add(nndl::make_activation_layer<Scalar>(net.output_shape(), Activation::relu));
        }
        if (kind.find("pool") != std::string::npos) {
            net.add(nndl::make_max_pool<Scalar>(net.output_shape(), Window(2), Stride(2)));
        }
        net.add_dense(3, Activation::softmax, {nndl::Init::he}, random);
        const Matrix<Scalar> x = random.randn<Scalar>(net.input_size(), 5);
        Matrix<Scalar> y = Matrix<Scalar>::Zero(3, 5);
        for (nndl::Index e = 0; e < 5; ++e) {
            y(e % 3, e) = 1;
        }
        for (const bool need_input_gradient : {false, true}) {
            CAPTURE(need_input_gradient);
            nndl::Network<Scalar> copy = net;
            net.forward(x);
            const Matrix<Scalar> input_gradient = net.backward(y, need_input_gradient);
            // The same layers' backward one by one, from the fused loss's dZ.
            const Matrix<Scalar>& output = copy.forward(x);
            Matrix<Scalar> dz;
            copy.loss().preactivation_gradient(output, y, dz);
            const std::size_t last = copy.depth() - 1;
            Matrix<Scalar> gradient =
                dynamic_cast<nndl::FusedOutput<Scalar>&>(copy.layer(last)).backward_from_preactivation(dz, true);
            for (std::size_t k = last; k-- > 0;) {
                gradient = copy.layer(k).backward(gradient, true);
            }
            if (need_input_gradient) {
                CHECK(nndl_test::identical_bits(input_gradient, gradient));
                CHECK(input_gradient.cwiseAbs().sum() > 0);
            }
            nndl::Index parameters = 0;
            for (std::size_t k = 0; k < net.depth(); ++k) {
                auto fused = net.layer(k).parameters();
                auto reference = copy.layer(k).parameters();
                REQUIRE(fused.size() == reference.size());
                for (std::size_t p = 0; p < fused.size(); ++p, ++parameters) {
                    CHECK(nndl_test::identical_bits(*fused[p].gradient, *reference[p].gradient));
                }
            }
            CHECK(parameters >= 2);
        }
    }
}

// Prediction takes the vector path for an example of finite values and the value-by-value one
// for an example holding a NaN or an infinity: both give the first maximum of each window (a
// NaN wins; of +0 and -0 the first), bit for bit, as forward does.
TEST_CASE_TEMPLATE("max pooling's prediction: infinities, NaN and signed zeros, channel runs of any length", Scalar,
                   float, double) {
    nndl::NumpyRandom random(17);
    const Scalar inf = std::numeric_limits<Scalar>::infinity();
    const Scalar levels[] = {-inf, Scalar(-1), Scalar(-0.0), Scalar(0), Scalar(1), inf};
    const auto same_bits = [](Scalar a, Scalar b) {
        return (std::isnan(a) && std::isnan(b)) || (a == b && std::signbit(a) == std::signbit(b));
    };
    // Padded (window by window) and 2x2 windows tiling the image exactly (a whole row at once).
    for (int variant = 0; variant < 6; ++variant) {
        const bool padded = variant < 3;
        const nndl::Index channels = variant % 3 == 0 ? 1 : variant % 3 == 1 ? 8 : 19;
        CAPTURE(padded);
        CAPTURE(channels);
        const Shape in = padded ? Shape::image(5, 6, channels) : Shape::image(4, 6, channels);
        auto pool = nndl::make_max_pool<Scalar>(in, Window(2), Stride(2),
                                                padded ? Padding::amounts(0, 1, 0, 0) : Padding::valid());
        const nndl::WindowGeometry& g = dynamic_cast<const nndl::Pool2D<Scalar>&>(*pool).geometry();
        // Column 0: finite values only; 1: infinities too; 2: a NaN as well.
        Matrix<Scalar> x(in.size(), 3);
        for (nndl::Index e = 0; e < 3; ++e) {
            for (nndl::Index i = 0; i < x.rows(); ++i) {
                x(i, e) = levels[e == 0 ? 1 + random.below(4) : random.below(6)];
            }
        }
        x(7 + 6 * channels, 2) = std::numeric_limits<Scalar>::quiet_NaN();
        Matrix<Scalar> expected(pool->output_size(), 3);
        for (nndl::Index e = 0; e < 3; ++e) {
            for (nndl::Index oh = 0; oh < g.out_height; ++oh) {
                for (nndl::Index ow = 0; ow < g.out_width; ++ow) {
                    for (nndl::Index c = 0; c < channels; ++c) {
                        expected((oh * g.out_width + ow) * channels + c, e) = x(first_maximum_at(g, x, e, oh, ow, c), e);
                    }
                }
            }
        }
        Matrix<Scalar> inferred;
        pool->infer(x, inferred);
        const Matrix<Scalar> forward = pool->forward(x, nndl::Mode::evaluation);
        int differences = 0;
        for (nndl::Index i = 0; i < expected.size(); ++i) {
            differences += !same_bits(inferred.data()[i], expected.data()[i]) ||
                           !same_bits(forward.data()[i], expected.data()[i]);
        }
        CHECK(differences == 0);
        CHECK(std::isnan(inferred(0, 2) + inferred.col(2).sum()));  // the NaN reached an output
    }
}

TEST_CASE_TEMPLATE("Conv2D: a padded copy made for one padding is not reused for another of the same size", Scalar,
                   float, double) {
    using conv_inference_test::plain_convolution;
    using conv_inference_test::relative_difference;
    nndl::NumpyRandom random(5);
    const auto check_in_turn = [&](const Shape& in, std::vector<nndl::Conv2D<Scalar>> convs) {
        const Matrix<Scalar> x = random.rand<Scalar>(in.size(), 3);
        for (auto& conv : convs) {
            conv.weights() = random.randn<Scalar>(conv.weights().rows(), conv.weights().cols());
        }
        for (int round = 0; round < 2; ++round) {
            for (auto& conv : convs) {
                Matrix<Scalar> inferred;
                conv.infer(x, inferred);
                CHECK(relative_difference(inferred, plain_convolution(conv, x)) <= 1e-6);
                CHECK(relative_difference(conv.forward(x, nndl::Mode::training), inferred) <= 1e-6);
            }
        }
    };
    // 6x6 padded to 8x8: one on every side, or two below and on the right.
    check_in_turn(Shape::image(6, 6, 1), {nndl::Conv2D<Scalar>(Shape::image(6, 6, 1), 4, Window(3), Stride(1),
                                                               Padding::uniform(1)),
                                          nndl::Conv2D<Scalar>(Shape::image(6, 6, 1), 4, Window(3), Stride(1),
                                                               Padding::amounts(0, 2, 0, 2))});
    // 4x4 padded to 5x7 values: the same top and left, the rest on the right or below.
    check_in_turn(Shape::image(4, 4, 1), {nndl::Conv2D<Scalar>(Shape::image(4, 4, 1), 3, Window(2), Stride(1),
                                                               Padding::amounts(1, 0, 1, 2)),
                                          nndl::Conv2D<Scalar>(Shape::image(4, 4, 1), 3, Window(2), Stride(1),
                                                               Padding::amounts(1, 2, 1, 0))});
    // 6x6 'same' with 3x4 and 4x3 windows: 8x9 and 9x8 values.
    check_in_turn(Shape::image(6, 6, 1), {nndl::Conv2D<Scalar>(Shape::image(6, 6, 1), 5, Window(3, 4), Stride(1),
                                                               Padding::same()),
                                          nndl::Conv2D<Scalar>(Shape::image(6, 6, 1), 5, Window(4, 3), Stride(1),
                                                               Padding::same())});
}

TEST_CASE_TEMPLATE("Conv2D inference in blocks that start inside an example and inside a row", Scalar, float,
                   double) {
    // 27x27 positions, 9 values a window: blocks of 3640 columns start 22 columns into a row.
    nndl::NumpyRandom random(8);
    for (const nndl::Index stride : {1, 2}) {
        CAPTURE(stride);
        nndl::Conv2D<Scalar> conv(Shape::image(27 * stride, 27 * stride, 1), 8, Window(3), Stride(stride),
                                  Padding::same());
        conv.weights() = random.randn<Scalar>(8, 9);
        conv.bias() = random.randn<Scalar>(8, 1);
        const Matrix<Scalar> x = random.randn<Scalar>(conv.input_size(), 11);
        const Matrix<Scalar> expected = conv_inference_test::plain_convolution(conv, x);
        const conv_inference_test::KeepKernelIsa keep;
        for (const auto isa : nndl::detail::runnable_kernel_isas()) {
            CAPTURE(nndl::detail::to_string(isa));
            nndl::detail::kernel_isa() = isa;
            Matrix<Scalar> inferred;
            conv.infer(x, inferred);
            CHECK(conv_inference_test::relative_difference(inferred, expected) <= 1e-5);
        }
        CHECK(conv_inference_test::relative_difference(conv.forward(x, nndl::Mode::training), expected) <= 1e-5);
    }
}

TEST_CASE_TEMPLATE("Conv2D: a padding far larger than the image is lowered without a padded copy of it", Scalar,
                   float, double) {
    // Padded, the 1x1 image would hold 2^32 values; the convolution has 2x2 positions.
    const nndl::Index far = nndl::Index(1) << 15;
    nndl::Conv2D<Scalar> conv(Shape::image(1, 1, 1), 2, Window(3), Stride(far), Padding::uniform(far));
    nndl::NumpyRandom random(6);
    conv.weights() = random.randn<Scalar>(2, 9);
    conv.bias() = random.randn<Scalar>(2, 1);
    const Matrix<Scalar> x = random.rand<Scalar>(1, 4);
    Matrix<Scalar> inferred;
    conv.infer(x, inferred);
    CHECK(inferred.rows() == 2 * 4);
    CHECK(conv_inference_test::relative_difference(inferred, conv_inference_test::plain_convolution(conv, x)) <=
          1e-6);
}

TEST_CASE_TEMPLATE("fused inference (convolution, batch norm, activation, pooling in one pass) equals the layers one "
                   "by one",
                   Scalar, float, double) {
    using conv_inference_test::relative_difference;
    nndl::NumpyRandom random(32);
    const double limit = std::is_same_v<Scalar, float> ? 1e-5 : 1e-12;
    int nan_checks = 0;
    for (int trial = 0; trial < 24; ++trial) {
        CAPTURE(trial);
        // Mostly windows read in place; every fourth trial window rows of 66-72 values (lowered
        // to patches, then nndl's kernel where the filters are few).
        const nndl::Index channels = trial % 4 == 2 ? 22 + random.below(3) : 1 + random.below(3);
        const nndl::Index filters = trial % 2 == 0 ? 16 : 1 + random.below(60);
        nndl::Network<Scalar> net(Shape::image(9, 8, channels));
        auto conv = std::make_unique<nndl::Conv2D<Scalar>>(net.output_shape(), filters, Window(3), Stride(1 + trial % 2),
                                                           Padding::same(),
                                                           trial % 3 == 0 ? Activation::identity : Activation::relu);
        conv->weights() = random.randn<Scalar>(filters, conv->fan_in());
        conv->bias() = random.randn<Scalar>(filters, 1);
        net.add(std::move(conv));
        if (trial % 4 != 1) {  // the running statistics a training run leaves
            auto norm = std::make_unique<nndl::BatchNorm<Scalar>>(net.output_shape());
            *norm->state()[0].value = random.randn<Scalar>(filters, 1);
            *norm->state()[1].value = random.rand<Scalar>(filters, 1).array() + Scalar(0.5);
            *norm->parameters()[0].value = random.randn<Scalar>(filters, 1);
            *norm->parameters()[1].value = random.randn<Scalar>(filters, 1);
            net.add(std::move(norm));
        }
        if (trial % 3 == 0) {
            const Activation after[] = {Activation::relu, Activation::tanh, Activation::sigmoid, Activation::leaky_relu};
            net.add(nndl::make_activation_layer<Scalar>(net.output_shape(), after[trial / 3 % 4]));
        }
        if (trial % 5 != 2) {
            const Shape image = net.output_shape();
            net.add(trial % 3 == 0   ? nndl::make_max_pool<Scalar>(image, Window(2), Stride(2))
                    : trial % 3 == 1 ? nndl::make_max_pool<Scalar>(image, Window(3), Stride(2), Padding::same())
                                     : nndl::make_avg_pool<Scalar>(image, Window(3), Stride(2), Padding::same()));
        }
        net.add_dense(3, Activation::softmax, {nndl::Init::he}, random);
        const Matrix<Scalar> x = random.randn<Scalar>(net.input_size(), trial % 4 == 0 ? 1 : 37);
        Matrix<Scalar> current = x;
        for (std::size_t k = 0; k < net.depth(); ++k) {  // each layer's own inference, unfused
            Matrix<Scalar> next;
            net.layer(k).infer(current, next);
            current = next;
        }
        CHECK(relative_difference(net.predict_proba(x), current) <= limit);
        if (trial % 6 == 5) {  // a NaN reaches the same outputs either way (the network refuses it as input)
            Matrix<Scalar> with_nan = x;
            with_nan(3, 0) = std::numeric_limits<Scalar>::quiet_NaN();
            Matrix<Scalar> unfused;
            net.layer(0).infer(with_nan, unfused);
            std::vector<const nndl::Layer<Scalar>*> next;
            for (std::size_t k = 1; k < net.depth(); ++k) {
                next.push_back(&net.layer(k));
            }
            const auto& conv = dynamic_cast<const nndl::Conv2D<Scalar>&>(net.layer(0));
            const std::size_t fused = conv.fusable_layers(next);
            if (fused == 0) {
                continue;
            }
            ++nan_checks;
            for (std::size_t k = 1; k <= fused; ++k) {
                Matrix<Scalar> out;
                net.layer(k).infer(unfused, out);
                unfused = out;
            }
            Matrix<Scalar> together;
            conv.infer_with(with_nan, next, fused, together);
            CHECK((together.array().isNaN() == unfused.array().isNaN()).all());
            CHECK(together.array().isNaN().any());
            CHECK(relative_difference(Matrix<Scalar>(together.array().isNaN().select(0, together)),
                                      Matrix<Scalar>(unfused.array().isNaN().select(0, unfused))) <= limit);
        }
    }
    CHECK(nan_checks >= 2);
    // The fusion reads the layers, it changes nothing in them.
    nndl::Network<Scalar> net(Shape::image(4, 4, 1));
    net.add(std::make_unique<nndl::Conv2D<Scalar>>(net.output_shape(), 2, Window(3), Stride(1), Padding::same(),
                                                   Activation::relu));
    net.add(std::make_unique<nndl::BatchNorm<Scalar>>(net.output_shape()));
    *net.state()[1].value = Matrix<Scalar>::Constant(2, 1, Scalar(4));
    const auto copies = [&] {
        std::vector<Matrix<Scalar>> values;
        for (const auto& p : net.parameters()) {
            values.push_back(*p.value);
        }
        for (const auto& b : net.state()) {
            values.push_back(*b.value);
        }
        return values;
    };
    const auto before = copies();
    (void)net.predict_proba(random.randn<Scalar>(16, 3));
    CHECK(copies() == before);
}
