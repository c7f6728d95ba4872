#pragma once
// The layer contract. Read this first: everything else in nndl builds on it.
//
// A layer maps an input batch to an output batch, one example per column. Each
// column holds one example of the layer's Shape (shape.hpp). The network calls:
//
//   forward(input, mode)     Computes the output and caches what backward needs.
//                            Pre: input has input_size() rows and at least one column.
//                            The layer keeps a pointer to `input` instead of copying it,
//                            so the caller keeps it alive and unchanged until backward
//                            (a temporary does not compile). The returned reference stays
//                            valid until the next forward. In Mode::training a layer may
//                            also update its state (batch statistics) and draw masks.
//   backward(dOutput, need)  Pre: forward ran on a batch; dOutput = dLoss/dOutput has the
//                            output's shape. Overwrites (never adds to) every parameter's
//                            gradient and returns dLoss/dInput; when `need` is false (the
//                            first layer, whose input is the data) it may skip that and
//                            return an empty matrix.
//   infer(input, output)     Prediction only: no cache, no state change, so one trained
//                            layer may serve several threads at once. Pre: as forward.
//   parameters()             The trained matrices with their gradients, in a fixed order.
//                            Optimizers key their state by position in the network's
//                            list, never by address. `decay` marks the ones L2 shrinks.
//   state()                  Matrices a layer saves and restores but no optimizer touches
//                            (running statistics).
//   check_loaded()           Called after a model file filled parameters() and state():
//                            throws InvalidArgument when their values cannot be this
//                            layer's (a negative running variance), so a bad file is
//                            refused on load instead of giving NaN predictions later.
//   type(), settings()       Self-description: a type name and the settings that rebuild
//                            the layer (sizes, activation, keep probability, ...), so one
//                            generic loop saves and loads any layer. A layer type of your
//                            own is loaded after one call of register_layer (registry.hpp).
//   passes_through_at_inference()
//                            True for a layer that evaluation and infer() leave unchanged
//                            (dropout, augmentation): predictions skip it, ONNX files
//                            leave it out.
//
// Implementations override the protected do_forward / do_backward / do_infer; the
// public methods check the shapes first, so every layer reports bad input the same way.
//
// Optional capabilities, found by the network with dynamic_cast, stay out of this
// contract: FusedOutput (a layer ending with an activation lets a loss start from
// dLoss/dZ: sigmoid + binary cross-entropy, softmax + cross-entropy give dZ = A - Y,
// exact, where dA = -Y/A + ... can overflow); FusedInference and ChannelAffine (at
// prediction a convolution applies the batch normalization, activation and pooling after
// it while its output is in cache, equal to the layers run one by one to rounding),
// BackwardThroughRelu (in training, batch normalization or a max pool takes the gradient
// through the ReLU before it in the same pass, the same bits as two backward passes),
// RecurrentState and VariableSteps (sequences, below), and OnnxExportable in layer_onnx.hpp
// (save_onnx writes the layer through its own converter).

#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "activation_tag.hpp"
#include "errors.hpp"
#include "settings.hpp"
#include "shape.hpp"
#include "types.hpp"

namespace nndl {

/// One trained matrix of a layer and the gradient backward fills for it.
template <class Scalar>
struct Parameter {
    std::string name;          ///< unique within the layer ("W", "b", "gamma")
    Matrix<Scalar>* value;     ///< the matrix itself, owned by the layer
    Matrix<Scalar>* gradient;  ///< dLoss/dvalue, value's shape, owned by the layer; backward overwrites it
    bool decay = false;        ///< L2 regularization (weight decay) applies to it
};

/// One matrix of non-trained state (running mean, running variance).
template <class Scalar>
struct StateBuffer {
    std::string name;       ///< unique within the layer ("running_mean", "running_var")
    Matrix<Scalar>* value;  ///< the matrix itself, owned by the layer
};

/// The base class of every layer: maps a batch (one example per column) to a batch.
/// The contract, in brief: forward caches what backward needs, backward overwrites the
/// parameter gradients and returns dLoss/dInput, infer predicts without touching the
/// layer, and type() with settings() rebuild the layer from a model file. Subclasses
/// override the protected do_forward, do_backward and do_infer; the public methods check
/// shapes first. Scalar is the element type, float or double.
template <class Scalar>
class Layer {
public:
    /// A layer that has seen no batch.
    Layer() = default;
    /// Copies nothing of the base: a copy has seen no batch.
    Layer(const Layer&) noexcept {}
    /// Forgets this layer's batch: after an assignment it has seen no batch.
    Layer& operator=(const Layer&) noexcept {
        input_ = nullptr;
        return *this;
    }
    virtual ~Layer() = default;

