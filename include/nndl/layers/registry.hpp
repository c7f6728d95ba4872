#pragma once
// The layer registry: type names to factories, so a model file names a layer's type
// and settings and the loader rebuilds it. nndl's own layers are registered from the
// start; register a layer type of your own once, before loading a model that has it:
//
//   nndl::register_layer<double>("scale", [](const nndl::Shape& input, const nndl::Settings& s) {
//       return std::make_unique<Scale<double>>(input, s.real("factor"));
//   });
//
// The factory gets the layer's input shape (the previous layer's output) and the
// settings its settings() gave; the loader then fills its parameters and state by name.
// The table is a NamedFactories (named_factories.hpp), as are those of losses and optimizers.
//
// The dense network's layers (dense, activation, dropout, normalization) are in every
// registry. The convolution family registers itself, for float and double, in a program
// that includes its header (layers/conv2d.hpp, pooling.hpp, batch_norm.hpp, or
// nndl/cnn.hpp for all three), as do the recurrent layers, upsampling and augmentation, so a
// program that never includes them compiles none of their code. nndl/layers/all.hpp
// includes every layer: what a program that loads any model file includes.

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../errors.hpp"
#include "../layer.hpp"
#include "../named_factories.hpp"
#include "../detail/scalar_function_table.hpp"
#include "activation_layer.hpp"
#include "activations.hpp"
#include "dense.hpp"
#include "dropout.hpp"
#include "normalization.hpp"

namespace nndl {

/// Builds a layer from its input shape (the previous layer's output) and the settings
/// its settings() gave.
template <class Scalar>
using LayerFactory = std::function<std::unique_ptr<Layer<Scalar>>(const Shape& input, const Settings& settings)>;

namespace detail {

/// The layer types that their own headers register (the convolution family, the recurrent
/// layers, ...), with their factories for float and double.
using BuiltinLayers = ScalarFunctionTable<LayerFactory>;

/// Adds one of nndl's layer types to every registry, for float and double: the headers of
/// the convolution family call it to initialize an inline variable, so a program knows
/// the types whose headers it includes, and compiles nothing of the others. A registry
/// looks here after its own table. False where the type is there already.
inline bool register_builtin_layer(BuiltinLayers::Entry layer) {
    return BuiltinLayers::instance().add(std::move(layer));
}

/// The factory of a type registered by its own header, or an empty one.
template <class Scalar>
LayerFactory<Scalar> builtin_layer_factory(const std::string& type) {
    return BuiltinLayers::instance().template find<Scalar>(type);
}

}  // namespace detail

/// The layer types of one Scalar by name, with their factories: what a model loader uses
/// to rebuild layers. One instance per Scalar, holding nndl's own layer types from the
/// start; safe to use from several threads (a mutex guards the table).
template <class Scalar>
class LayerRegistry {
public:
    /// The largest dense or conv2d layer the registry builds from settings (2^26 weights:
    /// 512 MiB in double), so a corrupt model file cannot make it allocate more.
    static constexpr long long max_dense_weights = 1LL << 26;

    /// The registry of this scalar type, with nndl's layers in it.
    static LayerRegistry& instance() {
        static LayerRegistry registry;
        return registry;
    }

    /// Adds a type. Throws InvalidArgument when the name is empty or taken, or the factory is empty.
    void add(const std::string& type, LayerFactory<Scalar> factory) {
        if (type.empty() || !factory) {
            detail::throw_invalid("register_layer: expected a type name and a factory, got '", type, "'",
                                  factory ? "" : " and no factory");
        }
        const bool builtin = static_cast<bool>(detail::builtin_layer_factory<Scalar>(type));
        if (builtin || !table_.add(type, std::move(factory))) {
            detail::throw_invalid("register_layer: a layer type '", type, "' is already registered");
        }
    }

    /// Whether a layer type of this name is registered.
    bool contains(const std::string& type) const {
        return table_.contains(type) || static_cast<bool>(detail::builtin_layer_factory<Scalar>(type));
    }

    /// The registered type names, sorted.
    std::vector<std::string> types() const {
        std::vector<std::string> names = table_.names();
        for (std::string& name : detail::BuiltinLayers::instance().names()) {
            names.push_back(std::move(name));
        }
        std::sort(names.begin(), names.end());
        names.erase(std::unique(names.begin(), names.end()), names.end());
        return names;
    }

