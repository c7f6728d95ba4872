// The course's "Residual Networks" (course 4, week 2), step by step: the identity block and
// the convolutional block built as nndl graphs, run on the notebook's test input with the
// notebook's weights, printing the values its tests check.
//
//   identity block:       x -> conv 1x1 -> BN -> ReLU -> conv fxf (same) -> BN -> ReLU
//                            -> conv 1x1 -> BN -> (+ x) -> ReLU
//   convolutional block:  x -> conv 1x1 stride s -> BN -> ReLU -> conv fxf (same) -> BN -> ReLU
//                            -> conv 1x1 -> BN -> (+ shortcut) -> ReLU,
//                         shortcut: x -> conv 1x1 stride s -> BN
//
// Everything is float32, as in Keras. The identity tests use kernels of ones; the
// convolutional block's kernels are Keras's glorot_uniform(seed=0), which TensorFlow 2.3
// draws from its stateless Philox generator (reproduced below). Batch normalization has
// epsilon 1e-3; with training=False it uses a fresh layer's running mean 0 and variance 1,
// with training=True the batch's statistics.
#include "example_support.hpp"

#include <nndl/cnn.hpp>
#include <nndl/graph.hpp>

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>

namespace {

using nndl::Index;
using nndl::Matrix;
using nndl::Shape;
using Graph = nndl::Graph<float>;
using Node = Graph::Node;

/// NumPy's repr of a float32: the shortest digits that read back to the same float.
std::string repr(float v) {
    if (v == 0.0f) {
        return "0.";
    }
    char text[32];
    const auto result = std::to_chars(text, text + sizeof text, v);
    std::string s(text, result.ptr);
    if (s.find_first_of(".e") == std::string::npos) {
        s += ".";
    }
    return s;
}

// ---- the weights: Keras's glorot_uniform(seed=0) in TensorFlow 2.3 ---------------------

/// One Philox4x32-10 block: ten rounds on `counter` under `key` (Salmon et al., 2011).
std::array<std::uint32_t, 4> philox(std::array<std::uint32_t, 4> counter, std::array<std::uint32_t, 2> key) {
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            key[0] += 0x9E3779B9u;
            key[1] += 0xBB67AE85u;
        }
        const std::uint64_t p0 = std::uint64_t(0xD2511F53u) * counter[0];
        const std::uint64_t p1 = std::uint64_t(0xCD9E8D57u) * counter[2];
        counter = {static_cast<std::uint32_t>(p1 >> 32) ^ counter[1] ^ key[0], static_cast<std::uint32_t>(p1),
                   static_cast<std::uint32_t>(p0 >> 32) ^ counter[3] ^ key[1], static_cast<std::uint32_t>(p0)};
    }
    return counter;
}

/// A (kh, kw, c_in, c_out) kernel drawn by glorot_uniform(seed=0), as a Conv2D weight
/// matrix (c_out x kh*kw*c_in). TF's stateless generator scrambles the seed pair (0, 0)
/// into a key and counter with one Philox block, then fills the kernel row-major from
/// consecutive blocks; every kernel starts the stream afresh.
Matrix<float> glorot_kernel(Index kh, Index kw, Index c_in, Index c_out) {
    const std::array<std::uint32_t, 4> scramble = philox({0, 0, 0, 0}, {0x3EC8F720u, 0x02461E29u});
    const std::array<std::uint32_t, 2> key{scramble[0], scramble[1]};
    std::array<std::uint32_t, 4> counter{0, 0, scramble[2], scramble[3]};
    const double fan_in = static_cast<double>(kh * kw * c_in);
    const double fan_out = static_cast<double>(kh * kw * c_out);
    const auto limit = static_cast<float>(std::sqrt(3.0 / ((fan_in + fan_out) / 2.0)));
    const float width = 2.0f * limit;
    const Index rows = kh * kw * c_in;
    Matrix<float> flat(rows, c_out);  // the kernel row-major: (kh, kw, c_in) rows, c_out columns
    std::array<std::uint32_t, 4> block{};
    for (Index i = 0; i < rows * c_out; ++i) {
        if (i % 4 == 0) {
            block = philox(counter, key);
            for (int w = 0; w < 4 && ++counter[w] == 0; ++w) {
            }
        }
        const std::uint32_t bits = 0x3F800000u | (block[static_cast<std::size_t>(i % 4)] & 0x7FFFFFu);
        float one_to_two;
        std::memcpy(&one_to_two, &bits, sizeof bits);
        const float u = one_to_two - 1.0f;
        // u * width - limit, the product rounded to float before the sum, as TensorFlow
        // computes it: volatile keeps the compiler from fusing the two into one multiply-add.
        const volatile float scaled = u * width;
        flat(i / c_out, i % c_out) = scaled - limit;
    }
    return flat.transpose();
}

