// Writes nndl networks as ONNX for the consumers' check (tools/onnx_check_exports.py):
// for each model NAME, NAME.onnx (float32, as serving engines run it) and NAME.npz with
// the inputs `x` (nndl's columns) and nndl's outputs `y` on them.
// Usage: onnx_export_models OUT_DIR

#include <filesystem>
#include <iostream>
#include <string>

#include <nndl/all.hpp>
#include <nndl/io/onnx.hpp>
#include <nndl/layers/embedding.hpp>

#include "exportable_layer.hpp"

namespace fs = std::filesystem;
using nndl::Activation;
using nndl::Shape;

namespace {

template <class Scalar>
void write(nndl::Network<Scalar>& network, const fs::path& folder, const std::string& name, nndl::NumpyRandom& random,
           nndl::Matrix<Scalar> x = {}) {
    if (x.size() == 0) {
        x = random.rand<Scalar>(network.input_size(), 16);
    }
    nndl::save_onnx(network, folder / (name + ".onnx"));
    nndl::write_npz(folder / (name + ".npz"), {{"x", nndl::to_npy(x)}, {"y", nndl::to_npy(network.predict_proba(x))}});
    std::cout << "wrote " << name << ".onnx: " << network.depth() << " layers, input " << network.input_shape().to_string()
              << "\n";
}

/// Batch-norm statistics as after training, so the file's values matter.
template <class Scalar>
void set_trained_statistics(nndl::Layer<Scalar>& norm, nndl::NumpyRandom& random) {
    for (const auto& p : norm.parameters()) {
        *p.value = random.randn<Scalar>(p.value->rows(), 1);
    }
    *norm.state()[0].value = random.randn<Scalar>(norm.state()[0].value->rows(), 1);
    *norm.state()[1].value = random.rand<Scalar>(norm.state()[1].value->rows(), 1).array() + Scalar(0.5);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: onnx_export_models OUT_DIR\n";
        return 2;
    }
    const fs::path folder = argv[1];
    fs::create_directories(folder);
    nndl::NumpyRandom random(1);

    // An MLP of flat input with dropout (left out) and every activation.
    nndl::Network<float> mlp(Shape(784));
    mlp.add_dense(64, Activation::relu, {nndl::Init::he}, random);
    mlp.add_dropout(0.8);
    mlp.add_dense(32, Activation::tanh, {nndl::Init::xavier}, random);
    mlp.add_dense(16, Activation::leaky_relu, {nndl::Init::he}, random);
    mlp.add(std::make_unique<nndl::BatchNorm<float>>(mlp.output_shape()));
    set_trained_statistics(mlp.layer(mlp.depth() - 1), random);
    mlp.add_dense(10, Activation::softmax, {nndl::Init::xavier}, random);
    write(mlp, folder, "mlp", random);

    // The course's L-layer cat model (12288-20-7-5-1) taking 64x64 RGB images: ONNX's
    // input is NCHW, so the first layer's weights are reordered behind a Flatten.
    nndl::Network<double> cat(Shape::image(64, 64, 3));
    for (const auto units : {20, 7, 5}) {
        cat.add_dense(units, Activation::relu, {nndl::Init::he}, random);
    }
    cat.add_dense(1, Activation::sigmoid, {nndl::Init::he}, random);
    write(cat, folder, "cat", random);

