#pragma once
// How much a model read from a file may make a program allocate. A model file is small,
// but its numbers (a padding of 8000, a dense layer of a million units) can ask for
// gigabytes per example; the loaders (load_network, load_onnx) add up the input and what
// every layer outputs per example from the model's own numbers, before any of it is allocated, and
// refuse a model above the bound with a message naming the layer. A second bound does the
// same for time: the operations one example costs (a 1000x1000 pooling window over a large
// image is a few bytes in a file and hours of work). Programs that load larger models raise
// the bounds.

#include <atomic>
#include <string>

#include "../errors.hpp"
#include "../layer.hpp"

namespace nndl {

/// The default bound on the values a loaded model's input and layers hold per example: 2^25
/// (256 MiB in double).
inline constexpr long long default_max_model_values = 1LL << 25;

/// The default bound on the operations (Layer::operations) one example costs in a loaded
/// model: 2^34, about 1.7e10, room for VGG-16 on 224x224 images (1.5e10 multiply-adds).
inline constexpr long long default_max_model_operations = 1LL << 34;

namespace detail {
inline std::atomic<long long>& max_model_values_setting() {
    static std::atomic<long long> bound{default_max_model_values};
    return bound;
}
inline std::atomic<long long>& max_model_operations_setting() {
    static std::atomic<long long> bound{default_max_model_operations};
    return bound;
}
}  // namespace detail

/// The bound the model loaders apply: the values all layers of a model output per example.
inline long long max_model_values() { return detail::max_model_values_setting().load(std::memory_order_relaxed); }

/// Sets the bound (at least 1) that max_model_values() returns; it applies to the loads
/// that start afterwards. Throws InvalidArgument for a bound below 1.
inline void set_max_model_values(long long values) {
    if (values < 1) {
        detail::throw_invalid("set_max_model_values: expected a bound of at least 1 value, got ", values);
    }
    detail::max_model_values_setting().store(values, std::memory_order_relaxed);
}

/// The bound the model loaders apply to the operations of one example's forward pass, all
/// layers together.
inline long long max_model_operations() {
    return detail::max_model_operations_setting().load(std::memory_order_relaxed);
}

/// Sets the bound (at least 1) that max_model_operations() returns; it applies to the loads
/// that start afterwards. Throws InvalidArgument for a bound below 1.
inline void set_max_model_operations(long long operations) {
    if (operations < 1) {
        detail::throw_invalid("set_max_model_operations: expected a bound of at least 1 operation, got ", operations);
    }
    detail::max_model_operations_setting().store(operations, std::memory_order_relaxed);
}

namespace detail {

/// Adds the values of `output` (a layer's output per example, or the model's input) and
/// the layer's `working` values (Layer::working_values) to `total`, and throws FileError
/// (starting with `where`) when the sum passes max_model_values(). The input is counted
/// first, so no layer is built on an input above the bound.
inline void count_model_values(long long& total, const Shape& output, const std::string& where,
                               long long working = 0) {
    const long long bound = max_model_values();
    const long long output_values = static_cast<long long>(output.size());
    // Each is below 2^62 (Shape and the layers bound them), so the sum cannot overflow.
    const long long values = output_values + working;
    if (values > bound || total > bound - values) {
        throw FileError(concat(where, ": the input and layers up to here hold ", total + values,
                               " values per example (this one ", output.to_string(),
                               working > 0 ? concat(" and ", working, " working values") : std::string(),
                               "), more than the ", bound,
                               " a loaded model may use; nndl::set_max_model_values raises the bound"));
    }
    total += values;
}

/// Adds a layer's operations per example (Layer::operations) to `total` and throws
/// FileError (starting with `where`) when the sum passes max_model_operations().
inline void count_model_operations(long long& total, long long operations, const std::string& where) {
    const long long bound = max_model_operations();
    if (operations > bound || total > bound - operations) {
        throw FileError(concat(where, ": one example costs ", operations,
                               " operations in this layer", total > 0 ? concat(" and ", total, " before it") : std::string(),
                               ", more than the ", bound,
                               " a loaded model may use; nndl::set_max_model_operations raises the bound"));
    }
    total += operations;
}

/// What a model asks for per example, added up as it is read (or before it is saved):
/// the values its input and layers hold and the operations its layers cost, each checked
/// against its bound as it grows.
struct ModelBudget {
    long long values = 0;
    long long operations = 0;

    /// Counts the model's input; throws FileError starting with `where` above the bound.
    void add_input(const Shape& input, const std::string& where) { count_model_values(values, input, where); }
    /// Counts a layer's output, working values and operations; throws FileError starting
    /// with `where` above either bound.
    template <class Scalar>
    void add_layer(const Layer<Scalar>& layer, const std::string& where) {
        count_model_values(values, layer.output_shape(), where, layer.working_values());
        count_model_operations(operations, layer.operations(), where);
    }
};

}  // namespace detail
}  // namespace nndl