// ---- the blocks as graphs ------------------------------------------------------------------

/// A convolution with zero bias and the given weights, then batch normalization (epsilon
/// 1e-3, gamma 1, beta 0, running mean 0 and variance 1), as two nodes.
Node conv_bn(Graph& g, Node from, const Matrix<float>& weights, Index window, Index stride, bool same) {
    auto conv = std::make_unique<nndl::Conv2D<float>>(g.shape(from), weights.rows(), nndl::Window(window),
                                                       nndl::Stride(stride),
                                                       same ? nndl::Padding::same() : nndl::Padding::valid());
    conv->parameters()[0].value->operator=(weights);
    const Node c = g.add(std::move(conv), from);
    return g.add(std::make_unique<nndl::BatchNorm<float>>(g.shape(c), 0.01, 1e-3), c);
}

Node relu(Graph& g, Node from) {
    return g.add(nndl::make_activation_layer<float>(g.shape(from), nndl::Activation::relu), from);
}

/// Kernels of ones for a block of filters F1, F2, F3 over `channels` inputs.
std::array<Matrix<float>, 3> ones_kernels(Index channels, Index f, const std::array<Index, 3>& filters) {
    return {Matrix<float>::Ones(filters[0], channels), Matrix<float>::Ones(filters[1], f * f * filters[0]),
            Matrix<float>::Ones(filters[2], filters[1])};
}

/// The identity block: the main path's output plus the input, through ReLU.
Graph identity_block(const Shape& input, Index f, const std::array<Matrix<float>, 3>& kernels) {
    Graph g(input);
    const Node x = g.input();
    Node y = relu(g, conv_bn(g, x, kernels[0], 1, 1, false));
    y = relu(g, conv_bn(g, y, kernels[1], f, 1, true));
    y = conv_bn(g, y, kernels[2], 1, 1, false);
    relu(g, g.merge<nndl::Add>({y, x}));
    return g;
}

/// The convolutional block: the main path (its first convolution of stride s) plus a
/// shortcut convolution of stride s, through ReLU.
Graph convolutional_block(const Shape& input, Index f, Index s, const std::array<Matrix<float>, 4>& kernels) {
    Graph g(input);
    const Node x = g.input();
    Node y = relu(g, conv_bn(g, x, kernels[0], 1, s, false));
    y = relu(g, conv_bn(g, y, kernels[1], f, 1, true));
    y = conv_bn(g, y, kernels[2], 1, 1, false);
    const Node shortcut = conv_bn(g, x, kernels[3], 1, s, false);
    relu(g, g.merge<nndl::Add>({y, shortcut}));
    return g;
}

// ---- printing ------------------------------------------------------------------------------

/// The notebook's test input: three 4x4x3 examples, all -1, all 1 and all 3.
Matrix<float> test_input() {
    Matrix<float> x(48, 3);
    x.col(0).setConstant(-1.0f);
    x.col(1).setConstant(1.0f);
    x.col(2).setConstant(3.0f);
    return x;
}

