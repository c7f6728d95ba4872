// ONNX in and out: hand-built models with values worked out by hand, bit-exact round
// trips through save_onnx/load_onnx, a gradient check of an imported network, external
// data, and every refusal naming the node, its operator and what nndl supports.
// (Real consumers, onnx's checker, OpenCV and PyTorch, are the tests onnx_export_* and
// onnx_pytorch_*, driven by tools/onnx_check_exports.py and tools/onnx_pytorch_models.py.)

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

#include <doctest/doctest.h>

#include <nndl/all.hpp>
#include <nndl/io/onnx.hpp>

#include "../fuzz/fuzz_onnx_target.hpp"
#include "exportable_layer.hpp"
#include "scale_layer.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using nndl::Activation;
using nndl::Matrix;
using nndl::Padding;
using nndl::Shape;
using nndl::Stride;
using nndl::Window;

namespace {

/// Builds small ONNX models by hand, the way a converter would write them.
struct ModelBuilder {
    onnx::ModelProto model;
    onnx::GraphProto& graph;

    explicit ModelBuilder(const std::vector<std::int64_t>& input_dims, int opset = 13,
                          int element_type = onnx::TensorProto::FLOAT)
        : graph(*model.mutable_graph()) {
        model.set_ir_version(8);
        auto& op = *model.add_opset_import();
        op.set_domain("");
        op.set_version(opset);
        auto& in = *graph.add_input();
        in.set_name("x");
        auto& tensor = *in.mutable_type()->mutable_tensor_type();
        tensor.set_elem_type(element_type);
        tensor.mutable_shape()->add_dim()->set_dim_param("N");
        for (const auto d : input_dims) {
            tensor.mutable_shape()->add_dim()->set_dim_value(d);
        }
    }

    static void fill(onnx::TensorProto& t, const std::string& name, const std::vector<std::int64_t>& dims,
                     const std::vector<float>& values) {
        t.set_name(name);
        t.set_data_type(onnx::TensorProto::FLOAT);
        for (const auto d : dims) {
            t.add_dims(d);
        }
        for (const float v : values) {
            t.add_float_data(v);
        }
    }
    void initializer(const std::string& name, const std::vector<std::int64_t>& dims, const std::vector<float>& values) {
        fill(*graph.add_initializer(), name, dims, values);
    }
    /// The same, stored as raw little-endian bytes (what PyTorch writes).
    void raw_initializer(const std::string& name, const std::vector<std::int64_t>& dims,
                         const std::vector<float>& values) {
        auto& t = *graph.add_initializer();
        fill(t, name, dims, {});
        std::string bytes(values.size() * 4, '\0');
        std::memcpy(bytes.data(), values.data(), bytes.size());
        t.set_raw_data(bytes);
    }
    onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs, const std::string& output) {
        auto& n = *graph.add_node();
        n.set_op_type(op);
        n.set_name(op + "_" + std::to_string(graph.node_size()));
        for (const auto& i : inputs) {
            n.add_input(i);
        }
        n.add_output(output);
        return n;
    }
    static void attribute(onnx::NodeProto& n, const std::string& name, std::int64_t value) {
        auto& a = *n.add_attribute();
        a.set_name(name);
        a.set_type(onnx::AttributeProto::INT);
        a.set_i(value);
    }
    static void attribute(onnx::NodeProto& n, const std::string& name, float value) {
        auto& a = *n.add_attribute();
        a.set_name(name);
        a.set_type(onnx::AttributeProto::FLOAT);
        a.set_f(value);
    }
    static void attribute(onnx::NodeProto& n, const std::string& name, const std::vector<std::int64_t>& values) {
        auto& a = *n.add_attribute();
        a.set_name(name);
        a.set_type(onnx::AttributeProto::INTS);
        for (const auto v : values) {
            a.add_ints(v);
        }
    }
    /// A 1-D int64 initializer (shapes, axes, pads).
    void int64_initializer(const std::string& name, const std::vector<std::int64_t>& values) {
        auto& t = *graph.add_initializer();
        t.set_name(name);
        t.set_data_type(onnx::TensorProto::INT64);
        t.add_dims(static_cast<std::int64_t>(values.size()));
        for (const auto v : values) {
            t.add_int64_data(v);
        }
    }
    static void attribute(onnx::NodeProto& n, const std::string& name, const std::string& value) {
        auto& a = *n.add_attribute();
        a.set_name(name);
        a.set_type(onnx::AttributeProto::STRING);
        a.set_s(value);
    }
    void output(const std::string& name) { graph.add_output()->set_name(name); }

    template <class Scalar = double>
    nndl::Network<Scalar> load() const {
        const std::string bytes = model.SerializeAsString();
        return nndl::network_from_onnx_bytes<Scalar>(bytes.data(), bytes.size(), "built");
    }
};

fs::path temporary(const std::string& name) {
    return fs::temp_directory_path() / ("nndl_test_onnx_" + std::to_string(::getpid()) + "_" + name);
}

template <class Scalar>
Matrix<Scalar> uniform(nndl::NumpyRandom& random, nndl::Index rows, nndl::Index cols) {
    return random.rand<Scalar>(rows, cols);
}

/// A CNN with every image layer save_onnx writes: padded conv, batch norm with trained
/// statistics, max and padded average pooling, leaky ReLU, global average pooling.
template <class Scalar>
nndl::Network<Scalar> small_cnn(nndl::NumpyRandom& random) {
    nndl::Network<Scalar> net(Shape::image(7, 6, 2));
    auto conv = std::make_unique<nndl::Conv2D<Scalar>>(net.output_shape(), 3, Window(3, 2), Stride(1), Padding::same(),
                                                       Activation::relu);
    conv->weights() = random.randn<Scalar>(3, conv->fan_in());
    conv->bias() = random.randn<Scalar>(3, 1);
    net.add(std::move(conv));
    auto norm = std::make_unique<nndl::BatchNorm<Scalar>>(net.output_shape(), 0.1, 1e-3);
    for (const auto& p : norm->parameters()) {
        *p.value = random.randn<Scalar>(3, 1);
    }
    *norm->state()[0].value = random.randn<Scalar>(3, 1);
    *norm->state()[1].value = uniform<Scalar>(random, 3, 1).array() + Scalar(0.5);
    net.add(std::move(norm));
    net.add(nndl::make_max_pool<Scalar>(net.output_shape(), Window(2), Stride(2)));
    auto conv2 = std::make_unique<nndl::Conv2D<Scalar>>(net.output_shape(), 4, Window(2), Stride(1, 2),
                                                        Padding::amounts(1, 0, 0, 1), Activation::leaky_relu);
    conv2->weights() = random.randn<Scalar>(4, conv2->fan_in());
    conv2->bias() = random.randn<Scalar>(4, 1);
    net.add(std::move(conv2));
    net.add(nndl::make_avg_pool<Scalar>(net.output_shape(), Window(2), Stride(1), Padding::amounts(0, 1, 1, 0)));
    net.add_activation(Activation::tanh);
    net.add_dense(5, Activation::softmax, {nndl::Init::xavier}, random);  // flat after an image
    return net;
}

template <class Scalar>
void check_same_network(nndl::Network<Scalar>& a, nndl::Network<Scalar>& b, const Matrix<Scalar>& x) {
    REQUIRE(a.depth() == b.depth());
    CHECK(a.input_shape() == b.input_shape());
    for (std::size_t l = 0; l < a.depth(); ++l) {
        CAPTURE(l);
        CHECK(a.layer(l).type() == b.layer(l).type());
        CHECK(a.layer(l).settings() == b.layer(l).settings());
        CHECK(a.layer(l).output_shape() == b.layer(l).output_shape());
    }
    const auto pa = a.parameters();
    const auto pb = b.parameters();
    REQUIRE(pa.size() == pb.size());
    for (std::size_t i = 0; i < pa.size(); ++i) {
        CHECK(*pa[i].value == *pb[i].value);
    }
    const auto sa = a.state();
    const auto sb = b.state();
    REQUIRE(sa.size() == sb.size());
    for (std::size_t i = 0; i < sa.size(); ++i) {
        CHECK(*sa[i].value == *sb[i].value);
    }
    CHECK(a.predict_proba(x) == b.predict_proba(x));
}

template <class Scalar>
nndl::OnnxExportOptions exact_options() {
    nndl::OnnxExportOptions options;
    options.precision = std::is_same_v<Scalar, float> ? nndl::OnnxPrecision::float32 : nndl::OnnxPrecision::float64;
    return options;
}

}  // namespace

TEST_CASE("known values: MatMul + Add, a Constant, Identity, Relu, Gemm with transB and Sigmoid, worked out by hand") {
    ModelBuilder b({2});
    auto& constant = b.node("Constant", {}, "w1");
    auto& value = *constant.add_attribute();
    value.set_name("value");
    value.set_type(onnx::AttributeProto::TENSOR);
    ModelBuilder::fill(*value.mutable_t(), "w1", {2, 3}, {1, 2, 3, 4, 5, 6});  // [inputs, units]
    b.raw_initializer("b1", {3}, {0.5f, -10.0f, 1.0f});
    b.initializer("w2", {1, 3}, {1.0f, -1.0f, 0.5f});
    b.initializer("b2", {1}, {0.25f});
    b.node("MatMul", {"x", "w1"}, "z1");
    b.node("Add", {"z1", "b1"}, "z1b");
    b.node("Relu", {"z1b"}, "a1");
    b.node("Identity", {"a1"}, "a1i");
    ModelBuilder::attribute(b.node("Gemm", {"a1i", "w2", "b2"}, "z2"), "transB", std::int64_t(1));
    b.node("Sigmoid", {"z2"}, "y");
    b.output("y");
    auto net = b.load<double>();
    REQUIRE(net.depth() == 2);  // the activations join their dense layers
    CHECK(net.layer(0).settings().text("activation") == "relu");
    CHECK(net.layer(1).settings().text("activation") == "sigmoid");
    CHECK(net.loss().name() == "BinaryCrossEntropy");
    // x = (1, 1): z1 = (1 + 4 + 0.5, 2 + 5 - 10, 3 + 6 + 1) = (5.5, -3, 10); relu: (5.5, 0, 10);
    // z2 = 5.5 - 0 + 5 + 0.25 = 10.75.  x = (0, -1): relu(z1) = 0, z2 = 0.25.
    const Matrix<double> x = nndl_test::rows<double>({{1, 0}, {1, -1}});
    const Matrix<double> y = net.predict_proba(x);
    CHECK(y(0, 0) == doctest::Approx(1.0 / (1.0 + std::exp(-10.75))).epsilon(1e-15));
    CHECK(y(0, 1) == doctest::Approx(1.0 / (1.0 + std::exp(-0.25))).epsilon(1e-15));
}

