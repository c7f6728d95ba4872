// Built by ctest, never by default: with NNDL_PASS_lvalue it must compile, with
// NNDL_PASS_rvalue it must not, because a layer or network would keep a pointer to
// a temporary batch that dies at the end of the statement (see layer.hpp).
#include <nndl/nndl.hpp>

int main() {
    nndl::NumpyRandom random(1);
    nndl::Network<double> net({3, 2, 1}, {nndl::Activation::relu, nndl::Activation::sigmoid}, {nndl::Init::he}, 1);
    nndl::GradientDescent<double> gd(0.1);
    const nndl::Matrix<double> y = nndl::Matrix<double>::Ones(1, 5);
#if defined(NNDL_PASS_lvalue)
    const nndl::Matrix<double> x = random.randn(3, 5);
#define NNDL_INPUT x
#elif defined(NNDL_CASE_CONST_TEMPORARY)
    // A const temporary binds to const& too; it needs its own deleted overload.
    const auto batch = [&]() -> const nndl::Matrix<double> { return random.randn(3, 5); };
#define NNDL_INPUT batch()
#else
#define NNDL_INPUT random.randn(3, 5)
#endif
#if defined(NNDL_CASE_LAYER_FORWARD)
    net.layer(0).forward(NNDL_INPUT, nndl::Mode::training);
#elif defined(NNDL_CASE_NETWORK_FORWARD)
    net.forward(NNDL_INPUT);
    net.backward(y);
#elif defined(NNDL_CASE_TRAIN_STEP)
    net.train_step(NNDL_INPUT, y, gd);
#elif defined(NNDL_CASE_CONST_TEMPORARY)
    net.forward(NNDL_INPUT);
    net.layer(0).forward(NNDL_INPUT, nndl::Mode::training);
    net.train_step(NNDL_INPUT, y, gd);
#endif
    return 0;
}