    // A CNN with batch norm, both poolings and global average pooling.
    nndl::Network<float> cnn(Shape::image(28, 28, 1));
    auto conv = std::make_unique<nndl::Conv2D<float>>(cnn.output_shape(), 8, nndl::Window(3), nndl::Stride(1),
                                                      nndl::Padding::same(), Activation::relu);
    conv->weights() = nndl::initial_weights<float>(8, conv->fan_in(), {nndl::Init::he}, random);
    conv->bias() = random.randn<float>(8, 1) * 0.1f;
    cnn.add(std::move(conv));
    cnn.add(std::make_unique<nndl::BatchNorm<float>>(cnn.output_shape()));
    set_trained_statistics(cnn.layer(1), random);
    cnn.add(nndl::make_max_pool<float>(cnn.output_shape(), nndl::Window(2), nndl::Stride(2)));
    auto conv2 = std::make_unique<nndl::Conv2D<float>>(cnn.output_shape(), 16, nndl::Window(3), nndl::Stride(2),
                                                       nndl::Padding::amounts(1, 0, 1, 0), Activation::tanh);
    conv2->weights() = nndl::initial_weights<float>(16, conv2->fan_in(), {nndl::Init::xavier}, random);
    cnn.add(std::move(conv2));
    cnn.add(nndl::make_avg_pool<float>(cnn.output_shape(), nndl::Window(3), nndl::Stride(1), nndl::Padding::uniform(1)));
    cnn.add(std::make_unique<nndl::GlobalAvgPool<float>>(cnn.output_shape()));
    cnn.add_dense(10, Activation::softmax, {nndl::Init::xavier}, random);
    write(cnn, folder, "cnn", random);

    // A small ResNet as a graph: a residual block, a downsampling block with a strided
    // shortcut, pooled and convolved branches concatenated, a sigmoid gate multiplied in.
    {
        nndl::Network<float> resnet(Shape::image(28, 28, 1));
        nndl::Graph<float> g(resnet.input_shape());
        const auto conv = [&](nndl::Graph<float>::Node from, nndl::Index filters, nndl::Index stride,
                              Activation activation = Activation::identity) {
            auto layer = std::make_unique<nndl::Conv2D<float>>(g.shape(from), filters, nndl::Window(3),
                                                               nndl::Stride(stride), nndl::Padding::same(), activation);
            layer->weights() = nndl::initial_weights<float>(filters, layer->fan_in(), {nndl::Init::he}, random);
            layer->bias() = random.randn<float>(filters, 1) * 0.1f;
            return g.add(std::move(layer), from);
        };
        const auto bn = [&](nndl::Graph<float>::Node from) {
            const auto n = g.add(std::make_unique<nndl::BatchNorm<float>>(g.shape(from)), from);
            set_trained_statistics(*g.layer(n), random);
            return n;
        };
        const auto relu = [&](nndl::Graph<float>::Node from) {
            return g.add(nndl::make_activation_layer<float>(g.shape(from), Activation::relu), from);
        };
        const auto stem = conv(g.input(), 8, 1, Activation::relu);
        auto y = bn(conv(relu(bn(conv(stem, 8, 1))), 8, 1));
        const auto block1 = relu(g.merge<nndl::Add>({y, stem}));
        y = bn(conv(relu(bn(conv(block1, 16, 2))), 16, 1));
        const auto block2 = relu(g.merge<nndl::Add>({y, bn(conv(block1, 16, 2))}));
        const auto pooled = g.add(nndl::make_max_pool<float>(g.shape(block2), nndl::Window(2), nndl::Stride(2)), block2);
        const auto joined = g.merge<nndl::Concatenate>({pooled, conv(block2, 8, 2, Activation::relu)});
        const auto gate = conv(joined, 24, 1, Activation::sigmoid);
        const auto gated = g.merge<nndl::Multiply>({joined, gate});
        g.add(std::make_unique<nndl::GlobalAvgPool<float>>(g.shape(gated)), gated);
        resnet.add(std::make_unique<nndl::Graph<float>>(std::move(g)));
        resnet.add_dense(10, Activation::softmax, {nndl::Init::xavier}, random);
        write(resnet, folder, "resnet_graph", random);
    }

