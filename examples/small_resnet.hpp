#pragma once
// fashion_resnet's network (also the benchmark's ResNet): where asked, random shifts and
// mirror images of the training images (a layer that passes images through at
// inference), a stem convolution, then stages of residual blocks that each halve the
// image, each block a graph
//
//     x -> conv 3x3 (stride s) -> BN -> ReLU -> conv 3x3 -> BN -> (+ shortcut) -> ReLU
//
// where the shortcut is x itself, or a 1x1 convolution with stride s and batch norm where the
// block halves the image or changes the width; global average pooling and a softmax layer end it.
#include <nndl/cnn.hpp>
#include <nndl/graph.hpp>

#include <cstdint>
#include <vector>

namespace examples {

/// A 3x3 or 1x1 convolution without bias activation (the batch norm after it shifts), He-initialized.
template <class Scalar>
std::unique_ptr<nndl::Conv2D<Scalar>> resnet_convolution(nndl::Shape input, nndl::Index filters, nndl::Index size,
                                                         nndl::Index stride, nndl::NumpyRandom& random) {
    auto conv = std::make_unique<nndl::Conv2D<Scalar>>(input, filters, nndl::Window(size), nndl::Stride(stride),
                                                       nndl::Padding::same());
    conv->weights() = nndl::initial_weights<Scalar>(filters, conv->fan_in(), {nndl::Init::he}, random);
    return conv;
}

/// One residual block taking images of `input` shape to `filters` channels, `stride` 1 or 2.
template <class Scalar>
nndl::Graph<Scalar> residual_block(nndl::Shape input, nndl::Index filters, nndl::Index stride,
                                   nndl::NumpyRandom& random) {
    nndl::Graph<Scalar> block(input);
    const auto x = block.input();
    auto y = block.add(resnet_convolution<Scalar>(input, filters, 3, stride, random), x);
    y = block.add(std::make_unique<nndl::BatchNorm<Scalar>>(block.shape(y)), y);
    y = block.add(nndl::make_activation_layer<Scalar>(block.shape(y), nndl::Activation::relu), y);
    y = block.add(resnet_convolution<Scalar>(block.shape(y), filters, 3, 1, random), y);
    y = block.add(std::make_unique<nndl::BatchNorm<Scalar>>(block.shape(y)), y);
    auto shortcut = x;
    if (stride != 1 || input.channels != filters) {  // the shortcut must match the new shape
        shortcut = block.add(resnet_convolution<Scalar>(input, filters, 1, stride, random), x, "shortcut");
        shortcut = block.add(std::make_unique<nndl::BatchNorm<Scalar>>(block.shape(shortcut)), shortcut);
    }
    y = block.template merge<nndl::Add>({y, shortcut});
    block.add(nndl::make_activation_layer<Scalar>(block.shape(y), nndl::Activation::relu), y);
    return block;
}

/// The ResNet for 28x28x1 images: training images shifted by up to `shift` pixels and
/// mirrored where `flip` (neither: no augmentation layer), a stem convolution of widths[0]
/// filters at 28x28, stages of `widths` channels, each halving the image (14x14, 7x7, 4x4),
/// `blocks` residual blocks per stage, then 10 classes.
template <class Scalar>
nndl::Network<Scalar> small_resnet(const std::vector<nndl::Index>& widths, nndl::Index blocks, nndl::Index shift,
                                   bool flip, std::uint32_t seed) {
    nndl::NumpyRandom random(seed);
    nndl::Network<Scalar> network(nndl::Shape::image(28, 28, 1));
    if (shift > 0 || flip) {
        network.add(std::make_unique<nndl::RandomShiftFlip<Scalar>>(network.output_shape(), shift, flip, seed + 1));
    }
    network.add(resnet_convolution<Scalar>(network.output_shape(), widths.at(0), 3, 1, random));
    network.add(std::make_unique<nndl::BatchNorm<Scalar>>(network.output_shape()));
    network.add(nndl::make_activation_layer<Scalar>(network.output_shape(), nndl::Activation::relu));
    for (std::size_t stage = 0; stage < widths.size(); ++stage) {
        for (nndl::Index b = 0; b < blocks; ++b) {
            const nndl::Index stride = b == 0 ? 2 : 1;
            network.add(std::make_unique<nndl::Graph<Scalar>>(
                residual_block<Scalar>(network.output_shape(), widths[stage], stride, random)));
        }
    }
    network.add(std::make_unique<nndl::GlobalAvgPool<Scalar>>(network.output_shape()));
    network.add_dense(10, nndl::Activation::softmax, {nndl::Init::xavier}, random);
    return network;
}

}  // namespace examples
