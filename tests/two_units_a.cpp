// With two_units_b.cpp: two translation units including nndl.hpp link into one
// program (every function in the headers is inline or a template).
#include <nndl/nndl.hpp>

#include <iostream>

double predict_in_b();

int main() {
    nndl::Network<double> net({2, 3, 1}, {nndl::Activation::tanh, nndl::Activation::sigmoid}, {nndl::Init::xavier}, 5);
    const nndl::Matrix<double> x = nndl::Matrix<double>::Constant(2, 1, 0.5);
    const double here = net.predict_proba(x)(0, 0);
    const double there = predict_in_b();
    std::cout << "unit a: " << here << ", unit b: " << there << '\n';
    return here == there ? 0 : 1;  // same network, same code, same number
}
