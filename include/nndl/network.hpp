#pragma once
// Network<Scalar>: layers assembled at run time and checked shape by shape as they
// are added, with a loss and an optional L2 strength. Training is training.hpp's
// loop, which depends on this header and not the other way round; fit is its
// full-batch form (the course's gradient descent) and needs training.hpp included.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <iomanip>
#include <iterator>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "errors.hpp"
#include "initializers.hpp"
#include "layer.hpp"
#include "layers/activation_layer.hpp"
#include "layers/activations.hpp"
#include "layers/dense.hpp"
#include "layers/dropout.hpp"
#include "optim/clipping.hpp"
#include "losses.hpp"
#include "metrics.hpp"
#include "optim/optimizer.hpp"
#include "random.hpp"
#include "training_options.hpp"
#include "types.hpp"
#include "detail/text_table.hpp"

namespace nndl {

namespace detail {

/// True for a whole-number type that is a number, not a truth value or a character.
template <class T>
inline constexpr bool is_size_number = std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char> &&
                                       !std::is_same_v<T, signed char> && !std::is_same_v<T, unsigned char> &&
                                       !std::is_same_v<T, wchar_t> && !std::is_same_v<T, char16_t> &&
                                       !std::is_same_v<T, char32_t>;

/// True for a container (anything with begin/end) of whole numbers (not a string).
template <class Range, class = void>
struct is_integer_range : std::false_type {};
template <class Range>
struct is_integer_range<Range, std::void_t<decltype(std::begin(std::declval<const Range&>())),
                                           decltype(std::end(std::declval<const Range&>()))>>
    : std::bool_constant<is_size_number<std::decay_t<decltype(*std::begin(std::declval<const Range&>()))>>> {};

}  // namespace detail

/// Layer sizes for a network of dense layers (input first), from a braced list
/// ({12288, 20, 7, 5, 1}) or any container of whole numbers (std::vector<int>,
/// std::array<std::size_t, 4>, ...). Throws InvalidArgument when a size does not fit
/// an Index; sizes below 1 are refused by the network.
class LayerSizes {
public:
    /// Sizes from a braced list.
    LayerSizes(std::initializer_list<Index> sizes) : sizes_(sizes) {}
    /// Sizes from any container of whole numbers.
    template <class Range, std::enable_if_t<detail::is_integer_range<Range>::value, int> = 0>
    LayerSizes(const Range& sizes) {  // NOLINT: implicit on purpose, so a std::vector<int> is accepted as is
        for (const auto size : sizes) {
            using Value = std::decay_t<decltype(size)>;
            if constexpr (std::is_unsigned_v<Value>) {
                if (static_cast<unsigned long long>(size) >
                    static_cast<unsigned long long>(std::numeric_limits<Index>::max())) {
                    detail::throw_invalid("LayerSizes: size ", sizes_.size(), " is ", size, ", expected at most ",
                                          std::numeric_limits<Index>::max(), " (what an Index holds)");
                }
            }
            sizes_.push_back(static_cast<Index>(size));
        }
    }
    /// The sizes, input first.
    const std::vector<Index>& values() const { return sizes_; }

private:
    std::vector<Index> sizes_;
};

/// Builds the hidden/output activation list of a "sizes" network: every layer but
/// the last uses `hidden`, the last uses `output`.
inline std::vector<Activation> standard_activations(std::size_t layers, Activation hidden, Activation output) {
    std::vector<Activation> result(layers, hidden);
    if (layers > 0) {
        result.back() = output;
    }
    return result;
}

/// Layers assembled at run time, checked shape by shape as they are added, with a loss
/// (chosen from the output activation unless set) and an optional L2 strength. Copies
/// are deep; one network may serve predictions from several threads at once.
template <class Scalar>
class Network {
public:
    /// A network with no input shape and no layers (assign one to it before use).
    Network() = default;

    /// An empty network taking examples of `input` shape (a number n means n flat
    /// features); add layers with add / add_dense / add_activation / add_dropout.
    explicit Network(Shape input) : input_shape_(input) {
        if (!input.valid()) {
            detail::throw_invalid("Network::Network: input shape is ", input.channels, "x", input.height, "x",
                                  input.width, ", expected at least 1 in each dimension and at most ",
                                  Shape::max_values, " values");
        }
    }

    /// Dense layers of the given sizes (sizes[0] is the input), one activation per layer,
    /// weights drawn in layer order from `random`, as the course's initialize_parameters
    /// functions do. `init` may be a plain Init value (Init::he). Throws InvalidArgument
    /// for fewer than 2 sizes, a size below 1 or another number of activations.
    Network(const LayerSizes& sizes, const std::vector<Activation>& activations, Initializer init,
            NumpyRandom& random) {
        build(sizes.values(), activations, init, random);
    }

    /// As above, seeding a fresh stream like np.random.seed(seed) first.
    Network(const LayerSizes& sizes, const std::vector<Activation>& activations, Initializer init,
            std::uint32_t seed) {
        NumpyRandom random(seed);
        build(sizes.values(), activations, init, random);
    }

    /// Dense layers with `hidden` on every layer but the last, which uses `output`:
    /// Network<double>({2, 4, 1}, Activation::tanh, Activation::sigmoid, Init::xavier, 1).
    Network(const LayerSizes& sizes, Activation hidden, Activation output, Initializer init, std::uint32_t seed) {
        NumpyRandom random(seed);
        const std::size_t layers = sizes.values().empty() ? 0 : sizes.values().size() - 1;
        build(sizes.values(), standard_activations(layers, hidden, output), init, random);
    }

