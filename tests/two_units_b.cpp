#include <nndl/nndl.hpp>

double predict_in_b() {
    nndl::Network<double> net({2, 3, 1}, {nndl::Activation::tanh, nndl::Activation::sigmoid}, {nndl::Init::xavier}, 5);
    const nndl::Matrix<double> x = nndl::Matrix<double>::Constant(2, 1, 0.5);
    return net.predict_proba(x)(0, 0);
}