    /// The registered type name ("dense", "dropout"), used in messages and model files.
    virtual std::string type() const = 0;
    /// The shape of one input example (one column of forward's input).
    virtual Shape input_shape() const = 0;
    /// The shape of one output example (one column of forward's output).
    virtual Shape output_shape() const = 0;
    /// What rebuilds this layer (with the input shape) before its parameters and state are loaded.
    virtual Settings settings() const { return {}; }
    /// The trained matrices and their gradients, always in the same order (optimizers key
    /// their state by position); none by default. The pointers are into this layer.
    virtual std::vector<Parameter<Scalar>> parameters() { return {}; }
    /// Matrices saved and loaded with the model but not trained (running statistics);
    /// none by default. The pointers are into this layer.
    virtual std::vector<StateBuffer<Scalar>> state() { return {}; }
    /// Refuses loaded parameter and state values the layer cannot use (see the contract).
    virtual void check_loaded() const {}
    /// Values per example the layer holds besides its output while it runs (a convolution's
    /// patches); 0 by default. Model loaders count them against max_model_values(), so a
    /// small file cannot ask for a huge workspace.
    virtual Index working_values() const { return 0; }
    /// Operations (multiply-adds, comparisons) one example costs in forward; by default a
    /// pass over the input and the output. Layers whose work grows faster (a product, a
    /// window) say so; model loaders count it against max_model_operations(), so a small file
    /// cannot ask for hours of work.
    virtual Index operations() const { return input_size() + output_size(); }
    /// Whether evaluation and infer() give the input back unchanged, as dropout and data
    /// augmentation do (false by default): exporters leave such a layer out.
    virtual bool passes_through_at_inference() const { return false; }
    /// A deep copy (parameters and state included) that has seen no batch.
    virtual std::unique_ptr<Layer> clone() const = 0;

    /// Rows of forward's input: input_shape().size().
    Index input_size() const { return input_shape().size(); }
    /// Rows of forward's output: output_shape().size().
    Index output_size() const { return output_shape().size(); }

    /// The output of a batch (output_size() x input.cols()), caching what backward needs.
    /// Keeps a pointer to `input`, which must stay alive and unchanged until backward; the
    /// returned reference is valid until the next forward. Mode::training may update state
    /// (batch statistics) and draw masks. Throws ShapeError unless input has input_size()
    /// rows and at least one column.
    const Matrix<Scalar>& forward(const Matrix<Scalar>& input, Mode mode) {
        check_input("Layer::forward", input);
        input_ = &input;
        try {
            const Matrix<Scalar>& output = do_forward(input, mode);
            check_output("Layer::forward", output, input.cols());
            return output;
        } catch (...) {
            input_ = nullptr;  // no backward after a failed forward
            throw;
        }
    }
    /// Deleted: a temporary would leave the layer holding a dead batch.
    const Matrix<Scalar>& forward(Matrix<Scalar>&&, Mode) = delete;
    /// Deleted, as the overload above: no temporaries.
    const Matrix<Scalar>& forward(const Matrix<Scalar>&&, Mode) = delete;