    /// A deep copy: layers, parameters, state and loss (no batch of the original).
    Network(const Network& other)
        : input_shape_(other.input_shape_),
          l2_(other.l2_),
          clipping_(other.clipping_),
          loss_(other.loss_ ? other.loss_->clone() : nullptr),
          loss_chosen_by_user_(other.loss_chosen_by_user_) {
        for (const auto& layer : other.layers_) {
            layers_.push_back(layer->clone());
        }
        gather_parameters();
    }
    /// Replaces this network with a deep copy of `other`.
    Network& operator=(const Network& other) {
        if (this != &other) {
            Network copy(other);
            *this = std::move(copy);
        }
        return *this;
    }
    /// Takes over the layers of `other`, which is left empty.
    Network(Network&&) noexcept = default;
    /// Takes over the layers of `other`.
    Network& operator=(Network&&) noexcept = default;
    /// Frees the layers.
    ~Network() = default;

    /// Appends a layer. Its input shape must be the network's output shape, or, for a
    /// flat layer, hold as many values (an image column is already flat).
    Network& add(std::unique_ptr<Layer<Scalar>> layer);

    /// Inserts a layer before layer `position` (0: in front; depth(): as add), say a
    /// scaler's layer in front of a network built from sizes. It must take the output of
    /// the layer before it (or the network's input) and give what the layer after it takes.
    /// Parameters move to other slots: an optimizer that has already stepped needs reset().
    /// Throws InvalidArgument for a null layer or a position past depth(), ShapeError for
    /// shapes that do not chain.
    Network& insert(std::size_t position, std::unique_ptr<Layer<Scalar>> layer);

    /// Appends a Dense layer of `units` with weights drawn from `random`.
    Network& add_dense(Index units, Activation activation, Initializer init, NumpyRandom& random);
    /// Appends an activation over the current output shape.
    Network& add_activation(Activation activation) {
        return add(make_activation_layer<Scalar>(output_shape(), activation));
    }
    /// Appends inverted dropout over the current output shape.
    Network& add_dropout(double keep_prob, std::uint32_t seed = 1) {
        return add(std::make_unique<Dropout<Scalar>>(output_shape(), keep_prob, seed));
    }

    /// Sequences of `steps` time steps from now on, in every layer over sequences
    /// (VariableSteps): one network serves batches of each length. Parameters, optimizer
    /// slots and recurrent states stay; the last forward's batch is forgotten. Throws
    /// InvalidArgument, changing nothing, when the input is not a sequence, steps is out of
    /// range, or a layer over sequences cannot change its steps (a flat layer over a whole
    /// sequence, or a layer without VariableSteps).
    void set_steps(Index steps);

    /// The shape of one example the network takes.
    Shape input_shape() const { return input_shape_; }
    /// The shape of one example's output: the last layer's (the input's with no layers).
    Shape output_shape() const { return layers_.empty() ? input_shape_ : layers_.back()->output_shape(); }
    /// Rows of the X the network takes: input_shape().size().
    Index input_size() const { return input_shape_.size(); }
    /// Rows of the output (and of Y): output_shape().size().
    Index output_size() const { return output_shape().size(); }
    /// The number of layers.
    std::size_t depth() const { return layers_.size(); }
    /// Layer i, 0-based. Throws InvalidArgument when i >= depth().
    Layer<Scalar>& layer(std::size_t i) { return *layers_[checked_layer(i)]; }
    /// Layer i, 0-based. Throws InvalidArgument when i >= depth().
    const Layer<Scalar>& layer(std::size_t i) const { return *layers_[checked_layer(i)]; }

    /// The sizes of the network: input, then each layer's output.
    std::vector<Index> sizes() const;

    /// The loss; when none was set, it follows the output activation (sigmoid: binary
    /// cross-entropy, softmax: categorical cross-entropy, or SequenceCrossEntropy for a
    /// softmax at every step of a sequence; else mean squared error).
    const Loss<Scalar>& loss() const {
        if (!loss_) {
            detail::throw_invalid("Network::loss: the network has no layers, so no loss yet");
        }
        return *loss_;
    }
    /// Sets the loss, which then stays whatever layers are added. Throws InvalidArgument on null.
    void set_loss(std::unique_ptr<Loss<Scalar>> loss) {
        if (!loss) {
            detail::throw_invalid("Network::set_loss: loss is null, expected a loss");
        }
        loss_ = std::move(loss);
        loss_chosen_by_user_ = true;
    }

    /// Every trained matrix in a fixed order (layer 1's W, b, layer 2's W, b, ...).
    std::vector<Parameter<Scalar>> parameters() { return parameters_; }
    /// Every layer's non-trained state, in layer order.
    std::vector<StateBuffer<Scalar>> state();

    /// Training-time forward pass over a batch (features x examples); caches for backward.
    /// X must stay alive and unchanged until backward (a temporary does not compile).
    const Matrix<Scalar>& forward(const Matrix<Scalar>& x, Mode mode = Mode::training);
    const Matrix<Scalar>& forward(Matrix<Scalar>&&, Mode = Mode::training) = delete;
    const Matrix<Scalar>& forward(const Matrix<Scalar>&&, Mode = Mode::training) = delete;

    /// Forgets the last forward's batch in every layer (backward needs a forward first).
    void release_batch() {
        for (auto& layer : layers_) {
            layer->release_batch();
        }
        last_output_ = nullptr;
    }

    /// L2 regularization (weight decay) strength lambda: the cost gains
    /// lambda / (2 m) * the sum of squares of every parameter marked `decay` (the
    /// weights, not the biases), as in the course.
    void set_l2(double lambda);
    /// The L2 strength lambda (0: none).
    double l2() const { return l2_; }