/// output[:, (0, -1), :, :].mean(axis=3): per example, the first and last rows' channel
/// means (summed in order in float32, then divided, as NumPy does for so few values).
void print_resume(const Matrix<float>& output, const Shape& shape) {
    for (Index m = 0; m < output.cols(); ++m) {
        std::string line = "[";
        for (const Index row : {Index(0), shape.height - 1}) {
            line += row == 0 ? "[" : " [";
            for (Index w = 0; w < shape.width; ++w) {
                float sum = 0.0f;
                for (Index c = 0; c < shape.channels; ++c) {
                    sum += output(shape.offset(row, w, c), m);
                }
                line += (w ? " " : "") + repr(sum / static_cast<float>(shape.channels));
            }
            line += "]";
        }
        std::cout << "  example " << m << ": " << line << "]\n";
    }
}

/// Every value of each example, position by position (h, w) with its channels.
void print_all(const Matrix<float>& output, const Shape& shape) {
    for (Index m = 0; m < output.cols(); ++m) {
        std::cout << "  example " << m << ":";
        for (Index h = 0; h < shape.height; ++h) {
            for (Index w = 0; w < shape.width; ++w) {
                std::cout << (h + w ? " " : " ") << "(" << h << "," << w << ") [";
                for (Index c = 0; c < shape.channels; ++c) {
                    std::cout << (c ? " " : "") << repr(output(shape.offset(h, w, c), m));
                }
                std::cout << "]";
            }
        }
        std::cout << "\n";
    }
}

Matrix<float> run(Graph& block, const Matrix<float>& x, bool training) {
    // forward, not infer: training=True means batch statistics, as a training step uses them
    return block.forward(x, training ? nndl::Mode::training : nndl::Mode::evaluation);
}

void identity_tests(bool show_summary) {
    const Shape input = Shape::image(4, 4, 3);
    const Matrix<float> x = test_input();
    struct Case {
        Index f;
        std::array<Index, 3> filters;
        bool training;
    };
    for (const Case& c : {Case{2, {4, 4, 3}, false}, Case{3, {3, 3, 3}, true}, Case{2, {3, 3, 3}, true}}) {
        Graph block = identity_block(input, c.f, ones_kernels(input.channels, c.f, c.filters));
        if (show_summary) {
            std::cout << block.summary();
            show_summary = false;
        }
        std::cout << "== identity_block(X, f=" << c.f << ", filters=[" << c.filters[0] << ", " << c.filters[1]
                  << ", " << c.filters[2] << "], training=" << (c.training ? "True" : "False") << ")\n";
        std::cout << "resume = output[:, (0, -1), :, :].mean(axis=3):\n";
        print_resume(run(block, x, c.training), block.output_shape());
    }
}

void convolutional_tests(bool show_summary) {
    const Shape input = Shape::image(4, 4, 3);
    const std::array<Matrix<float>, 4> kernels{glorot_kernel(1, 1, 3, 2), glorot_kernel(2, 2, 2, 4),
                                               glorot_kernel(1, 1, 4, 6), glorot_kernel(1, 1, 3, 6)};
    std::cout << "== glorot_uniform(seed=0), kernel (1, 1, 3, 2) row-major:\n  [";
    for (Index i = 0; i < 6; ++i) {
        std::cout << (i ? " " : "") << repr(kernels[0](i % 2, i / 2));
    }
    std::cout << "]\n";
    Graph block = convolutional_block(input, 2, 2, kernels);
    if (show_summary) {
        std::cout << block.summary();
    }
    const Matrix<float> x = test_input();
    for (const bool training : {false, true}) {
        std::cout << "== convolutional_block(X, f=2, filters=[2, 4, 6], s=2, training="
                  << (training ? "True" : "False") << ")\n";
        std::cout << "output (3, 2, 2, 6), by example and position (h, w):\n";
        print_all(run(block, x, training), block.output_shape());
    }
}

}  // namespace

int main(int argc, char** argv) {
    return examples::run_main("residual_blocks", [&] {
        examples::Options options(
            "residual_blocks",
            "Prints what the tests of the course's \"Residual Networks\" check: the identity block and the\n"
            "convolutional block, built as nndl graphs, on the notebook's input and weights (float32).");
        options.flag("summary", "also print each block's graph (its nodes and what each takes)");
        options.parse(argc, argv);
        const bool summary = options.has("summary");
        identity_tests(summary);
        convolutional_tests(summary);
        return 0;
    });
}
