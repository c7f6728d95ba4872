#pragma once
// Model files with graphs (format 3; io/model.hpp describes it): how save_network writes a
// Graph's nodes and load_network rebuilds them. <nndl/graph.hpp> includes it and it registers
// itself, for float and double, with the model files' nested layer formats, so a program
// that builds or loads graphs saves and loads them, and one that never includes
// <nndl/graph.hpp> compiles none of this.

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../graph_layer.hpp"
#include "../layers/merge.hpp"
#include "model.hpp"

namespace nndl::detail {

/// A Graph from a model file's entry (format 3): its inputs, its nodes in order (each takes
/// nodes named before it, so the file cannot describe a cycle), its outputs. Parameters are
/// the arrays "<prefix>.<node>.<name>".
template <class Scalar>
std::unique_ptr<Layer<Scalar>> graph_from_entry(const std::map<std::string, NpyArray>& arrays, const json::Value& entry,
                                                const std::string& prefix, const std::string& here,
                                                ModelBudget& budget, int nesting) {
    if (nesting > max_graph_nesting) {
        throw FileError(concat(here, ": graphs nest more than ", max_graph_nesting, " deep"));
    }
    std::vector<std::pair<std::string, Shape>> inputs;
    for (const json::Value& input : entry.at("inputs", prefix).as_array(prefix + " inputs")) {
        const std::string name = input.at("name", prefix + " input").as_string(prefix + " input name");
        inputs.emplace_back(name, shape_from_json(input.at("shape", prefix + " input"), prefix + " input shape", here));
    }
    std::unique_ptr<Graph<Scalar>> graph;
    std::map<std::string, typename Graph<Scalar>::Node> nodes;
    try {
        graph = std::make_unique<Graph<Scalar>>(std::move(inputs));
    } catch (const std::invalid_argument& e) {
        throw FileError(concat(here, ": ", e.what()));
    }
    for (std::size_t k = 0; k < graph->input_count(); ++k) {
        nodes[graph->name(graph->input(k))] = graph->input(k);
    }
    const auto find = [&](const std::string& name, const std::string& node_here) {
        const auto it = nodes.find(name);
        if (it == nodes.end()) {
            throw FileError(concat(node_here, ": it takes '", printable(name),
                                   "', which is not an input or a node named before it"));
        }
        return it->second;
    };
    for (const json::Value& node : entry.at("nodes", prefix).as_array(prefix + " nodes")) {
        const std::string name = node.at("name", prefix + " node").as_string(prefix + " node name");
        const std::string node_here = concat(here, ": node '", printable(name), "'");
        if (!Graph<Scalar>::valid_name(name)) {  // before it names arrays or appears in messages unescaped
            throw FileError(concat(node_here, ": expected a name of 1 to 200 letters, digits, _, - and :"));
        }
        std::vector<typename Graph<Scalar>::Node> from;
        for (const json::Value& f : node.at("from", prefix + " node").as_array(prefix + " node from")) {
            from.push_back(find(f.as_string(prefix + " node from"), node_here));
        }
        if (from.empty()) {
            throw FileError(concat(node_here, ": it takes no node, expected at least one"));
        }
        typename Graph<Scalar>::Node added;
        try {
            if (const json::Value* merge = node.find("merge")) {
                std::vector<Shape> shapes;
                for (const auto& f : from) {
                    shapes.push_back(graph->shape(f));
                }
                auto layer = create_merge<Scalar>(merge->as_string(prefix + " node merge"), shapes);
                count_model_values(budget.values, layer->output_shape(), node_here);
                count_model_operations(budget.operations, layer->operations(), node_here);
                added = graph->add(std::move(layer), from, name);
            } else {
                if (from.size() != 1) {
                    throw FileError(concat(node_here, ": a layer takes ", from.size(), " nodes, expected 1"));
                }
                Shape input = graph->shape(from.front());
                if (const json::Value* own = node.find("input")) {
                    input = shape_from_json(*own, prefix + " node input", node_here);
                }
                const std::string layer_here =
                    concat(node_here, " ('", printable(node.at("type", prefix + " node").as_string(prefix + " node type")), "')");
                added = graph->add(layer_from_entry<Scalar>(arrays, node, input, prefix + "." + name, layer_here, budget,
                                                            nesting + 1),
                                   from.front(), name);
            }
        } catch (const FileError&) {
            throw;
        } catch (const std::invalid_argument& e) {  // nndl's own: names from the file are escaped already
            throw FileError(concat(node_here, ": ", e.what()));
        }
        nodes[name] = added;
    }
    std::vector<typename Graph<Scalar>::Node> outputs;
    for (const json::Value& name : entry.at("outputs", prefix).as_array(prefix + " outputs")) {
        outputs.push_back(find(name.as_string(prefix + " outputs"), concat(here, ": the outputs")));
    }
    try {
        graph->set_outputs(outputs);
        graph->validate();
    } catch (const std::invalid_argument& e) {  // nndl's own, escaped already
        throw FileError(concat(here, ": ", e.what()));
    }
    return graph;
}

/// Writes a Graph's inputs, nodes (each layer's entry through layer_to_entry, each merge by
/// its type) and outputs into its entry, their matrices as "<prefix>.<node>.<name>".
template <class Scalar>
void graph_to_entry(Layer<Scalar>& layer, const std::string& prefix, std::vector<std::pair<std::string, NpyArray>>& arrays,
                    json::Value& entry) {
    auto* graph = dynamic_cast<Graph<Scalar>*>(&layer);
    if (graph == nullptr) {
        throw_invalid("save_network: ", prefix, " has the type 'graph' but is not an nndl::Graph; ",
                      "expected another type name for a layer of your own");
    }
    using Node = typename Graph<Scalar>::Node;
    json::Value inputs = json::Value::array();
    json::Value nodes = json::Value::array();
    for (std::size_t i = 0; i < graph->size(); ++i) {
        const Node n{i};
        json::Value node = json::Value::object();
        if (graph->is_input(n)) {
            node.set("name", json::Value(graph->name(n)));
            node.set("shape", shape_to_json(graph->shape(n)));
            inputs.push_back(node);
            continue;
        }
        json::Value from = json::Value::array();
        for (const Node& f : graph->inputs_of(n)) {
            from.push_back(json::Value(graph->name(f)));
        }
        if (const MergeLayer<Scalar>* merge = graph->merge_layer(n)) {
            node.set("merge", json::Value(merge->type()));
        } else {
            Layer<Scalar>& inner = *graph->layer(n);
            node = layer_to_entry(inner, prefix + "." + graph->name(n), arrays);
        }
        node.set("name", json::Value(graph->name(n)));
        node.set("from", from);
        nodes.push_back(node);
    }
    json::Value outputs = json::Value::array();
    for (const Node& n : graph->outputs()) {
        outputs.push_back(json::Value(graph->name(n)));
    }
    entry.set("inputs", inputs);
    entry.set("nodes", nodes);
    entry.set("outputs", outputs);
}

/// "graph" in the model files' nested layer formats of a program that includes this header.
inline const bool graph_model_registered = NestedLayerFormats::instance().add(
    {"graph", {graph_from_entry<float>, graph_to_entry<float>}, {graph_from_entry<double>, graph_to_entry<double>}});

}  // namespace nndl::detail