    /// Gradient clipping (optim/clipping.hpp) applied to every step's gradients (the L2 term
    /// included) before the optimizer sees them; off (both 0) by default. A training setting,
    /// like the optimizer: not saved with the model. Throws InvalidArgument for a negative or
    /// non-finite limit.
    void set_gradient_clipping(const GradientClipping& clipping);
    /// The clipping every step applies.
    const GradientClipping& gradient_clipping() const { return clipping_; }

    /// The cost of the last forward pass against targets Y (the stable fused form when
    /// the output layer and the loss allow it), including the L2 term when set.
    Scalar cost(const Matrix<Scalar>& y) const;

    /// The cost of a given output (of predict_proba, say) against Y, with the L2 term.
    Scalar cost_of_output(const Matrix<Scalar>& output, const Matrix<Scalar>& y) const;

    /// The L2 term of the cost for a batch of `examples`: lambda / (2 m) * sum of squares.
    Scalar l2_penalty(Index examples) const { return l2_term(examples); }

    /// Backward pass for the last forward: fills every layer's parameter gradients.
    /// Returns dCost/dX when need_input_gradient, else an empty matrix (training never needs it).
    const Matrix<Scalar>& backward(const Matrix<Scalar>& y, bool need_input_gradient = false);

    /// Clips the gradients (set_gradient_clipping), then hands every parameter and its
    /// gradient to the optimizer.
    void apply(Optimizer<Scalar>& optimizer);

    /// One step of training on (X, Y): forward, cost, backward, update. Returns the cost
    /// before the update. The layers keep X until the next step or release_batch().
    Scalar train_step(const Matrix<Scalar>& x, const Matrix<Scalar>& y, Optimizer<Scalar>& optimizer);
    Scalar train_step(Matrix<Scalar>&&, const Matrix<Scalar>&, Optimizer<Scalar>&) = delete;
    Scalar train_step(const Matrix<Scalar>&&, const Matrix<Scalar>&, Optimizer<Scalar>&) = delete;

    /// Full-batch training, the course's loop: `iterations` steps on all of (X, Y), in
    /// order. It is train() with one batch per epoch; `options` may set everything but
    /// epochs, batch_size and shuffle (record_every, callbacks, schedule, ...). Calling it
    /// needs training.hpp (nndl.hpp includes it), where train() is found by its arguments.
    TrainHistory fit(const Matrix<Scalar>& x, const Matrix<Scalar>& y, Optimizer<Scalar>& optimizer, long iterations,
                     TrainOptions options = {});

    /// Output of the network for X (probabilities for sigmoid/softmax outputs).
    /// Uses no cached state, so several threads may call it on one network at once.
    Matrix<Scalar> predict_proba(const Matrix<Scalar>& x) const { return output_for(x, "Network::predict_proba"); }

    /// The threshold splitting a single output into classes (metrics.hpp's
    /// decision_threshold of the output activation); none for several outputs.
    std::optional<double> decision_threshold() const;

    /// What the network predicts for X. A classifier (is_classifier(): a single sigmoid or
    /// a softmax output) gives labels, 1 x m (metrics.hpp's labels_from_output): 1 where the
    /// sigmoid is above 0.5, or the index of the largest softmax output. Any other network
    /// is a regression and gives its outputs as they are (output size x m).
    Matrix<Scalar> predict(const Matrix<Scalar>& x) const;
    /// Labels, 1 x m, whatever the output: for one output 1 where it is above `threshold`
    /// else 0 (also for a tanh output split at 0: compare with 0/1 labels, or use
    /// accuracy(x, y, 0) for -1/1 labels), for several the index of the largest.
    Matrix<Scalar> predict(const Matrix<Scalar>& x, double threshold) const;

    /// Fraction of examples predicted right. Y is 1 x m labels (0/1, or class indices),
    /// or targets in the output's shape (one-hot for several outputs).
    double accuracy(const Matrix<Scalar>& x, const Matrix<Scalar>& y) const;
    /// As accuracy(x, y), with a single output split at `threshold`.
    double accuracy(const Matrix<Scalar>& x, const Matrix<Scalar>& y, double threshold) const;

    /// True when predict returns class labels: the output is a single sigmoid (a
    /// probability) or a softmax (a distribution). Any other output is a value (a
    /// regression), and predict returns it as it is.
    bool is_classifier() const;

    /// A table of the network, one row per layer: its number, type and settings, output
    /// shape and trained parameter count; then the totals, the non-trained state values
    /// (running statistics, scalers) and the loss. Like Keras's summary().
    std::string summary() const;