    /// Backpropagates dLoss/dOutput (output_size() x the last forward's columns):
    /// overwrites, never adds to, every parameter's gradient and returns dLoss/dInput
    /// (input_size() x columns). With need_input_gradient false (the first layer) it may
    /// return an empty matrix instead. Throws InvalidArgument when has_batch() is false,
    /// ShapeError when output_gradient's shape differs.
    const Matrix<Scalar>& backward(const Matrix<Scalar>& output_gradient, bool need_input_gradient) {
        if (input_ == nullptr || output_gradient.rows() != output_size() || output_gradient.cols() != input_->cols()) {
            const std::string where = "Layer::backward ('" + type() + "')";  // built only on failure: no allocation
            require_batch(where.c_str());
            detail::require_rows(where.c_str(), "output gradient", output_gradient.rows(), output_size(),
                                 "the layer outputs");
            detail::require_cols(where.c_str(), "output gradient", output_gradient.cols(), input_->cols(),
                                 "the last forward's batch has");
        }
        const Matrix<Scalar>& input_gradient = do_backward(output_gradient, need_input_gradient);
        // A layer's own code that returns another shape is named here, not met as wrong
        // numbers later (the input gradient may be empty when it is not needed).
        if (need_input_gradient && (input_gradient.rows() != input_size() || input_gradient.cols() != input_->cols())) {
            detail::throw_shape("Layer::backward ('", type(), "'): do_backward returned a ", input_gradient.rows(), " x ",
                                input_gradient.cols(), " input gradient, expected ", input_size(), " x ", input_->cols());
        }
        return input_gradient;
    }

    /// Prediction only: writes the output of `input` into `output` (resized as needed),
    /// with no cache and no state change, so several threads may share one layer.
    /// Throws ShapeError as forward does.
    void infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const {
        check_input("Layer::infer", input);
        do_infer(input, output);
        check_output("Layer::infer", output, input.cols());
    }

    /// Forgets the batch of the last forward (backward needs a new forward first).
    void release_batch() { input_ = nullptr; }
    /// Whether the layer holds a forward's batch, which backward needs (none after
    /// construction, copying, assignment or release_batch()).
    bool has_batch() const { return input_ != nullptr; }

protected:
    /// forward's work; `input` is already checked and kept as last_input().
    virtual const Matrix<Scalar>& do_forward(const Matrix<Scalar>& input, Mode mode) = 0;
    /// backward's work; a batch was seen and output_gradient's shape is already checked.
    virtual const Matrix<Scalar>& do_backward(const Matrix<Scalar>& output_gradient, bool need_input_gradient) = 0;
    /// infer's work; `input` is already checked. Must not change the layer.
    virtual void do_infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const = 0;

    /// Throws ShapeError when a do_forward or do_infer returned another shape than
    /// output_size() x `columns` (a layer's own code breaking the contract).
    void check_output(const char* where, const Matrix<Scalar>& output, Index columns) const {
        if (output.rows() != output_size() || output.cols() != columns) {
            detail::throw_shape(where, " ('", type(), "'): the layer returned ", output.rows(), " x ", output.cols(),
                                ", expected ", output_size(), " x ", columns, " (output_size() x the input's columns)");
        }
    }

    /// The input of the last forward. Pre: has_batch().
    const Matrix<Scalar>& last_input() const { return *input_; }

    /// Throws InvalidArgument, naming `where`, unless has_batch().
    void require_batch(const char* where) const {
        if (input_ == nullptr) {
            detail::throw_invalid(where, ": called before forward; expected forward on a batch first");
        }
    }

private:
    void check_input(const char* function, const Matrix<Scalar>& input) const {
        if (input.rows() == input_size() && input.cols() > 0) {
            return;  // the message below allocates; a training step must not
        }
        const std::string where = std::string(function) + " ('" + type() + "')";
        if (input.rows() != input_size()) {
            detail::throw_shape(where, ": input has ", input.rows(), " rows, the layer expects ", input_size(),
                                " (input shape ", input_shape().to_string(), ")");
        }
        detail::require_examples(where.c_str(), input.cols());
    }

