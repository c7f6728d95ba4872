#pragma once
// Network<Scalar>: layers assembled at run time, a loss, and the training loop.

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "activations.hpp"
#include "dense.hpp"
#include "errors.hpp"
#include "initializers.hpp"
#include "layer.hpp"
#include "losses.hpp"
#include "optimizer.hpp"
#include "random.hpp"
#include "types.hpp"

namespace nndl {

/// What fit passes to its callback after each iteration's cost is known.
struct FitProgress {
    long iteration = 0;        ///< 0-based
    long iterations = 0;       ///< total asked for
    double cost = 0.0;         ///< cost of this iteration, before its update (as the course prints it)
    bool recorded = false;     ///< true on the iterations kept in the history
};

struct FitOptions {
    long iterations = 1000;
    long record_every = 100;   ///< keep the cost every k iterations (and at the last one); 0 keeps none
    /// Called after each iteration's cost; return false to stop training early.
    std::function<bool(const FitProgress&)> on_iteration;
};

struct CostRecord {
    long iteration = 0;
    double cost = 0.0;
};

struct FitHistory {
    std::vector<CostRecord> costs;  ///< the recorded iterations
    long iterations_run = 0;
    bool stopped_early = false;
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

template <class Scalar>
class Network {
public:
    Network() = default;

    /// An empty network taking inputs of `input_size` features; add layers with add / add_dense.
    explicit Network(Index input_size) : input_size_(input_size) {
        if (input_size <= 0) {
            detail::throw_invalid("Network::Network: input size is ", input_size, ", expected at least 1");
        }
    }

    /// Dense layers of the given sizes (sizes[0] is the input), weights drawn in layer
    /// order from `random`, as the course's initialize_parameters functions do.
    Network(const std::vector<Index>& sizes, const std::vector<Activation>& activations, Initializer init,
            NumpyRandom& random) {
        build(sizes, activations, init, random);
    }

    /// As above, seeding a fresh stream like np.random.seed(seed) first.
    Network(const std::vector<Index>& sizes, const std::vector<Activation>& activations, Initializer init,
            std::uint32_t seed) {
        NumpyRandom random(seed);
        build(sizes, activations, init, random);
    }

    Network(const Network& other)
        : input_size_(other.input_size_),
          l2_(other.l2_),
          loss_(other.loss_ ? other.loss_->clone() : nullptr),
          loss_chosen_by_user_(other.loss_chosen_by_user_) {
        for (const auto& layer : other.layers_) {
            layers_.push_back(layer->clone());
            for (auto& p : layers_.back()->parameters()) {
                parameters_.push_back(p);
            }
        }
    }
    Network& operator=(const Network& other) {
        if (this != &other) {
            Network copy(other);
            *this = std::move(copy);
        }
        return *this;
    }
    Network(Network&&) noexcept = default;
    Network& operator=(Network&&) noexcept = default;
    ~Network() = default;

    /// Appends a layer; its input size must match the current output size.
    Network& add(std::unique_ptr<Layer<Scalar>> layer) {
        if (!layer) {
            detail::throw_invalid("Network::add: layer is null, expected a layer");
        }
        if (input_size_ == 0) {
            detail::throw_invalid("Network::add: the network has no input size; construct it with Network(input_size)");
        }
        detail::require_rows("Network::add", "the new layer's input", layer->input_size(), output_size(),
                             "the network outputs");
        for (auto& p : layer->parameters()) {
            parameters_.push_back(p);  // the matrices live in the heap-allocated layer: stable addresses
        }
        layers_.push_back(std::move(layer));
        last_output_ = nullptr;
        if (!loss_chosen_by_user_) {
            loss_ = default_loss();
        }
        return *this;
    }

    /// Appends a Dense layer with weights drawn from `random`.
    Network& add_dense(Index units, Activation activation, Initializer init, NumpyRandom& random) {
        auto layer = make_dense<Scalar>(output_size(), units, activation);
        *layer->parameters()[0].value = initial_weights<Scalar>(units, output_size(), init, random);
        return add(std::move(layer));
    }