    /// @{
    /// Refused at compile time with one readable message: a matrix whose scalar type is
    /// not the network's (convert it with .cast<Scalar>()).
    template <class Other, std::enable_if_t<detail::mixes_scalars<Scalar, Other>, int> = 0>
    Matrix<Scalar> predict(const Matrix<Other>&) const {
        detail::require_same_scalar<Scalar, Other>();
        return {};
    }
    template <class Other, std::enable_if_t<detail::mixes_scalars<Scalar, Other>, int> = 0>
    Matrix<Scalar> predict(const Matrix<Other>&, double) const {
        detail::require_same_scalar<Scalar, Other>();
        return {};
    }
    template <class Other, std::enable_if_t<detail::mixes_scalars<Scalar, Other>, int> = 0>
    Matrix<Scalar> predict_proba(const Matrix<Other>&) const {
        detail::require_same_scalar<Scalar, Other>();
        return {};
    }
    template <class X, class Y, std::enable_if_t<detail::mixes_scalars<Scalar, X, Y>, int> = 0>
    double accuracy(const Matrix<X>&, const Matrix<Y>&) const {
        detail::require_same_scalar<Scalar, std::conditional_t<std::is_same_v<Scalar, X>, Y, X>>();
        return 0.0;
    }
    template <class X, class Y, std::enable_if_t<detail::mixes_scalars<Scalar, X, Y>, int> = 0>
    double accuracy(const Matrix<X>&, const Matrix<Y>&, double) const {
        detail::require_same_scalar<Scalar, std::conditional_t<std::is_same_v<Scalar, X>, Y, X>>();
        return 0.0;
    }
    template <class Other, std::enable_if_t<detail::mixes_scalars<Scalar, Other>, int> = 0>
    const Matrix<Scalar>& forward(const Matrix<Other>&, Mode = Mode::training) {
        detail::require_same_scalar<Scalar, Other>();
        return *last_output_;
    }
    template <class X, class Y, class O, std::enable_if_t<detail::mixes_scalars<Scalar, X, Y, O>, int> = 0>
    Scalar train_step(const Matrix<X>&, const Matrix<Y>&, Optimizer<O>&) {
        detail::require_same_scalar<Scalar, std::conditional_t<std::is_same_v<Scalar, X>,
                                                               std::conditional_t<std::is_same_v<Scalar, Y>, O, Y>, X>>();
        return Scalar(0);
    }
    template <class X, class Y, class O, std::enable_if_t<detail::mixes_scalars<Scalar, X, Y, O>, int> = 0>
    TrainHistory fit(const Matrix<X>&, const Matrix<Y>&, Optimizer<O>&, long, TrainOptions = {}) {
        detail::require_same_scalar<Scalar, std::conditional_t<std::is_same_v<Scalar, X>,
                                                               std::conditional_t<std::is_same_v<Scalar, Y>, O, Y>, X>>();
        return {};
    }
    /// @}

private:
    /// "dense(units=20, activation=relu)": the type and its settings, for summary().
    static std::string describe_layer(const Layer<Scalar>& layer) {
        return describe_type(layer.type(), layer.settings());
    }

    /// The network's output for X (evaluation mode); `where` names the caller in messages.
    Matrix<Scalar> output_for(const Matrix<Scalar>& x, const char* where) const;

    /// The layers one after the other on `x` in evaluation mode, into `buffers`.
    template <class Buffers>
    const Matrix<Scalar>& run_layers(const Matrix<Scalar>& x, Buffers& buffers) const {
        const Matrix<Scalar>* current = &x;
        for (std::size_t k = 0; k < layers_.size();) {
            if (layers_[k]->passes_through_at_inference()) {
                ++k;  // dropout, augmentation: nothing to copy
                continue;
            }
            // A layer that computes some of the next ones in the same pass (FusedInference).
            std::size_t fused = 0;
            const auto* fusing = dynamic_cast<const FusedInference<Scalar>*>(layers_[k].get());
            if (fusing != nullptr) {
                buffers.next.clear();
                for (std::size_t j = k + 1; j < layers_.size(); ++j) {
                    buffers.next.push_back(layers_[j].get());
                }
                fused = std::min(fusing->fusable_layers(buffers.next), buffers.next.size());
            }
            if (fused > 0) {
                fusing->infer_with(*current, buffers.next, fused, buffers.outputs[k]);
            } else {
                layers_[k]->infer(*current, buffers.outputs[k]);
            }
            current = &buffers.outputs[k];
            k += 1 + fused;
        }
        return *current;
    }

    /// Lets go of the kept outputs past max_kept_values.
    template <class Buffers>
    static void release_large(Buffers& buffers) {
        Index total = 0;
        for (auto& output : buffers.outputs) {
            total += output.size();
            if (total > max_kept_values) {
                output.resize(0, 0);
            }
        }
    }

    /// Predictions skip a layer that passes its input through: it must keep the values.
    static void require_pass_through_keeps_size(const char* where, const Layer<Scalar>& layer) {
        if (layer.passes_through_at_inference() && layer.input_size() != layer.output_size()) {
            detail::throw_invalid(where, ": the '", layer.type(), "' layer passes its input through at inference but "
                                  "takes ", layer.input_shape().to_string(), " and outputs ",
                                  layer.output_shape().to_string(), ", expected the same number of values");
        }
    }

    /// The most values a thread keeps in output_for's buffers between calls (64 MiB of float,
    /// 128 MiB of double); the outputs past that are let go after each call.
    static constexpr Index max_kept_values = Index(1) << 24;

    void build(const std::vector<Index>& sizes, const std::vector<Activation>& activations, Initializer init, NumpyRandom& random);

    std::size_t checked_layer(std::size_t i) const {
        if (i >= layers_.size()) {
            detail::throw_invalid("Network::layer: index ", i, " but the network has ", layers_.size(), " layers");
        }
        return i;
    }

    void gather_parameters();

    /// The last layer's fused path, when the loss fuses with its activation.
    FusedOutput<Scalar>* fused_output() const;

    /// Layer i where it takes backward through the ReLU that layer i - 1 ends with (a ReLU
    /// activation layer, or a layer with FusedOutput and a ReLU), else nullptr.
    BackwardThroughRelu<Scalar>* relu_backward_taker(std::size_t i) const;

    Scalar l2_term(Index examples) const;

    std::unique_ptr<Loss<Scalar>> default_loss() const;

    void check_input(const char* where, const Matrix<Scalar>& x) const;

    void check_pair(const char* where, const Matrix<Scalar>& x, const Matrix<Scalar>& y) const;

    void check_last_forward(const char* where, const Matrix<Scalar>& y) const;

    /// Labels and accuracy take one class per column: a sequence output has one per step.
    void require_flat_output(const char* where) const {
        if (output_shape().is_sequence()) {
            detail::throw_invalid(where, ": the network outputs a sequence (", output_shape().to_string(),
                                  "), a class per step; use predict_proba and take each step's largest");
        }
    }

