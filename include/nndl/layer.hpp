#pragma once
// The layer contract. Read this first: everything else in nndl builds on it.
//
// A layer maps an input batch (n_in x m, one example per column) to an output
// batch (n_out x m). The network calls it in this order:
//
//   forward(input, mode)     Computes the output and caches what backward needs.
//                            The layer may keep a pointer to `input` instead of
//                            copying it: the caller keeps `input` alive and
//                            unchanged until backward has run.
//                            The returned reference stays valid until the next
//                            forward call.
//   backward(dOutput, need)  Given dLoss/dOutput for the batch of the last forward,
//                            fills every parameter's gradient (dLoss/dParameter)
//                            and returns dLoss/dInput. When `need` is false (the
//                            first layer, whose input is the data) the input
//                            gradient is skipped and an empty matrix is returned.
//   parameters()             The trainable matrices with their gradients, in a fixed
//                            order. Optimizers key their state by position in the
//                            network's list, never by address.
//   infer(input, output)     Prediction only: no cache, no state change, so one
//                            trained layer may serve several threads at once.
//
// A layer that ends with an activation also exposes its pre-activation Z and a
// backward that starts from dLoss/dZ, so a loss can fuse with the output
// activation (sigmoid + binary cross-entropy, softmax + cross-entropy): dZ = A - Y
// is exact and cannot overflow, where dA = -Y/A + ... can.

#include <memory>
#include <string>
#include <vector>

#include "activations.hpp"
#include "errors.hpp"
#include "types.hpp"

namespace nndl {

/// One trainable matrix of a layer and the gradient backward fills for it.
template <class Scalar>
struct Parameter {
    std::string name;  ///< "W" or "b" (the network prefixes the layer number when saving)
    Matrix<Scalar>* value;
    Matrix<Scalar>* gradient;
};

template <class Scalar>
class Layer {
public:
    Layer() = default;
    Layer(const Layer&) = default;
    Layer& operator=(const Layer&) = default;
    virtual ~Layer() = default;

    /// Short type name used in messages and save files ("dense", "dropout").
    virtual std::string type() const = 0;
    virtual Index input_size() const = 0;
    virtual Index output_size() const = 0;

    virtual const Matrix<Scalar>& forward(const Matrix<Scalar>& input, Mode mode) = 0;
    virtual const Matrix<Scalar>& backward(const Matrix<Scalar>& output_gradient, bool need_input_gradient) = 0;
    virtual void infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const = 0;

    virtual std::vector<Parameter<Scalar>> parameters() { return {}; }

    /// The activation that ends this layer (identity when there is none).
    virtual Activation activation() const { return Activation::identity; }
    /// The cached pre-activation of the last forward, or nullptr if the layer has none.
    virtual const Matrix<Scalar>* preactivation() const { return nullptr; }
    /// Backward from dLoss/dZ instead of dLoss/dOutput (see the fused losses).
    virtual const Matrix<Scalar>& backward_from_preactivation(const Matrix<Scalar>&, bool) {
        detail::throw_invalid(type(), "::backward_from_preactivation: this layer has no pre-activation");
    }

    /// A promise from the caller: until the next call with false, forward() gets the
    /// same, unchanged input (full-batch training). A layer may precompute from it.
    virtual void hint_constant_input(bool constant) { (void)constant; }

    /// A deep copy (parameters included), for copying networks.
    virtual std::unique_ptr<Layer> clone() const = 0;
};

}  // namespace nndl
