// Built by ctest, never by default. NNDL_CASE_friendly must compile: the friendlier
// spellings (layer sizes from any integer container, plain Init and Activation values).
// Each NNDL_CASE_mix_* hands a Network<float> something in double and must fail with
// nndl's own message (checked by the test), not Eigen's deep static assertion.
#include <nndl/nndl.hpp>

#include <array>
#include <cstddef>
#include <vector>

int main() {
    const nndl::Matrix<float> x = nndl::Matrix<float>::Ones(2, 4);
    const nndl::Matrix<float> y = nndl::Matrix<float>::Ones(1, 4);
    const nndl::Matrix<double> x64 = x.cast<double>();
    nndl::Network<float> net({2, 3, 1}, nndl::Activation::relu, nndl::Activation::sigmoid, nndl::Init::he, 1);
#if defined(NNDL_CASE_friendly)
    const std::vector<int> int_sizes{2, 3, 1};
    const std::array<std::size_t, 3> unsigned_sizes{2, 3, 1};
    const std::vector<unsigned short> short_sizes{2, 3, 1};
    nndl::Network<float> a(int_sizes, {nndl::Activation::relu, nndl::Activation::sigmoid}, nndl::Init::he, 1);
    nndl::Network<float> b(unsigned_sizes, nndl::Activation::tanh, nndl::Activation::sigmoid, nndl::Init::xavier, 2);
    nndl::Network<float> c(short_sizes, {nndl::Activation::relu, nndl::Activation::sigmoid},
                           {nndl::Init::scaled_normal, 0.01}, 3);
    nndl::NumpyRandom random(1);
    nndl::Network<float> d(nndl::Shape(2));
    d.add_dense(3, nndl::Activation::relu, nndl::Init::he, random).add_dense(1, nndl::Activation::sigmoid, nndl::Init::xavier, random);
    nndl::Adam<float> adam(0.01);
    nndl::TrainOptions options;
    options.epochs = 1;
    nndl::train(a, x, y, adam, options);
    return static_cast<int>(b.predict(x).cols() + c.predict_proba(x).cols() + d.predict(x).cols()) == 12 ? 0 : 1;
#elif defined(NNDL_CASE_mix_predict)
    return static_cast<int>(net.predict(x64).cols());
#elif defined(NNDL_CASE_mix_train)
    nndl::Adam<float> adam(0.01);
    nndl::train(net, x64, y, adam, nndl::TrainOptions{});
    return 0;
#elif defined(NNDL_CASE_mix_optimizer)
    nndl::Adam<double> adam(0.01);
    return static_cast<int>(net.train_step(x, y, adam));
#endif
}