    /// A cross-entropy over classes needs outputs grouped as it groups them: per step for
    /// SequenceCrossEntropy (as many classes as the output has features), per column for
    /// CategoricalCrossEntropy (not a sequence).
    void require_loss_fits(const char* where) const;

    const Matrix<Scalar>& output_of_last_forward() const {
        if (last_output_ == nullptr) {
            detail::throw_invalid("Network: no forward pass yet; expected forward(X) before cost/backward");
        }
        return *last_output_;
    }

    Shape input_shape_{0, 0, 0};
    double l2_ = 0.0;
    GradientClipping clipping_;
    std::vector<std::unique_ptr<Layer<Scalar>>> layers_;
    std::vector<Parameter<Scalar>> parameters_;  // all layers' parameters, gathered when layers change
    std::unique_ptr<Loss<Scalar>> loss_;
    bool loss_chosen_by_user_ = false;
    const Matrix<Scalar>* last_output_ = nullptr;  // the last layer's cached output
    Matrix<Scalar> output_gradient_;
};

template <class Scalar>
Network<Scalar>& Network<Scalar>::add(std::unique_ptr<Layer<Scalar>> layer) {
    if (!layer) {
        detail::throw_invalid("Network::add: layer is null, expected a layer");
    }
    if (!input_shape_.valid()) {
        detail::throw_invalid("Network::add: the network has no input shape; construct it with Network(input)");
    }
    const Shape in = layer->input_shape();
    const Shape out = output_shape();
    if (in != out && !(in.is_flat() && in.size() == out.size())) {
        detail::throw_shape("Network::add: layer ", layers_.size() + 1, " ('", layer->type(), "') takes input ",
                            in.to_string(), ", but the network outputs ", out.to_string());
    }
    require_pass_through_keeps_size("Network::add", *layer);
    layers_.push_back(std::move(layer));
    for (auto& p : layers_.back()->parameters()) {  // the others are unchanged: no regathering
        parameters_.push_back(p);
    }
    last_output_ = nullptr;
    if (!loss_chosen_by_user_) {
        loss_ = default_loss();
    }
    return *this;
}

template <class Scalar>
Network<Scalar>& Network<Scalar>::insert(std::size_t position, std::unique_ptr<Layer<Scalar>> layer) {
    if (!layer) {
        detail::throw_invalid("Network::insert: layer is null, expected a layer");
    }
    if (position > layers_.size()) {
        detail::throw_invalid("Network::insert: position ", position, " but the network has ", layers_.size(),
                              " layers, expected 0..", layers_.size());
    }
    if (position == layers_.size()) {
        return add(std::move(layer));
    }
    const Shape before = position == 0 ? input_shape_ : layers_[position - 1]->output_shape();
    const Shape in = layer->input_shape();
    if (in != before && !(in.is_flat() && in.size() == before.size())) {
        detail::throw_shape("Network::insert: the '", layer->type(), "' layer takes input ", in.to_string(),
                            ", but at position ", position, " it gets ", before.to_string());
    }
    const Shape after = layers_[position]->input_shape();
    const Shape out = layer->output_shape();
    if (after != out && !(after.is_flat() && after.size() == out.size())) {
        detail::throw_shape("Network::insert: the '", layer->type(), "' layer outputs ", out.to_string(),
                            ", but layer ", position + 1, " ('", layers_[position]->type(), "') takes ",
                            after.to_string());
    }
    require_pass_through_keeps_size("Network::insert", *layer);
    layers_.insert(layers_.begin() + static_cast<std::ptrdiff_t>(position), std::move(layer));
    gather_parameters();
    last_output_ = nullptr;
    return *this;
}

template <class Scalar>
Network<Scalar>& Network<Scalar>::add_dense(Index units, Activation activation, Initializer init, NumpyRandom& random) {
    auto layer = make_dense<Scalar>(output_size(), units, activation);
    *layer->parameters()[0].value = initial_weights<Scalar>(units, output_size(), init, random);
    return add(std::move(layer));
}

template <class Scalar>
void Network<Scalar>::set_steps(Index steps) {
    const char* where = "Network::set_steps";
    if (!input_shape_.is_sequence()) {
        detail::throw_invalid(where, ": the network takes ", input_shape_.to_string(), ", expected a sequence");
    }
    const Shape input = detail::with_steps(where, input_shape_, steps);
    // Every check first, so that a refusal leaves each layer as it was. The layers from the
    // first through the one whose output is no longer a sequence change their steps.
    std::size_t sequence_layers = 0;
    while (sequence_layers < layers_.size()) {
        const std::string at = detail::concat(where, ": layer ", sequence_layers + 1);
        const Shape out = detail::output_with_steps(at, *layers_[sequence_layers], steps);
        ++sequence_layers;
        if (!out.is_sequence()) {
            break;
        }
    }
    for (std::size_t i = 0; i < sequence_layers; ++i) {
        dynamic_cast<VariableSteps<Scalar>&>(*layers_[i]).set_steps(steps);
    }
    input_shape_ = input;
    release_batch();
}

template <class Scalar>
std::vector<Index> Network<Scalar>::sizes() const {
    std::vector<Index> result{input_size()};
    for (const auto& layer : layers_) {
        result.push_back(layer->output_size());
    }
    return result;
}

template <class Scalar>
std::vector<StateBuffer<Scalar>> Network<Scalar>::state() {
    std::vector<StateBuffer<Scalar>> result;
    for (auto& layer : layers_) {
        for (auto& s : layer->state()) {
            result.push_back(s);
        }
    }
    return result;
}

template <class Scalar>
const Matrix<Scalar>& Network<Scalar>::forward(const Matrix<Scalar>& x, Mode mode) {
    check_input("Network::forward", x);
    const Matrix<Scalar>* current = &x;
    for (auto& layer : layers_) {
        current = &layer->forward(*current, mode);
    }
    last_output_ = current;
    return *current;
}

template <class Scalar>
void Network<Scalar>::set_l2(double lambda) {
    if (!(lambda >= 0.0) || !std::isfinite(lambda)) {
        detail::throw_invalid("Network::set_l2: lambda is ", lambda, ", expected a finite number >= 0");
    }
    l2_ = lambda;
}

template <class Scalar>
void Network<Scalar>::set_gradient_clipping(const GradientClipping& clipping) {
    for (const double limit : {clipping.value, clipping.global_norm}) {
        if (!(limit >= 0.0) || !std::isfinite(limit)) {
            detail::throw_invalid("Network::set_gradient_clipping: a limit is ", limit,
                                  ", expected a finite number > 0 (or 0 for none)");
        }
    }
    clipping_ = clipping;
}

template <class Scalar>
Scalar Network<Scalar>::cost(const Matrix<Scalar>& y) const {
    check_last_forward("Network::cost", y);
    const FusedOutput<Scalar>* fused = fused_output();
    const Scalar value = fused != nullptr ? loss().value_from_preactivation(fused->preactivation(), y)
                                          : loss().value(output_of_last_forward(), y);
    return value + l2_term(y.cols());
}

template <class Scalar>
Scalar Network<Scalar>::cost_of_output(const Matrix<Scalar>& output, const Matrix<Scalar>& y) const {
    detail::require_same_shape("Network::cost_of_output", "Y", y, "output", output);
    require_loss_fits("Network::cost_of_output");
    return loss().value(output, y) + l2_penalty(y.cols());
}

template <class Scalar>
const Matrix<Scalar>& Network<Scalar>::backward(const Matrix<Scalar>& y, bool need_input_gradient) {
    check_last_forward("Network::backward", y);
    Layer<Scalar>& last = *layers_.back();
    const bool more_layers = layers_.size() > 1 || need_input_gradient;
    const Matrix<Scalar>* gradient = nullptr;
    if (FusedOutput<Scalar>* fused = fused_output()) {
        loss().preactivation_gradient(output_of_last_forward(), y, output_gradient_);
        gradient = &fused->backward_from_preactivation(output_gradient_, more_layers);
    } else {
        loss().gradient(output_of_last_forward(), y, output_gradient_);
        gradient = &last.backward(output_gradient_, more_layers);
    }
    for (std::size_t i = layers_.size() - 1; i-- > 0;) {
        // A layer that takes the gradient through the ReLU that layer i - 1 ends with spares
        // that layer a pass over memory (BackwardThroughRelu): it starts from dZ.
        if (BackwardThroughRelu<Scalar>* through = relu_backward_taker(i)) {
            const Matrix<Scalar>& z_gradient = through->backward_through_relu(*gradient);
            --i;
            gradient = &dynamic_cast<FusedOutput<Scalar>&>(*layers_[i]).backward_from_preactivation(
                z_gradient, i > 0 || need_input_gradient);
            continue;
        }
        gradient = &layers_[i]->backward(*gradient, i > 0 || need_input_gradient);
    }
    if (l2_ > 0.0) {
        const auto scale = static_cast<Scalar>(l2_ / static_cast<double>(y.cols()));
        for (auto& p : parameters_) {
            if (p.decay) {
                p.gradient->noalias() += scale * *p.value;
            }
        }
    }
    return *gradient;
}

template <class Scalar>
void Network<Scalar>::apply(Optimizer<Scalar>& optimizer) {
    clip_gradients(parameters_, clipping_);
    optimizer.begin_step();
    for (std::size_t slot = 0; slot < parameters_.size(); ++slot) {
        optimizer.update(slot, *parameters_[slot].value, *parameters_[slot].gradient);
    }
}

template <class Scalar>
Scalar Network<Scalar>::train_step(const Matrix<Scalar>& x, const Matrix<Scalar>& y, Optimizer<Scalar>& optimizer) {
    check_pair("Network::train_step", x, y);
    detail::require_finite("Network::train_step", "X", x);
    detail::require_finite("Network::train_step", "Y", y);
    forward(x, Mode::training);
    const Scalar value = cost(y);
    backward(y);
    apply(optimizer);
    return value;
}

template <class Scalar>
TrainHistory Network<Scalar>::fit(const Matrix<Scalar>& x, const Matrix<Scalar>& y, Optimizer<Scalar>& optimizer,
                                  long iterations, TrainOptions options) {
    const TrainOptions defaults;
    if (options.epochs != defaults.epochs || options.batch_size != defaults.batch_size ||
        options.shuffle != defaults.shuffle) {
        detail::throw_invalid("Network::fit: options set epochs, batch_size or shuffle; fit trains on one full "
                              "batch in order for `iterations` steps (use train() for mini-batches)");
    }
    if (iterations < 0) {
        detail::throw_invalid("Network::fit: iterations is ", iterations, ", expected >= 0");
    }
    options.epochs = iterations;
    options.batch_size = 0;
    options.shuffle = false;
    return train(*this, x, y, optimizer, options);
}

template <class Scalar>
std::optional<double> Network<Scalar>::decision_threshold() const {
    if (layers_.empty() || output_size() != 1) {
        return std::nullopt;
    }
    return nndl::decision_threshold(output_activation(*layers_.back()));
}

template <class Scalar>
Matrix<Scalar> Network<Scalar>::predict(const Matrix<Scalar>& x) const {
    require_flat_output("Network::predict");
    Matrix<Scalar> output = output_for(x, "Network::predict");
    return is_classifier() ? labels_from_output(output, decision_threshold().value_or(0.5)) : output;
}

template <class Scalar>
Matrix<Scalar> Network<Scalar>::predict(const Matrix<Scalar>& x, double threshold) const {
    require_flat_output("Network::predict");
    return labels_from_output(output_for(x, "Network::predict"), threshold);
}

template <class Scalar>
double Network<Scalar>::accuracy(const Matrix<Scalar>& x, const Matrix<Scalar>& y) const {
    require_flat_output("Network::accuracy");
    const std::optional<double> threshold = decision_threshold();
    if (!threshold && output_size() == 1) {
        detail::throw_invalid("Network::accuracy: the single output ends with ",
                              to_string(output_activation(*layers_.back())),
                              ", which has no classes; pass a threshold: accuracy(x, y, threshold)");
    }
    return accuracy(x, y, threshold.value_or(0.5));
}

template <class Scalar>
double Network<Scalar>::accuracy(const Matrix<Scalar>& x, const Matrix<Scalar>& y, double threshold) const {
    require_flat_output("Network::accuracy");
    check_input("Network::accuracy", x);
    detail::require_cols("Network::accuracy", "Y", y.cols(), x.cols(), "X has");
    if (y.rows() != 1) {
        detail::require_rows("Network::accuracy", "Y", y.rows(), output_size(), "the network outputs");
    }
    detail::require_accuracy_labels("Network::accuracy", y, output_size(), threshold);
    return static_cast<double>(count_correct(output_for(x, "Network::accuracy"), y, threshold)) /
           static_cast<double>(x.cols());
}

template <class Scalar>
bool Network<Scalar>::is_classifier() const {
    if (layers_.empty() || output_shape().is_sequence()) {
        return false;
    }
    const Activation out = output_activation(*layers_.back());
    return out == Activation::softmax || (out == Activation::sigmoid && output_size() == 1);
}

template <class Scalar>
std::string Network<Scalar>::summary() const {
    std::vector<std::vector<std::string>> rows{{"#", "layer", "output shape", "parameters"}};
    rows.push_back({"", "input", input_shape_.to_string(), ""});
    Index trained = 0;
    Index kept = 0;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        // parameters() and state() only hand out pointers; nothing is changed through them here.
        auto& layer = const_cast<Layer<Scalar>&>(*layers_[i]);
        Index count = 0;
        for (const auto& p : layer.parameters()) {
            count += p.value->size();
        }
        for (const auto& b : layer.state()) {
            kept += b.value->size();
        }
        trained += count;
        rows.push_back({std::to_string(i + 1), describe_layer(layer), layer.output_shape().to_string(),
                        std::to_string(count)});
    }
    std::ostringstream out;
    out << "Network<" << (std::is_same_v<Scalar, float> ? "float" : std::is_same_v<Scalar, double> ? "double" : "?")
        << ">, " << layers_.size() << " layer" << (layers_.size() == 1 ? "" : "s") << "\n";
    using detail::Align;
    out << detail::format_table(rows, {Align::right, Align::left, Align::left, Align::right}, false);
    out << "trained parameters: " << trained << "\n";
    if (kept > 0) {
        out << "state values (not trained): " << kept << "\n";
    }
    if (loss_) {
        out << "loss: " << loss_->name() << (l2_ > 0.0 ? detail::concat(", L2 lambda ", l2_) : std::string()) << "\n";
    }
    return out.str();
}

