// The course's "Convolution model, step by step" with nndl's layers: zero padding, one
// convolution step, convolution forward and backward, max and average pooling forward
// and backward, from the assignment's seeds. Arrays print as NumPy prints them (up to 8
// decimals, without the column padding), means as Python's repr. The convolutions sum
// in NumPy's order (Conv2D::set_numpy_order), so the 16-digit means are the course's.
#include "example_support.hpp"

#include <nndl/cnn.hpp>
#include <nndl/numpy_sum.hpp>

#include <charconv>
#include <cstdio>

namespace {

using nndl::Index;
using nndl::Matrix;
using nndl::Shape;

/// Python's repr of a float: the shortest digits that read back to the same double.
std::string repr(double v) {
    char text[64];
    const auto result = std::to_chars(text, text + sizeof text, v);
    return std::string(text, result.ptr);
}

/// The rows x cols block of values at `values`, channels (columns) fastest, as [[..] [..]].
std::string numpy_matrix(const double* values, Index rows, Index cols) {
    std::string s = "[";
    for (Index r = 0; r < rows; ++r) {
        s += r ? " [" : "[";
        for (Index c = 0; c < cols; ++c) {
            s += (c ? " " : "") + examples::numpy_array_value(values[r * cols + c]);
        }
        s += "]";
    }
    return s + "]";
}

std::string numpy_vector(const double* values, Index n) {
    std::string s = "[";
    for (Index i = 0; i < n; ++i) {
        s += (i ? " " : "") + examples::numpy_array_value(values[i]);
    }
    return s + "]";
}

/// A (m, H, W, C) shape as NumPy prints it.
std::string shape_of(Index m, const Shape& s) {
    return "(" + std::to_string(m) + ", " + std::to_string(s.height) + ", " + std::to_string(s.width) + ", " +
           std::to_string(s.channels) + ")";
}

/// randn(m, H, W, C) after the stream's current state: one example per column, HWC.
Matrix<double> images(nndl::NumpyRandom& random, Index m, const Shape& s) {
    return random.randn(m, s.size()).transpose();
}

/// randn(f, f, C_prev, C) as a Conv2D weight matrix (filters x f*f*C_prev).
Matrix<double> filters(nndl::NumpyRandom& random, Index kernel_values, Index count) {
    return random.randn(kernel_values, count).transpose();
}

void zero_pad_step() {
    nndl::NumpyRandom random(1);
    const Shape shape = Shape::image(3, 3, 2);
    const Matrix<double> x = images(random, 4, shape);
    Shape padded;
    const Matrix<double> x_pad = nndl::zero_pad(x, shape, nndl::Padding::uniform(3), padded);
    std::cout << "x.shape = " << shape_of(4, shape) << '\n';
    std::cout << "x_pad.shape = " << shape_of(4, padded) << '\n';
    std::cout << "x[1,1] = " << numpy_matrix(x.col(1).data() + shape.offset(1, 0, 0), 3, 2) << '\n';
    std::cout << "x_pad[1,1] = " << numpy_matrix(x_pad.col(1).data() + padded.offset(1, 0, 0), 9, 2) << '\n';
}

void conv_single_step() {
    nndl::NumpyRandom random(1);
    const Shape shape = Shape::image(4, 4, 3);
    const Matrix<double> a_slice = images(random, 1, shape);
    // One filter as large as the slice: its single output is sum(a_slice * W) + b.
    nndl::Conv2D<double> conv(shape, 1, nndl::Window(4));
    conv.set_numpy_order(true);
    conv.weights() = random.randn(1, shape.size());
    conv.bias() = random.randn(1, 1);
    Matrix<double> z;
    conv.infer(a_slice, z);
    std::cout << "Z = " << repr(z(0, 0)) << '\n';
}

void conv_forward() {
    nndl::NumpyRandom random(1);
    const Shape shape = Shape::image(5, 7, 4);
    const Matrix<double> a_prev = images(random, 2, shape);
    nndl::Conv2D<double> conv(shape, 8, nndl::Window(3), nndl::Stride(2), nndl::Padding::uniform(1));
    conv.set_numpy_order(true);
    conv.weights() = filters(random, 3 * 3 * 4, 8);
    conv.bias() = random.randn(8, 1);
    const Matrix<double>& z = conv.forward(a_prev, nndl::Mode::training);
    const Shape out = conv.output_shape();
    std::cout << "Z's mean = " << repr(nndl::numpy_mean(z)) << '\n';
    std::cout << "Z[0,2,1] = " << numpy_vector(z.col(0).data() + out.offset(2, 1, 0), 8) << '\n';
    std::cout << "cache_conv[0][1][2][3] = " << numpy_vector(a_prev.col(1).data() + shape.offset(2, 3, 0), 4) << '\n';
}

void pool_forward() {
    const Shape shape = Shape::image(5, 5, 3);
    for (const Index stride : {1, 2}) {
        nndl::NumpyRandom random(1);
        const Matrix<double> a_prev = images(random, 2, shape);
        for (const nndl::PoolMode mode : {nndl::PoolMode::max, nndl::PoolMode::average}) {
            nndl::Pool2D<double> pool(mode, shape, nndl::Window(3), nndl::Stride(stride));
            Matrix<double> a;
            pool.infer(a_prev, a);
            const Shape out = pool.output_shape();
            std::cout << "mode = " << (mode == nndl::PoolMode::max ? "max" : "average") << ", stride " << stride
                      << '\n';
            std::cout << "A.shape = " << shape_of(2, out) << '\n';
            if (stride == 1) {
                std::cout << "A[1, 1] = " << numpy_matrix(a.col(1).data() + out.offset(1, 0, 0), out.width, 3) << '\n';
            } else {
                const Index example = mode == nndl::PoolMode::max ? 0 : 1;
                std::string rows = "[";
                for (Index h = 0; h < out.height; ++h) {
                    rows += (h ? " " : "") + numpy_matrix(a.col(example).data() + out.offset(h, 0, 0), out.width, 3);
                }
                std::cout << "A[" << example << "] = " << rows << "]\n";
            }
        }
    }
}

void conv_backward() {
    nndl::NumpyRandom random(1);
    const Shape shape = Shape::image(4, 4, 3);
    const Matrix<double> a_prev = images(random, 10, shape);
    nndl::Conv2D<double> conv(shape, 8, nndl::Window(2), nndl::Stride(2), nndl::Padding::uniform(2));
    conv.set_numpy_order(true);
    conv.weights() = filters(random, 2 * 2 * 3, 8);
    conv.bias() = random.randn(8, 1);
    const Matrix<double> z = conv.forward(a_prev, nndl::Mode::training);
    const Matrix<double>& da = conv.backward(z, true);  // the course passes Z itself as dZ
    const auto params = conv.parameters();
    std::cout << "dA_mean = " << repr(nndl::numpy_mean(da)) << '\n';
    std::cout << "dW_mean = " << repr(nndl::numpy_mean(*params[0].gradient)) << '\n';
    std::cout << "db_mean = " << repr(nndl::numpy_mean(*params[1].gradient)) << '\n';
}

void mask_and_distribute() {
    // A max pool over the whole 2 x 3 window sends the gradient to the maximum: the mask.
    nndl::NumpyRandom random(1);
    const Matrix<double> x = random.randn(1, 6).transpose();
    const Shape shape = Shape::image(2, 3, 1);
    nndl::Pool2D<double> max_pool(nndl::PoolMode::max, shape, nndl::Window(2, 3), nndl::Stride(1));
    max_pool.forward(x, nndl::Mode::training);
    const Matrix<double> one = Matrix<double>::Ones(1, 1);
    const Matrix<double> mask = max_pool.backward(one, true);
    std::cout << "x = " << numpy_matrix(x.data(), 2, 3) << '\n';
    std::string text = "[";
    for (Index r = 0; r < 2; ++r) {
        text += r ? " [" : "[";
        for (Index c = 0; c < 3; ++c) {
            text += std::string(c ? " " : "") + (mask(r * 3 + c, 0) != 0.0 ? "True" : "False");
        }
        text += "]";
    }
    std::cout << "mask = " << text << "]\n";
    // An average pool over a 2 x 2 window spreads its gradient evenly: distribute_value(2, (2, 2)).
    nndl::Pool2D<double> avg_pool(nndl::PoolMode::average, Shape::image(2, 2, 1), nndl::Window(2), nndl::Stride(1));
    const Matrix<double> image = Matrix<double>::Zero(4, 1);
    avg_pool.forward(image, nndl::Mode::training);
    const Matrix<double> two = Matrix<double>::Constant(1, 1, 2.0);
    const Matrix<double> spread = avg_pool.backward(two, true);
    std::cout << "distributed value = " << numpy_matrix(spread.data(), 2, 2) << '\n';
}

void pool_backward() {
    const Shape shape = Shape::image(5, 3, 2);
    for (const nndl::PoolMode mode : {nndl::PoolMode::max, nndl::PoolMode::average}) {
        nndl::NumpyRandom random(1);
        const Matrix<double> a_prev = images(random, 5, shape);
        nndl::Pool2D<double> pool(mode, shape, nndl::Window(2), nndl::Stride(1));
        const Matrix<double>& a = pool.forward(a_prev, nndl::Mode::training);
        const Shape out = pool.output_shape();
        const Matrix<double> da = images(random, 5, out);
        if (mode == nndl::PoolMode::max) {
            std::cout << "A.shape = " << shape_of(a.cols(), out) << '\n';
            std::cout << "A_prev.shape = " << shape_of(a_prev.cols(), shape) << '\n';
        }
        const Matrix<double>& da_prev = pool.backward(da, true);
        const bool max = mode == nndl::PoolMode::max;
        std::cout << "mode = " << (max ? "max" : "average") << '\n';
        std::cout << "mean of dA = " << repr(nndl::numpy_mean(da)) << '\n';
        std::cout << (max ? "dA_prev1[1,1] = " : "dA_prev2[1,1] = ")
                  << numpy_matrix(da_prev.col(1).data() + shape.offset(1, 0, 0), 3, 2) << '\n';
    }
}

}  // namespace

int main(int argc, char** argv) {
    return examples::run_main("convolution_step_by_step", [&] {
        examples::Options options(
            "convolution_step_by_step",
            "Prints what the course's \"Convolution model, step by step\" prints, computed with nndl's\n"
            "Conv2D and Pool2D layers from the assignment's seeds.");
        options.parse(argc, argv);
        std::cout << "== zero_pad\n";
        zero_pad_step();
        std::cout << "== conv_single_step\n";
        conv_single_step();
        std::cout << "== conv_forward\n";
        conv_forward();
        std::cout << "== pool_forward\n";
        pool_forward();
        std::cout << "== conv_backward\n";
        conv_backward();
        std::cout << "== create_mask_from_window, distribute_value\n";
        mask_and_distribute();
        std::cout << "== pool_backward\n";
        pool_backward();
        return 0;
    });
}