    const Matrix<Scalar>* input_ = nullptr;
};

/// A layer with several inputs (a merge): Add, Concatenate, Multiply (layers/merge.hpp).
/// It is a node of a Graph (graph.hpp), which feeds it the outputs of other nodes. The
/// contract is Layer's, with a list where Layer has one matrix:
///
///   forward(inputs, mode)   inputs[k] has input_shapes()[k].size() rows; all have the same
///                           columns. The layer keeps the pointers: the caller keeps the
///                           matrices alive and unchanged until backward.
///   backward(dOutput)       One gradient per input, in the inputs' order, each with that
///                           input's shape. The pointers stay valid until the next backward
///                           or forward, and may point to dOutput itself (Add passes it on to
///                           every input), so the caller keeps dOutput alive as long.
///   infer(inputs, output)   Prediction only, as Layer::infer.
///
/// Where one node's output feeds several nodes, the Graph gives it the sum of their
/// gradients, so neither kind of layer ever sees its consumers.
template <class Scalar>
class MergeLayer {
public:
    /// A layer that has seen no batch.
    MergeLayer() = default;
    /// Copies nothing of the base: a copy has seen no batch.
    MergeLayer(const MergeLayer&) noexcept {}
    /// Forgets this layer's batch.
    MergeLayer& operator=(const MergeLayer&) noexcept {
        inputs_.clear();
        return *this;
    }
    virtual ~MergeLayer() = default;

    /// The registered type name ("add", "concatenate", "multiply").
    virtual std::string type() const = 0;
    /// The shape of one example of each input, in order.
    virtual const std::vector<Shape>& input_shapes() const = 0;
    /// The shape of one output example.
    virtual Shape output_shape() const = 0;
    /// What rebuilds the layer from its input shapes (none by default).
    virtual Settings settings() const { return {}; }
    /// A deep copy that has seen no batch.
    virtual std::unique_ptr<MergeLayer> clone() const = 0;
    /// The same merge over inputs of other shapes, that has seen no batch (Graph::set_steps:
    /// sequences of another length). Throws ShapeError where they do not fit it. The default
    /// throws InvalidArgument: a merge of your own that does not override it keeps its shapes.
    virtual std::unique_ptr<MergeLayer> with_input_shapes(std::vector<Shape> inputs) const {
        detail::throw_invalid(printable(type()), ": this merge cannot take inputs of other shapes (", inputs.size(),
                              " given); it does not override MergeLayer::with_input_shapes");
    }
    /// Operations one example costs in forward: by default a pass over inputs and output.
    virtual Index operations() const {
        Index total = output_shape().size();
        for (const Shape& s : input_shapes()) {
            total += s.size();
        }
        return total;
    }

    /// The output of a batch, caching what backward needs; see the contract above. Throws
    /// ShapeError for another number of inputs, rows or differing columns.
    const Matrix<Scalar>& forward(const std::vector<const Matrix<Scalar>*>& inputs, Mode mode) {
        check_inputs("MergeLayer::forward", inputs);
        inputs_ = inputs;
        try {
            const Matrix<Scalar>& output = do_forward(inputs, mode);
            check_output("MergeLayer::forward", output, inputs.front()->cols());
            return output;
        } catch (...) {
            inputs_.clear();
            throw;
        }
    }

    /// One gradient per input for dLoss/dOutput of the last forward; see the contract above.
    /// Throws InvalidArgument before any forward, ShapeError for another shape.
    const std::vector<const Matrix<Scalar>*>& backward(const Matrix<Scalar>& output_gradient) {
        if (inputs_.empty() || output_gradient.rows() != output_shape().size() ||
            output_gradient.cols() != inputs_.front()->cols()) {
            const std::string where = "MergeLayer::backward ('" + type() + "')";  // built only on failure
            if (inputs_.empty()) {
                detail::throw_invalid(where, ": called before forward; expected forward on a batch first");
            }
            detail::require_rows(where.c_str(), "output gradient", output_gradient.rows(), output_shape().size(),
                                 "the layer outputs");
            detail::require_cols(where.c_str(), "output gradient", output_gradient.cols(), inputs_.front()->cols(),
                                 "the last forward's batch has");
        }
        const std::vector<const Matrix<Scalar>*>& gradients = do_backward(output_gradient);
        const std::vector<Shape>& shapes = input_shapes();
        if (gradients.size() != shapes.size()) {
            detail::throw_shape("MergeLayer::backward ('", type(), "'): do_backward returned ", gradients.size(),
                                " gradients, expected ", shapes.size());
        }
        for (std::size_t k = 0; k < shapes.size(); ++k) {
            if (gradients[k]->rows() != shapes[k].size() || gradients[k]->cols() != output_gradient.cols()) {
                detail::throw_shape("MergeLayer::backward ('", type(), "'): do_backward returned a ", gradients[k]->rows(), " x ",
                                    gradients[k]->cols(), " gradient for input ", k + 1, ", expected ",
                                    shapes[k].size(), " x ", output_gradient.cols());
            }
        }
        return gradients;
    }