template <class Scalar>
Matrix<Scalar> Network<Scalar>::output_for(const Matrix<Scalar>& x, const char* where) const {
    check_input(where, x);
    detail::require_finite(where, "X", x);  // NaN would become a class silently
    // Each thread keeps every layer's output between calls: for the same batch size they
    // keep their memory, where a freshly allocated buffer of megabytes costs the system a
    // page fault per 4 KiB touched, as much as a convolution's work. A call made inside
    // another (a layer that predicts with a network of its own) takes buffers of its own;
    // large ones are let go.
    struct Buffers {
        std::vector<Matrix<Scalar>> outputs;
        std::vector<const Layer<Scalar>*> next;
        bool in_use = false;
    };
    thread_local Buffers kept;
    Buffers own;
    Buffers& buffers = kept.in_use ? own : kept;
    struct InUse {  // released however the call ends
        bool& flag;
        explicit InUse(bool& f) : flag(f) { flag = true; }
        ~InUse() { flag = false; }
        InUse(const InUse&) = delete;
        InUse& operator=(const InUse&) = delete;
    } in_use(buffers.in_use);
    if (buffers.outputs.size() < layers_.size()) {
        buffers.outputs.resize(layers_.size());
    }
    // Many examples go through a slice of columns at a time, so that the layers' outputs
    // stay within the kept buffers instead of gigabytes for a whole test set.
    Index per_example = 1;
    for (const auto& layer : layers_) {
        if (!layer->passes_through_at_inference()) {  // saturates: no overflow for huge layers
            per_example = std::min(per_example + layer->output_size() + layer->working_values(), max_kept_values);
        }
    }
    const Index slice = std::max<Index>(1, max_kept_values / per_example);
    if (x.cols() > slice) {
        Matrix<Scalar> result(output_size(), x.cols());
        Matrix<Scalar> part;
        for (Index start = 0; start < x.cols(); start += slice) {
            const Index n = std::min(slice, x.cols() - start);
            part = x.middleCols(start, n);
            result.middleCols(start, n) = run_layers(part, buffers);
        }
        release_large(buffers);
        return result;
    }
    Matrix<Scalar> result = run_layers(x, buffers);
    release_large(buffers);
    return result;
}

