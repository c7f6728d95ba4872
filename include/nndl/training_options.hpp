#pragma once
// What train() takes and gives back: its options, the record of each epoch, the progress
// its callbacks see and the history it returns. Network::fit's signature needs them, the
// loop itself (training.hpp) does not belong to the network.

#include <cstdint>
#include <functional>
#include <vector>

#include "optim/schedules.hpp"
#include "types.hpp"

namespace nndl {

/// What one epoch of training measured.
struct EpochRecord {
    long epoch = 0;                 ///< 0-based
    double loss = 0.0;              ///< mean training loss over the examples seen (training mode, before each update)
    bool has_accuracy = false;      ///< accuracy is reported (see TrainOptions::metric)
    double accuracy = 0.0;          ///< on the training batches, as they were seen
    bool has_rmse = false;          ///< rmse is reported (a regression; see TrainOptions::metric)
    double rmse = 0.0;              ///< root mean squared error of the training batches' outputs, as they were seen
    Index examples = 0;             ///< training examples seen this epoch (fewer when stopped mid-epoch)
    bool has_validation = false;  ///< a validation set was scored after the epoch
    double validation_loss = 0.0;   ///< evaluation mode
    double validation_accuracy = 0.0;  ///< evaluation mode; where has_accuracy
    double validation_rmse = 0.0;      ///< evaluation mode; where has_rmse
    double learning_rate = 0.0;        ///< the optimizer's rate during this epoch
    double seconds = 0.0;              ///< wall-clock time of the epoch, validation included
};

/// What the callbacks get: after each batch (record == nullptr) and after each epoch.
struct Progress {
    long epoch = 0;        ///< 0-based
    long epochs = 0;       ///< asked for
    long batch = 0;        ///< 0-based within the epoch; at the epoch's end, the number of batches run
    long batches = 0;      ///< per epoch
    double loss = 0.0;     ///< this batch's loss, or at the epoch's end the epoch's mean loss
    const EpochRecord* record = nullptr;  ///< the epoch's record, at the epoch's end
    bool recorded = false;  ///< at the epoch's end: the record is kept in the history (so is one a callback stops)
    bool last = false;      ///< at the epoch's end: no epoch follows (the last asked for, or training stops here)
};

/// The value early stopping watches. Losses and RMSE must fall, accuracies rise.
enum class Monitor {
    validation_loss,      ///< the validation set's loss (evaluation mode)
    validation_accuracy,  ///< the validation set's accuracy (needs an accuracy, see TrainOptions::metric)
    loss,                 ///< the training loss
    accuracy,             ///< the training accuracy
    validation_rmse,      ///< the validation set's root mean squared error (needs an RMSE)
    rmse,                 ///< the training root mean squared error
};

/// What the training history reports besides the loss.
enum class TrainMetric {
    automatic,  ///< accuracy for a loss over classes (cross-entropies) with a classifying output; RMSE for
                ///< other losses (mean squared error); neither for a loss over classes without classes
    accuracy,   ///< accuracy, also for a mean squared error (the output must name classes)
    rmse,       ///< root mean squared error of the outputs against the targets
    none,       ///< the loss only
};

/// Stops training when the monitored value has not improved for `patience` epochs.
struct EarlyStopping {
    bool enabled = false;                        ///< off by default
    Monitor monitor = Monitor::validation_loss;  ///< the value watched
    long patience = 3;          ///< epochs without improvement before stopping
    double min_delta = 0.0;     ///< smaller changes do not count as improvement
    bool restore_best = true;   ///< at the end of training, put back the parameters and state of the best epoch
};

/// How train() trains: epochs, batches, shuffling, validation, schedule, early stopping,
/// what it records and reports, and callbacks. Every option is checked before the first epoch.
struct TrainOptions {
    long epochs = 10;            ///< with fit: iterations
    Index batch_size = 64;       ///< 0: the whole set as one batch
    bool shuffle = true;         ///< a new order every epoch, from NumpyRandom(seed)
    /// Shuffle epoch e with a stream freshly seeded with seed + 1 + e, as the course's
    /// random_mini_batches (np.random.seed(seed); permutation(m)) with its counter that
    /// starts at seed and grows before each epoch. Off: one stream from seed for all epochs.
    bool seed_every_epoch = false;
    std::uint32_t seed = 0;  ///< the shuffling stream's seed (NumPy's np.random.seed)
    /// Hold out this fraction of the examples (the last columns, before shuffling) for validation.
    double validation_split = 0.0;
    LearningRateSchedule schedule;  ///< the learning rate of each epoch (constant by default)
    EarlyStopping early_stopping;   ///< off by default
    /// Keep every k-th epoch's record (and the last one's) in the history; 0 keeps none.
    long record_every = 1;
    /// An infinite loss (the log of an output that rounded to 0 or 1, as the course's x10
    /// initialisation prints at iteration 0) is recorded and training goes on; a NaN loss
    /// still stops it. Off: any loss that is not finite throws DivergenceError.
    bool allow_infinite_loss = false;
    /// What the history reports besides the loss; by default what fits the loss.
    TrainMetric metric = TrainMetric::automatic;
    /// Truncated backpropagation through time: 0 (the default) trains each batch of
    /// sequences whole; k >= 1 trains it in windows of k time steps (the last may be
    /// shorter), one optimizer step per window, each window starting from the hidden state
    /// the previous one ended in (carried forward, its gradient stopped there). Needs a
    /// network from a sequence to a sequence of the same steps whose sequence layers take
    /// any length (Network::set_steps); every batch starts from zeros, and after each batch
    /// the recurrent layers are reset with carry off. The loss reported for a batch is the
    /// loss of its windows' outputs put together; an L2 term (Network::set_l2) decays the
    /// weights at every window's step. A window of every step or more is plain training.
    Index truncate_steps = 0;
    /// Called after each batch; return false to stop training (the history then says
    /// stopped_early).
    std::function<bool(const Progress&)> on_batch_end;
    /// Called after each epoch, as on_batch_end; print_progress() gives one that prints a line.
    std::function<bool(const Progress&)> on_epoch_end;
};

/// What train() returns: the recorded epochs and how the run ended.
struct TrainHistory {
    std::vector<EpochRecord> epochs;  ///< the recorded epochs
    long epochs_run = 0;              ///< including a partly run last epoch
    bool stopped_early = false;       ///< early stopping or a callback ended the run (even in its last epoch)
    long best_epoch = -1;             ///< with early stopping: the epoch (0-based) whose parameters the network holds
};

}  // namespace nndl