    // A small U-Net: pooled down, upsampled (Resize, nearest) and concatenated with the level above.
    {
        nndl::Network<float> unet(Shape::image(8, 8, 1));
        nndl::Graph<float> g(unet.input_shape());
        const auto conv = [&](nndl::Graph<float>::Node from, nndl::Index filters, Activation activation) {
            auto layer = std::make_unique<nndl::Conv2D<float>>(g.shape(from), filters, nndl::Window(3), nndl::Stride(1),
                                                               nndl::Padding::same(), activation);
            layer->weights() = nndl::initial_weights<float>(filters, layer->fan_in(), {nndl::Init::he}, random);
            layer->bias() = random.randn<float>(filters, 1) * 0.1f;
            return g.add(std::move(layer), from);
        };
        const auto top = conv(g.input(), 4, Activation::relu);
        const auto pooled = g.add(nndl::make_max_pool<float>(g.shape(top), nndl::Window(2), nndl::Stride(2)), top);
        const auto bottom = conv(pooled, 8, Activation::relu);
        const auto up = g.add(std::make_unique<nndl::Upsample2D<float>>(g.shape(bottom), 2, 2), bottom);
        conv(g.merge<nndl::Concatenate>({up, top}), 1, Activation::sigmoid);
        unet.add(std::make_unique<nndl::Graph<float>>(std::move(g)));
        write(unet, folder, "unet_graph", random);
    }

    // A graph of flat input after a convolution: a residual MLP block on the image's values.
    {
        nndl::Network<float> mixed(Shape::image(4, 4, 2));
        auto first = std::make_unique<nndl::Conv2D<float>>(mixed.output_shape(), 3, nndl::Window(3), nndl::Stride(1),
                                                           nndl::Padding::same(), Activation::relu);
        first->weights() = nndl::initial_weights<float>(3, first->fan_in(), {nndl::Init::he}, random);
        mixed.add(std::move(first));
        nndl::Graph<float> g(Shape(48));
        auto hidden = nndl::make_dense<float>(48, 48, Activation::tanh);
        *hidden->parameters()[0].value = random.randn<float>(48, 48) * 0.2f;
        const auto h = g.add(std::move(hidden), g.input());
        const auto sum = g.merge<nndl::Add>({h, g.input()});
        auto head = nndl::make_dense<float>(48, 5, Activation::softmax);
        *head->parameters()[0].value = random.randn<float>(5, 48) * 0.3f;
        g.add(std::move(head), sum);
        mixed.add(std::make_unique<nndl::Graph<float>>(std::move(g)));
        write(mixed, folder, "graph_after_image", random);
    }

    // An activation declared flat over a convolution's output: the tensor stays an image, so
    // the dense layer after it must flatten in nndl's order.
    {
        nndl::Network<float> net(Shape::image(5, 4, 2));
        auto conv = std::make_unique<nndl::Conv2D<float>>(net.output_shape(), 3, nndl::Window(3), nndl::Stride(1),
                                                          nndl::Padding::same(), Activation::identity);
        conv->weights() = nndl::initial_weights<float>(3, conv->fan_in(), {nndl::Init::he}, random);
        net.add(std::move(conv));
        net.add(nndl::make_activation_layer<float>(Shape(net.output_size()), Activation::tanh));
        net.add_dense(4, Activation::softmax, {nndl::Init::he}, random);
        write(net, folder, "flat_activation_after_image", random);
    }

    // A flat layer after an image other than a dense one: Transpose to NHWC, then Flatten.
    nndl::Network<float> flat(Shape::image(5, 4, 3));
    flat.add(nndl::make_max_pool<float>(flat.output_shape(), nndl::Window(2), nndl::Stride(1)));
    flat.add(std::make_unique<nndl::BatchNorm<float>>(Shape(flat.output_size())));
    set_trained_statistics(flat.layer(1), random);
    flat.add_activation(Activation::sigmoid);
    write(flat, folder, "flat_after_image", random);

    // A regression with its scalers: Sub and Div first, Mul and Add last.
    const nndl::Matrix<double> data = random.randn(5, 40) * 20.0;
    nndl::Network<double> regression(Shape(5));
    regression.add(nndl::Scaler<double>::standardize(data).layer());
    regression.add_dense(8, Activation::relu, nndl::Init::he, random);
    regression.add_dense(1, Activation::identity, nndl::Init::xavier, random);
    regression.add(nndl::Scaler<double>::standardize(data.topRows(1)).inverse_layer());
    write(regression, folder, "regression_with_scalers", random);

