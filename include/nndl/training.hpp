#pragma once
// The training loop: epochs over (shuffled) mini-batches, a validation set or split,
// a learning-rate schedule, early stopping, a history and progress callbacks.
// Network::fit is this loop with one full batch per epoch and no shuffling: the
// course's gradient descent, where an epoch is one iteration.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iomanip>
#include <iostream>
#include <optional>
#include <ostream>
#include <sstream>
#include <utility>
#include <vector>

#include "errors.hpp"
#include "layer.hpp"
#include "metrics.hpp"
#include "network.hpp"
#include "optim/optimizer.hpp"
#include "optim/schedules.hpp"
#include "random.hpp"
#include "training_options.hpp"
#include "types.hpp"

namespace nndl {

namespace detail {

inline double monitored(const EpochRecord& r, Monitor m) {
    switch (m) {
        case Monitor::validation_loss: return r.validation_loss;
        case Monitor::validation_accuracy: return r.validation_accuracy;
        case Monitor::loss: return r.loss;
        case Monitor::accuracy: return r.accuracy;
        case Monitor::validation_rmse: return r.validation_rmse;
        case Monitor::rmse: return r.rmse;
    }
    return r.loss;
}

/// A network's loss, right answers and squared error over a set, in evaluation mode.
struct SetScores {
    double loss = 0.0;           ///< with the L2 term
    Index right = 0;             ///< examples whose class the output names (where it names one)
    double squared_error = 0.0;  ///< the sum over every output value
};

/// Puts the optimizer's learning rate back when training ends, however it ends.
template <class Scalar>
class RestoreRate {
public:
    explicit RestoreRate(Optimizer<Scalar>& optimizer) : optimizer_(optimizer), rate_(optimizer.learning_rate()) {}
    ~RestoreRate() { optimizer_.set_learning_rate(rate_); }
    RestoreRate(const RestoreRate&) = delete;
    RestoreRate& operator=(const RestoreRate&) = delete;
    double rate() const { return rate_; }

private:
    Optimizer<Scalar>& optimizer_;
    double rate_;
};

/// At the end of training every layer forgets the batch, which lives in the training
/// loop. It holds the network, not a layer, so a callback may replace the network's
/// layers meanwhile.
template <class Scalar>
class TrainingScope {
public:
    explicit TrainingScope(Network<Scalar>& network) : network_(network) {}
    ~TrainingScope() { network_.release_batch(); }
    TrainingScope(const TrainingScope&) = delete;
    TrainingScope& operator=(const TrainingScope&) = delete;

private:
    Network<Scalar>& network_;
};

template <class Scalar>
bool parameters_finite(Network<Scalar>& network) {
    for (const auto& p : network.parameters()) {
        if (!p.value->allFinite()) {
            return false;
        }
    }
    return true;
}

/// Calls `f` on every recurrent layer (RecurrentState) of `network`.
template <class Scalar, class F>
void for_each_recurrent_layer(Network<Scalar>& network, F&& f) {
    for (std::size_t i = 0; i < network.depth(); ++i) {
        if (auto* recurrent = dynamic_cast<RecurrentState<Scalar>*>(&network.layer(i))) {
            f(*recurrent);
        }
    }
}

/// Truncated backpropagation through time (TrainOptions::truncate_steps): checks the
/// network when training starts, trains one batch window by window, and at the end of
/// training, however it ends, gives the network back its steps with its recurrent layers
/// reset and carry off.
template <class Scalar>
class TruncatedSteps {
public:
    TruncatedSteps(Network<Scalar>& network, Index window, const char* where)
        : network_(network), window_(window), steps_(network.input_shape().steps()) {
        if (window < 0) {
            throw_invalid(where, ": truncate_steps is ", window, ", expected >= 0 (0: whole sequences)");
        }
        if (window == 0) {
            return;
        }
        const Shape in = network.input_shape();
        const Shape out = network.output_shape();
        if (!in.is_sequence() || !out.is_sequence() || out.steps() != in.steps()) {
            throw_invalid(where, ": truncate_steps is ", window, ", which needs a network from a sequence to a "
                          "sequence of as many steps; this one takes ", in.to_string(), " and outputs ",
                          out.to_string());
        }
        if (window >= steps_) {
            window_ = 0;  // one window holds every step: whole sequences
            return;
        }
        try {  // refused here, before any training, when a layer cannot change its steps
            network_.set_steps(window_);
            network_.set_steps(steps_);
        } catch (const InvalidArgument& e) {
            throw_invalid(where, ": truncate_steps ", window, ": ", e.what());
        }
        input_features_ = in.features();
        output_features_ = out.features();
    }
    ~TruncatedSteps() {
        if (window_ == 0) {
            return;
        }
        try {
            network_.set_steps(steps_);
        } catch (...) {  // a callback changed the layers: nothing to give back
        }
        for_each_recurrent_layer(network_, [](RecurrentState<Scalar>& r) {
            r.set_carry(false);
            r.reset_state();
        });
    }
    TruncatedSteps(const TruncatedSteps&) = delete;
    TruncatedSteps& operator=(const TruncatedSteps&) = delete;