    /// Prediction only: the output of `inputs` into `output`, changing nothing in the layer.
    void infer(const std::vector<const Matrix<Scalar>*>& inputs, Matrix<Scalar>& output) const {
        check_inputs("MergeLayer::infer", inputs);
        do_infer(inputs, output);
        check_output("MergeLayer::infer", output, inputs.front()->cols());
    }

    /// Forgets the last forward's inputs.
    void release_batch() { inputs_.clear(); }
    /// Whether the layer holds a forward's inputs.
    bool has_batch() const { return !inputs_.empty(); }

protected:
    /// forward's work; the inputs are already checked and kept as last_inputs().
    virtual const Matrix<Scalar>& do_forward(const std::vector<const Matrix<Scalar>*>& inputs, Mode mode) = 0;
    /// backward's work: one gradient per input (see the contract).
    virtual const std::vector<const Matrix<Scalar>*>& do_backward(const Matrix<Scalar>& output_gradient) = 0;
    /// infer's work; must not change the layer.
    virtual void do_infer(const std::vector<const Matrix<Scalar>*>& inputs, Matrix<Scalar>& output) const = 0;
    /// The inputs of the last forward.
    const std::vector<const Matrix<Scalar>*>& last_inputs() const { return inputs_; }

private:
    void check_inputs(const char* function, const std::vector<const Matrix<Scalar>*>& inputs) const {
        const std::vector<Shape>& shapes = input_shapes();
        if (inputs.size() != shapes.size()) {
            detail::throw_shape(function, " ('", type(), "'): ", inputs.size(), " inputs, expected ", shapes.size());
        }
        for (std::size_t k = 0; k < inputs.size(); ++k) {
            if (inputs[k] == nullptr) {
                detail::throw_invalid(function, " ('", type(), "'): input ", k + 1, " is null, expected a matrix");
            }
            if (inputs[k]->rows() != shapes[k].size()) {
                detail::throw_shape(function, " ('", type(), "'): input ", k + 1, " has ", inputs[k]->rows(),
                                    " rows, expected ", shapes[k].size(), " (shape ", shapes[k].to_string(), ")");
            }
            if (inputs[k]->cols() != inputs.front()->cols() || inputs[k]->cols() < 1) {
                detail::throw_shape(function, " ('", type(), "'): input ", k + 1, " has ", inputs[k]->cols(),
                                    " columns, expected ", inputs.front()->cols(), " (at least 1, as input 1)");
            }
        }
    }
    void check_output(const char* where, const Matrix<Scalar>& output, Index columns) const {
        if (output.rows() != output_shape().size() || output.cols() != columns) {
            detail::throw_shape(where, " ('", type(), "'): the layer returned ", output.rows(), " x ", output.cols(),
                                ", expected ", output_shape().size(), " x ", columns);
        }
    }

