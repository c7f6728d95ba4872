#pragma once
// Optimizers by name, for programs that choose one at run time (a command line, a
// configuration file): the same table type as layers and losses (named_factories.hpp).
//
//   auto adam = nndl::make_optimizer<float>("adam", nndl::Settings().set("learning_rate", 0.002));
//
// nndl's optimizers are in the table under their name(): "gd", "momentum", "nesterov",
// "rmsprop", "adam", "adagrad"; each takes the settings named like its constructor's
// arguments (learning_rate, beta, beta1, beta2, epsilon), and the constructor's default
// for one left out. Register an optimizer of your own with register_optimizer.

#include <initializer_list>
#include <memory>
#include <string>

#include "../errors.hpp"
#include "../named_factories.hpp"
#include "../settings.hpp"
#include "optimizer.hpp"
#include "optimizers.hpp"

namespace nndl {

/// The table of optimizers for one Scalar: names to factories taking settings.
template <class Scalar>
using OptimizerRegistry = NamedFactories<Optimizer<Scalar>, const Settings&>;

/// Builds an optimizer from its settings; throws InvalidArgument for settings it refuses.
template <class Scalar>
using OptimizerFactory = typename OptimizerRegistry<Scalar>::Factory;

namespace detail {

/// The real setting `name`, or `fallback` (the constructor's default) where it is missing.
inline double setting_or(const Settings& settings, const char* name, double fallback) {
    if (!settings.has(name)) {
        return fallback;
    }
    try {
        return settings.real(name);
    } catch (const InvalidArgument&) {
        throw_invalid("make_optimizer: the setting '", name, "' is not a number");
    }
}

/// Refuses a setting `optimizer` does not take (a misspelled "beta_1" would otherwise be
/// ignored silently).
inline void require_settings_among(const char* optimizer, const Settings& settings,
                                   std::initializer_list<const char*> takes) {
    for (const auto& item : settings.items()) {
        bool known = false;
        std::string list;
        for (const char* name : takes) {
            known = known || item.first == name;
            list += (list.empty() ? "" : ", ") + std::string(name);
        }
        if (!known) {
            throw_invalid("make_optimizer: ", optimizer, " takes ", list, "; got a setting '", printable(item.first, 60),
                          "'");
        }
    }
}

/// nndl's optimizers, added once when the table is first used. The fallbacks are the
/// constructors' defaults (test_optimizers checks that they agree).
template <class Scalar>
struct BuiltinOptimizers {
    OptimizerRegistry<Scalar> table;
    BuiltinOptimizers() {
        table.add("gd", [](const Settings& s) {
            require_settings_among("gd", s, {"learning_rate"});
            return std::make_unique<GradientDescent<Scalar>>(setting_or(s, "learning_rate", 0.01));
        });
        table.add("momentum", [](const Settings& s) {
            require_settings_among("momentum", s, {"learning_rate", "beta"});
            return std::make_unique<Momentum<Scalar>>(setting_or(s, "learning_rate", 0.01), setting_or(s, "beta", 0.9));
        });
        table.add("nesterov", [](const Settings& s) {
            require_settings_among("nesterov", s, {"learning_rate", "beta"});
            return std::make_unique<Nesterov<Scalar>>(setting_or(s, "learning_rate", 0.01), setting_or(s, "beta", 0.9));
        });
        table.add("rmsprop", [](const Settings& s) {
            require_settings_among("rmsprop", s, {"learning_rate", "beta", "epsilon"});
            return std::make_unique<RMSProp<Scalar>>(setting_or(s, "learning_rate", 0.001), setting_or(s, "beta", 0.9),
                                                     setting_or(s, "epsilon", 1e-8));
        });
        table.add("adam", [](const Settings& s) {
            require_settings_among("adam", s, {"learning_rate", "beta1", "beta2", "epsilon"});
            return std::make_unique<Adam<Scalar>>(setting_or(s, "learning_rate", 0.001), setting_or(s, "beta1", 0.9),
                                                  setting_or(s, "beta2", 0.999), setting_or(s, "epsilon", 1e-8));
        });
        table.add("adagrad", [](const Settings& s) {
            require_settings_among("adagrad", s, {"learning_rate", "epsilon"});
            return std::make_unique<AdaGrad<Scalar>>(setting_or(s, "learning_rate", 0.01),
                                                     setting_or(s, "epsilon", 1e-8));
        });
    }
};

}  // namespace detail

/// The optimizer table of this Scalar, with nndl's optimizers in it.
template <class Scalar>
OptimizerRegistry<Scalar>& optimizer_registry() {
    static detail::BuiltinOptimizers<Scalar> optimizers;
    return optimizers.table;
}

/// Registers an optimizer under `name` for Scalar. Throws InvalidArgument for an empty
/// name or factory, or a name taken.
template <class Scalar>
void register_optimizer(const std::string& name, OptimizerFactory<Scalar> factory) {
    optimizer_registry<Scalar>().add_checked("optimizer", name, std::move(factory));
}

/// A new optimizer of a registered name, built from `settings`. Throws InvalidArgument
/// for an unknown name, a setting the optimizer does not take, a value it refuses (a
/// learning rate of 0), or a factory that returns nothing.
template <class Scalar>
std::unique_ptr<Optimizer<Scalar>> make_optimizer(const std::string& name, const Settings& settings = {}) {
    return optimizer_registry<Scalar>().create("optimizer", name, settings);
}

}  // namespace nndl