TEST_CASE("known values: NCHW Conv weights and a channel-major Flatten are reordered into nndl's image columns") {
    // A 1x1 convolution that copies both channels, then Flatten (channel-major) and a Gemm
    // with weights 1..8. nndl's column holds (h, w, c) = 1..8 in that order, so ONNX's
    // flattened tensor is (1, 3, 5, 7, 2, 4, 6, 8) and the output 1*1 + 2*3 + 3*5 + 4*7 +
    // 5*2 + 6*4 + 7*6 + 8*8 = 190.
    ModelBuilder b({2, 2, 2});
    b.initializer("k", {2, 2, 1, 1}, {1, 0, 0, 1});
    b.initializer("w", {1, 8}, {1, 2, 3, 4, 5, 6, 7, 8});
    b.node("Conv", {"x", "k"}, "c");
    ModelBuilder::attribute(b.node("Flatten", {"c"}, "f"), "axis", std::int64_t(1));
    ModelBuilder::attribute(b.node("Gemm", {"f", "w"}, "y"), "transB", std::int64_t(1));
    b.output("y");
    auto net = b.load<double>();
    CHECK(net.input_shape() == Shape::image(2, 2, 2));
    Matrix<double> x(8, 1);
    x << 1, 2, 3, 4, 5, 6, 7, 8;
    CHECK(net.predict_proba(x)(0, 0) == 190.0);
}

TEST_CASE("known values: Sub and Div after a channel-major Flatten act on the features ONNX names") {
    // Input [C=2, H=1, W=2]. nndl's column (1, 2, 3, 4) holds (h, w, c) = (0,0,0), (0,0,1),
    // (0,1,0), (0,1,1); ONNX's flattened tensor is channel-major: (1, 3, 2, 4). Then
    // (f - (10, 20, 30, 40)) / (1, 2, 4, 8) = (-9, -8.5, -7, -4.5), and a Gemm with the
    // identity keeps ONNX's order.
    ModelBuilder b({2, 1, 2});
    b.initializer("c", {4}, {10, 20, 30, 40});
    b.initializer("s", {1, 4}, {1, 2, 4, 8});
    b.initializer("w", {4, 4}, {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1});
    ModelBuilder::attribute(b.node("Flatten", {"x"}, "f"), "axis", std::int64_t(1));
    b.node("Sub", {"f", "c"}, "centered");
    b.node("Div", {"centered", "s"}, "scaled");
    ModelBuilder::attribute(b.node("Gemm", {"scaled", "w"}, "y"), "transB", std::int64_t(1));
    b.output("y");
    auto net = b.load<double>();
    REQUIRE(net.depth() == 2);  // the Div completed the Sub's layer
    CHECK(net.layer(0).type() == "normalization");
    Matrix<double> x(4, 1);
    x << 1, 2, 3, 4;
    Matrix<double> expected(4, 1);
    expected << -9, -8.5, -7, -4.5;
    CHECK(net.predict_proba(x) == expected);
}

TEST_CASE_TEMPLATE("round trip: save_onnx then load_onnx rebuilds the same layers, bit for bit", Scalar, float, double) {
    nndl::NumpyRandom random(3);
    SUBCASE("a CNN with batch norm, both poolings and a dense softmax") {
        auto net = small_cnn<Scalar>(random);
        const fs::path path = temporary("cnn.onnx");
        nndl::save_onnx(net, path, exact_options<Scalar>());
        auto loaded = nndl::load_onnx<Scalar>(path);
        fs::remove(path);
        check_same_network(net, loaded, random.randn<Scalar>(net.input_size(), 6));
    }
    SUBCASE("an MLP with every activation; dropout is left out") {
        nndl::Network<Scalar> net(Shape(6));
        net.add_dense(5, Activation::leaky_relu, {nndl::Init::he}, random);
        net.add_dropout(0.8);
        net.add_dense(4, Activation::tanh, {nndl::Init::he}, random);
        net.add_dense(4, Activation::relu, {nndl::Init::he}, random);
        net.add_dense(3, Activation::identity, {nndl::Init::he}, random);
        net.add(std::make_unique<nndl::BatchNorm<Scalar>>(net.output_shape()));
        net.add_activation(Activation::sigmoid);
        const Matrix<Scalar> x = random.randn<Scalar>(6, 5);
        const fs::path path = temporary("mlp.onnx");
        nndl::save_onnx(net, path, exact_options<Scalar>());
        auto loaded = nndl::load_onnx<Scalar>(path);
        fs::remove(path);
        CHECK(loaded.depth() == net.depth() - 1);
        CHECK(loaded.predict_proba(x) == net.predict_proba(x));
    }
    SUBCASE("augmentation first (RandomShiftFlip) is left out, the CNN after it kept") {
        nndl::Network<Scalar> net(Shape::image(6, 6, 1));
        net.add(std::make_unique<nndl::RandomShiftFlip<Scalar>>(net.output_shape(), 1, true, 5));
        auto conv = std::make_unique<nndl::Conv2D<Scalar>>(net.output_shape(), 3, Window(3), Stride(1),
                                                           nndl::Padding::same(), Activation::relu);
        conv->weights() = random.randn<Scalar>(3, 9);
        net.add(std::move(conv));
        net.add_dense(2, Activation::softmax, {nndl::Init::he}, random);
        const Matrix<Scalar> x = random.randn<Scalar>(36, 4);
        const fs::path path = temporary("augmented.onnx");
        nndl::save_onnx(net, path, exact_options<Scalar>());
        auto loaded = nndl::load_onnx<Scalar>(path);
        fs::remove(path);
        REQUIRE(loaded.depth() == 2);
        CHECK(loaded.layer(0).type() == "conv2d");
        CHECK(loaded.predict_proba(x) == net.predict_proba(x));
    }
    SUBCASE("scalers: a normalization layer first and an inverted one last") {
        const Matrix<Scalar> data = random.randn<Scalar>(4, 30) * Scalar(5);
        nndl::Network<Scalar> net(Shape(4));
        net.add(nndl::Scaler<Scalar>::standardize(data).layer());
        net.add_dense(3, Activation::relu, nndl::Init::he, random);
        net.add_dense(2, Activation::identity, nndl::Init::xavier, random);
        net.add(nndl::Scaler<Scalar>::min_max(random.randn<Scalar>(2, 10), -1.0, 1.0).inverse_layer());
        const Matrix<Scalar> x = random.randn<Scalar>(4, 5);
        const fs::path path = temporary("scalers.onnx");
        nndl::save_onnx(net, path, exact_options<Scalar>());
        auto loaded = nndl::load_onnx<Scalar>(path);
        fs::remove(path);
        REQUIRE(loaded.depth() == 4);
        CHECK(loaded.layer(0).type() == "normalization");
        CHECK(dynamic_cast<const nndl::Normalization<Scalar>&>(loaded.layer(3)).inverted());
        CHECK(loaded.predict(x) == net.predict(x));
    }
    SUBCASE("flat layers after an image: batch norm per feature in nndl's order") {
        nndl::Network<Scalar> net(Shape::image(3, 4, 2));
        net.add(nndl::make_max_pool<Scalar>(net.output_shape(), Window(1), Stride(1)));
        auto norm = std::make_unique<nndl::BatchNorm<Scalar>>(Shape(24));
        *norm->state()[0].value = random.randn<Scalar>(24, 1);
        *norm->parameters()[0].value = random.randn<Scalar>(24, 1);
        net.add(std::move(norm));
        net.add_dense(2, Activation::softmax, {nndl::Init::he}, random);
        const Matrix<Scalar> x = random.randn<Scalar>(24, 3);
        const fs::path path = temporary("flat.onnx");
        nndl::save_onnx(net, path, exact_options<Scalar>());
        auto loaded = nndl::load_onnx<Scalar>(path);
        fs::remove(path);
        CHECK(loaded.predict_proba(x) == net.predict_proba(x));
    }
    SUBCASE("an activation declared flat over an image, then a dense layer and the network's end") {
        // The ONNX tensor after the activation is still an image: the dense layer (and, at the
        // end, the final flatten) must take its values in nndl's order, not ONNX's.
        for (const bool dense_after : {true, false}) {
            CAPTURE(dense_after);
            nndl::Network<Scalar> net(Shape::image(3, 4, 2));
            auto conv = std::make_unique<nndl::Conv2D<Scalar>>(net.output_shape(), 3, Window(3), Stride(1),
                                                               Padding::same(), Activation::identity);
            conv->weights() = random.randn<Scalar>(3, conv->fan_in());
            net.add(std::move(conv));
            net.add(nndl::make_activation_layer<Scalar>(Shape(net.output_size()), Activation::tanh));
            if (dense_after) {
                net.add_dense(4, Activation::softmax, {nndl::Init::he}, random);
            }
            const Matrix<Scalar> x = random.randn<Scalar>(24, 3);
            const fs::path path = temporary("flat_activation.onnx");
            nndl::save_onnx(net, path, exact_options<Scalar>());
            auto loaded = nndl::load_onnx<Scalar>(path);
            fs::remove(path);
            CHECK(loaded.output_size() == net.output_size());
            CHECK(loaded.predict_proba(x) == net.predict_proba(x));
        }
    }
}

TEST_CASE_TEMPLATE("round trip: a graph (residual block, strided shortcut, concatenation, gate) bit for bit", Scalar,
                   float, double) {
    nndl::NumpyRandom random(8);
    nndl::Network<Scalar> net(Shape::image(6, 6, 2));
    nndl::Graph<Scalar> g(net.input_shape());
    const auto conv = [&](typename nndl::Graph<Scalar>::Node from, nndl::Index filters, nndl::Index stride,
                          Activation activation) {
        auto layer = std::make_unique<nndl::Conv2D<Scalar>>(g.shape(from), filters, Window(3), Stride(stride),
                                                            Padding::same(), activation);
        layer->weights() = random.randn<Scalar>(filters, layer->fan_in()) * Scalar(0.3);
        layer->bias() = random.randn<Scalar>(filters, 1);
        return g.add(std::move(layer), from);
    };
    const auto x = g.input();
    auto y = conv(conv(x, 2, 1, Activation::relu), 2, 1, Activation::identity);
    auto norm = std::make_unique<nndl::BatchNorm<Scalar>>(g.shape(y), 0.1, 1e-3);
    *norm->state()[0].value = random.randn<Scalar>(2, 1);
    y = g.add(std::move(norm), y);
    y = g.add(nndl::make_activation_layer<Scalar>(g.shape(y), Activation::relu), g.template merge<nndl::Add>({y, x}));
    const auto down = g.template merge<nndl::Add>({conv(y, 3, 2, Activation::identity), conv(y, 3, 2, Activation::tanh)});
    const auto pooled = g.add(nndl::make_max_pool<Scalar>(g.shape(y), Window(2), Stride(2)), y);
    const auto joined = g.template merge<nndl::Concatenate>({down, pooled});
    g.template merge<nndl::Multiply>({joined, conv(joined, 5, 1, Activation::sigmoid)});
    net.add(std::make_unique<nndl::Graph<Scalar>>(std::move(g)));
    net.add_dense(3, Activation::softmax, {nndl::Init::he}, random);

    const fs::path path = temporary("graph.onnx");
    nndl::save_onnx(net, path, exact_options<Scalar>());
    auto loaded = nndl::load_onnx<Scalar>(path);
    fs::remove(path);
    REQUIRE(loaded.depth() == 2);  // the dense layer after the last merge follows the graph
    CHECK(loaded.layer(1).type() == "dense");
    const auto* graph = dynamic_cast<const nndl::Graph<Scalar>*>(&loaded.layer(0));
    REQUIRE(graph != nullptr);
    std::size_t merges = 0;
    for (std::size_t i = 0; i < graph->size(); ++i) {
        merges += graph->merge_layer(typename nndl::Graph<Scalar>::Node{i}) != nullptr ? 1 : 0;
    }
    CHECK(merges == 4u);
    const Matrix<Scalar> input = random.randn<Scalar>(net.input_size(), 5);
    CHECK(loaded.predict_proba(input) == net.predict_proba(input));
}

