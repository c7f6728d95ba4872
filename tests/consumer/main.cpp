// Trains a small network on XOR with nndl and checks that it learned it.
#include <nndl/nndl.hpp>
#ifdef CONSUMER_ONNX
#include <nndl/io/onnx.hpp>
#endif

#include <iostream>

int main() {
    nndl::Matrix<double> x(2, 4);
    x << 0, 0, 1, 1,
         0, 1, 0, 1;
    nndl::Matrix<double> y(1, 4);
    y << 0, 1, 1, 0;

    nndl::Network<double> net({2, 8, 1}, {nndl::Activation::tanh, nndl::Activation::sigmoid},
                              {nndl::Init::xavier}, 1);
    nndl::GradientDescent<double> optimizer(0.5);
    const auto history = net.fit(x, y, optimizer, 3000);
    const double accuracy = net.accuracy(x, y);
    std::cout << "nndl " << nndl::version_string << ": cost " << history.epochs.front().loss << " -> "
              << history.epochs.back().loss << ", accuracy " << accuracy << '\n';
#ifdef CONSUMER_ONNX
    // Through ONNX in memory and back: the same predictions, bit for bit in float64.
    const auto model = nndl::to_onnx_model(net, nndl::OnnxExportOptions{nndl::OnnxPrecision::float64});
    const auto back = nndl::network_from_onnx_model<double>(model);
    const bool same = back.predict_proba(x) == net.predict_proba(x);
    std::cout << "ONNX round trip: " << (same ? "same predictions" : "DIFFERENT predictions") << '\n';
    if (!same) {
        return 1;
    }
#endif
    return accuracy == 1.0 ? 0 : 1;
}
