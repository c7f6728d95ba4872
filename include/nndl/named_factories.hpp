#pragma once
// NamedFactories: the one registry type behind nndl's names. Layers (layers/registry.hpp),
// losses (loss_registry.hpp) and optimizers (optim/registry.hpp) are each a table of these,
// so a model file or a command line names one and nndl builds it, and a type of your own
// is one add() away. Safe to use from several threads: a mutex guards the table, and a
// factory runs outside it (it may throw, or look something up in another table).

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "errors.hpp"

namespace nndl {

/// Factories of `Product` by name, each building one from `Args`.
template <class Product, class... Args>
class NamedFactories {
public:
    /// Builds a new Product; it may throw on arguments it refuses.
    using Factory = std::function<std::unique_ptr<Product>(Args...)>;

    /// An empty table.
    NamedFactories() = default;
    /// Not copied: a registry is one shared table.
    NamedFactories(const NamedFactories&) = delete;
    /// Not copied: a registry is one shared table.
    NamedFactories& operator=(const NamedFactories&) = delete;

    /// Adds `factory` under `name`. False, changing nothing, when the name is taken; the
    /// caller says what that means (register_layer throws).
    bool add(const std::string& name, Factory factory) {
        const std::lock_guard<std::mutex> lock(mutex_);
        return factories_.emplace(name, std::move(factory)).second;
    }

    /// Adds `factory` under `name` for register_`kind` (register_loss, ...). Throws
    /// InvalidArgument, naming that function, for an empty name or factory or a name taken.
    void add_checked(const std::string& kind, const std::string& name, Factory factory) {
        const std::string who = "register_" + kind;
        if (name.empty() || !factory) {
            detail::throw_invalid(who, ": expected a name and a factory, got '", printable(name, 60), "'",
                                  factory ? "" : " and no factory");
        }
        if (!add(name, std::move(factory))) {
            detail::throw_invalid(who, ": '", printable(name, 60), "' is already registered");
        }
    }

    /// A new `kind` (loss, optimizer, ...) of `name` for make_`kind`, built from `args`.
    /// Throws InvalidArgument, naming that function, for an unknown name (listing the
    /// registered ones) or a factory that returns nothing; what the factory throws passes
    /// through.
    std::unique_ptr<Product> create(const std::string& kind, const std::string& name, Args... args) const {
        const std::string who = "make_" + kind;
        const Factory factory = find(name);
        if (!factory) {
            detail::throw_invalid(who, ": unknown ", kind, " '", printable(name, 60), "', expected ", names_listed(),
                                  " (register your own with register_", kind, ")");
        }
        auto product = factory(std::forward<Args>(args)...);
        if (!product) {
            detail::throw_invalid(who, ": the factory of '", printable(name, 60), "' returned no ", kind);
        }
        return product;
    }

    /// Whether `name` has a factory.
    bool contains(const std::string& name) const {
        const std::lock_guard<std::mutex> lock(mutex_);
        return factories_.count(name) != 0;
    }

    /// The factory of `name`, or an empty one.
    Factory find(const std::string& name) const {
        const std::lock_guard<std::mutex> lock(mutex_);
        const auto found = factories_.find(name);
        return found == factories_.end() ? Factory() : found->second;
    }

    /// The names, sorted.
    std::vector<std::string> names() const {
        const std::lock_guard<std::mutex> lock(mutex_);
        std::vector<std::string> list;
        list.reserve(factories_.size());
        for (const auto& entry : factories_) {
            list.push_back(entry.first);
        }
        return list;  // std::map keeps them sorted
    }

    /// The names as "a, b or c" (for messages that list what exists), with `also` last
    /// where it is not empty.
    std::string names_listed(const std::string& also = {}) const {
        std::vector<std::string> list = names();
        if (!also.empty()) {
            list.push_back(also);
        }
        std::string out;
        for (std::size_t k = 0; k < list.size(); ++k) {
            out += (k == 0 ? "" : k + 1 == list.size() ? " or " : ", ") + printable(list[k], 60);
        }
        return out;
    }

private:
    mutable std::mutex mutex_;
    std::map<std::string, Factory> factories_;
};

}  // namespace nndl