TEST_CASE_TEMPLATE("round trip: a graph of flat input after an image, and one ending in softmax", Scalar, float,
                   double) {
    nndl::NumpyRandom random(14);
    nndl::Network<Scalar> net(Shape::image(3, 3, 2));
    auto conv = std::make_unique<nndl::Conv2D<Scalar>>(net.output_shape(), 2, Window(3), Stride(1), Padding::same(),
                                                       Activation::relu);
    conv->weights() = random.randn<Scalar>(2, conv->fan_in());
    net.add(std::move(conv));
    // A residual MLP block on the image's 18 values (taken in nndl's order), then a softmax head.
    nndl::Graph<Scalar> g(Shape(18));
    auto hidden = nndl::make_dense<Scalar>(18, 18, Activation::tanh);
    *hidden->parameters()[0].value = random.randn<Scalar>(18, 18) * Scalar(0.3);
    const auto h = g.add(std::move(hidden), g.input());
    const auto sum = g.template merge<nndl::Add>({h, g.input()});
    auto head = nndl::make_dense<Scalar>(18, 3, Activation::softmax);
    *head->parameters()[0].value = random.randn<Scalar>(3, 18);
    g.add(std::move(head), sum);
    net.add(std::make_unique<nndl::Graph<Scalar>>(std::move(g)));
    CHECK(net.is_classifier());  // the graph ends with a softmax layer
    const fs::path path = temporary("flat_graph.onnx");
    nndl::save_onnx(net, path, exact_options<Scalar>());
    auto loaded = nndl::load_onnx<Scalar>(path);
    fs::remove(path);
    const Matrix<Scalar> x = random.randn<Scalar>(18, 4);
    CHECK(loaded.predict_proba(x) == net.predict_proba(x));
    CHECK(loaded.predict(x) == net.predict(x));
}

TEST_CASE_TEMPLATE("round trip: Upsample2D as ONNX's Resize (nearest), bit for bit; other resizes are refused", Scalar,
                   float, double) {
    nndl::NumpyRandom random(12);
    nndl::Network<Scalar> net(Shape::image(3, 3, 2));
    net.add(std::make_unique<nndl::Upsample2D<Scalar>>(net.output_shape(), 2, 3));
    net.add_dense(3, Activation::softmax, {nndl::Init::he}, random);
    const fs::path path = temporary("upsample.onnx");
    nndl::save_onnx(net, path, exact_options<Scalar>());
    auto loaded = nndl::load_onnx<Scalar>(path);
    fs::remove(path);
    REQUIRE(loaded.depth() == 2);
    CHECK(loaded.layer(0).type() == "upsample2d");
    CHECK(loaded.layer(0).settings() == net.layer(0).settings());
    const Matrix<Scalar> x = random.randn<Scalar>(18, 4);
    CHECK(loaded.predict_proba(x) == net.predict_proba(x));

    const auto resize = [](const std::string& mode, const std::vector<float>& scales) {
        ModelBuilder b({1, 2, 2});
        b.initializer("scales", {4}, scales);
        auto& node = b.node("Resize", {"x", "", "scales"}, "y");
        ModelBuilder::attribute(node, "mode", mode);
        ModelBuilder::attribute(node, "coordinate_transformation_mode", std::string("asymmetric"));
        ModelBuilder::attribute(node, "nearest_mode", std::string("floor"));
        b.output("y");
        return nndl_test::message_of<nndl::InvalidArgument>([&] { (void)b.load(); });
    };
    CHECK(resize("nearest", {1, 1, 2, 2}).empty());
    CHECK(resize("linear", {1, 1, 2, 2}).find("resizes with mode 'linear'") != std::string::npos);
    CHECK(resize("nearest", {1, 1, 1.5f, 2}).find("resizes by factors 1, 1, 1.5, 2; nndl reads whole factors") !=
          std::string::npos);
    CHECK(resize("nearest", {1, 2, 2, 2}).find("resizes by factors 1, 2, 2, 2") != std::string::npos);
    ModelBuilder three_scales({1, 2, 2});
    three_scales.initializer("scales", {3}, {1, 2, 2});
    three_scales.node("Resize", {"x", "", "scales"}, "y");
    three_scales.output("y");
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { (void)three_scales.load(); })
              .find("has scales of another shape than [4]") != std::string::npos);

    // Sizes instead of scales, after an empty scales tensor (what torch.onnx.export writes for
    // a size): the factors are the sizes over the input's.
    const auto sized = [](const std::vector<std::int64_t>& sizes, bool integer_sizes) {
        auto built = std::make_unique<ModelBuilder>(std::vector<std::int64_t>{2, 3, 2});  // C, H, W
        ModelBuilder& b = *built;
        b.initializer("empty", {0}, {});
        if (integer_sizes) {
            b.int64_initializer("sizes", sizes);
        } else {
            b.initializer("sizes", {static_cast<std::int64_t>(sizes.size())},
                          std::vector<float>(sizes.begin(), sizes.end()));
        }
        auto& node = b.node("Resize", {"x", "", "empty", "sizes"}, "y");
        ModelBuilder::attribute(node, "mode", std::string("nearest"));
        b.output("y");
        return built;
    };
    const auto up = sized({1, 2, 6, 6}, true)->template load<Scalar>();
    REQUIRE(up.depth() == 1);
    CHECK(up.layer(0).settings() == nndl::Settings().set("factor", std::vector<long long>{2, 3}));
    const auto error = [](const ModelBuilder& b) {
        return nndl_test::message_of<nndl::InvalidArgument>([&] { (void)b.template load<Scalar>(); });
    };
    CHECK(error(*sized({1, 2, 6}, true)).find("has sizes of another shape than [4]") != std::string::npos);
    CHECK(error(*sized({1, 2, 6, 6}, false)).find("input 4") != std::string::npos);  // sizes are int64
    CHECK(error(*sized({1, 2, 5, 6}, true)).find("resizes by factors 1, 1, 1.66667, 3") != std::string::npos);
    ModelBuilder neither({1, 2, 2});
    neither.node("Resize", {"x"}, "y");
    neither.output("y");
    CHECK(error(neither).find("has neither constant scales nor constant sizes") != std::string::npos);
    ModelBuilder number_mode({1, 2, 2});
    number_mode.initializer("scales", {4}, {1, 1, 2, 2});
    ModelBuilder::attribute(number_mode.node("Resize", {"x", "", "scales"}, "y"), "mode", std::int64_t{0});
    number_mode.output("y");
    CHECK(error(number_mode).find("attribute 'mode' is not a string") != std::string::npos);
    // GlobalAveragePool reads images only.
    ModelBuilder flat({4});
    flat.node("GlobalAveragePool", {"x"}, "y");
    flat.output("y");
    CHECK(error(flat).find("GlobalAveragePool) needs a [batch, channels, height, width] input") != std::string::npos);
}

TEST_CASE("the layers' ONNX importers: one per operator; a null layer and a negative input are refused by node") {
    CHECK_FALSE(nndl::detail::register_onnx_importer({"Resize", {}, {}}));  // Upsample2D's stays
    CHECK(nndl::detail::onnx_importer<double>("Resize"));
    const nndl::OnnxImporter<double> nothing = [](const nndl::OnnxNodeReader&) {
        return std::unique_ptr<nndl::Layer<double>>();
    };
    const nndl::OnnxImporter<double> negative = [](const nndl::OnnxNodeReader& node) {
        std::vector<std::int64_t> dims;
        (void)node.constant_dims(-1, dims);
        return std::unique_ptr<nndl::Layer<double>>();
    };
    CHECK(nndl::detail::register_onnx_importer({"NndlTestNothing", {}, nothing}));
    CHECK(nndl::detail::register_onnx_importer({"NndlTestNegative", {}, negative}));
    const auto error = [](const std::string& op) {
        ModelBuilder b({3});
        b.node(op, {"x"}, "y");
        b.output("y");
        return nndl_test::message_of<nndl::InvalidArgument>([&] { (void)b.load(); });
    };
    CHECK(error("NndlTestNothing").find("NndlTestNothing) was given no layer by the importer of its operator") !=
          std::string::npos);
    CHECK(error("NndlTestNegative").find("NndlTestNegative) is asked for input -1 by its importer") !=
          std::string::npos);
}