    Index input_size() const { return input_size_; }
    Index output_size() const { return layers_.empty() ? input_size_ : layers_.back()->output_size(); }
    std::size_t depth() const { return layers_.size(); }
    Layer<Scalar>& layer(std::size_t i) { return *layers_.at(i); }
    const Layer<Scalar>& layer(std::size_t i) const { return *layers_.at(i); }

    /// The sizes of the network: input, then each layer's output.
    std::vector<Index> sizes() const {
        std::vector<Index> result{input_size_};
        for (const auto& layer : layers_) {
            result.push_back(layer->output_size());
        }
        return result;
    }

    /// The loss; when none was set, it follows the output activation
    /// (sigmoid: binary cross-entropy, softmax: categorical cross-entropy, else mean squared error).
    const Loss<Scalar>& loss() const {
        if (!loss_) {
            detail::throw_invalid("Network::loss: the network has no layers, so no loss yet");
        }
        return *loss_;
    }
    void set_loss(std::unique_ptr<Loss<Scalar>> loss) {
        if (!loss) {
            detail::throw_invalid("Network::set_loss: loss is null, expected a loss");
        }
        loss_ = std::move(loss);
        loss_chosen_by_user_ = true;
    }

    /// Every trainable matrix in a fixed order (layer 1's W, b, layer 2's W, b, ...).
    std::vector<Parameter<Scalar>> parameters() { return parameters_; }

    /// Training-time forward pass over a batch (features x examples); caches for backward.
    /// X must stay alive and unchanged until backward (see layer.hpp).
    const Matrix<Scalar>& forward(const Matrix<Scalar>& x, Mode mode = Mode::training) {
        check_input("Network::forward", x);
        const Matrix<Scalar>* current = &x;
        for (auto& layer : layers_) {
            current = &layer->forward(*current, mode);
        }
        last_output_ = current;
        return *current;
    }

    /// L2 regularization (weight decay) strength lambda: the cost gains
    /// lambda / (2 m) * sum of squared weights (biases excluded), as in the course.
    void set_l2(double lambda) {
        if (!(lambda >= 0.0) || !std::isfinite(lambda)) {
            detail::throw_invalid("Network::set_l2: lambda is ", lambda, ", expected a finite number >= 0");
        }
        l2_ = lambda;
    }
    double l2() const { return l2_; }

    /// The cost of the last forward pass against targets Y (stable fused form when
    /// available), including the L2 term when set.
    Scalar cost(const Matrix<Scalar>& y) const {
        check_last_forward("Network::cost", y);
        const Layer<Scalar>& last = *layers_.back();
        Scalar value = 0;
        if (loss().fuses_with(last.activation()) && last.preactivation() != nullptr) {
            value = loss().value_from_preactivation(*last.preactivation(), y);
        } else {
            value = loss().value(output_of_last_forward(), y);
        }
        if (l2_ > 0.0) {
            Scalar squares = 0;
            for (const auto& p : parameters_) {
                if (p.name == "W") {
                    squares += p.value->squaredNorm();
                }
            }
            value += static_cast<Scalar>(l2_ / (2.0 * static_cast<double>(y.cols()))) * squares;
        }
        return value;
    }

    /// Backward pass for the last forward: fills every layer's parameter gradients.
    /// Returns dCost/dX when need_input_gradient, else an empty matrix (training never needs it).
    const Matrix<Scalar>& backward(const Matrix<Scalar>& y, bool need_input_gradient = false) {
        check_last_forward("Network::backward", y);
        Layer<Scalar>& last = *layers_.back();
        const bool more_layers = layers_.size() > 1 || need_input_gradient;
        const Matrix<Scalar>* gradient = nullptr;
        if (loss().fuses_with(last.activation()) && last.preactivation() != nullptr) {
            loss().preactivation_gradient(output_of_last_forward(), y, output_gradient_);
            gradient = &last.backward_from_preactivation(output_gradient_, more_layers);
        } else {
            loss().gradient(output_of_last_forward(), y, output_gradient_);
            gradient = &last.backward(output_gradient_, more_layers);
        }
        for (std::size_t i = layers_.size() - 1; i-- > 0;) {
            gradient = &layers_[i]->backward(*gradient, i > 0 || need_input_gradient);
        }
        if (l2_ > 0.0) {
            const auto scale = static_cast<Scalar>(l2_ / static_cast<double>(y.cols()));
            for (auto& p : parameters_) {
                if (p.name == "W") {
                    p.gradient->noalias() += scale * *p.value;
                }
            }
        }
        return *gradient;
    }