    std::vector<const Matrix<Scalar>*> inputs_;
};

/// Capability: the layer ends with an activation, and backward can start from dLoss/dZ.
/// Network::backward starts there where the loss fuses with the activation, and where the
/// activation is ReLU and the next layer takes the ReLU's backward (BackwardThroughRelu), so
/// activation() must say exactly what the output is: output = f(Z), entry by entry.
template <class Scalar>
class FusedOutput {
public:
    virtual ~FusedOutput() = default;
    /// The activation f the layer ends with (output = f(Z)).
    virtual Activation activation() const = 0;
    /// Z of the last forward. Pre: the layer has a batch. With the identity activation it may
    /// be the very object forward returned.
    virtual const Matrix<Scalar>& preactivation() const = 0;
    /// backward given dLoss/dZ instead of dLoss/dOutput; same contract as Layer::backward.
    /// Public and not checked by the base class: an implementation checks that a batch
    /// was seen and that z_gradient has Z's shape itself (Dense shows how).
    virtual const Matrix<Scalar>& backward_from_preactivation(const Matrix<Scalar>& z_gradient,
                                                              bool need_input_gradient) = 0;

protected:
    /// Only a layer implementing the capability constructs one.
    FusedOutput() = default;
    /// Protected, so that only the implementing layer copies it (no slicing).
    FusedOutput(const FusedOutput&) = default;
    /// Protected, so that only the implementing layer assigns it (no slicing).
    FusedOutput& operator=(const FusedOutput&) = default;
};

/// Capability: the layer's backward can also take the gradient through the ReLU that the
/// layer before it ends with (a ReLU activation layer, or a layer with FusedOutput and a
/// ReLU: a convolution or a dense layer), in the same pass over memory, where that ReLU's
/// own backward would be another pass. Batch normalization keeps its input gradient where
/// its input is above zero; a max pool gives a window's gradient to the pixel it took
/// where that pixel is above zero. Network::backward, finding such a pair, calls
/// backward_through_relu and then the layer before's backward_from_preactivation; the bits
/// are those of the two backward passes one after the other.
template <class Scalar>
class BackwardThroughRelu {
public:
    virtual ~BackwardThroughRelu() = default;
    /// Whether this layer, as configured, can (a max pool can, an average pool cannot).
    virtual bool takes_relu_backward() const = 0;
    /// backward(output_gradient, true) followed by the ReLU's backward, where the layer's
    /// last input was the ReLU's output: the gradient with respect to the ReLU's input.
    /// Checked as Layer::backward checks. Pre: takes_relu_backward().
    virtual const Matrix<Scalar>& backward_through_relu(const Matrix<Scalar>& output_gradient) = 0;

protected:
    /// For an implementation: layer.backward(output_gradient, true) with `through_relu` set
    /// for its do_backward to read, cleared after, also where backward throws.
    static const Matrix<Scalar>& backward_with_flag(Layer<Scalar>& layer, bool& through_relu,
                                                    const Matrix<Scalar>& output_gradient) {
        through_relu = true;
        struct Clear {
            bool& flag;
            ~Clear() { flag = false; }
        } clear{through_relu};
        return layer.backward(output_gradient, true);
    }