TEST_CASE("load_onnx of branching graphs: dangling inputs, cycles, dead branches and bad merges are refused") {
    const auto error = [](const ModelBuilder& b) {
        return nndl_test::message_of<nndl::InvalidArgument>([&] { (void)b.load(); });
    };
    {  // Add of the input and a tensor no node writes
        ModelBuilder b({3});
        b.node("Relu", {"x"}, "a");
        b.node("Add", {"a", "ghost"}, "y");
        b.output("y");
        CHECK(error(b).find("node 1 ('Add_2', Add) reads 'ghost', which is neither the input nor the output of a node "
                            "before it") != std::string::npos);
    }
    {  // a cycle: the Add reads what a later node writes from the Add's own output
        ModelBuilder b({3});
        b.node("Relu", {"x"}, "a");
        b.node("Add", {"a", "c"}, "b");
        b.node("Relu", {"b"}, "c");
        b.output("c");
        CHECK(error(b).find("reads 'c', which is neither the input nor the output of a node before it") !=
              std::string::npos);
    }
    {  // a branch that no output needs
        ModelBuilder b({3});
        b.node("Relu", {"x"}, "a");
        b.node("Sigmoid", {"x"}, "unused");
        b.node("Tanh", {"a"}, "y");
        b.output("y");
        CHECK(error(b).find("has a branch that leads to no output") != std::string::npos);
    }
    {  // a merge of images of different sizes, and a Concat along the height
        ModelBuilder b({1, 4, 4});
        b.initializer("w", {1, 1, 1, 1}, {2.0f});
        auto& conv = b.node("Conv", {"x", "w"}, "c");
        ModelBuilder::attribute(conv, "strides", std::vector<std::int64_t>{2, 2});
        b.node("Add", {"c", "x"}, "y");
        b.output("y");
        CHECK(error(b).find("cannot merge its inputs: Add::Add: input 2 is 4x4x1") != std::string::npos);
        ModelBuilder h({1, 4, 4});
        h.node("Relu", {"x"}, "a");
        ModelBuilder::attribute(h.node("Concat", {"a", "x"}, "y"), "axis", std::int64_t{2});
        h.output("y");
        CHECK(error(h).find("concatenates along axis 2") != std::string::npos);
    }
    {  // an image flattened in ONNX's order merged: refused (its entries are in another order than nndl's)
        ModelBuilder b({1, 2, 2});
        b.node("Flatten", {"x"}, "f");
        b.node("Relu", {"x"}, "r");
        b.node("Add", {"r", "f"}, "y");
        b.output("y");
        CHECK(error(b).find("an image flattened in ONNX's channel-major order before its Gemm") != std::string::npos);
    }
    {  // an image merged with a flat tensor of as many values
        ModelBuilder b({1, 1, 1});
        b.node("Flatten", {"x"}, "f");
        b.node("Relu", {"x"}, "r");
        b.node("Add", {"r", "f"}, "y");
        b.output("y");
        CHECK(error(b).find("one an image and one flat") != std::string::npos);
    }
    {  // a normalization begun on one branch is not completed by a Div on another (a review found it was)
        ModelBuilder b({4});
        b.initializer("c1", {4}, {1, 2, 3, 4});
        b.initializer("c2", {4}, {2, 2, 2, 2});
        b.node("Sub", {"x", "c1"}, "s");
        b.node("Div", {"x", "c2"}, "d");
        b.node("Add", {"s", "d"}, "y");
        b.output("y");
        auto net = b.load();
        Matrix<double> in(4, 1);
        in << 1, 1, 1, 1;
        Matrix<double> expected(4, 1);
        expected << 0.5, -0.5, -1.5, -2.5;  // (x - c1) + x / c2
        CHECK(net.predict_proba(in) == expected);
    }
    {  // ONNX's Add takes two inputs; Concat needs its axis
        ModelBuilder b({3});
        b.node("Relu", {"x"}, "a");
        b.node("Add", {"a", "x", "a"}, "y");
        b.output("y");
        CHECK(error(b).find("has 3 inputs and 1 outputs; Add takes at most 2 and 1") != std::string::npos);
        ModelBuilder c({3});
        c.node("Relu", {"x"}, "a");
        c.node("Concat", {"a", "x"}, "y");
        c.output("y");
        CHECK(error(c).find("has no 'axis' attribute, which Concat requires") != std::string::npos);
    }
    {  // the same graph as a file of nodes in order loads and computes x + relu(x)
        ModelBuilder b({4});
        b.node("Relu", {"x"}, "a");
        b.node("Add", {"a", "x"}, "y");
        b.output("y");
        auto net = b.load();
        Matrix<double> in(4, 1);
        in << -1, 2, -3, 4;
        Matrix<double> expected(4, 1);
        expected << -1, 4, -3, 8;
        CHECK(net.predict_proba(in) == expected);
    }
}

TEST_CASE_TEMPLATE("round trip: sequences through ONNX's LSTM, GRU and RNN operators, bit for bit", Scalar, float,
                   double) {
    nndl::NumpyRandom random(8);
    nndl::Network<Scalar> net(Shape::sequence(5, 3));
    net.add(std::make_unique<nndl::LSTM<Scalar>>(net.output_shape(), 4, true, 1));
    net.add(std::make_unique<nndl::GRU<Scalar>>(net.output_shape(), 3, true, 2));
    net.add_activation(Activation::tanh);
    net.add(std::make_unique<nndl::SequenceDense<Scalar>>(net.output_shape(), 4, Activation::relu));
    net.add(std::make_unique<nndl::SimpleRNN<Scalar>>(net.output_shape(), 3, true, 3));
    net.add(std::make_unique<nndl::SequenceDense<Scalar>>(net.output_shape(), 2, Activation::softmax));
    for (const auto& p : net.parameters()) {  // the layers start with small or zero weights
        *p.value = random.randn<Scalar>(p.value->rows(), p.value->cols());
    }
    const fs::path path = temporary("sequences.onnx");
    nndl::save_onnx(net, path, exact_options<Scalar>());
    auto loaded = nndl::load_onnx<Scalar>(path);
    fs::remove(path);
    check_same_network(net, loaded, random.randn<Scalar>(net.input_size(), 6));

    for (const char* kind : {"lstm", "gru", "simple_rnn"}) {
        CAPTURE(kind);
        nndl::Network<Scalar> one(Shape::sequence(4, 2));
        const std::string type = kind;
        if (type == "lstm") {
            one.add(std::make_unique<nndl::LSTM<Scalar>>(one.output_shape(), 3, false, 4));
        } else if (type == "gru") {
            one.add(std::make_unique<nndl::GRU<Scalar>>(one.output_shape(), 3, false, 4));
        } else {
            one.add(std::make_unique<nndl::SimpleRNN<Scalar>>(one.output_shape(), 3, false, 4));
        }
        one.add_dense(2, Activation::softmax, {nndl::Init::he}, random);
        for (const auto& p : one.parameters()) {
            *p.value = random.randn<Scalar>(p.value->rows(), p.value->cols());
        }
        nndl::save_onnx(one, path, exact_options<Scalar>());
        auto back = nndl::load_onnx<Scalar>(path);
        fs::remove(path);
        check_same_network(one, back, random.randn<Scalar>(one.input_size(), 5));
    }

    nndl::Network<Scalar> characters(Shape::sequence(6, 1));  // tokens: Reshape, Cast and Gather
    characters.add(std::make_unique<nndl::Embedding<Scalar>>(characters.output_shape(), 7, 3));
    characters.add(std::make_unique<nndl::LSTM<Scalar>>(characters.output_shape(), 4));
    characters.add(std::make_unique<nndl::SequenceDense<Scalar>>(characters.output_shape(), 7, Activation::softmax));
    for (const auto& p : characters.parameters()) {
        *p.value = random.randn<Scalar>(p.value->rows(), p.value->cols());
    }
    nndl::save_onnx(characters, path, exact_options<Scalar>());
    auto read = nndl::load_onnx<Scalar>(path);
    fs::remove(path);
    const Matrix<Scalar> tokens = (random.rand<Scalar>(6, 4) * Scalar(6.99)).array().floor().matrix();
    check_same_network(characters, read, tokens);
}

namespace {

/// [batch, steps, features] input "x" transposed to "t" ([steps, batch, features]), then a
/// recurrent node `op` of `units` reading it with weights W, R (and B) of `gates` blocks,
/// filled with `value`; its outputs "Y" and "Y_h".
onnx::NodeProto& recurrent_model(ModelBuilder& b, const std::string& op, std::int64_t gates, std::int64_t units,
                                 std::int64_t features, float value = 0.5f) {
    ModelBuilder::attribute(b.node("Transpose", {"x"}, "t"), "perm", std::vector<std::int64_t>{1, 0, 2});
    b.initializer("W", {1, gates * units, features}, std::vector<float>(gates * units * features, value));
    b.initializer("R", {1, gates * units, units}, std::vector<float>(gates * units * units, value));
    b.initializer("B", {1, 2 * gates * units}, std::vector<float>(2 * gates * units, 0.0f));
    auto& node = b.node(op, {"t", "W", "R", "B"}, "Y");
    node.add_output("Y_h");
    ModelBuilder::attribute(node, "hidden_size", units);
    if (op == "GRU") {
        ModelBuilder::attribute(node, "linear_before_reset", std::int64_t(1));
    }
    return node;
}

/// Gives recurrent node `rnn` (of recurrent_model) the start state `state` (initial_h).
void start_from(onnx::NodeProto& rnn, const std::string& state) {
    rnn.add_input("");  // no sequence_lens
    rnn.add_input(state);
}

/// Squeeze of Y's directions axis and a Transpose back to [batch, steps, units]: "out".
void every_step_out(ModelBuilder& b) {
    b.model.mutable_opset_import(0)->set_version(13);
    b.int64_initializer("axes", {1});
    b.node("Squeeze", {"Y", "axes"}, "s");
    ModelBuilder::attribute(b.node("Transpose", {"s"}, "out"), "perm", std::vector<std::int64_t>{1, 0, 2});
    b.output("out");
}

}  // namespace

TEST_CASE("known values: ONNX's RNN over time, y<t> = tanh(W x<t> + R y<t-1>), worked out by hand") {
    ModelBuilder b({3, 1});
    recurrent_model(b, "RNN", 1, 1, 1, 0.5f);
    every_step_out(b);
    auto net = b.load<double>();
    REQUIRE(net.depth() == 1);
    CHECK(net.layer(0).type() == "simple_rnn");
    CHECK(net.output_shape() == Shape::sequence(3, 1));
    const Matrix<double> x = nndl_test::rows<double>({{1.0}, {0.0}, {-2.0}});
    const double y1 = std::tanh(0.5 * 1.0);
    const double y2 = std::tanh(0.5 * y1);
    const double y3 = std::tanh(0.5 * -2.0 + 0.5 * y2);
    const Matrix<double> y = net.predict_proba(x);
    CHECK(y(0, 0) == doctest::Approx(y1).epsilon(1e-15));
    CHECK(y(1, 0) == doctest::Approx(y2).epsilon(1e-15));
    CHECK(y(2, 0) == doctest::Approx(y3).epsilon(1e-15));
}

