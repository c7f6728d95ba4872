#pragma once
// Mini-batch training: epochs over shuffled batches, a validation set or split,
// learning-rate schedules, early stopping, per-epoch history and callbacks.
// Network::fit remains the full-batch loop of the course.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "errors.hpp"
#include "network.hpp"
#include "optimizers.hpp"
#include "random.hpp"
#include "types.hpp"

namespace nndl {

struct EpochRecord {
    long epoch = 0;                    ///< 0-based
    double loss = 0.0;                 ///< mean training loss over the epoch's batches (training mode)
    double accuracy = 0.0;             ///< accuracy on the training batches, as they were seen
    bool has_validation = false;
    double validation_loss = 0.0;      ///< evaluation mode
    double validation_accuracy = 0.0;
    double learning_rate = 0.0;
    double seconds = 0.0;
};

struct BatchProgress {
    long epoch = 0;
    long batch = 0;      ///< 0-based within the epoch
    long batches = 0;    ///< per epoch
    double loss = 0.0;   ///< this batch's loss
};

enum class Monitor { validation_loss, validation_accuracy, loss, accuracy };

struct EarlyStopping {
    bool enabled = false;
    Monitor monitor = Monitor::validation_loss;
    long patience = 3;          ///< epochs without improvement before stopping
    double min_delta = 0.0;     ///< smaller changes do not count as improvement
    bool restore_best = true;   ///< put back the weights of the best epoch when stopping
};

struct TrainOptions {
    long epochs = 10;
    Index batch_size = 64;       ///< 0: the whole set as one batch
    bool shuffle = true;         ///< new order every epoch, from NumpyRandom(seed)
    std::uint32_t seed = 0;
    /// Hold out this fraction of the examples (the last columns, before shuffling) for validation.
    double validation_split = 0.0;
    LearningRateSchedule schedule;
    EarlyStopping early_stopping;
    /// Return false to stop training.
    std::function<bool(const EpochRecord&)> on_epoch_end;
    std::function<bool(const BatchProgress&)> on_batch_end;
};

struct TrainHistory {
    std::vector<EpochRecord> epochs;
    bool stopped_early = false;
    long best_epoch = -1;  ///< with early stopping: the epoch whose weights the network holds
};

namespace detail {

template <class Scalar>
double count_correct(const Matrix<Scalar>& output, const Matrix<Scalar>& y) {
    double right = 0;
    for (Index j = 0; j < output.cols(); ++j) {
        if (output.rows() == 1) {
            right += ((output(0, j) > Scalar(0.5)) == (y(0, j) > Scalar(0.5))) ? 1 : 0;
        } else {
            Index a = 0;
            Index b = 0;
            output.col(j).maxCoeff(&a);
            y.col(j).maxCoeff(&b);
            right += a == b ? 1 : 0;
        }
    }
    return right;
}

inline double monitored(const EpochRecord& r, Monitor m) {
    switch (m) {
        case Monitor::validation_loss: return r.validation_loss;
        case Monitor::validation_accuracy: return r.validation_accuracy;
        case Monitor::loss: return r.loss;
        case Monitor::accuracy: return r.accuracy;
    }
    return r.loss;
}

}  // namespace detail

/// Loss and accuracy of the network on (X, Y) in evaluation mode, in chunks of `batch` columns.
template <class Scalar>
std::pair<double, double> evaluate(Network<Scalar>& network, const Matrix<Scalar>& x, const Matrix<Scalar>& y,
                                   Index batch = 1024) {
    detail::require_cols("evaluate", "Y", y.cols(), x.cols(), "X has");
    detail::require_examples("evaluate", x.cols());
    double loss = 0.0;
    double right = 0.0;
    Matrix<Scalar> xb;
    Matrix<Scalar> yb;
    for (Index start = 0; start < x.cols(); start += batch) {
        const Index n = std::min(batch, x.cols() - start);
        xb = x.middleCols(start, n);
        yb = y.middleCols(start, n);
        const auto& out = network.forward(xb, Mode::evaluation);
        loss += static_cast<double>(network.cost(yb)) * static_cast<double>(n);
        right += detail::count_correct(out, yb);
    }
    return {loss / static_cast<double>(x.cols()), right / static_cast<double>(x.cols())};
}

/// Mini-batch training of `network` on (X, Y), one example per column; Y holds the
/// targets in the network's output shape (one-hot for softmax outputs).
/// `validation_x/y` may be null; see TrainOptions for a split instead.
template <class Scalar>
TrainHistory train(Network<Scalar>& network, const Matrix<Scalar>& x_all, const Matrix<Scalar>& y_all,
                   Optimizer<Scalar>& optimizer, const TrainOptions& options,
                   const Matrix<Scalar>* validation_x = nullptr, const Matrix<Scalar>* validation_y = nullptr) {
    const char* where = "train";
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
    }
    if (options.early_stopping.enabled && validation_x == nullptr &&
        (options.early_stopping.monitor == Monitor::validation_loss ||
         options.early_stopping.monitor == Monitor::validation_accuracy)) {
        detail::throw_invalid(where, ": early stopping monitors a validation metric but there is no validation data");
    }