template <class Scalar>
void Network<Scalar>::build(const std::vector<Index>& sizes, const std::vector<Activation>& activations,
                            Initializer init, NumpyRandom& random) {
    if (sizes.size() < 2) {
        detail::throw_invalid("Network::Network: ", sizes.size(),
                              " sizes given, expected at least 2 (input and output)");
    }
    if (activations.size() != sizes.size() - 1) {
        detail::throw_invalid("Network::Network: ", activations.size(), " activations for ",
                              sizes.size() - 1, " layers, expected one per layer");
    }
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        if (sizes[i] <= 0) {
            detail::throw_invalid("Network::Network: size ", i, " is ", sizes[i], ", expected at least 1");
        }
    }
    input_shape_ = Shape(sizes[0]);
    for (std::size_t i = 1; i < sizes.size(); ++i) {
        add_dense(sizes[i], activations[i - 1], init, random);
    }
}

template <class Scalar>
void Network<Scalar>::gather_parameters() {
    parameters_.clear();
    for (auto& layer : layers_) {
        for (auto& p : layer->parameters()) {
            parameters_.push_back(p);  // the matrices live in the heap-allocated layers: stable addresses
        }
    }
}

template <class Scalar>
FusedOutput<Scalar>* Network<Scalar>::fused_output() const {
    auto* fused = dynamic_cast<FusedOutput<Scalar>*>(layers_.back().get());
    return fused != nullptr && loss().fuses_with(fused->activation()) ? fused : nullptr;
}