    /// Hands every parameter and its gradient to the optimizer.
    void apply(Optimizer<Scalar>& optimizer) {
        optimizer.begin_step();
        for (std::size_t slot = 0; slot < parameters_.size(); ++slot) {
            optimizer.update(slot, *parameters_[slot].value, *parameters_[slot].gradient);
        }
    }

    /// One step of training on (X, Y): forward, cost, backward, update. Returns the cost before the update.
    Scalar train_step(const Matrix<Scalar>& x, const Matrix<Scalar>& y, Optimizer<Scalar>& optimizer) {
        check_pair("Network::train_step", x, y);
        forward(x, Mode::training);
        const Scalar value = cost(y);
        backward(y);
        apply(optimizer);
        return value;
    }

    /// Full-batch training: `iterations` steps on all of (X, Y).
    FitHistory fit(const Matrix<Scalar>& x, const Matrix<Scalar>& y, Optimizer<Scalar>& optimizer,
                   const FitOptions& options = {}) {
        check_pair("Network::fit", x, y);
        detail::require_finite("Network::fit", "X", x);
        detail::require_finite("Network::fit", "Y", y);
        if (options.iterations < 0) {
            detail::throw_invalid("Network::fit: iterations is ", options.iterations, ", expected >= 0");
        }
        if (options.record_every < 0) {
            detail::throw_invalid("Network::fit: record_every is ", options.record_every, ", expected >= 0");
        }
        FitHistory history;
        // Full batch: the first layer sees the same X every iteration.
        struct ConstantInput {
            Layer<Scalar>& layer;
            explicit ConstantInput(Layer<Scalar>& l) : layer(l) { layer.hint_constant_input(true); }
            ~ConstantInput() { layer.hint_constant_input(false); }
            ConstantInput(const ConstantInput&) = delete;
            ConstantInput& operator=(const ConstantInput&) = delete;
        } constant_input(*layers_.front());
        for (long i = 0; i < options.iterations; ++i) {
            const double value = static_cast<double>(train_step(x, y, optimizer));
            if (!std::isfinite(value)) {
                throw DivergenceError(detail::concat(
                    "Network::fit: the cost became ", value, " at iteration ", i,
                    "; training diverged, try a smaller learning rate (now ", optimizer.learning_rate(), ")"));
            }
            const bool recorded = options.record_every > 0 &&
                                  (i % options.record_every == 0 || i == options.iterations - 1);
            if (recorded) {
                history.costs.push_back({i, value});
            }
            history.iterations_run = i + 1;
            if (options.on_iteration &&
                !options.on_iteration(FitProgress{i, options.iterations, value, recorded})) {
                history.stopped_early = i + 1 < options.iterations;
                break;
            }
        }
        return history;
    }

    /// Output of the network for X (probabilities for sigmoid/softmax outputs).
    /// Uses no cached state, so several threads may call it on one network at once.
    Matrix<Scalar> predict_proba(const Matrix<Scalar>& x) const {
        check_input("Network::predict_proba", x);
        Matrix<Scalar> current = x;
        Matrix<Scalar> next;
        for (const auto& layer : layers_) {
            layer->infer(current, next);
            current.swap(next);
        }
        return current;
    }

    /// Labels, 1 x m: for one output, 1 where the output is > threshold (as the course
    /// predicts: strictly above 0.5); for several outputs, the row index of the largest.
    Matrix<Scalar> predict(const Matrix<Scalar>& x, Scalar threshold = Scalar(0.5)) const {
        return labels_from_output(predict_proba(x), threshold);
    }