    /// Whether batches are trained in windows.
    bool active() const { return window_ > 0; }

    /// Trains the batch (x, y) of whole sequences window by window; returns its output, the
    /// windows' outputs put together. `check` gets each window's cost before its update.
    template <class CheckCost>
    const Matrix<Scalar>& train_batch(const Matrix<Scalar>& x, const Matrix<Scalar>& y, Optimizer<Scalar>& optimizer,
                                      CheckCost&& check) {
        for_each_recurrent_layer(network_, [](RecurrentState<Scalar>& r) {
            r.reset_state();
            r.set_carry(true);
        });
        output_.resize(y.rows(), y.cols());
        for (Index first = 0; first < steps_; first += window_) {
            const Index steps = std::min(window_, steps_ - first);
            if (network_.input_shape().steps() != steps) {
                network_.set_steps(steps);
            }
            window_x_ = x.middleRows(first * input_features_, steps * input_features_);
            window_y_ = y.middleRows(first * output_features_, steps * output_features_);
            output_.middleRows(first * output_features_, steps * output_features_) =
                network_.forward(window_x_, Mode::training);
            check(static_cast<double>(network_.cost(window_y_)));
            network_.backward(window_y_);
            network_.apply(optimizer);
        }
        if (network_.input_shape().steps() != steps_) {
            network_.set_steps(steps_);
        }
        // Between batches (callbacks, validation) the layers run as without truncation.
        for_each_recurrent_layer(network_, [](RecurrentState<Scalar>& r) {
            r.set_carry(false);
            r.reset_state();
        });
        return output_;
    }

private:
    Network<Scalar>& network_;
    Index window_;
    Index steps_;
    Index input_features_ = 0;
    Index output_features_ = 0;
    Matrix<Scalar> window_x_;
    Matrix<Scalar> window_y_;
    Matrix<Scalar> output_;
};

/// Epochs of at least this many batches keep a copy of the parameters (see train).
inline constexpr long batches_worth_a_snapshot = 8;

template <class Scalar>
struct Snapshot {
    std::vector<Matrix<Scalar>> parameters;
    std::vector<Matrix<Scalar>> state;