    /// Only a layer implementing the capability constructs one.
    BackwardThroughRelu() = default;
    /// Protected, so that only the implementing layer copies it (no slicing).
    BackwardThroughRelu(const BackwardThroughRelu&) = default;
    /// Protected, so that only the implementing layer assigns it (no slicing).
    BackwardThroughRelu& operator=(const BackwardThroughRelu&) = default;
};

/// Capability: at inference the layer is y = scale * x + shift, one scale and shift per
/// channel (of image columns; per feature for flat ones): batch normalization with its
/// running statistics. A layer before it with FusedInference may apply it to its own
/// output while that is still in cache.
template <class Scalar>
class ChannelAffine {
public:
    virtual ~ChannelAffine() = default;
    /// The scale and shift inference applies, input_shape().channels x 1 each.
    virtual void inference_affine(Matrix<Scalar>& scale, Matrix<Scalar>& shift) const = 0;

protected:
    /// Only a layer implementing the capability constructs one.
    ChannelAffine() = default;
    /// Protected, so that only the implementing layer copies it (no slicing).
    ChannelAffine(const ChannelAffine&) = default;
    /// Protected, so that only the implementing layer assigns it (no slicing).
    ChannelAffine& operator=(const ChannelAffine&) = default;
};

/// Capability: at inference the layer can compute some of the layers after it in the same
/// pass over its output (inference fusion: a convolution applying the batch normalization,
/// activation and pooling that follow it to each block of its output while the block is in
/// cache). Network's predictions use it; the result equals running the layers one by one,
/// to rounding. Nothing is changed: not the layers, not what a model file holds.
template <class Scalar>
class FusedInference {
public:
    virtual ~FusedInference() = default;
    /// How many of `next` (the layers after this one, in order) infer_with computes: 0 for none.
    virtual std::size_t fusable_layers(const std::vector<const Layer<Scalar>*>& next) const = 0;
    /// This layer's inference of `input` followed by next[0], ..., next[count - 1]'s, into
    /// `output`. Pre: count <= fusable_layers(next); `input` fits this layer.
    virtual void infer_with(const Matrix<Scalar>& input, const std::vector<const Layer<Scalar>*>& next,
                            std::size_t count, Matrix<Scalar>& output) const = 0;

protected:
    /// Only a layer implementing the capability constructs one.
    FusedInference() = default;
    /// Protected, so that only the implementing layer copies it (no slicing).
    FusedInference(const FusedInference&) = default;
    /// Protected, so that only the implementing layer assigns it (no slicing).
    FusedInference& operator=(const FusedInference&) = default;
};

/// Capability: a recurrent layer's hidden state (state_size() x batch, one column per example).
/// It is not the layer's saved state (StateBuffer): model files do not hold it, training
/// snapshots do not restore it. forward and step start from the current state (zeros
/// until set_initial_state, and after reset_state); infer starts from it too and changes
/// nothing. With carry on, each forward leaves its final state as the next one's start: a
/// long sequence trained in pieces (truncated backpropagation through time; the gradient
/// stops at the start of a piece).
template <class Scalar>
class RecurrentState {
public:
    virtual ~RecurrentState() = default;
    /// Rows of the state: the units of a SimpleRNN; twice the units of an LSTM (the hidden
    /// state on top, the cell state below).
    virtual Index state_size() const = 0;
    /// The state the next pass starts from, one column per example (the batch must then
    /// have as many). Throws ShapeError unless it has state_size() rows and InvalidArgument
    /// for a value that is not finite.
    virtual void set_initial_state(const Matrix<Scalar>& state) = 0;
    /// The next pass starts from zeros; a pending final-state gradient is dropped.
    virtual void reset_state() = 0;
    /// Whether each forward (in either mode) leaves its final state as the next start.
    virtual void set_carry(bool carry) = 0;
    /// The state the last forward or step ended in. Empty before any.
    virtual const Matrix<Scalar>& final_state() const = 0;
    /// dLoss/d(start state) of the last backward (the course's da0). Empty before any.
    virtual const Matrix<Scalar>& initial_state_gradient() const = 0;
    /// dLoss/d(final state) from outside the layer (an encoder whose final state starts a
    /// decoder; the course's dc_next): the next backward adds it where the last step's
    /// state is, then forgets it. Throws ShapeError unless it has state_size() rows.
    virtual void set_final_state_gradient(const Matrix<Scalar>& gradient) = 0;
    /// One time step on a batch of step inputs (features x batch) from the current state;
    /// the result becomes the current state and is returned (generation, one token at a
    /// time). Throws ShapeError for another shape.
    virtual const Matrix<Scalar>& step(const Matrix<Scalar>& input) = 0;

protected:
    /// Only a layer implementing the capability constructs one.
    RecurrentState() = default;
    /// Protected, so that only the implementing layer copies it (no slicing).
    RecurrentState(const RecurrentState&) = default;
    /// Protected, so that only the implementing layer assigns it (no slicing).
    RecurrentState& operator=(const RecurrentState&) = default;
};

/// Capability: a layer over sequences that runs on sequences of any length (the recurrent
/// layers, SequenceDense, Embedding). set_steps gives its input another number of time
/// steps (and its output too, where that is a sequence); parameters and the recurrent state
/// stay, the batch of the last forward is forgotten. Network::set_steps sets every layer
/// of a network at once, so one network serves a batch of 5-step sequences, then one of 12.
/// The sequences of one batch share a length. For outputs at every step, pad shorter ones
/// at the end with all-zero targets at the padded steps: SequenceCrossEntropy leaves those
/// steps out, and a forward recurrence never lets a later step change an earlier one. A
/// layer that returns only the last step (or a carried state) sees the padding: give such
/// a network batches of equal lengths (set_steps between them).
template <class Scalar>
class VariableSteps {
public:
    virtual ~VariableSteps() = default;
    /// Sequences of `steps` time steps from now on. Throws InvalidArgument for steps below
    /// 1 or a sequence too large for Shape::valid().
    virtual void set_steps(Index steps) = 0;
    /// Throws what set_steps(steps) would throw, changing nothing, so that the network or graph
    /// around the layer checks every layer before it changes any. The default checks nothing:
    /// it serves a layer whose own set_steps checks all before it changes anything and whose
    /// caller has checked its input and output shapes with the new steps (as Network does). A
    /// layer made of layers (Graph) overrides it.
    virtual void check_steps(Index steps) const { (void)steps; }

protected:
    /// Only a layer implementing the capability constructs one.
    VariableSteps() = default;
    /// Protected, so that only the implementing layer copies it (no slicing).
    VariableSteps(const VariableSteps&) = default;
    /// Protected, so that only the implementing layer assigns it (no slicing).
    VariableSteps& operator=(const VariableSteps&) = default;
};

namespace detail {

/// `sequence` with `steps` time steps; throws InvalidArgument, naming `where`, for steps
/// below 1 or a shape Shape::valid() refuses.
inline Shape with_steps(const char* where, const Shape& sequence, Index steps) {
    const Shape resized = Shape::sequence(steps, sequence.features());
    if (steps < 1 || !resized.valid()) {
        throw_invalid(where, ": steps is ", steps, ", expected at least 1 and at most ",
                      Shape::max_values / sequence.features(), " for ", sequence.features(), " features per step");
    }
    return resized;
}

/// A VariableSteps layer's input shape with `steps` time steps, after checking that its
/// `output` (where that is a sequence, whose steps change too) stays valid as well, so a
/// refusal leaves the layer as it was.
inline Shape input_with_steps(const char* where, const Shape& input, const Shape& output, Index steps) {
    if (output.is_sequence()) {
        (void)with_steps(where, output, steps);
    }
    return with_steps(where, input, steps);
}

/// The output shape `layer` has after set_steps(steps), checked as its set_steps would check
/// it, changing nothing (VariableSteps::check_steps included: a graph checks its nodes). `at`
/// names the layer in messages ("Network::set_steps: layer 2"). Throws InvalidArgument for a
/// layer that takes a whole sequence as one flat vector, one without VariableSteps, or steps
/// its shapes cannot hold.
template <class Scalar>
Shape output_with_steps(const std::string& at, const Layer<Scalar>& layer, Index steps) {
    const std::string named = concat(at, " ('", printable(layer.type()), "')");
    const Shape in = layer.input_shape();
    if (!in.is_sequence()) {
        throw_invalid(named, " takes ", in.to_string(), ", the whole sequence as one vector; its steps cannot change");
    }
    const auto* variable = dynamic_cast<const VariableSteps<Scalar>*>(&layer);
    if (variable == nullptr) {
        throw_invalid(named, " runs over sequences of ", in.steps(), " steps and cannot change them");
    }
    const Shape out = layer.output_shape();
    (void)input_with_steps(named.c_str(), in, out, steps);
    variable->check_steps(steps);
    return out.is_sequence() ? Shape::sequence(steps, out.features()) : out;
}

}  // namespace detail

/// The activation a layer ends with: its FusedOutput's, else identity.
template <class Scalar>
Activation output_activation(const Layer<Scalar>& layer) {
    const auto* fused = dynamic_cast<const FusedOutput<Scalar>*>(&layer);
    return fused != nullptr ? fused->activation() : Activation::identity;
}

}  // namespace nndl
