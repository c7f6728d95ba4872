#pragma once
// Settings: named whole numbers, real numbers, words and lists that describe how to build
// something again: a layer (its settings() for model files), an optimizer by name
// (optim/registry.hpp). Needs nothing of nndl but its errors.

#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "errors.hpp"

namespace nndl {

/// One setting: a whole number, a real number, a word, or a list of whole numbers.
using Setting = std::variant<long long, double, std::string, std::vector<long long>>;

/// Settings by name, in the order they were given (a layer gives them in its settings()).
class Settings {
public:
    /// Sets a whole number (int, std::size_t, ...), stored as a long long; returns `*this`.
    /// Throws InvalidArgument for an unsigned value above the long long range.
    template <class Integer, std::enable_if_t<std::is_integral_v<Integer> && !std::is_same_v<Integer, bool> &&
                                                  !std::is_same_v<Integer, long long>,
                                              int> = 0>
    Settings& set(const std::string& name, Integer value) {
        if constexpr (std::is_unsigned_v<Integer> && sizeof(Integer) >= sizeof(long long)) {
            if (value > static_cast<unsigned long long>(std::numeric_limits<long long>::max())) {
                detail::throw_invalid("Settings::set: '", name, "' is ", value, ", more than a long long holds");
            }
        }
        return set(name, Setting(static_cast<long long>(value)));
    }
    /// Sets a word (stored as a std::string); returns `*this`.
    Settings& set(const std::string& name, const char* value) { return set(name, Setting(std::string(value))); }
    /// Sets any Setting; returns `*this`. An existing name keeps its place and takes the new
    /// value; a new name is appended.
    Settings& set(const std::string& name, Setting value) {
        for (auto& item : items_) {
            if (item.first == name) {
                item.second = std::move(value);
                return *this;
            }
        }
        items_.emplace_back(name, std::move(value));
        return *this;
    }
    /// Whether a setting of this name exists.
    bool has(const std::string& name) const { return find(name) != nullptr; }
    /// Every (name, value) pair, in the order the names were first set.
    const std::vector<std::pair<std::string, Setting>>& items() const { return items_; }

    /// The whole number `name`. Throws InvalidArgument when it is missing or not a whole number.
    long long integer(const std::string& name) const { return get<long long>(name, "a whole number"); }
    /// The number `name`, a whole number converted to double. Throws InvalidArgument when
    /// it is missing or not a number.
    double real(const std::string& name) const {
        const Setting& s = require(name);
        if (const auto* i = std::get_if<long long>(&s)) {
            return static_cast<double>(*i);
        }
        return get<double>(name, "a number");
    }
    /// The word `name`. Throws InvalidArgument when it is missing or not a word.
    const std::string& text(const std::string& name) const { return get<std::string>(name, "a word"); }
    /// The list of whole numbers `name`. Throws InvalidArgument when it is missing or not such a list.
    const std::vector<long long>& integers(const std::string& name) const {
        return get<std::vector<long long>>(name, "a list of whole numbers");
    }

    /// The same names with equal values in the same order (the order counts).
    friend bool operator==(const Settings& a, const Settings& b) { return a.items_ == b.items_; }

private:
    const Setting* find(const std::string& name) const {
        for (const auto& item : items_) {
            if (item.first == name) {
                return &item.second;
            }
        }
        return nullptr;
    }
    const Setting& require(const std::string& name) const {
        const Setting* s = find(name);
        if (s == nullptr) {
            detail::throw_invalid("Settings: no setting '", name, "'");
        }
        return *s;
    }
    template <class T>
    const T& get(const std::string& name, const char* expected) const {
        const T* value = std::get_if<T>(&require(name));
        if (value == nullptr) {
            detail::throw_invalid("Settings: setting '", name, "' is not ", expected);
        }
        return *value;
    }

    std::vector<std::pair<std::string, Setting>> items_;
};

/// "dense(units=20, activation=relu)": a layer type and its settings, as summaries print
/// them. The type and words, which may come from a model file, are escaped (printable).
inline std::string describe_type(const std::string& type, const Settings& settings) {
    std::string out = printable(type, 60);
    if (settings.items().empty()) {
        return out;
    }
    out += "(";
    bool first = true;
    for (const auto& [name, value] : settings.items()) {
        out += (first ? "" : ", ") + printable(name, 60) + "=";
        first = false;
        std::visit(
            [&out](const auto& v) {
                using V = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<V, std::vector<long long>>) {
                    for (std::size_t k = 0; k < v.size(); ++k) {
                        out += (k == 0 ? "" : "x") + std::to_string(v[k]);
                    }
                } else if constexpr (std::is_same_v<V, std::string>) {
                    out += printable(v, 60);
                } else {
                    out += detail::concat(v);
                }
            },
            value);
    }
    return out + ")";
}

}  // namespace nndl