    // Sequences: an LSTM over every step with a softmax at each (ONNX's LSTM, MatMul + Add,
    // Softmax on the last axis), a GRU and a SimpleRNN whose last step feeds a dense layer,
    // and a character model (Embedding as Gather, then an LSTM).
    const auto randomize = [&](auto& network, float scale) {
        for (const auto& p : network.parameters()) {
            *p.value = random.randn<float>(p.value->rows(), p.value->cols()) * scale;
        }
    };
    nndl::Network<float> lstm(Shape::sequence(20, 600));
    lstm.add(std::make_unique<nndl::LSTM<float>>(lstm.output_shape(), 32));
    lstm.add(std::make_unique<nndl::SequenceDense<float>>(lstm.output_shape(), 5, Activation::softmax));
    randomize(lstm, 0.3f);
    write(lstm, folder, "lstm", random);
    nndl::Network<float> gru(Shape::sequence(15, 4));
    gru.add(std::make_unique<nndl::GRU<float>>(gru.output_shape(), 16, false));
    gru.add_dense(3, Activation::identity, {nndl::Init::he}, random);
    randomize(gru, 0.4f);
    write(gru, folder, "gru_last_step", random);
    nndl::Network<float> rnn(Shape::sequence(12, 3));
    rnn.add(std::make_unique<nndl::SimpleRNN<float>>(rnn.output_shape(), 8, true));
    rnn.add(std::make_unique<nndl::SimpleRNN<float>>(rnn.output_shape(), 6, false));
    rnn.add_dense(2, Activation::sigmoid, {nndl::Init::he}, random);
    randomize(rnn, 0.4f);
    write(rnn, folder, "rnn_last_step", random);
    nndl::Network<float> characters(Shape::sequence(25, 1));
    characters.add(std::make_unique<nndl::Embedding<float>>(characters.output_shape(), 30, 8));
    characters.add(std::make_unique<nndl::LSTM<float>>(characters.output_shape(), 24));
    characters.add(std::make_unique<nndl::SequenceDense<float>>(characters.output_shape(), 30, Activation::softmax));
    randomize(characters, 0.3f);
    const nndl::Matrix<float> tokens = (random.rand<float>(25, 16) * 29.99f).array().floor().matrix();
    write(characters, folder, "embedding_lstm", random, tokens);

    // A layer of the user's own, written by its own converter (an Add of its offsets).
    nndl::Network<float> custom(Shape(6));
    custom.add_dense(5, Activation::relu, {nndl::Init::he}, random);
    auto shift = std::make_unique<Shift<float>>(Shape(5));
    shift->offsets() = random.randn<float>(5, 1);
    custom.add(std::move(shift));
    custom.add_dense(3, Activation::softmax, {nndl::Init::xavier}, random);
    write(custom, folder, "user_layer_converter", random);
    // The same layer between convolutions: it flattens the image in nndl's order, and the next
    // convolution gets its image back.
    nndl::Network<float> custom_image(Shape::image(6, 5, 2));
    custom_image.add(std::make_unique<nndl::Conv2D<float>>(custom_image.output_shape(), 3, nndl::Window(3),
                                                           nndl::Stride(1), nndl::Padding::same(), Activation::relu));
    auto image_shift = std::make_unique<Shift<float>>(custom_image.output_shape());
    image_shift->offsets() = random.randn<float>(custom_image.output_size(), 1);
    custom_image.add(std::move(image_shift));
    custom_image.add(std::make_unique<nndl::Conv2D<float>>(custom_image.output_shape(), 2, nndl::Window(2),
                                                           nndl::Stride(2), nndl::Padding::valid(), Activation::tanh));
    custom_image.add_dense(3, Activation::softmax, {nndl::Init::xavier}, random);
    randomize(custom_image, 0.5f);
    write(custom_image, folder, "user_layer_converter_on_image", random);
    return 0;
}