TEST_CASE("load_onnx over sequences: what nndl's recurrent layers cannot compute is refused, naming the node") {
    const auto refusal = [](const ModelBuilder& b) {
        return nndl_test::message_of<nndl::InvalidArgument>([&] { b.load<double>(); });
    };
    const auto contains = [](const std::string& message, const std::string& words) {
        INFO(message);
        CHECK(message.find(words) != std::string::npos);
    };
    {
        ModelBuilder b({4, 2});
        b.initializer("W", {1, 12, 2}, std::vector<float>(24, 0.1f));
        b.initializer("R", {1, 12, 3}, std::vector<float>(36, 0.1f));
        ModelBuilder::attribute(b.node("LSTM", {"x", "W", "R"}, "Y"), "hidden_size", std::int64_t(3));
        b.output("Y");
        contains(refusal(b), "node 0 ('LSTM_1', LSTM) reads a [batch, steps, features] sequence; ONNX's recurrent "
                             "operators read [steps, batch, features]: Transpose it first (perm 1, 0, 2)");
    }
    {
        ModelBuilder b({4, 2});  // the weights of a GRU (three gates) given to an LSTM (four)
        auto& lstm = recurrent_model(b, "LSTM", 3, 3, 2);
        lstm.set_op_type("LSTM");
        every_step_out(b);
        contains(refusal(b), "LSTM) W has shape [1, 9, 2], expected [1, 12, 2]");
    }
    {
        ModelBuilder b({4, 2});
        ModelBuilder::attribute(recurrent_model(b, "LSTM", 4, 3, 2), "direction", std::string("bidirectional"));
        every_step_out(b);
        contains(refusal(b), "LSTM) runs in direction 'bidirectional'; nndl's recurrent layers run forward");
    }
    {
        ModelBuilder b({4, 2});
        auto& gru = recurrent_model(b, "GRU", 3, 3, 2);
        gru.mutable_attribute(1)->set_i(0);
        every_step_out(b);
        contains(refusal(b), "GRU) has linear_before_reset 0; nndl's GRU is PyTorch's form, linear_before_reset 1");
    }
    {
        ModelBuilder b({4, 2});
        auto& rnn = recurrent_model(b, "RNN", 1, 3, 2);
        auto& a = *rnn.add_attribute();
        a.set_name("activations");
        a.set_type(onnx::AttributeProto::STRINGS);
        a.add_strings("Relu");
        every_step_out(b);
        contains(refusal(b), "RNN) has activations other than Tanh, which nndl's layer computes");
    }
    {
        ModelBuilder b({4, 2});
        b.initializer("lengths", {1}, std::vector<float>{4.0f});
        auto& rnn = recurrent_model(b, "RNN", 1, 3, 2);
        rnn.add_input("lengths");
        every_step_out(b);
        contains(refusal(b), "RNN) gives sequence_lens; the sequences of an nndl batch share one length");
    }
    {
        ModelBuilder b({4, 2});
        b.initializer("h0", {1, 1, 3}, std::vector<float>{0.0f, 1.0f, 0.0f});
        start_from(recurrent_model(b, "RNN", 1, 3, 2), "h0");
        every_step_out(b);
        contains(refusal(b), "RNN) starts from 'h0', a state other than zeros");
    }
    {
        ModelBuilder b({4, 2});
        b.node("Shape", {"x"}, "shape");
        auto& fill = b.node("ConstantOfShape", {"shape"}, "ones");
        auto& value = *fill.add_attribute();
        value.set_name("value");
        value.set_type(onnx::AttributeProto::TENSOR);
        ModelBuilder::fill(*value.mutable_t(), "one", {1}, {1.0f});
        recurrent_model(b, "RNN", 1, 3, 2);
        every_step_out(b);
        contains(refusal(b), "ConstantOfShape) fills a tensor with a value other than 0");
    }
    {
        ModelBuilder b({4, 2});
        recurrent_model(b, "LSTM", 4, 3, 2);
        b.output("Y");
        contains(refusal(b), "ends with the outputs of node 1 ('LSTM_2', LSTM)");
    }
    {
        // An attack: zeros made from the input's shape, put beside a non-zero constant, are
        // not a zero state (the Concat was once taken for zeros: a silently wrong network).
        ModelBuilder b({4, 2});
        b.node("Shape", {"x"}, "shape");
        b.node("ConstantOfShape", {"shape"}, "zeros");
        b.initializer("ones", {1}, std::vector<float>{0.9f});
        ModelBuilder::attribute(b.node("Concat", {"zeros", "ones"}, "mixed"), "axis", std::int64_t(0));
        start_from(recurrent_model(b, "RNN", 1, 3, 2), "mixed");
        every_step_out(b);
        contains(refusal(b), "RNN) starts from 'mixed', a state other than zeros");
    }
    {
        // The shape of a zero state is numbers, not zeros.
        ModelBuilder b({4, 2});
        b.node("Shape", {"x"}, "shape");
        b.node("ConstantOfShape", {"shape"}, "zeros");
        b.node("Shape", {"zeros"}, "numbers");
        start_from(recurrent_model(b, "RNN", 1, 3, 2), "numbers");
        every_step_out(b);
        contains(refusal(b), "RNN) starts from 'numbers', a state other than zeros");
    }
    {
        ModelBuilder b({4, 2});  // refused before weights that size are read
        recurrent_model(b, "LSTM", 4, 3, 2).mutable_attribute(0)->set_i(5000);
        every_step_out(b);
        contains(refusal(b), "LSTM) has hidden_size 5000 over 2 features: more than 67108864 weights");
    }
    {
        // Free steps are built as one: a Reshape that writes a number of steps holds for
        // that number only, so it is refused (it loaded once, and differed on 6 steps).
        ModelBuilder b({4, 2});
        b.graph.mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_param(
            "steps");
        recurrent_model(b, "RNN", 1, 3, 2);
        b.int64_initializer("shape", {1, -1, 3});
        b.node("Reshape", {"Y", "shape"}, "s");
        ModelBuilder::attribute(b.node("Transpose", {"s"}, "out"), "perm", std::vector<std::int64_t>{1, 0, 2});
        b.output("out");
        contains(refusal(b), "Reshape) reshapes a sequence other than by dropping a recurrent operator's directions axis");
    }
    {
        ModelBuilder b({4, 2});
        recurrent_model(b, "GRU", 3, 3, 2);
        b.model.mutable_opset_import(0)->set_version(13);
        b.int64_initializer("axes", {1});
        b.node("Squeeze", {"Y", "axes"}, "s");
        b.output("s");
        contains(refusal(b), "ends with a sequence in [steps, batch, features] order");
    }
    {
        ModelBuilder b({4, 2});
        b.node("Flatten", {"x"}, "y");
        b.output("y");
        contains(refusal(b), "node 0 ('Flatten_1', Flatten) acts on a sequence in a way nndl has no layer for");
    }
    {
        ModelBuilder b({4, 2});
        b.initializer("w", {2, 3}, std::vector<float>(6, 0.5f));
        b.node("MatMul", {"x", "w"}, "m");
        ModelBuilder::attribute(b.node("Softmax", {"m"}, "y"), "axis", std::int64_t(1));
        b.output("y");
        contains(refusal(b), "Softmax) normalizes axis 1 of a sequence; nndl's softmax normalizes each step's features");
    }
}

TEST_CASE("a double network written as float32 (the default) keeps float accuracy") {
    nndl::NumpyRandom random(5);
    auto net = small_cnn<double>(random);
    const fs::path path = temporary("f32.onnx");
    nndl::save_onnx(net, path);
    onnx::ModelProto model;
    std::ifstream in(path, std::ios::binary);
    REQUIRE(model.ParseFromIstream(&in));
    CHECK(model.graph().initializer(0).data_type() == onnx::TensorProto::FLOAT);
    CHECK(model.graph().input(0).name() == "input");
    CHECK(model.graph().output(0).name() == "output");
    CHECK(model.graph().input(0).type().tensor_type().shape().dim_size() == 4);  // NCHW
    auto loaded = nndl::load_onnx<double>(path);
    fs::remove(path);
    const Matrix<double> x = random.randn<double>(net.input_size(), 8);
    CHECK(nndl_test::max_abs_difference(loaded.predict_proba(x), net.predict_proba(x)) < 1e-5);
}

TEST_CASE("an imported network trains: its gradients pass the gradient check") {
    nndl::NumpyRandom random(8);
    auto net = small_cnn<double>(random);
    const fs::path path = temporary("grad.onnx");
    nndl::save_onnx(net, path, exact_options<double>());
    auto loaded = nndl::load_onnx<double>(path);
    fs::remove(path);
    const Matrix<double> x = random.randn<double>(net.input_size(), 3);
    const Matrix<double> y = nndl::one_hot<double>(nndl_test::rows<double>({{0, 4, 2}}), 5);
    nndl::GradientCheckOptions options;
    options.mode = nndl::Mode::evaluation;  // the running statistics the file holds
    const auto result = nndl::check_network_gradients(loaded, x, y, options);
    INFO(result.summary());
    CHECK(result.passed(1e-6));
}

TEST_CASE("external data: tensors stored beside the model are read; paths outside its folder are refused") {
    const fs::path folder = temporary("external");
    fs::create_directories(folder);
    const std::vector<float> weights{2.0f, -3.0f};
    {
        std::ofstream out(folder / "weights.bin", std::ios::binary);
        out.write("padding!", 8);
        out.write(reinterpret_cast<const char*>(weights.data()), 8);
    }
    const auto model_with = [&](const std::string& location, const std::string& length) {
        ModelBuilder b({2});
        auto& t = *b.graph.add_initializer();
        t.set_name("w");
        t.set_data_type(onnx::TensorProto::FLOAT);
        t.add_dims(1);
        t.add_dims(2);
        t.set_data_location(onnx::TensorProto::EXTERNAL);
        for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
                 {"location", location}, {"offset", "8"}, {"length", length}}) {
            auto& entry = *t.add_external_data();
            entry.set_key(key);
            entry.set_value(value);
        }
        ModelBuilder::attribute(b.node("Gemm", {"x", "w"}, "y"), "transB", std::int64_t(1));
        b.output("y");
        const fs::path path = folder / "model.onnx";
        std::ofstream out(path, std::ios::binary);
        b.model.SerializeToOstream(&out);
        return path;
    };
    auto net = nndl::load_onnx<double>(model_with("weights.bin", "8"));
    CHECK(net.predict_proba(nndl_test::rows<double>({{1}, {1}}))(0, 0) == -1.0);
    const auto refused = [&](const std::string& location, const std::string& length) {
        const fs::path path = model_with(location, length);
        return nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::load_onnx<double>(path); });
    };
    CHECK(refused("../weights.bin", "8").find("relative to the model's folder") != std::string::npos);
    CHECK(refused("/etc/passwd", "8").find("relative to the model's folder") != std::string::npos);
    CHECK(refused("weights.bin", "4").find("external length 4") != std::string::npos);
    CHECK(refused("missing.bin", "8").find("not a readable file") != std::string::npos);
    // A link inside the folder may not lead out of it.
    const fs::path outside = temporary("outside");
    fs::create_directories(outside);
    fs::copy_file(folder / "weights.bin", outside / "weights.bin");
    fs::create_symlink(outside / "weights.bin", folder / "link.bin");
    fs::create_directory_symlink(outside, folder / "link_dir");
    CHECK(refused("link.bin", "8").find("leads outside the model's folder") != std::string::npos);
    CHECK(refused("link_dir/weights.bin", "8").find("leads outside the model's folder") != std::string::npos);
    fs::remove_all(outside);
    fs::resize_file(folder / "weights.bin", 12);
    CHECK(refused("weights.bin", "8").find("needs 8 bytes at offset 8") != std::string::npos);
    // From memory there is no folder to read from.
    ModelBuilder b({2});
    const std::string bytes = [&] {
        onnx::ModelProto m;
        std::ifstream in(folder / "model.onnx", std::ios::binary);
        m.ParseFromIstream(&in);
        return m.SerializeAsString();
    }();
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] {
              nndl::network_from_onnx_bytes<double>(bytes.data(), bytes.size());
          }).find("not read from a file") != std::string::npos);
    fs::remove_all(folder);
}

TEST_CASE("a layer of the user's own with its converter (OnnxExportable) is written by save_onnx") {
    // Known values: the converter's Add reads the tensor the dense layer wrote and its t, in
    // the network's order, and the next layer reads the Add's output.
    nndl::NumpyRandom random(4);
    nndl::Network<double> network(Shape(3));
    network.add_dense(2, Activation::tanh, nndl::Init::xavier, random);
    auto shift = std::make_unique<Shift<double>>(Shape(2));
    shift->offsets() << 0.25, -1.5;
    network.add(std::move(shift));
    network.add_dense(1, Activation::sigmoid, nndl::Init::xavier, random);
    const onnx::ModelProto model = nndl::to_onnx_model(network, {nndl::OnnxPrecision::float64});
    const onnx::GraphProto& graph = model.graph();
    std::vector<std::string> ops;
    for (const auto& node : graph.node()) {
        ops.push_back(node.op_type());
    }
    CHECK(ops == std::vector<std::string>{"Gemm", "Tanh", "Add", "Gemm", "Sigmoid"});
    const onnx::NodeProto& add = graph.node(2);
    REQUIRE(add.input_size() == 2);
    CHECK(add.input(0) == graph.node(1).output(0));
    CHECK(graph.node(3).input(0) == add.output(0));
    const onnx::TensorProto* t = nullptr;
    for (const auto& initializer : graph.initializer()) {
        if (initializer.name() == add.input(1)) {
            t = &initializer;
        }
    }
    REQUIRE(t != nullptr);
    CHECK(t->dims_size() == 1);
    CHECK(t->dims(0) == 2);
    REQUIRE(t->double_data_size() == 2);
    CHECK(t->double_data(0) == 0.25);
    CHECK(t->double_data(1) == -1.5);
    // Over a sequence its converter refuses, naming the layer, as nndl's own do.
    nndl::Network<double> over_steps(Shape::sequence(4, 2));
    over_steps.add(std::make_unique<Shift<double>>(Shape::sequence(4, 2)));
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::to_onnx_model(over_steps); })
              .find("save_onnx: layer 1 ('shift') acts on a sequence (4 steps x 2 features)") == 0);
}

