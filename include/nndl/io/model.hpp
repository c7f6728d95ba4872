#pragma once
// Model files: a network saved as a NumPy .npz archive, by one generic loop over the
// layers' self-descriptions (layer.hpp), so every registered layer type saves and loads.
//
// Format 2 (what save_network writes for a chain of layers; 3 below with graphs): for
// layer k (from 1), each parameter and state matrix as the array "layer<k>.<name>" (n_out x
// n_in weights stay in that shape), and an entry "architecture", a JSON text:
//   {"format":"nndl","version":2,"scalar":"float64","input":[12288,1,1],
//    "loss":"BinaryCrossEntropy","l2":0.0,"layers":[
//      {"type":"dense","input":[12288,1,1],"settings":{"units":20,"activation":"relu"},
//       "parameters":["W","b"],"state":[]}, ...]}
// ("input" is channels, height, width, or {"steps": T, "features": n} for a sequence: the
// network's, and each layer's own). In Python,
// np.load(path) reads it without pickle.
//
// Format 3 is format 2 with graphs (graph.hpp): a graph's entry is
//   {"type":"graph","input":[...],"inputs":[{"name":"input","shape":[3,4,4]}],
//    "nodes":[{"type":"conv2d","input":[...],"settings":{...},"parameters":["W","b"],
//              "state":[],"name":"conv2d_1","from":["input"]},
//             {"merge":"add","name":"add_1","from":["batch_norm_2","input"]}, ...],
//    "outputs":["activation_2"]}
// with node k's matrices as "layer<k>.<node>.<name>". A node takes only inputs and nodes
// named before it, so a file cannot describe a cycle. save_network writes version 3 only
// for a network that holds a graph; other networks' files stay version 2.
//
// Format 1 (nndl 0.1: W1, b1, ..., WL, bL with "sizes" and "activations") still loads,
// and so does a parameters dict saved from the course's NumPy code with
// np.savez(path, **parameters), given the activations.

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <new>
#include <sstream>
#include <string>
#include <system_error>
#include <typeinfo>
#include <type_traits>
#include <vector>

#include "../detail/json.hpp"
#include "../detail/scalar_function_table.hpp"
#include "../errors.hpp"
#include "../layer.hpp"
#include "../layers/activations.hpp"
#include "../layers/dense.hpp"
#include "../layers/registry.hpp"
#include "../loss_registry.hpp"
#include "../losses.hpp"
#include "../network.hpp"
#include "model_limits.hpp"
#include "npz.hpp"