template <class Scalar>
BackwardThroughRelu<Scalar>* Network<Scalar>::relu_backward_taker(std::size_t i) const {
    if (i == 0 || output_activation(*layers_[i - 1]) != Activation::relu) {
        return nullptr;
    }
    auto* taker = dynamic_cast<BackwardThroughRelu<Scalar>*>(layers_[i].get());
    return taker != nullptr && taker->takes_relu_backward() ? taker : nullptr;
}

template <class Scalar>
Scalar Network<Scalar>::l2_term(Index examples) const {
    if (l2_ == 0.0) {
        return Scalar(0);
    }
    Scalar squares = 0;
    for (const auto& p : parameters_) {
        if (p.decay) {
            squares += p.value->squaredNorm();
        }
    }
    return static_cast<Scalar>(l2_ / (2.0 * static_cast<double>(examples))) * squares;
}

template <class Scalar>
std::unique_ptr<Loss<Scalar>> Network<Scalar>::default_loss() const {
    const Activation out = layers_.empty() ? Activation::identity : output_activation(*layers_.back());
    if (out == Activation::sigmoid) {
        return std::make_unique<BinaryCrossEntropy<Scalar>>();
    }
    if (out == Activation::softmax && output_shape().is_sequence()) {
        return std::make_unique<SequenceCrossEntropy<Scalar>>(output_shape().features());
    }
    if (out == Activation::softmax) {
        return std::make_unique<CategoricalCrossEntropy<Scalar>>();
    }
    return std::make_unique<MeanSquaredError<Scalar>>();
}

template <class Scalar>
void Network<Scalar>::check_input(const char* where, const Matrix<Scalar>& x) const {
    if (layers_.empty()) {
        detail::throw_invalid(where, ": the network has no layers, expected at least 1");
    }
    if (x.rows() != input_size()) {
        detail::throw_shape(where, ": input has ", x.rows(), " rows, network expects ", input_size(),
                            " (input shape ", input_shape_.to_string(), ")");
    }
    detail::require_examples(where, x.cols());
}

template <class Scalar>
void Network<Scalar>::check_pair(const char* where, const Matrix<Scalar>& x, const Matrix<Scalar>& y) const {
    check_input(where, x);
    detail::require_cols(where, "Y", y.cols(), x.cols(), "X has");
    detail::require_rows(where, "Y", y.rows(), output_size(), "the network outputs");
}

template <class Scalar>
void Network<Scalar>::check_last_forward(const char* where, const Matrix<Scalar>& y) const {
    if (layers_.empty()) {
        detail::throw_invalid(where, ": the network has no layers, expected at least 1");
    }
    require_loss_fits(where);
    detail::require_same_shape(where, "Y", y, "the last forward's output", output_of_last_forward());
}

template <class Scalar>
void Network<Scalar>::require_loss_fits(const char* where) const {
    if (!loss_ || layers_.empty()) {
        return;
    }
    const Shape out = output_shape();
    if (const auto* per_step = dynamic_cast<const SequenceCrossEntropy<Scalar>*>(loss_.get())) {
        if (!out.is_sequence() || out.features() != per_step->classes()) {
            detail::throw_invalid(where, ": the loss SequenceCrossEntropy groups ", per_step->classes(),
                                  " classes per step, but the network outputs ", out.to_string());
        }
    } else if (out.is_sequence() && dynamic_cast<const CategoricalCrossEntropy<Scalar>*>(loss_.get()) != nullptr) {
        detail::throw_invalid(where, ": the loss CategoricalCrossEntropy takes a whole column as one set of "
                              "classes, but the network outputs a sequence (", out.to_string(),
                              "); use SequenceCrossEntropy");
    }
}

/// The course's dropout for every Dropout layer of `network`, in order: each training pass
/// draws the masks as after np.random.seed(seed) at the start of the pass, the first
/// dropout layer's rows first (each layer's own seed is the stream's; give them the same).
template <class Scalar>
void restart_dropout_every_pass(Network<Scalar>& network) {
    Index rows_before = 0;
    for (std::size_t i = 0; i < network.depth(); ++i) {
        if (auto* dropout = dynamic_cast<Dropout<Scalar>*>(&network.layer(i))) {
            dropout->restart_every_pass(rows_before);
            rows_before += dropout->output_size();
        }
    }
}

}  // namespace nndl