TEST_CASE("save_onnx refuses what ONNX or nndl cannot express, naming the layer") {
    nndl::NumpyRandom random(2);
    nndl::Network<double> empty(Shape(3));
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::save_onnx(empty, temporary("e.onnx")); }) ==
          "save_onnx: the network has no layers; expected at least one");
    Scale<double>::register_type();
    nndl::Network<double> custom(Shape(3));
    custom.add(std::make_unique<Scale<double>>(Shape(3), 0.5));
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::save_onnx(custom, temporary("c.onnx")); })
              .find("layer 1 ('scale') has no ONNX operator") != std::string::npos);
    nndl::Network<double> image_scaler(Shape::image(2, 2, 1));
    image_scaler.add(std::make_unique<nndl::Normalization<double>>(Shape::image(2, 2, 1), Matrix<double>::Zero(4, 1),
                                                                 Matrix<double>::Ones(4, 1)));
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::save_onnx(image_scaler, temporary("n.onnx")); })
              .find("layer 1 ('normalization') maps an image of 2x2x1 (height x width x channels); nndl exports it "
                    "for flat input only") != std::string::npos);
    nndl::Network<double> image_softmax(Shape::image(2, 2, 1));
    image_softmax.add_activation(Activation::softmax);
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::save_onnx(image_softmax, temporary("s.onnx")); })
              .find("softmax over an image") != std::string::npos);
    nndl::Network<double> huge(Shape(1));
    huge.add_dense(1, Activation::identity, {nndl::Init::he}, random);
    (*huge.parameters()[0].value)(0, 0) = 1e39;  // beyond float32
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::save_onnx(huge, temporary("h.onnx")); })
              .find("which float32 cannot hold") != std::string::npos);
    CHECK_NOTHROW(nndl::save_onnx(huge, temporary("h.onnx"), exact_options<double>()));
    fs::remove(temporary("h.onnx"));
    // Numbers float32 would turn into 0 (or a subnormal consumers flush to 0): a batch
    // normalization's epsilon (always a float attribute) and a normalization's spread.
    nndl::Network<double> tiny_epsilon(Shape::image(2, 2, 1));
    tiny_epsilon.add(std::make_unique<nndl::BatchNorm<double>>(Shape::image(2, 2, 1), 0.1, 1e-50));
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::save_onnx(tiny_epsilon, temporary("t.onnx"), exact_options<double>()); })
              .find("layer 1 ('batch_norm') has epsilon 1e-50, which ONNX's float32 attribute cannot hold") !=
          std::string::npos);
    nndl::Network<double> huge_epsilon(Shape::image(2, 2, 1));
    huge_epsilon.add(std::make_unique<nndl::BatchNorm<double>>(Shape::image(2, 2, 1), 0.1, 1e39));
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::save_onnx(huge_epsilon, temporary("t.onnx"), exact_options<double>()); })
              .find("layer 1 ('batch_norm') has epsilon 1e+39, which ONNX's float32 attribute cannot hold") !=
          std::string::npos);
    nndl::Network<double> tiny_spread(Shape(2));
    tiny_spread.add(std::make_unique<nndl::Normalization<double>>(Shape(2), Matrix<double>::Zero(2, 1),
                                                                nndl_test::rows<double>({{1.0}, {1e-40}})));
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([&] { nndl::save_onnx(tiny_spread, temporary("t.onnx")); })
              .find("layer 1 ('normalization') has spread 1e-40 at value 1, below float32's smallest normal number") !=
          std::string::npos);
    CHECK(!fs::exists(temporary("t.onnx")));
    CHECK(!fs::exists(temporary("e.onnx")));
    CHECK(!fs::exists(temporary("c.onnx")));
    // A full disk (here: a file size limit) is an error with its reason; no file is left.
    {
        nndl::Network<double> big(Shape(64));
        big.add_dense(64, Activation::relu, {nndl::Init::he}, random);
        rlimit old_limit{};
        REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
        rlimit small = old_limit;
        small.rlim_cur = 4096;
        const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // the write fails with EFBIG instead
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
        const std::string message =
            nndl_test::message_of<nndl::FileError>([&] { nndl::save_onnx(big, temporary("full.onnx")); });
        ::setrlimit(RLIMIT_FSIZE, &old_limit);
        std::signal(SIGXFSZ, old_handler);
        CHECK(message == "save_onnx: writing '" + temporary("full.onnx").string() + "' failed: " + std::strerror(EFBIG));
        CHECK(!fs::exists(temporary("full.onnx")));
    }
    // A failed write leaves the previous file as it was.
    nndl::Network<double> net(Shape(2));
    net.add_dense(1, Activation::sigmoid, {nndl::Init::he}, random);
    CHECK(nndl_test::message_of<nndl::FileError>([&] { nndl::save_onnx(net, "/dev/null"); })
              .find("not a regular file") != std::string::npos);
}

TEST_CASE("load_onnx: a float64 weight beyond float's range is refused for a float network; empty bytes are no model") {
    ModelBuilder b({1}, 13, onnx::TensorProto::DOUBLE);
    for (const auto& [name, value] : {std::pair<std::string, double>{"w", 1e300}, {"bias", 0.5}}) {
        auto& t = *b.graph.add_initializer();
        t.set_name(name);
        t.set_data_type(onnx::TensorProto::DOUBLE);
        t.add_dims(1);
        if (name == "w") {
            t.add_dims(1);
        }
        t.add_double_data(value);
    }
    b.node("Gemm", {"x", "w", "bias"}, "y");
    b.output("y");
    CHECK(b.load<double>().predict_proba(nndl_test::rows<double>({{1e-300}}))(0, 0) == doctest::Approx(1.5));
    const std::string message = nndl_test::message_of<nndl::Error>([&] { b.load<float>(); });
    CHECK(message.find("holds 1e+300, beyond the largest value the network's scalar type holds (3.40282e+38)") !=
          std::string::npos);
    CHECK(nndl_test::message_of<nndl::FileError>([] { nndl::network_from_onnx_bytes<float>("", 0, "empty.onnx"); }) ==
          "load_onnx: 'empty.onnx' is not an ONNX model (the file is empty)");
    // What all layers output per example is bounded (max_model_values), and the bound can be moved.
    ModelBuilder two({3});
    two.initializer("w1", {3, 4}, std::vector<float>(12, 0.5f));
    two.initializer("w2", {4, 2}, std::vector<float>(8, 0.25f));
    two.node("MatMul", {"x", "w1"}, "h");
    two.node("Relu", {"h"}, "a");
    two.node("MatMul", {"a", "w2"}, "y");
    two.output("y");
    REQUIRE(two.load<double>().depth() == 2);
    nndl::set_max_model_values(8);  // the input's 3 values, then 4 and 2
    const std::string bounded = nndl_test::message_of<nndl::FileError>([&] { two.load<double>(); });
    nndl::set_max_model_values(nndl::default_max_model_values);
    CHECK(bounded == "load_onnx: 'built': layer 2 ('dense'): the input and layers up to here hold 9 values per "
                     "example (this one 2), more than the 8 a loaded model may use; nndl::set_max_model_values raises "
                     "the bound");
    // So is what one example costs (max_model_operations): 12 multiply-adds, then 8.
    nndl::set_max_model_operations(19);
    const std::string costly = nndl_test::message_of<nndl::FileError>([&] { two.load<double>(); });
    nndl::set_max_model_operations(nndl::default_max_model_operations);
    CHECK(costly == "load_onnx: 'built': layer 2 ('dense'): one example costs 8 operations in this layer and 12 "
                    "before it, more than the 19 a loaded model may use; nndl::set_max_model_operations raises the "
                    "bound");
    // A 254-byte model of a 1000x1000 pooling window over 2000x2000 images: 10^12 comparisons
    // per example, refused before it runs.
    ModelBuilder pooled({1, 2000, 2000});
    ModelBuilder::attribute(pooled.node("MaxPool", {"x"}, "y"), "kernel_shape", std::vector<std::int64_t>{1000, 1000});
    pooled.output("y");
    CHECK(nndl_test::message_of<nndl::FileError>([&] { pooled.load<float>(); }) ==
          "load_onnx: 'built': layer 1 ('max_pool2d'): one example costs 16032016000000 operations in this layer, more "
          "than the 17179869184 a loaded model may use; nndl::set_max_model_operations raises the bound");
}

