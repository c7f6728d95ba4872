#pragma once
// Learning-rate schedules: the rate of each epoch as a function of the initial rate.
// The training loop applies one for the run and puts the optimizer's rate back after.

#include <algorithm>
#include <cmath>

#include "../errors.hpp"

namespace nndl {

/// The learning rate as a function of the epoch (0-based), from the initial rate.
struct LearningRateSchedule {
    /// The formula, where `epoch` stands for max(epoch - lag, 0) (see lag).
    enum class Kind {
        constant,     ///< rate0
        exponential,  ///< rate0 * decay_rate ^ (epoch / decay_epochs)
        step,         ///< rate0 * decay_rate ^ floor(epoch / decay_epochs)
        scheduled,    ///< the course's schedule_lr_decay: rate0 / (1 + decay_rate * floor(epoch / decay_epochs))
        inverse_time,  ///< the course's update_lr: rate0 / (1 + decay_rate * epoch / decay_epochs)
    };
    Kind kind = Kind::constant;  ///< which formula
    double decay_rate = 1.0;     ///< the factor (exponential, step) or the rate of decay (scheduled, inverse_time); >= 0
    double decay_epochs = 1.0;   ///< epochs per decay interval (the course's time_interval); > 0
    /// Epochs before a rate takes effect: epoch e trains at the rate of epoch e - lag (the
    /// first ones at rate0). The course computes the rate after epoch i for epoch i + 1: lag 1.
    long lag = 0;

    /// Throws InvalidArgument for settings no schedule can use.
    void validate(const char* where) const {
        if (!(decay_epochs > 0.0) || !std::isfinite(decay_epochs)) {
            detail::throw_invalid(where, ": decay_epochs is ", decay_epochs, ", expected a finite number > 0");
        }
        if (!(decay_rate >= 0.0) || !std::isfinite(decay_rate)) {
            detail::throw_invalid(where, ": decay_rate is ", decay_rate, ", expected a finite number >= 0");
        }
        if (lag < 0) {
            detail::throw_invalid(where, ": lag is ", lag, ", expected a number of epochs >= 0");
        }
    }

    /// The rate of `epoch` (0-based) for the initial rate `rate0`. Throws InvalidArgument
    /// for settings validate() refuses.
    double at(double rate0, long epoch) const {
        validate("LearningRateSchedule::at");
        const double e = epoch <= lag ? 0.0 : static_cast<double>(epoch - lag);
        switch (kind) {
            case Kind::constant: return rate0;
            case Kind::exponential: return rate0 * std::pow(decay_rate, e / decay_epochs);
            case Kind::step: return rate0 * std::pow(decay_rate, std::floor(e / decay_epochs));
            case Kind::scheduled: return rate0 / (1.0 + decay_rate * std::floor(e / decay_epochs));
            case Kind::inverse_time: return rate0 / (1.0 + decay_rate * (e / decay_epochs));
        }
        return rate0;
    }
};

}  // namespace nndl