    void take(Network<Scalar>& network) {
        parameters.clear();
        state.clear();
        for (const auto& p : network.parameters()) {
            parameters.push_back(*p.value);
        }
        for (const auto& s : network.state()) {
            state.push_back(*s.value);
        }
    }
    void restore(Network<Scalar>& network) const {
        const auto params = network.parameters();
        const auto buffers = network.state();
        if (params.size() != parameters.size() || buffers.size() != state.size()) {
            throw_invalid("train: the network's layers changed during training; cannot restore the best epoch");
        }
        for (std::size_t i = 0; i < params.size(); ++i) {
            *params[i].value = parameters[i];
        }
        for (std::size_t i = 0; i < buffers.size(); ++i) {
            *buffers[i].value = state[i];
        }
    }
};

}  // namespace detail

namespace detail {

/// evaluate's work: the loss, right answers and squared error of (X, Y) in chunks of
/// `batch` columns, through Network::predict_proba only (nothing in the network changes).
template <class Scalar>
SetScores score_set(const Network<Scalar>& network, const Matrix<Scalar>& x, const Matrix<Scalar>& y, Index batch,
                    const char* where) {
    require_cols(where, "Y", y.cols(), x.cols(), "X has");
    require_rows(where, "Y", y.rows(), network.output_size(), "the network outputs");
    require_examples(where, x.cols());
    if (batch < 1) {
        throw_invalid(where, ": batch is ", batch, ", expected at least 1");
    }
    const std::optional<double> threshold = network.decision_threshold();
    SetScores scores;
    for (Index start = 0; start < x.cols(); start += batch) {
        const Index n = std::min(batch, x.cols() - start);
        const Matrix<Scalar> xb = x.middleCols(start, n);
        const Matrix<Scalar> yb = y.middleCols(start, n);
        const Matrix<Scalar> out = network.predict_proba(xb);
        scores.loss += static_cast<double>(network.loss().value(out, yb)) * static_cast<double>(n);  // L2 once, below
        if (threshold || out.rows() > 1) {
            scores.right += count_correct(out, yb, threshold.value_or(0.5));
        }
        scores.squared_error += (out.template cast<double>() - yb.template cast<double>()).squaredNorm();
    }
    scores.loss = scores.loss / static_cast<double>(x.cols()) + static_cast<double>(network.l2_penalty(x.cols()));
    return scores;
}

}  // namespace detail

/// Loss and accuracy of the network on (X, Y), in evaluation mode and in chunks of
/// `batch` columns. Uses only Network::predict_proba, so it changes nothing in the
/// network. The accuracy is NaN where the network's output has no classes (one value, or
/// a sequence).
template <class Scalar>
std::pair<double, double> evaluate(const Network<Scalar>& network, const Matrix<Scalar>& x, const Matrix<Scalar>& y,
                                   Index batch = 1024) {
    const detail::SetScores scores = detail::score_set(network, x, y, batch, "evaluate");
    // One class per column: a sequence output (a class per step) has no such accuracy.
    const bool classes = !network.output_shape().is_sequence() &&
                         (network.decision_threshold().has_value() || network.output_size() > 1);
    return {scores.loss, classes ? static_cast<double>(scores.right) / static_cast<double>(x.cols()) : std::nan("")};
}

/// A callback for TrainOptions::on_epoch_end that writes one line per `every` epochs
/// (and the last) to `out`: the epoch, the loss, the reported metric, the validation
/// set's, the learning rate and the time. `out` must outlive training. Off unless set:
/// options.on_epoch_end = nndl::print_progress();
inline std::function<bool(const Progress&)> print_progress(std::ostream& out = std::cerr, long every = 1) {
    if (every < 1) {
        detail::throw_invalid("print_progress: every is ", every, ", expected at least 1");
    }
    return [&out, every](const Progress& progress) {
        const EpochRecord* r = progress.record;
        if (r == nullptr || (r->epoch % every != 0 && !progress.last)) {
            return true;
        }
        std::ostringstream line;
        line << "epoch " << r->epoch + 1 << "/" << progress.epochs << "  loss " << r->loss;
        if (r->has_accuracy) {
            line << "  accuracy " << r->accuracy;
        }
        if (r->has_rmse) {
            line << "  rmse " << r->rmse;
        }
        if (r->has_validation) {
            line << "  validation loss " << r->validation_loss;
            if (r->has_accuracy) {
                line << "  validation accuracy " << r->validation_accuracy;
            }
            if (r->has_rmse) {
                line << "  validation rmse " << r->validation_rmse;
            }
        }
        line << "  rate " << r->learning_rate << "  " << std::fixed << std::setprecision(3) << r->seconds << " s\n";
        out << line.str() << std::flush;
        return true;
    };
}

/// Trains `network` on (X, Y), one example per column; Y holds the targets in the
/// network's output shape (one-hot for softmax outputs). `validation_x/y` may be null;
/// see TrainOptions for a split instead. Every option is checked before the first
/// epoch; the optimizer's learning rate is what it was when train returns.
template <class Scalar>
TrainHistory train(Network<Scalar>& network, const Matrix<Scalar>& x_all, const Matrix<Scalar>& y_all,
                   Optimizer<Scalar>& optimizer, const TrainOptions& options,
                   const Matrix<Scalar>* validation_x = nullptr, const Matrix<Scalar>* validation_y = nullptr) {
    const char* where = "train";
    if (network.depth() == 0) {
        detail::throw_invalid(where, ": the network has no layers, expected at least 1");
    }
    detail::require_rows(where, "X", x_all.rows(), network.input_size(), "the network expects");
    detail::require_cols(where, "Y", y_all.cols(), x_all.cols(), "X has");
    detail::require_rows(where, "Y", y_all.rows(), network.output_size(), "the network outputs");
    detail::require_examples(where, x_all.cols());
    detail::require_finite(where, "X", x_all);
    detail::require_finite(where, "Y", y_all);
    if (options.epochs < 0) {
        detail::throw_invalid(where, ": epochs is ", options.epochs, ", expected >= 0");
    }
    if (options.batch_size < 0) {
        detail::throw_invalid(where, ": batch_size is ", options.batch_size, ", expected >= 0 (0: full batch)");
    }
    if (options.record_every < 0) {
        detail::throw_invalid(where, ": record_every is ", options.record_every, ", expected >= 0");
    }
    if (!(options.validation_split >= 0.0 && options.validation_split < 1.0)) {
        detail::throw_invalid(where, ": validation_split is ", options.validation_split, ", expected a fraction in [0, 1)");
    }
    if ((validation_x == nullptr) != (validation_y == nullptr)) {
        detail::throw_invalid(where, ": give both validation X and Y, or neither");
    }
    if (validation_x != nullptr && options.validation_split > 0.0) {
        detail::throw_invalid(where, ": both a validation set and validation_split given; expected one");
    }
    if (options.early_stopping.enabled && options.early_stopping.patience < 1) {
        detail::throw_invalid(where, ": early stopping patience is ", options.early_stopping.patience,
                              ", expected at least 1");
    }
    options.schedule.validate(where);
    // Accuracy counts one class per column; a sequence has a class per step. Losses over
    // values (mean squared error) train sequences as any output.
    if (network.output_shape().is_sequence() &&
        (options.metric == TrainMetric::accuracy ||
         (options.metric == TrainMetric::automatic && network.loss().compares_classes()))) {
        detail::throw_invalid(where, ": the network outputs a sequence (", network.output_shape().to_string(),
                              ") and is scored by classes (the loss ", network.loss().name(),
                              "), which train() counts one per column, not one per step; train it with "
                              "Network::train_step, or set TrainOptions::metric to TrainMetric::none or "
                              "TrainMetric::rmse");
    }
    // Every schedule is monotonic in the epoch, so its first and last rates bound the rest:
    // a rate that decays to 0 (or grows to infinity) fails now, not late.
    for (const long epoch : {0L, std::max(0L, options.epochs - 1)}) {
        const double rate = options.schedule.at(optimizer.learning_rate(), epoch);
        if (!(rate > 0.0) || !std::isfinite(rate)) {
            detail::throw_invalid(where, ": the learning-rate schedule gives ", rate, " at epoch ", epoch,
                                  ", expected a finite rate > 0");
        }
    }

    // The split keeps the last columns for validation (before any shuffling).
    Index m = x_all.cols();
    Matrix<Scalar> split_x;
    Matrix<Scalar> split_y;
    if (options.validation_split > 0.0) {
        const auto held = static_cast<Index>(std::floor(options.validation_split * static_cast<double>(m)));
        if (held < 1 || held >= m) {
            detail::throw_invalid(where, ": validation_split ", options.validation_split, " of ", m,
                                  " examples leaves ", held, " for validation and ", m - held,
                                  " for training; expected at least 1 of each");
        }
        m -= held;
        split_x = x_all.rightCols(held);
        split_y = y_all.rightCols(held);
        validation_x = &split_x;
        validation_y = &split_y;
    }
    if (validation_x != nullptr) {
        detail::require_rows(where, "validation X", validation_x->rows(), network.input_size(), "the network expects");
        detail::require_cols(where, "validation Y", validation_y->cols(), validation_x->cols(), "validation X has");
        detail::require_rows(where, "validation Y", validation_y->rows(), network.output_size(), "the network outputs");
        detail::require_examples(where, validation_x->cols());
        detail::require_finite(where, "validation X", *validation_x);
        detail::require_finite(where, "validation Y", *validation_y);
    }
    const bool monitors_validation = options.early_stopping.monitor == Monitor::validation_loss ||
                                     options.early_stopping.monitor == Monitor::validation_accuracy ||
                                     options.early_stopping.monitor == Monitor::validation_rmse;
    if (options.early_stopping.enabled && validation_x == nullptr && monitors_validation) {
        detail::throw_invalid(where, ": early stopping monitors a validation metric but there is no validation data");
    }

    const std::optional<double> threshold = network.decision_threshold();
    const bool output_has_classes = threshold.has_value() || network.output_size() > 1;
    if (options.metric == TrainMetric::accuracy && !output_has_classes) {
        detail::throw_invalid(where, ": the metric is accuracy, but the network's single output ends with ",
                              to_string(output_activation(network.layer(network.depth() - 1))),
                              ", which has no classes; use TrainMetric::rmse");
    }
    const bool has_accuracy = options.metric == TrainMetric::accuracy ||
                              (options.metric == TrainMetric::automatic && network.loss().compares_classes() &&
                               output_has_classes);
    const bool has_rmse = options.metric == TrainMetric::rmse ||
                          (options.metric == TrainMetric::automatic && !network.loss().compares_classes());
    const bool monitors_accuracy = options.early_stopping.monitor == Monitor::validation_accuracy ||
                                   options.early_stopping.monitor == Monitor::accuracy;
    const bool monitors_rmse = options.early_stopping.monitor == Monitor::validation_rmse ||
                               options.early_stopping.monitor == Monitor::rmse;
    if (options.early_stopping.enabled && ((monitors_accuracy && !has_accuracy) || (monitors_rmse && !has_rmse))) {
        detail::throw_invalid(where, ": early stopping monitors ", monitors_accuracy ? "an accuracy" : "an RMSE",
                              ", which this training does not report (the loss is ", network.loss().name(),
                              "); monitor a loss or set TrainOptions::metric");
    }
    const Index batch = options.batch_size == 0 ? m : std::min(options.batch_size, m);
    const long batches = static_cast<long>((m + batch - 1) / batch);
    // One unshuffled batch of everything: train on X itself (no copy). A callback may
    // change X between steps: nothing is derived from X across steps.
    const bool whole_x = batches == 1 && !options.shuffle && m == x_all.cols();
    // A callback may change X's and Y's values between steps, not their shapes: the batch
    // order indexes their columns, so a resized X is refused before the next copy.
    const Index x_rows = x_all.rows();
    const Index all_columns = x_all.cols();
    const Index y_rows = y_all.rows();
    const auto require_same_shapes = [&] {
        if (x_all.rows() != x_rows || x_all.cols() != all_columns || y_all.rows() != y_rows ||
            y_all.cols() != all_columns) {
            detail::throw_invalid(where, ": X and Y became ", x_all.rows(), " x ", x_all.cols(), " and ", y_all.rows(),
                                  " x ", y_all.cols(), " during training, expected ", x_rows, " x ", all_columns,
                                  " and ", y_rows, " x ", all_columns,
                                  " as at the start (a callback may change their values, not their shapes)");
        }
    };

    if (options.seed_every_epoch && options.shuffle &&
        static_cast<std::uint64_t>(options.seed) + static_cast<std::uint64_t>(options.epochs) > 0xFFFFFFFFULL) {
        detail::throw_invalid(where, ": seed_every_epoch seeds epoch e with seed + 1 + e; seed ", options.seed, " and ",
                              options.epochs, " epochs go past NumPy's largest seed 4294967295");
    }
    NumpyRandom random(options.seed);
    std::vector<Index> order(static_cast<std::size_t>(m));
    for (Index i = 0; i < m; ++i) {
        order[static_cast<std::size_t>(i)] = i;
    }
    Matrix<Scalar> xb;
    Matrix<Scalar> yb;
    detail::RestoreRate<Scalar> restore_rate(optimizer);
    detail::TrainingScope<Scalar> scope(network);
    detail::TruncatedSteps<Scalar> truncated(network, options.truncate_steps, where);

    TrainHistory history;
    double best = 0.0;
    long since_best = 0;
    detail::Snapshot<Scalar> best_snapshot;
    // With many batches per epoch a copy of the parameters per epoch costs little, and a
    // failure later on can put back the last finished epoch instead of diverged values.
    const bool keep_last_epoch = batches >= detail::batches_worth_a_snapshot;
    detail::Snapshot<Scalar> last_snapshot;
    long last_snapshot_epoch = -1;
    const auto keep_after_failure = [&](const DivergenceError& failure) {
        const bool use_best = options.early_stopping.restore_best && history.best_epoch >= 0 &&
                              !best_snapshot.parameters.empty();
        const long kept = use_best ? history.best_epoch : last_snapshot_epoch;
        if (kept < 0) {
            return DivergenceError(failure.what());
        }
        try {
            (use_best ? best_snapshot : last_snapshot).restore(network);
        } catch (const std::exception&) {  // a callback changed the layers: nothing to put back
            return DivergenceError(failure.what());
        }
        return DivergenceError(detail::concat(failure.what(), "; the network holds the parameters of epoch ", kept,
                                              use_best ? " (the best so far)" : " (the last finished)"),
                               kept);
    };
    const bool maximize = monitors_accuracy;

    try {
        for (long epoch = 0; epoch < options.epochs; ++epoch) {
            const auto started = std::chrono::steady_clock::now();
            optimizer.set_learning_rate(options.schedule.at(restore_rate.rate(), epoch));
            if (options.shuffle) {
                if (options.seed_every_epoch) {
                    random.seed(static_cast<std::uint32_t>(options.seed + 1 + static_cast<std::uint64_t>(epoch)));
                }
                order = random.permutation(m);
            }
            EpochRecord record;
            record.epoch = epoch;
            record.learning_rate = optimizer.learning_rate();
            record.has_accuracy = has_accuracy;
            record.has_rmse = has_rmse;
            double squared_error = 0.0;
            double loss_sum = 0.0;
            double last_loss = 0.0;
            Index right = 0;
            long batches_run = 0;
            bool stop = false;
            for (long b = 0; b < batches; ++b) {
                const Index start = static_cast<Index>(b) * batch;
                const Index n = std::min(batch, m - start);
                require_same_shapes();
                const Matrix<Scalar>* xp = &x_all;
                const Matrix<Scalar>* yp = &y_all;
                if (!whole_x) {
                    xb.resize(x_all.rows(), n);  // no reallocation unless the size changes
                    yb.resize(y_all.rows(), n);
                    for (Index j = 0; j < n; ++j) {
                        const Index source = order[static_cast<std::size_t>(start + j)];
                        xb.col(j) = x_all.col(source);
                        yb.col(j) = y_all.col(source);
                    }
                    xp = &xb;
                    yp = &yb;
                }
                const auto check_loss = [&](double value) {
                    if (std::isnan(value) || (!std::isfinite(value) && !options.allow_infinite_loss)) {
                        throw DivergenceError(detail::concat(where, ": the loss became ", value, " in epoch ", epoch,
                                                             ", batch ", b, "; training diverged, try a smaller "
                                                             "learning rate (now ", optimizer.learning_rate(), ")"));
                    }
                };
                double value = 0.0;
                const Matrix<Scalar>* out = nullptr;
                if (truncated.active()) {
                    out = &truncated.train_batch(*xp, *yp, optimizer, check_loss);
                    value = static_cast<double>(network.cost_of_output(*out, *yp));
                    check_loss(value);
                } else {
                    out = &network.forward(*xp, Mode::training);
                    value = static_cast<double>(network.cost(*yp));
                    check_loss(value);
                }
                if (has_accuracy) {
                    right += count_correct(*out, *yp, threshold.value_or(0.5));
                }
                if (has_rmse) {
                    squared_error += (*out - *yp).squaredNorm();
                }
                if (!truncated.active()) {
                    network.backward(*yp);
                    network.apply(optimizer);
                }
                loss_sum += value * static_cast<double>(n);
                last_loss = value;
                record.examples += n;
                ++batches_run;
                if (options.on_batch_end && !options.on_batch_end(Progress{epoch, options.epochs, b, batches, value})) {
                    stop = true;
                    break;
                }
            }
            const auto seen = static_cast<double>(record.examples);
            // One batch: its loss itself, so full-batch training reports the cost the course prints.
            record.loss = batches_run == 1 ? last_loss : loss_sum / seen;
            record.accuracy = has_accuracy ? static_cast<double>(right) / seen : std::nan("");
            const auto outputs = static_cast<double>(network.output_size());
            record.rmse = has_rmse ? std::sqrt(squared_error / (seen * outputs)) : std::nan("");
            if (validation_x != nullptr) {
                const detail::SetScores scores = detail::score_set(network, *validation_x, *validation_y, 1024, where);
                const double loss = scores.loss;
                const auto held = static_cast<double>(validation_x->cols());
                record.has_validation = true;
                record.validation_loss = loss;
                record.validation_accuracy = has_accuracy ? static_cast<double>(scores.right) / held : std::nan("");
                record.validation_rmse = has_rmse ? std::sqrt(scores.squared_error / (held * outputs)) : std::nan("");
                if (!std::isfinite(loss)) {
                    throw DivergenceError(detail::concat(where, ": the validation loss became ", loss, " in epoch ",
                                                         epoch, "; training diverged, try a smaller learning rate"));
                }
            }
            record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            history.epochs_run = epoch + 1;
            if (stop) {
                history.stopped_early = true;
            }

            if (options.early_stopping.enabled && !stop) {
                const double value = detail::monitored(record, options.early_stopping.monitor);
                const double delta = options.early_stopping.min_delta;
                const bool improved =
                    history.best_epoch < 0 || (maximize ? value > best + delta : value < best - delta);
                if (improved) {
                    best = value;
                    history.best_epoch = epoch;
                    since_best = 0;
                    if (options.early_stopping.restore_best) {
                        best_snapshot.take(network);
                    }
                } else if (++since_best >= options.early_stopping.patience) {
                    stop = true;
                    history.stopped_early = true;
                }
            }
            const bool last = stop || epoch + 1 == options.epochs;
            const bool recorded = options.record_every > 0 && (epoch % options.record_every == 0 || last);
            Progress progress{epoch, options.epochs, batches_run, batches, record.loss, &record, recorded, last};
            if (options.on_epoch_end && !options.on_epoch_end(progress)) {
                stop = true;
                history.stopped_early = true;  // only ever set: early stopping's verdict stays
            }
            if (recorded || (stop && options.record_every > 0)) {
                history.epochs.push_back(record);
            }
            if (stop) {
                break;
            }
            if (keep_last_epoch && detail::parameters_finite(network)) {  // an infinite loss may be allowed
                last_snapshot.take(network);
                last_snapshot_epoch = epoch;
            }
        }
    } catch (const DivergenceError& failure) {
        throw keep_after_failure(failure);
    }
    if (options.early_stopping.enabled && options.early_stopping.restore_best && history.best_epoch >= 0 &&
        !best_snapshot.parameters.empty()) {
        best_snapshot.restore(network);
    }
    return history;
}

/// Refused at compile time with one readable message: train() given matrices or an
/// optimizer of another scalar type than the network's.
template <class Scalar, class X, class Y, class O, std::enable_if_t<detail::mixes_scalars<Scalar, X, Y, O>, int> = 0>
TrainHistory train(Network<Scalar>&, const Matrix<X>&, const Matrix<Y>&, Optimizer<O>&, const TrainOptions&,
                   const Matrix<X>* = nullptr, const Matrix<Y>* = nullptr) {
    detail::require_same_scalar<Scalar, std::conditional_t<std::is_same_v<Scalar, X>,
                                                           std::conditional_t<std::is_same_v<Scalar, Y>, O, Y>, X>>();
    return {};
}

/// Refused at compile time with one readable message: evaluate() given matrices of
/// another scalar type than the network's.
template <class Scalar, class X, class Y, std::enable_if_t<detail::mixes_scalars<Scalar, X, Y>, int> = 0>
std::pair<double, double> evaluate(const Network<Scalar>&, const Matrix<X>&, const Matrix<Y>&, Index = 1024) {
    detail::require_same_scalar<Scalar, std::conditional_t<std::is_same_v<Scalar, X>, Y, X>>();
    return {};
}

}  // namespace nndl