TEST_CASE("load_onnx refuses what nndl has no layer for, naming the node, its operator and what is supported") {
    const auto refusal = [](const ModelBuilder& b) {
        return nndl_test::message_of<nndl::InvalidArgument>([&] { b.load<double>(); });
    };
    const auto contains = [](const std::string& message, const std::string& words) {
        INFO(message);
        CHECK(message.find(words) != std::string::npos);
    };
    {
        ModelBuilder b({3});
        b.node("Erf", {"x"}, "y");
        b.output("y");
        contains(refusal(b), "node 0 ('Erf_1', Erf) has an operator nndl has no layer for; supported: Gemm");
    }
    {
        ModelBuilder b({3});
        b.initializer("s", {3}, std::vector<float>{1.0f, -2.0f, 1.0f});
        b.node("Div", {"x", "s"}, "y");
        b.output("y");
        contains(refusal(b), "Div) has -2 at feature 1; nndl's normalization needs finite factors above 0");
    }
    {
        ModelBuilder b({3});
        b.initializer("c", {4}, std::vector<float>(4, 1.0f));
        b.node("Sub", {"x", "c"}, "y");
        b.output("y");
        contains(refusal(b), "Sub) takes a constant of shape [4], expected [3] or [1, 3]: one value per feature");
    }
    {
        ModelBuilder b({1, 2, 2});
        b.initializer("c", {4}, std::vector<float>(4, 1.0f));
        b.node("Sub", {"x", "c"}, "y");
        b.output("y");
        contains(refusal(b), "Sub) acts on an image");
    }
    {
        ModelBuilder b({3});
        b.node("Relu", {"x"}, "a");
        b.node("Relu", {"x"}, "b");
        b.output("b");
        contains(refusal(b), "has a branch that leads to no output (Graph::validate: node 'activation_1' leads to no "
                             "output");
    }
    {
        ModelBuilder b({1, 4, 4});
        b.initializer("k", {2, 1, 3, 3}, std::vector<float>(18, 1.0f));
        ModelBuilder::attribute(b.node("Conv", {"x", "k"}, "y"), "dilations", std::vector<std::int64_t>{2, 2});
        b.output("y");
        contains(refusal(b), "Conv) has dilations other than 1");
    }
    {
        ModelBuilder b({2, 4, 4});
        b.initializer("k", {2, 1, 3, 3}, std::vector<float>(18, 1.0f));
        ModelBuilder::attribute(b.node("Conv", {"x", "k"}, "y"), "group", std::int64_t(2));
        b.output("y");
        contains(refusal(b), "Conv) has groups");
    }
    {
        ModelBuilder b({1, 4, 4});
        auto& pool = b.node("MaxPool", {"x"}, "y");
        ModelBuilder::attribute(pool, "kernel_shape", std::vector<std::int64_t>{2, 2});
        ModelBuilder::attribute(pool, "ceil_mode", std::int64_t(1));
        b.output("y");
        contains(refusal(b), "MaxPool) has ceil_mode 1");
    }
    {
        ModelBuilder b({1, 4, 4});
        auto& pool = b.node("AveragePool", {"x"}, "y");
        ModelBuilder::attribute(pool, "kernel_shape", std::vector<std::int64_t>{2, 2});
        ModelBuilder::attribute(pool, "pads", std::vector<std::int64_t>{1, 1, 1, 1});
        b.output("y");
        contains(refusal(b), "count_include_pad 0");
    }
    {
        ModelBuilder b({3});
        ModelBuilder::attribute(b.node("LeakyRelu", {"x"}, "y"), "alpha", 0.2f);
        b.output("y");
        contains(refusal(b), "has alpha 0.2; nndl's leaky_relu has slope 0.01");
    }
    {
        ModelBuilder b({3});
        ModelBuilder::attribute(b.node("Softmax", {"x"}, "y"), "axis", std::int64_t(0));
        b.output("y");
        contains(refusal(b), "normalizes axis 0");
    }
    {
        ModelBuilder b({3});
        b.initializer("w", {3, 2}, std::vector<float>(6, 1.0f));
        ModelBuilder::attribute(b.node("Gemm", {"x", "w"}, "y"), "transA", std::int64_t(1));
        b.output("y");
        contains(refusal(b), "has transA, alpha or beta");
    }
    {
        ModelBuilder b({3});
        b.initializer("w", {4, 2}, std::vector<float>(8, 1.0f));
        b.node("MatMul", {"x", "w"}, "y");
        b.output("y");
        contains(refusal(b), "do not take 3 inputs");
    }
    {
        ModelBuilder b({3});
        b.initializer("w", {3, 2}, std::vector<float>(5, 1.0f));
        b.node("MatMul", {"x", "w"}, "y");
        b.output("y");
        contains(refusal(b), "holds 5 values; its shape needs 6");
    }
    {
        ModelBuilder b({3});
        b.initializer("w", {1LL << 40, 1LL << 40}, {});
        b.node("MatMul", {"x", "w"}, "y");
        b.output("y");
        contains(refusal(b), "has dimension 1099511627776");
    }
    {
        ModelBuilder b({3});
        b.node("MatMul", {"x", "x"}, "y");
        b.output("y");
        contains(refusal(b), "reads 'x' as input 2; nndl needs an initializer or Constant there");
    }
    {
        ModelBuilder b({2});
        b.initializer("s", {2}, {1, 1});
        b.initializer("z", {2}, {0, 0});
        auto& norm = b.node("BatchNormalization", {"x", "s", "z", "z", "s"}, "y");
        ModelBuilder::attribute(norm, "training_mode", std::int64_t(1));
        b.output("y");
        contains(refusal(b), "BatchNormalization) is in training mode");
    }
    {
        ModelBuilder b({2});
        b.initializer("s", {2}, {1, 1});
        b.initializer("v", {2}, {1, -1});
        b.node("BatchNormalization", {"x", "s", "s", "s", "v"}, "y");
        b.output("y");
        CHECK(refusal(b).find("variance") != std::string::npos);
    }
    {
        ModelBuilder b({3}, 7);
        b.node("Relu", {"x"}, "y");
        b.output("y");
        contains(refusal(b), "imports opset 7 of the default domain; nndl reads opsets 9 to 18");
    }
    {
        ModelBuilder b({3, 4, 5, 6});
        b.node("Relu", {"x"}, "y");
        b.output("y");
        contains(refusal(b), "has 5 dimensions; expected [batch, features], [batch, steps, features] or [batch, "
                             "channels, height, width]");
    }
    {
        ModelBuilder b({1, 2, 2}, 13, onnx::TensorProto::INT32);
        b.node("Relu", {"x"}, "y");
        b.output("y");
        contains(refusal(b), "has element type 6; expected float or double");
    }
    {
        ModelBuilder b({3}, 13, onnx::TensorProto::INT64);
        b.node("Relu", {"x"}, "y");
        b.output("y");
        contains(refusal(b), "Relu) reads tokens (whole numbers, [batch, steps]); nndl reads them only as the indices "
                             "of a Gather");
    }
    {
        ModelBuilder b({3});
        b.node("Relu", {"x"}, "y");
        b.output("z");
        contains(refusal(b), "expected one graph output, the last node's");
    }
    {
        ModelBuilder b({2, 2, 2});
        ModelBuilder::attribute(b.node("Flatten", {"x"}, "y"), "axis", std::int64_t(1));
        b.node("Relu", {"y"}, "z");
        b.output("z");
        contains(refusal(b), "ends with an image flattened in ONNX's channel-major order");
    }
    {
        ModelBuilder b({1, 4, 4});
        b.int64_initializer("p", {0, 0, 1, 1, 0, 0, 1, 1});
        b.node("Pad", {"x", "p"}, "padded");
        ModelBuilder::attribute(b.node("MaxPool", {"padded"}, "y"), "kernel_shape", std::vector<std::int64_t>{2, 2});
        b.output("y");
        contains(refusal(b), "('MaxPool_2', MaxPool) follows a Pad; nndl reads a Pad only before a Conv or an AveragePool");
    }
    // What a review found: each once loaded with wrong numbers or unbounded memory.
    {
        ModelBuilder b({1, 5, 5});
        auto& pool = b.node("AveragePool", {"x"}, "y");
        ModelBuilder::attribute(pool, "kernel_shape", std::vector<std::int64_t>{3, 3});
        auto& pad = *pool.add_attribute();
        pad.set_name("auto_pad");
        pad.set_type(onnx::AttributeProto::STRING);
        pad.set_s("SAME_UPPER");
        b.output("y");
        contains(refusal(b), "count_include_pad 0");  // ONNX's default excludes the padding; nndl counts it
    }
    {
        ModelBuilder b({1, 4, 4}, 18);
        auto pads = [] {
            onnx::TensorProto t;
            t.set_data_type(onnx::TensorProto::INT64);
            t.add_dims(8);
            for (const std::int64_t v : {0, 0, 1, 0, 0, 0, 1, 0}) {
                t.add_int64_data(v);
            }
            return t;
        }();
        pads.set_name("p");
        b.graph.add_initializer()->CopyFrom(pads);
        pads.set_name("axes");
        b.graph.add_initializer()->CopyFrom(pads);
        b.initializer("k", {1, 1, 1, 1}, {1});
        b.node("Pad", {"x", "p", "", "axes"}, "padded");
        b.node("Conv", {"padded", "k"}, "y");
        b.output("y");
        contains(refusal(b), "opset 18's axes input");
    }
    {
        ModelBuilder b({3});
        ModelBuilder::attribute(b.node("LeakyRelu", {"x"}, "y"), "alpha", std::numeric_limits<float>::quiet_NaN());
        b.output("y");
        contains(refusal(b), "has alpha nan");
    }
    {
        ModelBuilder b({2});
        b.initializer("w", {1, 2}, {1, 1});
        b.initializer("w", {1, 2}, {2, 2});
        ModelBuilder::attribute(b.node("Gemm", {"x", "w"}, "y"), "transB", std::int64_t(1));
        b.output("y");
        contains(refusal(b), "has two initializers named 'w'");
    }
    {
        ModelBuilder b({2});
        b.initializer("w", {1, 2}, {1, 1});
        b.node("Relu", {"x"}, "w");
        b.output("w");
        contains(refusal(b), "writes 'w', a name the graph already has");
    }
    {
        ModelBuilder b({2});
        b.initializer("w", {2, 1}, {1, 1});
        b.node("MatMul", {"x", "w", "w"}, "y");
        b.output("y");
        contains(refusal(b), "has 3 inputs and 1 outputs; MatMul takes at most 2 and 1");
    }
    {
        ModelBuilder b({2});
        b.initializer("w", {2, 1}, {1, std::numeric_limits<float>::infinity()});
        b.node("MatMul", {"x", "w"}, "y");
        b.output("y");
        contains(refusal(b), "weights holds a NaN or infinite value");
    }
    {
        ModelBuilder b({2, 2, 2});
        b.initializer("shape", {2}, {-1, -1});  // float where ONNX has int64
        b.node("Reshape", {"x", "shape"}, "y");
        b.output("y");
        contains(refusal(b), "shape has element type 1; expected int64");
    }
    {
        ModelBuilder b({1, 1, 1});
        b.initializer("k", {1, 1, 1, 1}, {1});
        ModelBuilder::attribute(b.node("Conv", {"x", "k"}, "c"), "pads", std::vector<std::int64_t>{9000, 9000, 0, 0});
        b.node("Relu", {"c"}, "y");
        b.output("y");
        contains(refusal(b), "whose output holds 81018001 values per example; nndl reads at most 67108864");
    }
    {
        // One 1024 x 1024 initializer used by 200 dense layers: 4 MB of file, 200 M weights.
        ModelBuilder b({1024});
        b.initializer("w", {1024, 1024}, std::vector<float>(1024 * 1024, 0.0f));
        std::string previous = "x";
        for (int i = 0; i < 200; ++i) {
            const std::string next = "h" + std::to_string(i);
            b.node("MatMul", {previous, "w"}, next);
            previous = next;
        }
        b.output(previous);
        contains(refusal(b), "weights in all");
    }
    {
        ModelBuilder b({3});
        b.node("Relu", {"x"}, "y");
        b.graph.mutable_node(0)->set_name("evil\nline2 \x1b[31mRED");
        b.node("Erf", {"y"}, "z");
        b.graph.mutable_node(1)->set_name("evil\nline2 \x1b[31mRED");
        b.output("z");
        contains(refusal(b), "node 1 ('evil\\x0aline2 \\x1b[31mRED', Erf)");
    }
    {
        // A bool training_mode of false is inference: accepted.
        ModelBuilder b({2});
        auto& mode = *b.graph.add_initializer();
        mode.set_name("mode");
        mode.set_data_type(onnx::TensorProto::BOOL);
        mode.add_int32_data(0);
        b.node("Dropout", {"x", "", "mode"}, "d");
        b.node("Sigmoid", {"d"}, "y");
        b.output("y");
        CHECK(b.load<double>().depth() == 1);
    }
    // A second review: operand counts, strings from the file, fixed-batch reshapes.
    {
        ModelBuilder b({1, 3, 3});
        b.initializer("k", {1, 1, 1, 1}, {1});
        b.node("Conv", {"x", "k", "", "k"}, "y");
        b.output("y");
        contains(refusal(b), "has 4 inputs and 1 outputs; Conv takes at most 3 and 1");
    }
    {
        ModelBuilder b({1, 3, 3});
        b.initializer("k", {1, 1, 1, 1}, {1});
        auto& conv = b.node("Conv", {"x", "k"}, "y");
        auto& pad = *conv.add_attribute();
        pad.set_name("auto_pad");
        pad.set_type(onnx::AttributeProto::STRING);
        pad.set_s("SAME\n\x1b[31m");
        b.output("y");
        contains(refusal(b), "has auto_pad 'SAME\\x0a\\x1b[31m'");
    }
    {
        ModelBuilder b({2, 2, 2});
        b.int64_initializer("shape", {2, -1});
        b.node("Reshape", {"x", "shape"}, "y");
        b.output("y");
        contains(refusal(b), "reshapes to [2, -1]");  // the batch is free: [2, -1] is not a flatten
    }
    // Not a model at all: FileError, from bytes and from files.
    const std::string garbage = "\xff\xff\xff\xff not a protobuf";
    CHECK(nndl_test::message_of<nndl::FileError>([&] {
              nndl::network_from_onnx_bytes<double>(garbage.data(), garbage.size(), "g");
          }) == "load_onnx: 'g' is not an ONNX model (the protobuf does not parse)");
    CHECK(nndl_test::message_of<nndl::FileError>([] { nndl::load_onnx<double>("/dev/zero"); })
              .find("is not a regular file") != std::string::npos);
    CHECK(nndl_test::message_of<nndl::FileError>([] { nndl::load_onnx<double>(temporary("absent.onnx")); })
              .find("No such file or directory") != std::string::npos);
}

