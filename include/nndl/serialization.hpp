#pragma once
// Saving and loading networks as NumPy .npz archives.
//
// The file holds W1, b1, ..., WL, bL with the course's names and shapes (W_l is
// n_l x n_{l-1}, b_l is n_l x 1) and an entry "architecture", a JSON string:
//   {"format": "nndl", "version": 1, "scalar": "float64",
//    "sizes": [12288, 20, 7, 5, 1], "activations": ["relu", "relu", "relu", "sigmoid"]}
// so in Python `p = np.load(path)` gives p["W1"] etc. without pickle. A parameters
// dict saved from the course's NumPy code with np.savez(path, **parameters) loads
// too, given the activations.

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "activations.hpp"
#include "dense.hpp"
#include "errors.hpp"
#include "network.hpp"
#include "npz.hpp"

namespace nndl {

inline constexpr int model_format_version = 1;

struct Architecture {
    std::vector<Index> sizes;
    std::vector<Activation> activations;
    std::string scalar;  ///< "float64" or "float32"
    int version = model_format_version;
};

namespace detail {

inline std::string architecture_json(const Architecture& a) {
    std::ostringstream out;
    out << "{\"format\": \"nndl\", \"version\": " << a.version << ", \"scalar\": \"" << a.scalar << "\", \"sizes\": [";
    for (std::size_t i = 0; i < a.sizes.size(); ++i) {
        out << (i ? ", " : "") << a.sizes[i];
    }
    out << "], \"activations\": [";
    for (std::size_t i = 0; i < a.activations.size(); ++i) {
        out << (i ? ", " : "") << '"' << to_string(a.activations[i]) << '"';
    }
    out << "]}";
    return out.str();
}

// The text after "key": in a flat JSON object.
inline std::string json_field(const std::string& json, const std::string& key, const std::string& where) {
    const auto at = json.find("\"" + key + "\"");
    const auto colon = at == std::string::npos ? at : json.find(':', at);
    if (colon == std::string::npos) {
        throw FileError(concat(where, ": the architecture has no \"", key, "\""));
    }
    return json.substr(colon + 1);
}

inline std::vector<std::string> json_list(const std::string& text, const std::string& key, const std::string& where) {
    const auto open = text.find('[');
    const auto close = text.find(']');
    if (open == std::string::npos || close == std::string::npos || close < open) {
        throw FileError(concat(where, ": the architecture's \"", key, "\" is not a list"));
    }
    std::vector<std::string> items;
    std::string item;
    for (char c : text.substr(open + 1, close - open - 1)) {
        if (c == ',') {
            items.push_back(item);
            item.clear();
        } else if (c != ' ' && c != '"') {
            item += c;
        }
    }
    if (!item.empty()) {
        items.push_back(item);
    }
    return items;
}

inline Architecture parse_architecture(const std::string& json, const std::string& where) {
    Architecture a;
    if (json.find("\"nndl\"") == std::string::npos) {
        throw FileError(concat(where, ": the architecture entry is not an nndl model description"));
    }
    try {
        a.version = std::stoi(json_field(json, "version", where));
    } catch (const std::logic_error&) {
        throw FileError(concat(where, ": the architecture's \"version\" is not a number"));
    }
    if (a.version != model_format_version) {
        throw FileError(concat(where, ": model format version ", a.version, ", this nndl reads version ",
                               model_format_version));
    }
    const std::string scalar = json_field(json, "scalar", where);
    a.scalar = scalar.find("float32") < scalar.find(',') ? "float32" : "float64";
    for (const auto& s : json_list(json_field(json, "sizes", where), "sizes", where)) {
        std::size_t used = 0;
        long long v = 0;
        try {
            v = std::stoll(s, &used);
        } catch (const std::logic_error&) {
            used = 0;
        }
        if (used != s.size() || v <= 0) {
            throw FileError(concat(where, ": the architecture's size '", s, "' is not a positive whole number"));
        }
        a.sizes.push_back(static_cast<Index>(v));
    }
    for (const auto& s : json_list(json_field(json, "activations", where), "activations", where)) {
        try {
            a.activations.push_back(activation_from_string(s));
        } catch (const InvalidArgument&) {
            throw FileError(concat(where, ": the architecture names an unknown activation '", s, "'"));
        }
    }
    if (a.sizes.size() < 2 || a.activations.size() != a.sizes.size() - 1) {
        throw FileError(concat(where, ": the architecture has ", a.sizes.size(), " sizes and ", a.activations.size(),
                               " activations, expected at least 2 sizes and one activation per layer"));
    }
    return a;
}

}  // namespace detail

/// Dropout layers do nothing at prediction time, so a saved model leaves them out.
inline bool saved_in_model(const std::string& layer_type, std::size_t index) {
    if (layer_type == "dense") {
        return true;
    }
    if (layer_type == "dropout") {
        return false;
    }
    detail::throw_invalid("save_network: layer ", index + 1, " is a '", layer_type,
                          "' layer; only dense layers (and dropout, left out) can be saved");
}

/// The architecture of the network's dense layers (what save_network writes).
template <class Scalar>
Architecture architecture_of(const Network<Scalar>& network) {
    Architecture a;
    a.scalar = std::is_same_v<Scalar, float> ? "float32" : "float64";
    a.sizes = {network.input_size()};
    for (std::size_t l = 0; l < network.depth(); ++l) {
        if (saved_in_model(network.layer(l).type(), l)) {
            a.sizes.push_back(network.layer(l).output_size());
            a.activations.push_back(network.layer(l).activation());
        }
    }
    return a;
}

/// Saves the network's weights and architecture (see the top of this header).
/// The write is atomic: a failed save leaves any previous file untouched.
template <class Scalar>
void save_network(Network<Scalar>& network, const std::filesystem::path& path) {
    const Architecture a = architecture_of(network);
    std::vector<std::pair<std::string, NpyArray>> arrays;
    std::size_t saved = 0;
    for (std::size_t l = 0; l < network.depth(); ++l) {
        if (!saved_in_model(network.layer(l).type(), l)) {
            continue;
        }
        ++saved;
        auto params = network.layer(l).parameters();
        arrays.emplace_back("W" + std::to_string(saved), to_npy(*params[0].value));
        arrays.emplace_back("b" + std::to_string(saved), to_npy(*params[1].value));
    }
    arrays.emplace_back("architecture", to_npy(detail::architecture_json(a)));
    write_npz(path, arrays);
}

namespace detail {

template <class Scalar>
Network<Scalar> network_from_arrays(const std::map<std::string, NpyArray>& arrays, const std::vector<Activation>& activations,
                                    const std::vector<Index>* expected_sizes, const std::string& where) {
    std::size_t layers = 0;
    while (arrays.count("W" + std::to_string(layers + 1)) != 0) {
        ++layers;
    }
    if (layers == 0) {
        throw FileError(concat(where, ": no array 'W1'; expected W1, b1, ..., WL, bL"));
    }
    if (activations.size() != layers) {
        throw FileError(concat(where, ": the file has ", layers, " layers (W1..W", layers, ") but ",
                               activations.size(), " activations were given"));
    }
    std::vector<Matrix<Scalar>> weights;
    std::vector<Matrix<Scalar>> biases;
    for (std::size_t l = 1; l <= layers; ++l) {
        const std::string b_name = "b" + std::to_string(l);
        if (arrays.count(b_name) == 0) {
            throw FileError(concat(where, ": array '", b_name, "' is missing"));
        }
        weights.push_back(npy_to_matrix<Scalar>(arrays.at("W" + std::to_string(l)), "W" + std::to_string(l)));
        biases.push_back(npy_to_matrix<Scalar>(arrays.at(b_name), b_name));
        const auto& w = weights.back();
        const auto& b = biases.back();
        if (arrays.at("W" + std::to_string(l)).shape.size() != 2) {
            throw FileError(concat(where, ": W", l, " has ", arrays.at("W" + std::to_string(l)).shape.size(),
                                   " dimensions, expected 2"));
        }
        if (b.rows() != w.rows() || b.cols() != 1) {
            throw FileError(concat(where, ": ", b_name, " is ", b.rows(), "x", b.cols(), ", expected ", w.rows(), "x1 (W",
                                   l, " is ", w.rows(), "x", w.cols(), ")"));
        }
        if (l > 1 && w.cols() != weights[l - 2].rows()) {
            throw FileError(concat(where, ": W", l, " is ", w.rows(), "x", w.cols(), " but layer ", l - 1, " has ",
                                   weights[l - 2].rows(), " outputs"));
        }
        if (!w.allFinite() || !b.allFinite()) {
            throw FileError(concat(where, ": layer ", l, " has NaN or infinite weights"));
        }
        if (expected_sizes != nullptr) {
            const auto& s = *expected_sizes;
            if (s.size() != layers + 1 || w.rows() != s[l] || w.cols() != s[l - 1]) {
                throw FileError(concat(where, ": W", l, " is ", w.rows(), "x", w.cols(),
                                       ", which does not match the architecture entry"));
            }
        }
    }
    Network<Scalar> network(weights.front().cols());
    for (std::size_t l = 0; l < layers; ++l) {
        auto layer = make_dense<Scalar>(weights[l].cols(), weights[l].rows(), activations[l]);
        auto params = layer->parameters();
        *params[0].value = weights[l];
        *params[1].value = biases[l];
        network.add(std::move(layer));
    }
    return network;
}

}  // namespace detail

/// A network from the arrays of a model file (see load_network); `name` is used in messages.
template <class Scalar>
Network<Scalar> network_from_npz(const std::map<std::string, NpyArray>& arrays, const std::string& name) {
    const std::string where = "load_network: '" + name + "'";
    if (arrays.count("architecture") == 0) {
        throw FileError(where + ": no 'architecture' entry (a file from NumPy? pass the activations: "
                                "load_network(path, activations))");
    }
    const Architecture a = detail::parse_architecture(npy_to_string(arrays.at("architecture"), "architecture"), where);
    return detail::network_from_arrays<Scalar>(arrays, a.activations, &a.sizes, where);
}

/// Loads a network saved by save_network. Weights saved in the other precision are converted.
template <class Scalar>
Network<Scalar> load_network(const std::filesystem::path& path) {
    return network_from_npz<Scalar>(read_npz(path), path.string());
}

/// Loads W1, b1, ..., WL, bL (e.g. the course's parameters dict saved with
/// np.savez(path, **parameters)) with the given activation per layer.
template <class Scalar>
Network<Scalar> load_network(const std::filesystem::path& path, const std::vector<Activation>& activations) {
    const std::string where = "load_network: '" + path.string() + "'";
    return detail::network_from_arrays<Scalar>(read_npz(path), activations, nullptr, where);
}

/// Loads a saved network and checks that it has the architecture the caller expects.
template <class Scalar>
Network<Scalar> load_network(const std::filesystem::path& path, const std::vector<Index>& expected_sizes) {
    Network<Scalar> network = load_network<Scalar>(path);
    if (network.sizes() != expected_sizes) {
        std::ostringstream have;
        std::ostringstream want;
        for (auto s : network.sizes()) {
            have << (have.tellp() > 0 ? "-" : "") << s;
        }
        for (auto s : expected_sizes) {
            want << (want.tellp() > 0 ? "-" : "") << s;
        }
        throw FileError("load_network: '" + path.string() + "' holds a " + have.str() + " network, expected " +
                        want.str());
    }
    return network;
}

}  // namespace nndl