    static Matrix<Scalar> labels_from_output(const Matrix<Scalar>& output, Scalar threshold = Scalar(0.5)) {
        Matrix<Scalar> labels(1, output.cols());
        for (Index j = 0; j < output.cols(); ++j) {
            if (output.rows() == 1) {
                labels(0, j) = output(0, j) > threshold ? Scalar(1) : Scalar(0);
            } else {
                Index best = 0;
                output.col(j).maxCoeff(&best);
                labels(0, j) = static_cast<Scalar>(best);
            }
        }
        return labels;
    }

    /// Fraction of examples predicted right. Y is 1 x m labels (0/1, or class indices),
    /// or one-hot (outputs x m) for several outputs.
    double accuracy(const Matrix<Scalar>& x, const Matrix<Scalar>& y) const {
        check_input("Network::accuracy", x);
        detail::require_cols("Network::accuracy", "Y", y.cols(), x.cols(), "X has");
        const Matrix<Scalar> predicted = predict(x);
        const Matrix<Scalar> expected = y.rows() == 1 ? y : labels_from_output(y);
        if (y.rows() != 1) {
            detail::require_rows("Network::accuracy", "Y", y.rows(), output_size(), "the network outputs");
        }
        Index right = 0;
        for (Index j = 0; j < x.cols(); ++j) {
            right += predicted(0, j) == expected(0, j) ? 1 : 0;
        }
        return static_cast<double>(right) / static_cast<double>(x.cols());
    }

private:
    void build(const std::vector<Index>& sizes, const std::vector<Activation>& activations, Initializer init,
               NumpyRandom& random) {
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
        input_size_ = sizes[0];
        for (std::size_t i = 1; i < sizes.size(); ++i) {
            add_dense(sizes[i], activations[i - 1], init, random);
        }
    }

    std::unique_ptr<Loss<Scalar>> default_loss() const {
        const Activation out = layers_.empty() ? Activation::identity : layers_.back()->activation();
        if (out == Activation::sigmoid) {
            return std::make_unique<BinaryCrossEntropy<Scalar>>();
        }
        if (out == Activation::softmax) {
            return std::make_unique<CategoricalCrossEntropy<Scalar>>();
        }
        return std::make_unique<MeanSquaredError<Scalar>>();
    }

    void check_input(const char* where, const Matrix<Scalar>& x) const {
        if (layers_.empty()) {
            detail::throw_invalid(where, ": the network has no layers, expected at least 1");
        }
        detail::require_rows(where, "input", x.rows(), input_size_, "network expects");
        detail::require_examples(where, x.cols());
    }

    void check_pair(const char* where, const Matrix<Scalar>& x, const Matrix<Scalar>& y) const {
        check_input(where, x);
        detail::require_cols(where, "Y", y.cols(), x.cols(), "X has");
        detail::require_rows(where, "Y", y.rows(), output_size(), "the network outputs");
    }

    void check_last_forward(const char* where, const Matrix<Scalar>& y) const {
        if (layers_.empty()) {
            detail::throw_invalid(where, ": the network has no layers, expected at least 1");
        }
        detail::require_same_shape(where, "Y", y, "the last forward's output", output_of_last_forward());
    }

    const Matrix<Scalar>& output_of_last_forward() const {
        if (last_output_ == nullptr) {
            detail::throw_invalid("Network: no forward pass yet; expected forward(X) before cost/backward");
        }
        return *last_output_;
    }

    Index input_size_ = 0;
    double l2_ = 0.0;
    std::vector<std::unique_ptr<Layer<Scalar>>> layers_;
    std::vector<Parameter<Scalar>> parameters_;  // all layers' parameters, gathered once
    std::unique_ptr<Loss<Scalar>> loss_;
    bool loss_chosen_by_user_ = false;
    const Matrix<Scalar>* last_output_ = nullptr;  // the last layer's cached output
    Matrix<Scalar> output_gradient_;
};

}  // namespace nndl