TEST_CASE("what an attack on 0.5 found: valid models that crashed or gave wrong numbers are read right or refused") {
    const auto message_of = [](const ModelBuilder& b) {
        return nndl_test::message_of<nndl::InvalidArgument>([&] { b.load<double>(); });
    };
    const auto pads = [](ModelBuilder& b) {  // zero padding of one pixel on every side of H and W
        auto& t = *b.graph.add_initializer();
        t.set_name("p");
        t.set_data_type(onnx::TensorProto::INT64);
        t.add_dims(8);
        for (const std::int64_t v : {0, 0, 1, 1, 0, 0, 1, 1}) {
            t.add_int64_data(v);
        }
    };
    // Flatten -> BatchNormalization -> Reshape [-1, 8, 1, 1] -> 1x1 Conv -> Flatten. With one
    // channel ONNX's flat order is nndl's: x = 1..8, a batch normalization that divides by
    // sqrt(1 + 1e-5), conv weights f0 = (1..8) and f1 = (1 .. 1): y = (204, 36) / sqrt(1 + 1e-5).
    const auto reshaped = [](const std::vector<std::int64_t>& input, int filters) {
        ModelBuilder b(input);
        auto& shape = *b.graph.add_initializer();
        shape.set_name("shape");
        shape.set_data_type(onnx::TensorProto::INT64);
        shape.add_dims(4);
        for (const std::int64_t v : {-1, 8, 1, 1}) {
            shape.add_int64_data(v);
        }
        std::vector<float> k;
        for (int f = 0; f < filters; ++f) {
            for (int c = 0; c < 8; ++c) {
                k.push_back(f == 0 ? static_cast<float>(c + 1) : 1.0f);
            }
        }
        b.initializer("k", {filters, 8, 1, 1}, k);
        b.initializer("ones", {8}, std::vector<float>(8, 1.0f));
        b.initializer("zeros", {8}, std::vector<float>(8, 0.0f));
        b.node("Flatten", {"x"}, "f");
        b.node("BatchNormalization", {"f", "ones", "zeros", "zeros", "ones"}, "n");
        b.node("Reshape", {"n", "shape"}, "r");
        b.node("Conv", {"r", "k"}, "c");
        b.node("Flatten", {"c"}, "y");
        b.output("y");
        return b;
    };
    const Matrix<double> x = nndl_test::rows<double>({{1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}});
    const Matrix<double> y = reshaped({1, 2, 4}, 2).load<double>().predict_proba(x);
    CHECK(y(0, 0) == doctest::Approx(204 / std::sqrt(1 + 1e-5)).epsilon(1e-6));  // float32 epsilon attribute
    CHECK(y(1, 0) == doctest::Approx(36 / std::sqrt(1 + 1e-5)).epsilon(1e-6));
    // With two channels the flat order is channel-major, not nndl's (h, w, c): once an
    // out-of-bounds read (16 filters) or wrong numbers (8); now a refusal naming the node.
    for (const int filters : {16, 8}) {
        CHECK(message_of(reshaped({2, 2, 2}, filters))
                  .find("node 2 ('Reshape_3', Reshape) reshapes features that were an image flattened in ONNX's "
                        "channel-major order back to an image") != std::string::npos);
    }
    // Pad -> Sigmoid -> Conv: ONNX's border is sigmoid(0) = 0.5, which a padding after the
    // sigmoid would make 0: refused. Pad -> Relu -> Conv keeps 0 at 0: read, and a 3x3
    // sum over a 1x1 image padded by one is the pixel itself.
    for (const char* activation : {"Sigmoid", "Relu"}) {
        ModelBuilder b({1, 1, 1});
        pads(b);
        b.initializer("k", {1, 1, 3, 3}, std::vector<float>(9, 1.0f));
        b.node("Pad", {"x", "p"}, "padded");
        b.node(activation, {"padded"}, "a");
        b.node("Conv", {"a", "k"}, "c");
        b.node("Flatten", {"c"}, "y");
        b.output("y");
        if (std::string(activation) == "Sigmoid") {
            CHECK(message_of(b).find("node 1 ('Sigmoid_2', Sigmoid) applies sigmoid between a Pad and the Conv") !=
                  std::string::npos);
        } else {
            CHECK(b.load<double>().predict_proba(nndl_test::rows<double>({{-3, 2}})) ==
                  nndl_test::rows<double>({{0, 2}}));
        }
    }
    // Add(bias, h), the bias first, is Add(h, bias).
    {
        ModelBuilder b({2});
        b.initializer("w", {2, 1}, {1.0f, 2.0f});
        b.initializer("bias", {1}, {0.5f});
        b.node("MatMul", {"x", "w"}, "h");
        b.node("Add", {"bias", "h"}, "y");
        b.output("y");
        CHECK(b.load<double>().predict_proba(nndl_test::rows<double>({{1}, {1}}))(0, 0) == 3.5);
    }
    // Sub(c, h), the constant first, is c - h, not a normalization x - c: refused as what it is.
    {
        ModelBuilder b({2});
        b.initializer("c", {2}, {1.0f, 2.0f});
        b.node("Relu", {"x"}, "h");
        b.node("Sub", {"c", "h"}, "y");
        b.output("y");
        const std::string message = message_of(b);
        INFO(message);
        CHECK(message.find("node 1 ('Sub_2', Sub) computes constant - 'h'; nndl reads Sub with the previous output "
                           "first (x - c, x / c)") != std::string::npos);
    }
    // A layer that cannot be built from the last node names the file and that node.
    {
        ModelBuilder b({1, 1, 1});
        b.initializer("k", {1, 1, 3, 3}, std::vector<float>(9, 1.0f));
        b.node("Conv", {"x", "k"}, "y");
        b.output("y");
        const std::string message = message_of(b);
        INFO(message);
        CHECK(message.rfind("load_onnx: 'built': node 0 ('Conv_1', Conv) cannot be built: ", 0) == 0);
    }
    // A Pad at the end (or before what keeps 0 at 0, then the end) has no Conv to become: refused.
    for (const bool relu : {false, true}) {
        ModelBuilder b({1, 2, 2});
        pads(b);
        b.node("Pad", {"x", "p"}, relu ? "padded" : "y");
        if (relu) {
            b.node("Relu", {"padded"}, "y");
        }
        b.output("y");
        CHECK(message_of(b).find("ends with a Pad") != std::string::npos);
    }
    // A Constant that writes the name of an earlier node's output: refused as any other writer.
    {
        ModelBuilder b({2});
        b.node("Relu", {"x"}, "a");
        auto& constant = b.node("Constant", {}, "a");
        auto& value = *constant.add_attribute();
        value.set_name("value");
        value.set_type(onnx::AttributeProto::TENSOR);
        ModelBuilder::fill(*value.mutable_t(), "a", {2}, {1, 2});
        b.node("Sigmoid", {"a"}, "y");
        b.output("y");
        CHECK(message_of(b).find("node 1 ('Constant_2', Constant) writes 'a', a name the graph already has") !=
              std::string::npos);
    }
    // A graph that writes one name twice is not valid ONNX: refused.
    {
        ModelBuilder b({2});
        b.node("Relu", {"x"}, "a");
        b.node("Sigmoid", {"a"}, "b");
        b.node("Tanh", {"b"}, "a");
        b.output("a");
        CHECK(message_of(b).find("node 2 ('Tanh_3', Tanh) writes 'a', a name the graph already has") !=
              std::string::npos);
    }
}

TEST_CASE("PyTorch's small exports load: Identity of weights, MatMul, Gemm, BatchNormalization, Pad + AveragePool") {
    auto mlp = nndl::load_onnx<float>("fuzz/corpus/onnx/pytorch_mlp_matmul.onnx");
    REQUIRE(mlp.depth() == 4);  // Gemm, BatchNormalization, Tanh, MatMul + Softmax
    CHECK(mlp.layer(0).type() == "dense");
    CHECK(mlp.layer(1).type() == "batch_norm");
    CHECK(mlp.layer(2).settings().text("activation") == "tanh");
    CHECK(mlp.layer(3).settings().text("activation") == "softmax");
    auto cnn = nndl::load_onnx<float>("fuzz/corpus/onnx/pytorch_cnn_avgpool.onnx");
    REQUIRE(cnn.depth() == 3);
    CHECK(cnn.layer(0).settings().text("activation") == "leaky_relu");
    CHECK(cnn.layer(1).type() == "avg_pool2d");
    CHECK(cnn.layer(2).settings().text("activation") == "sigmoid");
    CHECK(cnn.input_shape() == Shape::image(8, 8, 2));
}

TEST_CASE("fuzz corpus and regressions: ONNX models") {
    int replayed = 0;
    for (const char* kind : {"fuzz/corpus/onnx", "fuzz/regressions/onnx"}) {
        if (!fs::exists(kind)) {
            continue;
        }
        for (const auto& entry : fs::directory_iterator(kind)) {
            if (entry.path().extension() == ".md") {
                continue;
            }
            std::ifstream in(entry.path(), std::ios::binary);
            const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            CAPTURE(entry.path().string());
            CHECK_NOTHROW(nndl_fuzz::onnx_model(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
            ++replayed;
        }
    }
    CHECK(replayed >= 6);
}
