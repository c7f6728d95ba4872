#pragma once
// A program-wide table of named entries, each with a function for float and one for double,
// that headers fill as a program includes them (an inline variable's initializer calls add),
// so what a program can build by name follows from its includes. The layer types the
// convolution family registers (layers/registry.hpp) and the layers' ONNX importers
// (layer_onnx.hpp) are such tables.

#include <algorithm>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace nndl::detail {

/// The table of `Function<float>` and `Function<double>` by name (one per Function template).
template <template <class> class Function>
class ScalarFunctionTable {
public:
    /// One name's functions.
    struct Entry {
        std::string name;              ///< what it is looked up by
        Function<float> for_float;     ///< for float
        Function<double> for_double;   ///< for double
    };

    /// The program's table.
    static ScalarFunctionTable& instance() {
        static ScalarFunctionTable table;
        return table;
    }

    /// Adds an entry; false (and nothing added) where its name is taken.
    bool add(Entry entry) {
        const std::lock_guard<std::mutex> lock(mutex_);
        for (const Entry& known : entries_) {
            if (known.name == entry.name) {
                return false;
            }
        }
        entries_.push_back(std::move(entry));
        return true;
    }

    /// The function of `name` for Scalar, or an empty one.
    template <class Scalar>
    Function<Scalar> find(const std::string& name) const {
        const std::lock_guard<std::mutex> lock(mutex_);
        for (const Entry& entry : entries_) {
            if (entry.name == name) {
                if constexpr (std::is_same_v<Scalar, float>) {
                    return entry.for_float;
                } else if constexpr (std::is_same_v<Scalar, double>) {
                    return entry.for_double;
                }
            }
        }
        return {};
    }

    /// The names, sorted.
    std::vector<std::string> names() const {
        std::vector<std::string> result;
        {
            const std::lock_guard<std::mutex> lock(mutex_);
            for (const Entry& entry : entries_) {
                result.push_back(entry.name);
            }
        }
        std::sort(result.begin(), result.end());
        return result;
    }

private:
    ScalarFunctionTable() = default;

    mutable std::mutex mutex_;
    std::vector<Entry> entries_;
};

}  // namespace nndl::detail