    const Index batch = options.batch_size == 0 ? m : std::min(options.batch_size, m);
    const long batches = static_cast<long>((m + batch - 1) / batch);
    NumpyRandom random(options.seed);
    std::vector<Index> order(static_cast<std::size_t>(m));
    for (Index i = 0; i < m; ++i) {
        order[static_cast<std::size_t>(i)] = i;
    }
    Matrix<Scalar> xb(x_all.rows(), batch);
    Matrix<Scalar> yb(y_all.rows(), batch);
    const double rate0 = optimizer.learning_rate();

    TrainHistory history;
    double best = 0.0;
    long since_best = 0;
    std::vector<Matrix<Scalar>> best_weights;
    const bool maximize = options.early_stopping.monitor == Monitor::validation_accuracy ||
                          options.early_stopping.monitor == Monitor::accuracy;

    for (long epoch = 0; epoch < options.epochs; ++epoch) {
        const auto started = std::chrono::steady_clock::now();
        optimizer.set_learning_rate(options.schedule.at(rate0, epoch));
        if (options.shuffle) {
            order = random.permutation(m);
        }
        EpochRecord record;
        record.epoch = epoch;
        record.learning_rate = optimizer.learning_rate();
        double loss_sum = 0.0;
        double right = 0.0;
        bool stop = false;
        for (long b = 0; b < batches; ++b) {
            const Index start = static_cast<Index>(b) * batch;
            const Index n = std::min(batch, m - start);
            if (xb.cols() != n) {  // only the last, partial batch changes the size
                xb.resize(x_all.rows(), n);
                yb.resize(y_all.rows(), n);
            }
            for (Index j = 0; j < n; ++j) {
                const Index source = order[static_cast<std::size_t>(start + j)];
                xb.col(j) = x_all.col(source);
                yb.col(j) = y_all.col(source);
            }
            const auto& out = network.forward(xb, Mode::training);
            const double value = static_cast<double>(network.cost(yb));
            if (!std::isfinite(value)) {
                throw DivergenceError(detail::concat("train: the loss became ", value, " in epoch ", epoch, ", batch ",
                                                     b, "; training diverged, try a smaller learning rate (now ",
                                                     optimizer.learning_rate(), ")"));
            }
            right += detail::count_correct(out, yb);
            network.backward(yb);
            network.apply(optimizer);
            loss_sum += value * static_cast<double>(n);
            if (options.on_batch_end && !options.on_batch_end(BatchProgress{epoch, b, batches, value})) {
                stop = true;
                break;
            }
        }
        if (xb.cols() != batch) {  // back to full batches for the next epoch
            xb.resize(x_all.rows(), batch);
            yb.resize(y_all.rows(), batch);
        }
        record.loss = loss_sum / static_cast<double>(m);
        record.accuracy = right / static_cast<double>(m);
        if (validation_x != nullptr) {
            const auto [vl, va] = evaluate(network, *validation_x, *validation_y);
            record.has_validation = true;
            record.validation_loss = vl;
            record.validation_accuracy = va;
        }
        record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        history.epochs.push_back(record);

        if (options.early_stopping.enabled) {
            const double value = detail::monitored(record, options.early_stopping.monitor);
            const double delta = options.early_stopping.min_delta;
            const bool improved = history.best_epoch < 0 || (maximize ? value > best + delta : value < best - delta);
            if (improved) {
                best = value;
                history.best_epoch = epoch;
                since_best = 0;
                if (options.early_stopping.restore_best) {
                    best_weights.clear();
                    for (const auto& p : network.parameters()) {
                        best_weights.push_back(*p.value);
                    }
                }
            } else if (++since_best >= options.early_stopping.patience) {
                stop = true;
                history.stopped_early = true;
            }
        }
        if (options.on_epoch_end && !options.on_epoch_end(record)) {
            stop = true;
            history.stopped_early = epoch + 1 < options.epochs;
        }
        if (stop) {
            break;
        }
    }
    if (options.early_stopping.enabled && options.early_stopping.restore_best && !best_weights.empty()) {
        auto params = network.parameters();
        for (std::size_t i = 0; i < params.size(); ++i) {
            *params[i].value = best_weights[i];
        }
    }
    return history;
}

}  // namespace nndl