namespace nndl {

/// The newest version of the model files save_network writes: 3 for a network holding a
/// graph, else 2 (load_network reads 1, 2 and 3).
inline constexpr int model_format_version = 3;
/// The longest architecture description a model file holds (a '<U' array of at most 2^20 characters).
inline constexpr std::size_t max_architecture_characters = std::size_t(1) << 20;

namespace detail {

inline json::Value setting_to_json(const Setting& setting) {
    if (const auto* i = std::get_if<long long>(&setting)) {
        return json::Value(*i);
    }
    if (const auto* r = std::get_if<double>(&setting)) {
        return json::Value(*r);
    }
    if (const auto* s = std::get_if<std::string>(&setting)) {
        return json::Value(*s);
    }
    json::Value list = json::Value::array();
    for (long long v : std::get<std::vector<long long>>(setting)) {
        list.push_back(json::Value(v));
    }
    return list;
}

inline Setting setting_from_json(const json::Value& value, const std::string& name) {
    switch (value.type()) {
        case json::Value::Type::integer: return value.as_integer(name);
        case json::Value::Type::real: return value.as_number(name);
        case json::Value::Type::string: return value.as_string(name);
        case json::Value::Type::array: {
            std::vector<long long> list;
            for (const auto& item : value.as_array(name)) {
                list.push_back(item.as_integer(name + " item"));
            }
            return list;
        }
        default: throw FileError(concat("setting \"", printable(name), "\" is not a number, a word or a list of whole numbers"));
    }
}

template <class Scalar>
std::unique_ptr<Loss<Scalar>> loss_from_name(const std::string& name, const std::string& where, const Shape& output) {
    const std::string prefix = "OutputLosses(";
    if (name.compare(0, prefix.size(), prefix) == 0 && name.size() > prefix.size() && name.back() == ')') {
        // "OutputLosses(rows:Name*weight,...)": the parts in order, each over flat rows.
        auto losses = std::make_unique<OutputLosses<Scalar>>();
        const std::string body = name.substr(prefix.size(), name.size() - prefix.size() - 1);
        std::size_t start = 0;
        while (start <= body.size()) {
            const std::size_t end = std::min(body.find(',', start), body.size());
            const std::string part = body.substr(start, end - start);
            const std::size_t colon = part.find(':');
            const std::size_t star = part.rfind('*');
            long long rows = 0;
            double weight = 0.0;
            const char* first = part.data();
            // Both numbers whole and in range: from_chars leaves a value out of range at 0.
            const auto parsed = [](std::from_chars_result r, const char* end) {
                return r.ptr == end && r.ec == std::errc();
            };
            if (colon == std::string::npos || star == std::string::npos || star < colon || colon == 0 ||
                star + 1 == part.size() || !parsed(std::from_chars(first, first + colon, rows), first + colon) ||
                !parsed(std::from_chars(first + star + 1, first + part.size(), weight), first + part.size()) ||
                rows < 1 || rows > Shape::max_values) {
                throw FileError(concat(where, ": the loss '", printable(name), "' has a part '", printable(part),
                                       "', expected rows:Name*weight"));
            }
            const std::string inner = part.substr(colon + 1, star - colon - 1);
            if (inner.compare(0, prefix.size(), prefix) == 0) {  // refused before any recursion
                throw FileError(concat(where, ": the loss '", printable(name), "' has a part '", printable(part),
                                       "', a combination inside a combination"));
            }
            try {
                losses->add(static_cast<Index>(rows), loss_from_name<Scalar>(inner, where, Shape(static_cast<Index>(rows))),
                            weight);
            } catch (const InvalidArgument& e) {
                throw FileError(concat(where, ": the loss '", printable(name), "': ", e.what()));
            }
            start = end + 1;
        }
        if (losses->rows() != output.size()) {
            throw FileError(concat(where, ": the loss '", printable(name), "' covers ", losses->rows(),
                                   " rows, the network outputs ", output.size()));
        }
        return losses;
    }
    // Any other name is a registered loss (loss_registry.hpp): nndl's, or one the program added.
    const LossFactory<Scalar> factory = loss_registry<Scalar>().find(name);
    if (!factory) {
        throw FileError(concat(where, ": unknown loss '", printable(name), "', expected ",
                               loss_registry<Scalar>().names_listed("OutputLosses(rows:Name*weight,...)"),
                               " (register your own with register_loss)"));
    }
    std::unique_ptr<Loss<Scalar>> loss;
    try {
        loss = factory(output);
    } catch (const InvalidArgument& e) {
        throw FileError(concat(where, ": ", e.what()));
    }
    if (!loss) {
        throw FileError(concat(where, ": the factory of the loss '", printable(name), "' returned no loss"));
    }
    return loss;
}

/// A matrix read from the file into `target`, which already has the shape the layer expects.
template <class Scalar>
void load_matrix(const std::map<std::string, NpyArray>& arrays, const std::string& array_name, Matrix<Scalar>& target,
                 const std::string& where) {
    const auto found = arrays.find(array_name);
    if (found == arrays.end()) {
        throw FileError(concat(where, ": array '", array_name, "' is missing"));
    }
    Matrix<Scalar> value = npy_to_matrix<Scalar>(found->second, array_name);
    if (value.rows() != target.rows() || value.cols() != target.cols()) {
        throw FileError(concat(where, ": ", array_name, " is ", value.rows(), "x", value.cols(), ", the layer expects ",
                               target.rows(), "x", target.cols()));
    }
    if (!value.allFinite()) {
        throw FileError(concat(where, ": ", array_name, " has NaN or infinite values"));
    }
    target = std::move(value);
}

template <class T>
std::vector<std::string> names_of(const std::vector<T>& items) {
    std::vector<std::string> names;
    for (const auto& item : items) {
        names.push_back(item.name);
    }
    return names;
}

inline std::vector<std::string> string_list(const json::Value& value, const std::string& what) {
    std::vector<std::string> names;
    for (const auto& item : value.as_array(what)) {
        names.push_back(item.as_string(what + " item"));
    }
    return names;
}

inline std::string joined(const std::vector<std::string>& names) {
    std::string text;
    for (const auto& n : names) {
        text += (text.empty() ? "" : ", ") + n;
    }
    return text.empty() ? "none" : text;
}

/// A [channels, height, width] entry of the architecture: each at least 1, 2^31 values at most.
inline Shape shape_from_json(const json::Value& value, const std::string& what, const std::string& where) {
    if (value.is_object()) {  // a sequence: {"steps": T, "features": n}
        const long long steps = value.at("steps", what).as_integer(what + " steps");
        const long long features = value.at("features", what).as_integer(what + " features");
        if (steps < 1 || features < 1 || steps > (1LL << 31) / features) {
            throw FileError(concat(where, ": the architecture's ", what, " has ", steps, " steps of ", features,
                                   " features; expected at least 1 of each and at most 2^31 values"));
        }
        if (value.items(what).size() != 2) {
            throw FileError(concat(where, ": the architecture's ", what, " holds more than \"steps\" and \"features\""));
        }
        return Shape::sequence(static_cast<Index>(steps), static_cast<Index>(features));
    }
    const auto& dims_json = value.as_array(what);
    if (dims_json.size() != 3) {
        throw FileError(concat(where, ": the architecture's \"", what, "\" has ", dims_json.size(),
                               " entries, expected 3 (channels, height, width)"));
    }
    Index dims[3] = {0, 0, 0};
    Index values = 1;
    for (std::size_t i = 0; i < 3; ++i) {
        const long long d = dims_json[i].as_integer(what);
        if (d < 1 || d > (1LL << 31) || values > (1LL << 31) / d) {  // checked before multiplying: no overflow
            throw FileError(concat(where, ": the architecture's ", what, " dimensions must be at least 1 and multiply to "
                                          "at most 2^31 values"));
        }
        dims[i] = static_cast<Index>(d);
        values *= dims[i];
    }
    return Shape(dims[0], dims[1], dims[2]);
}

/// A shape as the architecture stores it: [channels, height, width], or {"steps": T,
/// "features": n} for a sequence.
inline json::Value shape_to_json(const Shape& shape) {
    if (shape.is_sequence()) {
        json::Value sequence = json::Value::object();
        sequence.set("steps", json::Value(static_cast<long long>(shape.steps())));
        sequence.set("features", json::Value(static_cast<long long>(shape.features())));
        return sequence;
    }
    json::Value dims = json::Value::array();
    for (const Index d : {shape.channels, shape.height, shape.width}) {
        dims.push_back(json::Value(static_cast<long long>(d)));
    }
    return dims;
}

/// Graphs nest at most this deep in a model file.
inline constexpr int max_graph_nesting = 8;

template <class Scalar>
std::unique_ptr<Layer<Scalar>> layer_from_entry(const std::map<std::string, NpyArray>& arrays, const json::Value& entry,
                                                const Shape& layer_input, const std::string& prefix,
                                                const std::string& here, ModelBudget& budget, int nesting);

/// How model files read and write a layer made of other layers (a graph, format 3): the
/// header that knows it registers both functions (io/graph_model.hpp, which
/// <nndl/graph.hpp> includes), so a program that never builds a graph compiles none of its
/// code. `read` builds the layer from its entry (its nodes through layer_from_entry);
/// `write` adds its nodes to the entry that has its type and input, their matrices to `arrays`.
template <class Scalar>
struct NestedLayerFormat {
    std::function<std::unique_ptr<Layer<Scalar>>(const std::map<std::string, NpyArray>& arrays,
                                                 const json::Value& entry, const std::string& prefix,
                                                 const std::string& here, ModelBudget& budget, int nesting)>
        read;  ///< the layer from its entry
    std::function<void(Layer<Scalar>& layer, const std::string& prefix,
                       std::vector<std::pair<std::string, NpyArray>>& arrays, json::Value& entry)>
        write;  ///< its nodes into its entry
};

/// The nested layer formats by type name.
using NestedLayerFormats = ScalarFunctionTable<NestedLayerFormat>;

/// One layer of a model file from its entry, with its parameters and state loaded from the
/// arrays "<prefix>.<name>"; a graph's nodes recursively.
template <class Scalar>
std::unique_ptr<Layer<Scalar>> layer_from_entry(const std::map<std::string, NpyArray>& arrays, const json::Value& entry,
                                                const Shape& layer_input, const std::string& prefix,
                                                const std::string& here, ModelBudget& budget, int nesting) {
    const std::string type = entry.at("type", prefix).as_string(prefix + " type");
    if (const auto nested = NestedLayerFormats::instance().template find<Scalar>(type); nested.read) {
        auto layer = nested.read(arrays, entry, prefix, here, budget, nesting);
        if (layer->input_size() != layer_input.size()) {
            throw FileError(concat(here, ": it takes ", layer->input_shape().to_string(), ", but gets ",
                                   layer_input.to_string()));
        }
        return layer;
    }
    if (type == "graph") {
        throw FileError(concat(here, ": it is a graph; a program reads graphs where it includes <nndl/graph.hpp>"));
    }
    Settings settings;
    for (const auto& [name, value] : entry.at("settings", prefix).items(prefix + " settings")) {
        settings.set(name, setting_from_json(value, name));
    }
    std::unique_ptr<Layer<Scalar>> layer;
    try {
        layer = create_layer<Scalar>(type, layer_input, settings);
    } catch (const std::bad_alloc&) {
        throw FileError(concat(here, ": the layer's settings ask for more memory than there is"));
    } catch (const std::exception& e) {  // nndl's own, or whatever a user's factory throws
        throw FileError(concat(here, ": ", printable(e.what(), 1000)));  // may quote the file's words
    }
    if (layer->output_size() > (1LL << 31)) {
        throw FileError(concat(here, ": its output of ", layer->output_shape().to_string(), " is more than 2^31 values"));
    }
    budget.add_layer(*layer, here);
    // A setting the layer does not have (a typo, a newer nndl's) would be ignored: refused.
    const Settings own = layer->settings();
    for (const auto& item : settings.items()) {
        if (!own.has(item.first)) {
            std::vector<std::string> names;
            for (const auto& known : own.items()) {
                names.push_back(known.first);
            }
            throw FileError(concat(here, ": the setting '", printable(item.first), "' is not one the layer has (",
                                   names.empty() ? std::string("it has none") : "it has " + joined(names), ")"));
        }
    }
    auto parameters = layer->parameters();
    auto state = layer->state();
    const auto listed_parameters = string_list(entry.at("parameters", prefix), prefix + " parameters");
    const auto listed_state = string_list(entry.at("state", prefix), prefix + " state");
    if (listed_parameters != names_of(parameters) || listed_state != names_of(state)) {
        throw FileError(concat(here, ": the file lists parameters [", printable(joined(listed_parameters)),
                               "] and state [", printable(joined(listed_state)), "], the layer has [",
                               joined(names_of(parameters)), "] and [", joined(names_of(state)), "]"));
    }
    for (auto& p : parameters) {
        load_matrix(arrays, prefix + "." + p.name, *p.value, here);
    }
    for (auto& s : state) {
        load_matrix(arrays, prefix + "." + s.name, *s.value, here);
    }
    try {
        layer->check_loaded();
    } catch (const std::invalid_argument& e) {
        throw FileError(concat(here, ": ", e.what()));
    }
    return layer;
}

template <class Scalar>
Network<Scalar> network_from_format2(const std::map<std::string, NpyArray>& arrays, const json::Value& arch,
                                     const std::string& where, int version) {
    Network<Scalar> network(shape_from_json(arch.at("input", "the architecture"), "input", where));
    const auto& layers = arch.at("layers", "the architecture").as_array("layers");
    if (layers.empty()) {
        throw FileError(concat(where, ": the architecture has no layers, expected at least 1"));
    }
    ModelBudget budget;  // per example: bounded by max_model_values() and max_model_operations()
    budget.add_input(network.input_shape(), concat(where, ": the input"));
    for (std::size_t k = 0; k < layers.size(); ++k) {
        const json::Value& entry = layers[k];
        const std::string prefix = "layer" + std::to_string(k + 1);
        const std::string here =
            concat(where, ": ", prefix, " ('", printable(entry.at("type", prefix).as_string(prefix + " type")), "')");
        // A layer saved with its own input shape (a flat layer after an image) is rebuilt with it.
        Shape layer_input = network.output_shape();
        if (const json::Value* own = entry.find("input")) {
            layer_input = shape_from_json(*own, prefix + " input", where);
            if (layer_input.size() != network.output_size()) {
                throw FileError(concat(here, ": its input ", layer_input.to_string(), " does not fit the ",
                                       network.output_shape().to_string(), " before it"));
            }
        }
        if (version < 3 && entry.at("type", prefix).as_string(prefix + " type") == "graph") {
            // Graphs came with version 3: an older version number on one is a damaged file.
            throw FileError(concat(here, ": ", prefix, " is a graph, which model files hold from version 3 on; the file "
                                   "says version ", version));
        }
        auto layer = layer_from_entry<Scalar>(arrays, entry, layer_input, prefix, here, budget, 1);
        try {
            network.add(std::move(layer));
        } catch (const std::invalid_argument& e) {
            throw FileError(concat(here, ": ", e.what()));
        }
    }
    const std::string loss = arch.at("loss", "the architecture").as_string("loss");
    if (loss != network.loss().name()) {
        network.set_loss(loss_from_name<Scalar>(loss, where, network.output_shape()));
    }
    const double l2 = arch.at("l2", "the architecture").as_number("l2");
    if (!(l2 >= 0.0) || !std::isfinite(l2)) {
        throw FileError(concat(where, ": the architecture's l2 is ", l2, ", expected a finite number >= 0"));
    }
    network.set_l2(l2);
    return network;
}

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
        const std::string w_name = "W" + std::to_string(l);
        const std::string b_name = "b" + std::to_string(l);
        if (arrays.count(b_name) == 0) {
            throw FileError(concat(where, ": array '", b_name, "' is missing"));
        }
        if (arrays.at(w_name).shape.size() != 2) {
            throw FileError(concat(where, ": ", w_name, " has ", arrays.at(w_name).shape.size(), " dimensions, expected 2"));
        }
        weights.push_back(npy_to_matrix<Scalar>(arrays.at(w_name), w_name));
        biases.push_back(npy_to_matrix<Scalar>(arrays.at(b_name), b_name));
        const auto& w = weights.back();
        const auto& b = biases.back();
        if (w.size() == 0) {
            throw FileError(concat(where, ": ", w_name, " is ", w.rows(), "x", w.cols(), ", expected at least 1x1"));
        }
        if (b.rows() != w.rows() || b.cols() != 1) {
            throw FileError(concat(where, ": ", b_name, " is ", b.rows(), "x", b.cols(), ", expected ", w.rows(), "x1 (",
                                   w_name, " is ", w.rows(), "x", w.cols(), ")"));
        }
        if (l > 1 && w.cols() != weights[l - 2].rows()) {
            throw FileError(concat(where, ": ", w_name, " is ", w.rows(), "x", w.cols(), " but layer ", l - 1, " has ",
                                   weights[l - 2].rows(), " outputs"));
        }
        if (!w.allFinite() || !b.allFinite()) {
            throw FileError(concat(where, ": layer ", l, " has NaN or infinite weights"));
        }
        if (expected_sizes != nullptr) {
            const auto& s = *expected_sizes;
            if (s.size() != layers + 1 || w.rows() != s[l] || w.cols() != s[l - 1]) {
                throw FileError(concat(where, ": ", w_name, " is ", w.rows(), "x", w.cols(),
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

/// Format 1's architecture: sizes and activations of dense layers.
inline void format1_architecture(const json::Value& arch, std::vector<Index>& sizes, std::vector<Activation>& activations,
                                 const std::string& where) {
    for (const auto& s : arch.at("sizes", "the architecture").as_array("sizes")) {
        const long long v = s.as_integer("sizes item");
        if (v <= 0) {
            throw FileError(concat(where, ": the architecture's size ", v, " is not a positive whole number"));
        }
        sizes.push_back(static_cast<Index>(v));
    }
    for (const auto& a : arch.at("activations", "the architecture").as_array("activations")) {
        const std::string name = a.as_string("activations item");
        try {
            activations.push_back(activation_from_string(name));
        } catch (const InvalidArgument&) {
            throw FileError(concat(where, ": the architecture names an unknown activation '", printable(name), "'"));
        }
    }
    if (sizes.size() < 2 || activations.size() != sizes.size() - 1) {
        throw FileError(concat(where, ": the architecture has ", sizes.size(), " sizes and ", activations.size(),
                               " activations, expected at least 2 sizes and one activation per layer"));
    }
}

/// The parsed "architecture" entry, checked to be an nndl model description.
inline json::Value read_architecture(const std::map<std::string, NpyArray>& arrays, const std::string& where, int& version) {
    const json::Value arch = json::parse(npy_to_string(arrays.at("architecture"), "architecture"), where + ": architecture");
    try {
        const json::Value* format = arch.find("format");
        if (format == nullptr || !format->is_string() || format->as_string("format") != "nndl") {
            throw FileError("the architecture entry is not an nndl model description");
        }
        const long long v = arch.at("version", "the architecture").as_integer("version");
        if (v < 1 || v > 3) {
            throw FileError(concat("model format version ", v, ", this nndl reads versions 1, 2 and 3"));
        }
        version = static_cast<int>(v);
    } catch (const FileError& e) {
        throw FileError(concat(where, ": ", e.what()));
    }
    return arch;
}

/// A layer's entry in the architecture (type, settings, parameter and state names), its
/// matrices appended to `arrays` as "<prefix>.<name>"; a graph's nodes recursively.
template <class Scalar>
json::Value layer_to_entry(Layer<Scalar>& layer, const std::string& prefix,
                           std::vector<std::pair<std::string, NpyArray>>& arrays) {
    json::Value entry = json::Value::object();
    entry.set("type", json::Value(layer.type()));
    entry.set("input", shape_to_json(layer.input_shape()));
    if (const auto nested = NestedLayerFormats::instance().template find<Scalar>(layer.type()); nested.write) {
        nested.write(layer, prefix, arrays, entry);
        return entry;
    }
    if (layer.type() == "graph") {
        throw_invalid("save_network: ", prefix, " is a graph; a program writes graphs where it includes <nndl/graph.hpp>");
    }
    json::Value settings = json::Value::object();
    const Settings layer_settings = layer.settings();
    for (const auto& [name, value] : layer_settings.items()) {
        settings.set(name, setting_to_json(value));
    }
    entry.set("settings", settings);
    json::Value parameter_names = json::Value::array();
    json::Value state_names = json::Value::array();
    std::vector<std::string> seen;
    const auto add_array = [&](const std::string& name, const Matrix<Scalar>& value, json::Value& list) {
        for (const auto& s : seen) {
            if (s == name) {
                throw_invalid("save_network: ", prefix, " ('", printable(layer.type()), "') has two matrices named '",
                              printable(name), "'");
            }
        }
        seen.push_back(name);
        list.push_back(json::Value(name));
        arrays.emplace_back(prefix + "." + name, to_npy(value));
    };
    for (const auto& p : layer.parameters()) {
        add_array(p.name, *p.value, parameter_names);
    }
    for (const auto& s : layer.state()) {
        add_array(s.name, *s.value, state_names);
    }
    entry.set("parameters", parameter_names);
    entry.set("state", state_names);
    return entry;
}

}  // namespace detail

/// A network from the arrays of a model file (see load_network); `name` is used in messages.
template <class Scalar>
Network<Scalar> network_from_npz(const std::map<std::string, NpyArray>& arrays, const std::string& name) {
    const std::string where = "load_network: '" + printable(name) + "'";
    if (arrays.count("architecture") == 0) {
        throw FileError(where + ": no 'architecture' entry (a file from NumPy? pass the activations: "
                                "load_network(path, activations))");
    }
    int version = 0;
    const detail::json::Value arch = detail::read_architecture(arrays, where, version);
    try {
        try {
        if (version == 1) {
            std::vector<Index> sizes;
            std::vector<Activation> activations;
            detail::format1_architecture(arch, sizes, activations, where);
            return detail::network_from_arrays<Scalar>(arrays, activations, &sizes, where);
        }
        return detail::network_from_format2<Scalar>(arrays, arch, where, version);
        } catch (const std::bad_alloc&) {
            throw FileError(detail::concat(where, ": its arrays need more memory than there is"));
        }
    } catch (const FileError& e) {
        const std::string message = e.what();
        if (message.rfind(where, 0) == 0) {
            throw;
        }
        throw FileError(detail::concat(where, ": ", printable(message, 1000)));  // a typed-access error of the JSON reader (it may quote the file)
    }
}

/// Saves the network: every layer's type, settings, parameters and state, the loss and
/// the L2 strength (format 2, or 3 with graphs; see the top of this header). The write is atomic: a
/// failed save leaves any previous file untouched. Throws InvalidArgument, writing
/// nothing, for a network without layers, a non-finite parameter, a loss model files do
/// not hold, or a model above load_network's current bounds (set_max_model_values,
/// set_max_model_operations raise them, for saving and loading alike).
template <class Scalar>
void save_network(Network<Scalar>& network, const std::filesystem::path& path) {
    if (network.depth() == 0) {
        detail::throw_invalid("save_network: the network has no layers; expected at least 1 to save");
    }
    // Refused before anything is written, as load_network would refuse them: non-finite
    // parameters, and a model above load_network's current bounds (max_model_values,
    // max_model_operations; a network over very long sequences: set_steps to a shorter length).
    for (std::size_t k = 0; k < network.depth(); ++k) {
        for (const auto& p : network.layer(k).parameters()) {
            const std::string what = detail::concat("layer ", k + 1, "'s ", p.name);
            detail::require_finite("save_network", what.c_str(), *p.value);
        }
    }
    try {
        detail::ModelBudget budget;
        budget.add_input(network.input_shape(), "the input");
        for (std::size_t k = 0; k < network.depth(); ++k) {
            const Layer<Scalar>& layer = network.layer(k);
            budget.add_layer(layer, detail::concat("layer", k + 1, " ('", layer.type(), "')"));
        }
    } catch (const FileError& e) {
        detail::throw_invalid("save_network: load_network would refuse this model: ", e.what());
    }
    namespace json = detail::json;
    json::Value arch = json::Value::object();
    arch.set("format", json::Value("nndl"));
    arch.set("version", json::Value(2LL));  // 3 below when the network holds a graph
    arch.set("scalar", json::Value(std::is_same_v<Scalar, float> ? "float32" : "float64"));
    arch.set("input", detail::shape_to_json(network.input_shape()));
    try {
        const auto rebuilt =
            detail::loss_from_name<Scalar>(network.loss().name(), "save_network", network.output_shape());
        // A factory registered under another loss's name, or a class taking a built-in's name.
        const Loss<Scalar>& own = network.loss();
        if (rebuilt->name() != own.name() || typeid(*rebuilt) != typeid(own)) {
            throw FileError(detail::concat("save_network: its name builds another loss (",
                                           printable(rebuilt->name()), ")"));
        }
        const auto* per_step = dynamic_cast<const SequenceCrossEntropy<Scalar>*>(&network.loss());
        if (per_step != nullptr && per_step->classes() != network.output_shape().features()) {
            detail::throw_invalid("save_network: the loss SequenceCrossEntropy groups ", per_step->classes(),
                                  " classes per step, but the network outputs ", network.output_shape().to_string());
        }
    } catch (const FileError& e) {
        detail::throw_invalid("save_network: the loss '", printable(network.loss().name()),
                              "' could not be loaded back: ", e.what());
    }
    arch.set("loss", json::Value(network.loss().name()));
    arch.set("l2", json::Value(network.l2()));
    json::Value layers = json::Value::array();
    std::vector<std::pair<std::string, NpyArray>> arrays;
    bool has_graph = false;
    for (std::size_t k = 0; k < network.depth(); ++k) {
        Layer<Scalar>& layer = network.layer(k);
        has_graph = has_graph || layer.type() == "graph";
        layers.push_back(detail::layer_to_entry(layer, "layer" + std::to_string(k + 1), arrays));
    }
    arch.set("version", json::Value(static_cast<long long>(has_graph ? 3 : 2)));
    arch.set("layers", layers);
    const std::string text = json::dump(arch);
    if (text.size() > max_architecture_characters) {
        detail::throw_invalid("save_network: the architecture description has ", text.size(),
                              " characters; a model file holds at most ", max_architecture_characters);
    }
    arrays.emplace_back("architecture", to_npy(text));
    write_npz(path, arrays, "save_network");
}

/// Loads a network saved by save_network (format 3, 2 or 1). Weights saved in the other
/// precision are converted.
template <class Scalar>
Network<Scalar> load_network(const std::filesystem::path& path) {
    return network_from_npz<Scalar>(read_npz(path), path.string());
}

/// Loads W1, b1, ..., WL, bL (the course's parameters dict saved with
/// np.savez(path, **parameters)) as dense layers with the given activations. A file
/// that describes its own architecture must agree with them.
template <class Scalar>
Network<Scalar> load_network(const std::filesystem::path& path, const std::vector<Activation>& activations) {
    const std::string where = "load_network: '" + printable(path.string()) + "'";
    const auto arrays = read_npz(path);
    if (arrays.count("architecture") != 0) {
        Network<Scalar> network = network_from_npz<Scalar>(arrays, path.string());
        std::vector<Activation> stored;
        for (std::size_t l = 0; l < network.depth(); ++l) {
            stored.push_back(output_activation(network.layer(l)));
        }
        if (stored != activations) {
            std::string have;
            std::string want;
            for (auto a : stored) {
                have += (have.empty() ? "" : ", ") + std::string(to_string(a));
            }
            for (auto a : activations) {
                want += (want.empty() ? "" : ", ") + std::string(to_string(a));
            }
            throw FileError(detail::concat(where, ": the file's layers end with [", have, "], but [", want,
                                   "] were given; load it with load_network(path)"));
        }
        return network;
    }
    return detail::network_from_arrays<Scalar>(arrays, activations, nullptr, where);
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
        throw FileError("load_network: '" + printable(path.string()) + "' holds a " + have.str() + " network, expected " +
                        want.str());
    }
    return network;
}

}  // namespace nndl