    /// A new layer of `type` built by its factory from `input` and `settings`. Throws
    /// InvalidArgument for an unknown type or a factory that returns nothing, ShapeError
    /// when the layer takes a different number of values per example than `input` has
    /// (only the size must match: a dense layer may follow an image). The factory runs
    /// outside the lock, and whatever it throws (bad settings) passes through.
    std::unique_ptr<Layer<Scalar>> create(const std::string& type, const Shape& input, const Settings& settings) const {
        LayerFactory<Scalar> factory = table_.find(type);
        if (!factory) {
            factory = detail::builtin_layer_factory<Scalar>(type);
        }
        if (!factory) {
            std::string known;
            for (const auto& name : types()) {
                known += (known.empty() ? "" : ", ") + name;
            }
            detail::throw_invalid("create_layer: unknown layer type '", printable(type), "'; registered: ", known,
                                  " (nndl's own layers register where their header is included, every one with ",
                                  "#include <nndl/layers/all.hpp>; register your own with register_layer)");
        }
        auto layer = factory(input, settings);
        if (!layer) {
            detail::throw_invalid("create_layer: the factory of '", type, "' returned no layer");
        }
        if (layer->input_shape().size() != input.size()) {
            detail::throw_shape("create_layer: the '", type, "' layer takes input ", layer->input_shape().to_string(),
                                ", expected ", input.to_string());
        }
        return layer;
    }

private:
    LayerRegistry() {
        table_.add("dense", [](const Shape& input, const Settings& s) {
            const long long units = s.integer("units");
            // Settings come from files: refuse sizes no file of this library holds before allocating them
            // (divisions, not products, so nothing overflows).
            if (units < 1 || units > max_dense_weights || input.size() > max_dense_weights / units) {
                detail::throw_invalid("Dense: ", units, " units over ", input.size(), " inputs is outside 1..",
                                      max_dense_weights, " weights");
            }
            return make_dense<Scalar>(input.size(), static_cast<Index>(units), activation_from_string(s.text("activation")));
        });
        table_.add("activation", [](const Shape& input, const Settings& s) {
            return make_activation_layer<Scalar>(input, activation_from_string(s.text("activation")));
        });
        table_.add("normalization", [](const Shape& input, const Settings& s) -> std::unique_ptr<Layer<Scalar>> {
            const long long invert = s.integer("invert");
            if (invert != 0 && invert != 1) {
                detail::throw_invalid("Normalization: invert is ", invert, ", expected 0 or 1");
            }
            // Two columns of this size are allocated before the file's arrays are read: a quarter of
            // a dense layer's bound keeps them at 256 MiB in double.
            if (input.size() > max_dense_weights / 4) {
                detail::throw_invalid("Normalization: ", input.size(), " values per example is outside 1..",
                                      max_dense_weights / 4);
            }
            // Placeholders: the loader fills center and spread, then check_loaded checks them.
            return std::make_unique<Normalization<Scalar>>(input, Matrix<Scalar>::Zero(input.size(), 1),
                                                           Matrix<Scalar>::Ones(input.size(), 1), invert == 1,
                                                           s.text("method"));
        });
        table_.add("dropout", [](const Shape& input, const Settings& s) -> std::unique_ptr<Layer<Scalar>> {
            const long long seed = s.integer("seed");
            if (seed < 0 || seed > 0xFFFFFFFFLL) {
                detail::throw_invalid("Dropout: seed ", seed, " is outside 0..4294967295");
            }
            auto layer = std::make_unique<Dropout<Scalar>>(input, s.real("keep_prob"), static_cast<std::uint32_t>(seed));
            if (s.has("restart_rows")) {  // not in files written before 0.2
                layer->restart_every_pass(static_cast<Index>(s.integer("restart_rows")));
            }
            return layer;
        });
    }

    NamedFactories<Layer<Scalar>, const Shape&, const Settings&> table_;
};

/// Registers a layer type for Scalar (call it for float and double if you use both).
/// Throws InvalidArgument when the name is empty or taken, or the factory is empty.
template <class Scalar>
void register_layer(const std::string& type, LayerFactory<Scalar> factory) {
    LayerRegistry<Scalar>::instance().add(type, std::move(factory));
}

/// A layer of a registered type, built from its input shape and settings; throws as
/// LayerRegistry::create does.
template <class Scalar>
std::unique_ptr<Layer<Scalar>> create_layer(const std::string& type, const Shape& input, const Settings& settings) {
    return LayerRegistry<Scalar>::instance().create(type, input, settings);
}


}  // namespace nndl
