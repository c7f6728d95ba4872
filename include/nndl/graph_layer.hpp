#pragma once
// The Graph class (programs include <nndl/graph.hpp>, which adds its model files):
// layers that branch and merge. A Graph is a directed acyclic graph of nodes, each
// a layer (one input) or a merge layer (several; layers/merge.hpp), with named inputs and
// outputs. It is itself a Layer, so a Network holds one where it holds any layer, and
// training, prediction, the gradient checker and model files work on it unchanged. A
// residual block:
//
//   nndl::Graph<float> block(nndl::Shape::image(8, 8, 16));
//   auto x = block.input();
//   auto y = block.add(std::make_unique<nndl::Conv2D<float>>(block.shape(x), 16, nndl::Window(3),
//                                                            nndl::Stride(1), nndl::Padding::same()), x);
//   y = block.add(std::make_unique<nndl::BatchNorm<float>>(block.shape(y)), y);
//   y = block.merge<nndl::Add>({y, x});                       // the skip connection
//   block.add(nndl::make_activation_layer<float>(block.shape(y), nndl::Activation::relu), y);
//
// A node may only take nodes added before it, so a graph cannot have a cycle, and every
// node must lead to an output (the last node added, unless set_outputs says otherwise).
// Where a node's output feeds several nodes, backward gives it the sum of their
// gradients. Several inputs are one matrix to the outside: their rows one after the
// other, in the order the constructor got them; several outputs likewise (OutputLosses in
// losses.hpp gives each output a loss). A graph whose output is a layer ending with an
// activation passes it on (FusedOutput): a graph ending with a softmax layer is a classifier.

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "detail/text_table.hpp"
#include "errors.hpp"
#include "layer.hpp"
#include "layer_onnx.hpp"
#include "layers/merge.hpp"

namespace nndl {

/// A layer made of a directed acyclic graph of layers and merge layers, with named inputs
/// and outputs (see the top of this header). Nodes are added in an order where each takes only
/// nodes added before it.
template <class Scalar>
class Graph final : public Layer<Scalar>, public FusedOutput<Scalar>, public VariableSteps<Scalar>,
                    public OnnxExportable<Scalar> {
public:
    /// A node of this graph, as add, merge and input return it.
    struct Node {
        std::size_t index = 0;  ///< its position in the order nodes were added (inputs first)
    };

    /// A graph of one input of `shape`, named `name`.
    explicit Graph(Shape shape, std::string name = "input") : Graph(std::vector<std::pair<std::string, Shape>>{{std::move(name), shape}}) {}

    /// A graph of several inputs, named and shaped in this order (its input matrix holds
    /// their rows in this order). Throws InvalidArgument for no inputs, an invalid shape or
    /// a name that is empty or used twice.
    explicit Graph(std::vector<std::pair<std::string, Shape>> inputs) {
        if (inputs.empty()) {
            detail::throw_invalid("Graph::Graph: no inputs, expected at least one");
        }
        Index total = 0;
        for (auto& [name, shape] : inputs) {
            if (!shape.valid() || shape.size() > Shape::max_values - total) {
                detail::throw_invalid("Graph::Graph: input '", printable(name), "' has an invalid shape (",
                                      shape.channels, " x ", shape.height, " x ", shape.width,
                                      "), expected every dimension at least 1 and at most ", Shape::max_values,
                                      " values in all");
            }
            total += shape.size();
            check_new_name("Graph::Graph", name);
            NodeData node;
            node.name = std::move(name);
            node.shape = shape;
            node.input_offset = total - shape.size();
            names_.insert(node.name);
            nodes_.push_back(std::move(node));
            inputs_.push_back(nodes_.size() - 1);
        }
        set_output_uses({nodes_.size() - 1});
    }

    /// A deep copy (every layer cloned) that has seen no batch.
    Graph(const Graph& other)
        : Layer<Scalar>(other),
          FusedOutput<Scalar>(),
          inputs_(other.inputs_),
          outputs_(other.outputs_),
          outputs_set_(other.outputs_set_),
          checked_(other.checked_),
          names_(other.names_),
          name_counters_(other.name_counters_) {
        for (const NodeData& node : other.nodes_) {
            NodeData copy;
            copy.name = node.name;
            copy.shape = node.shape;
            copy.from = node.from;
            copy.input_offset = node.input_offset;
            copy.uses = node.uses;
            if (node.layer) {
                copy.layer = node.layer->clone();
            }
            if (node.merge) {
                copy.merge = node.merge->clone();
            }
            nodes_.push_back(std::move(copy));
        }
    }
    /// A deep copy, as the copy constructor.
    Graph& operator=(const Graph& other) {
        if (this != &other) {
            Graph copy(other);
            *this = std::move(copy);
        }
        return *this;
    }
    /// Takes over the nodes of `other`.
    Graph(Graph&&) noexcept = default;
    /// Takes over the nodes of `other`.
    Graph& operator=(Graph&&) noexcept = default;
    /// Frees the nodes' layers.
    ~Graph() override = default;

    /// Input `k` (0: the first).  Throws InvalidArgument past the last.
    Node input(std::size_t k = 0) const {
        if (k >= inputs_.size()) {
            detail::throw_invalid("Graph::input: input ", k, ", but the graph has ", inputs_.size(),
                                  " inputs, expected 0..", inputs_.size() - 1);
        }
        return Node{inputs_[k]};
    }

    /// The node named `name`. Throws InvalidArgument when there is none.
    Node node(const std::string& name) const {
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
            if (nodes_[i].name == name) {
                return Node{i};
            }
        }
        detail::throw_invalid("Graph::node: no node named '", printable(name), "'");
    }

    /// Adds a layer that takes node `from`'s output, named `name` (by default its type and
    /// a number: "conv2d_2"). Its input shape must be that output's, or, for a flat layer,
    /// hold as many values. Throws InvalidArgument for a null layer, an unknown node, a name
    /// used before or a layer that passes through at inference but changes the number of
    /// values, ShapeError for a shape that does not fit (naming the nodes).
    Node add(std::unique_ptr<Layer<Scalar>> layer, Node from, std::string name = {}) {
        if (!layer) {
            detail::throw_invalid("Graph::add: layer is null, expected a layer");
        }
        check_node("Graph::add", from);
        name = name.empty() ? default_name(layer->type()) : std::move(name);
        check_new_name("Graph::add", name);
        const Shape in = layer->input_shape();
        const Shape out = nodes_[from.index].shape;
        if (in != out && !(in.is_flat() && in.size() == out.size())) {
            detail::throw_shape("Graph::add: node '", printable(name), "' ('", printable(layer->type()),
                                "') takes input ", in.to_string(), ", but node '", printable(nodes_[from.index].name),
                                "' outputs ", out.to_string());
        }
        if (layer->passes_through_at_inference() && layer->input_size() != layer->output_size()) {
            // Predictions and ONNX files leave such a layer out: it must keep the values.
            detail::throw_invalid("Graph::add: node '", printable(name), "' ('", printable(layer->type()),
                                  "') passes its input through at inference but takes ", in.to_string(),
                                  " and outputs ", layer->output_shape().to_string(),
                                  ", expected the same number of values");
        }
        NodeData node;
        node.name = std::move(name);
        node.shape = layer->output_shape();
        node.from = {from.index};
        node.layer = std::move(layer);
        return append(std::move(node));
    }

    /// Adds a merge layer that takes the outputs of `from`, in order, named `name` (by default
    /// its type and a number: "add_1"). Its input shapes must be those outputs'. Throws as add.
    Node add(std::unique_ptr<MergeLayer<Scalar>> merge, const std::vector<Node>& from, std::string name = {}) {
        if (!merge) {
            detail::throw_invalid("Graph::add: merge layer is null, expected a layer");
        }
        for (const Node& n : from) {
            check_node("Graph::add", n);
        }
        name = name.empty() ? default_name(merge->type()) : std::move(name);
        check_new_name("Graph::add", name);
        const std::vector<Shape>& shapes = merge->input_shapes();
        if (shapes.size() != from.size()) {
            detail::throw_shape("Graph::add: node '", printable(name), "' ('", printable(merge->type()), "') takes ",
                                shapes.size(), " inputs, but ", from.size(), " nodes were given");
        }
        for (std::size_t k = 0; k < from.size(); ++k) {
            const Shape out = nodes_[from[k].index].shape;
            if (shapes[k] != out) {  // exactly: a model file rebuilds a merge from its inputs' shapes
                detail::throw_shape("Graph::add: node '", printable(name), "' ('", printable(merge->type()),
                                    "') takes ", shapes[k].to_string(), " as input ", k + 1, ", but node '",
                                    printable(nodes_[from[k].index].name), "' outputs ", out.to_string());
            }
        }
        NodeData node;
        node.name = std::move(name);
        node.shape = merge->output_shape();
        for (const Node& n : from) {
            node.from.push_back(n.index);
        }
        node.merge = std::move(merge);
        return append(std::move(node));
    }

    /// Adds a merge layer of type M (Add, Multiply, Concatenate) over the outputs of `from`:
    /// `graph.merge<nndl::Add>({y, x})`. Throws as add, the message naming the node.
    template <template <class> class M>
    Node merge(const std::vector<Node>& from, std::string name = {}) {
        std::vector<Shape> shapes;
        for (const Node& n : from) {
            check_node("Graph::merge", n);
            shapes.push_back(nodes_[n.index].shape);
        }
        std::unique_ptr<MergeLayer<Scalar>> layer;
        try {
            layer = std::make_unique<M<Scalar>>(shapes);
        } catch (const ShapeError& e) {
            detail::throw_shape("Graph::merge: a '", name.empty() ? std::string("new") : printable(name),
                                "' node over ", describe_nodes(from), ": ", e.what());
        }
        return add(std::move(layer), from, std::move(name));
    }

    /// The outputs, in order (the output matrix holds their rows in this order); by default
    /// the last node added. Every node must lead to one of them. Throws InvalidArgument for
    /// none, an unknown node or one named twice.
    void set_outputs(const std::vector<Node>& outputs) {
        if (outputs.empty()) {
            detail::throw_invalid("Graph::set_outputs: no outputs, expected at least one node");
        }
        Index total = 0;
        std::vector<std::size_t> indices;
        for (const Node& n : outputs) {
            check_node("Graph::set_outputs", n);
            if (std::find(indices.begin(), indices.end(), n.index) != indices.end()) {
                detail::throw_invalid("Graph::set_outputs: node '", printable(nodes_[n.index].name),
                                      "' is named twice, expected each output once");
            }
            const Index size = nodes_[n.index].shape.size();
            if (size > Shape::max_values - total) {
                detail::throw_invalid("Graph::set_outputs: more than ", Shape::max_values, " output values in all");
            }
            total += size;
            indices.push_back(n.index);
        }
        set_output_uses(std::move(indices));
        outputs_set_ = true;
        this->release_batch();  // a backward needs a forward over the new outputs
    }

    /// Throws InvalidArgument, naming it, when a node leads to no output (forward and infer
    /// refuse such a graph too; a model loader calls this to refuse it at once).
    void validate() const { require_all_used("Graph::validate", first_unused()); }

    /// The output shape of node `n` (an input's shape for an input).
    Shape shape(Node n) const {
        check_node("Graph::shape", n);
        return nodes_[n.index].shape;
    }
    /// The name of node `n`.
    const std::string& name(Node n) const {
        check_node("Graph::name", n);
        return nodes_[n.index].name;
    }
    /// Nodes, inputs included.
    std::size_t size() const { return nodes_.size(); }
    /// Whether `name` may name a node: 1 to 200 letters, digits, '_', '-' and ':' (no '.',
    /// which separates a node's name from its matrices' in model files).
    static bool valid_name(const std::string& name) {
        return !name.empty() && name.size() <= 200 && std::all_of(name.begin(), name.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                   c == '-' || c == ':';
        });
    }
    /// How many inputs the graph has.
    std::size_t input_count() const { return inputs_.size(); }
    /// The output nodes, in order.
    std::vector<Node> outputs() const {
        std::vector<Node> out;
        for (std::size_t i : outputs_) {
            out.push_back(Node{i});
        }
        return out;
    }
    /// The nodes node `n` takes, in order (none for an input).
    std::vector<Node> inputs_of(Node n) const {
        check_node("Graph::inputs_of", n);
        std::vector<Node> out;
        for (std::size_t i : nodes_[n.index].from) {
            out.push_back(Node{i});
        }
        return out;
    }
    /// Node `n`'s layer, or null for an input or a merge.
    Layer<Scalar>* layer(Node n) {
        check_node("Graph::layer", n);
        return nodes_[n.index].layer.get();
    }
    /// Node `n`'s layer, or null for an input or a merge.
    const Layer<Scalar>* layer(Node n) const {
        check_node("Graph::layer", n);
        return nodes_[n.index].layer.get();
    }
    /// Node `n`'s merge layer, or null for an input or a one-input layer.
    const MergeLayer<Scalar>* merge_layer(Node n) const {
        check_node("Graph::merge_layer", n);
        return nodes_[n.index].merge.get();
    }
    /// Whether node `n` is one of the graph's inputs.
    bool is_input(Node n) const {
        check_node("Graph::is_input", n);
        return !nodes_[n.index].layer && !nodes_[n.index].merge;
    }

    /// Takes the chain of one-input layers that ends a graph of one output out of it and
    /// returns them in order: the layers after the last merge or branch point (a classifier's
    /// pooling and dense head), so that a network can hold them after the graph, where its
    /// loss sees the output layer's activation. The graph's output becomes the node before
    /// them. None when the output is a merge, an input or a node read elsewhere too.
    std::vector<std::unique_ptr<Layer<Scalar>>> take_trailing_layers() {
        std::vector<std::unique_ptr<Layer<Scalar>>> tail;
        while (outputs_.size() == 1 && outputs_.front() + 1 == nodes_.size() && nodes_.back().layer &&
               nodes_.back().uses == 1 && nodes_[nodes_.back().from.front()].uses == 1 &&
               !is_input_index(nodes_.back().from.front())) {
            NodeData last = std::move(nodes_.back());
            nodes_.pop_back();
            names_.erase(last.name);
            set_output_uses({last.from.front()});
            --nodes_[last.from.front()].uses;  // it no longer feeds `last`
            tail.push_back(std::move(last.layer));
        }
        std::reverse(tail.begin(), tail.end());
        this->release_batch();
        return tail;
    }

    /// The activation the output node's layer ends with (a graph that ends with a softmax
    /// dense layer is a classifier, and its loss may start from dLoss/dZ); identity when the
    /// graph has several outputs or its output is not such a layer.
    Activation activation() const override {
        const FusedOutput<Scalar>* fused = output_fused();
        return fused != nullptr ? fused->activation() : Activation::identity;
    }
    /// Z of the output node's layer in the last forward. Throws InvalidArgument when the
    /// output is not a layer ending with an activation.
    const Matrix<Scalar>& preactivation() const override {
        const FusedOutput<Scalar>* fused = output_fused();
        if (fused == nullptr) {
            detail::throw_invalid("Graph::preactivation: the graph's output is not one layer ending with an activation");
        }
        return fused->preactivation();
    }
    /// backward given dLoss/dZ of the output node's layer (see FusedOutput).
    const Matrix<Scalar>& backward_from_preactivation(const Matrix<Scalar>& z_gradient,
                                                      bool need_input_gradient) override {
        FusedOutput<Scalar>* fused = output_fused();
        if (fused == nullptr) {
            detail::throw_invalid("Graph::backward_from_preactivation: the graph's output is not one layer ending "
                                  "with an activation");
        }
        this->require_batch("Graph::backward_from_preactivation");
        for (NodeData& node : nodes_) {
            node.gradient = nullptr;
        }
        const std::size_t from = nodes_[outputs_.front()].from.front();
        const bool need = !is_input_index(from) || need_input_gradient;
        const Matrix<Scalar>& g = fused->backward_from_preactivation(z_gradient, need);  // it checks the shape
        if (need) {
            contribute(from, g);
        }
        return propagate(need_input_gradient, z_gradient.cols());
    }

    /// "graph".
    std::string type() const override { return "graph"; }
    /// The input's shape; for several inputs, a flat vector of all their values.
    Shape input_shape() const override { return joined_shape(inputs_); }
    /// The output's shape; for several outputs, a flat vector of all their values.
    Shape output_shape() const override { return joined_shape(outputs_); }

    /// Contract: see VariableSteps. Every input that is a sequence gets `steps` time steps, and
    /// each node the shape that follows: its layer's set_steps, a merge rebuilt over its
    /// inputs' new shapes (MergeLayer::with_input_shapes); a node whose input keeps its shape
    /// (after a layer that returns the last step) keeps its own. Throws InvalidArgument where
    /// the graph takes no sequence, or, naming the node, where its steps cannot change (a layer
    /// without VariableSteps, or one that takes a whole sequence as one flat vector), ShapeError
    /// where a merge's inputs then do not fit. Every check comes first: a refusal leaves the
    /// graph as it was. Graphs of several outputs change their steps where every output keeps
    /// its shape (they are joined into one flat vector).
    void set_steps(Index steps) override;
    /// Throws what set_steps(steps) would throw, changing nothing (VariableSteps::check_steps).
    void check_steps(Index steps) const override;
    /// Contract: see OnnxExportable::export_onnx (layer_onnx.hpp).
    void export_onnx(OnnxGraphBuilder& out, const Shape& in) const override;

    /// Every node's parameters in node order, named "node/parameter" ("conv2d_1/W").
    std::vector<Parameter<Scalar>> parameters() override {
        std::vector<Parameter<Scalar>> all;
        for (NodeData& node : nodes_) {
            if (node.layer) {
                for (Parameter<Scalar> p : node.layer->parameters()) {
                    p.name = node.name + "/" + p.name;
                    all.push_back(std::move(p));
                }
            }
        }
        return all;
    }
    /// Every node's state in node order, named as parameters().
    std::vector<StateBuffer<Scalar>> state() override {
        std::vector<StateBuffer<Scalar>> all;
        for (NodeData& node : nodes_) {
            if (node.layer) {
                for (StateBuffer<Scalar> b : node.layer->state()) {
                    b.name = node.name + "/" + b.name;
                    all.push_back(std::move(b));
                }
            }
        }
        return all;
    }
    /// Each layer's check, the message naming the node.
    void check_loaded() const override {
        for (const NodeData& node : nodes_) {
            if (node.layer) {
                try {
                    node.layer->check_loaded();
                } catch (const InvalidArgument& e) {
                    detail::throw_invalid("Graph: node '", printable(node.name), "': ", e.what());
                }
            }
        }
    }
    /// The layers' working values and every node's output: what a pass holds at once at most.
    Index working_values() const override {
        Index total = 0;
        for (const NodeData& node : nodes_) {
            total += node.shape.size() + (node.layer ? node.layer->working_values() : 0);
        }
        return total;
    }
    /// The sum over the nodes.
    Index operations() const override {
        Index total = 0;
        for (const NodeData& node : nodes_) {
            total += node.layer ? node.layer->operations() : node.merge ? node.merge->operations() : 0;
        }
        return total;
    }
    /// A deep copy that has seen no batch.
    std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<Graph>(*this); }

    /// A table, one row per node in order: name, layer type and settings, the nodes it
    /// takes, its output shape and trained parameter count; then the outputs.
    std::string summary() const {
        std::vector<std::vector<std::string>> rows{{"node", "layer", "takes", "output shape", "parameters"}};
        Index trained = 0;
        for (const NodeData& node : nodes_) {
            Index count = 0;
            std::string what = "input";
            if (node.layer) {
                for (const auto& p : const_cast<Layer<Scalar>&>(*node.layer).parameters()) {  // pointers only
                    count += p.value->size();
                }
                what = describe_type(node.layer->type(), node.layer->settings());
            } else if (node.merge) {
                what = describe_type(node.merge->type(), node.merge->settings());
            }
            trained += count;
            std::string takes;
            for (std::size_t i : node.from) {
                takes += (takes.empty() ? "" : ", ") + printable(nodes_[i].name, 60);
            }
            rows.push_back({printable(node.name, 60), what, takes, node.shape.to_string(),
                            node.layer ? std::to_string(count) : ""});
        }
        using detail::Align;
        const std::string out = detail::concat("Graph, ", nodes_.size(), " nodes\n") +
                                detail::format_table(rows, {Align::left, Align::left, Align::left, Align::left, Align::right},
                                                     true);
        std::string names;
        for (std::size_t i : outputs_) {
            names += (names.empty() ? "" : ", ") + printable(nodes_[i].name, 60);
        }
        return out + "outputs: " + names + "\ntrained parameters: " + std::to_string(trained) + "\n";
    }

protected:
    const Matrix<Scalar>& do_forward(const Matrix<Scalar>& input, Mode mode) override {
        if (!checked_) {  // once per change of the graph: forward runs every training step
            require_all_used("Graph::forward", first_unused());
            checked_ = true;
        }
        split_inputs(input, [this](std::size_t i) -> Matrix<Scalar>& { return nodes_[i].own_value; },
                     [this](std::size_t i, const Matrix<Scalar>* value) { nodes_[i].value = value; });
        for (NodeData& node : nodes_) {
            if (node.layer) {
                node.value = &node.layer->forward(*nodes_[node.from.front()].value, mode);
            } else if (node.merge) {
                node.arguments.resize(node.from.size());
                for (std::size_t k = 0; k < node.from.size(); ++k) {
                    node.arguments[k] = nodes_[node.from[k]].value;
                }
                node.value = &node.merge->forward(node.arguments, mode);
            }
        }
        if (outputs_.size() == 1) {
            return *nodes_[outputs_.front()].value;
        }
        output_.resize(output_shape().size(), input.cols());
        Index row = 0;
        for (std::size_t i : outputs_) {
            output_.middleRows(row, nodes_[i].shape.size()) = *nodes_[i].value;
            row += nodes_[i].shape.size();
        }
        return output_;
    }

    const Matrix<Scalar>& do_backward(const Matrix<Scalar>& output_gradient, bool need_input_gradient) override {
        for (NodeData& node : nodes_) {
            node.gradient = nullptr;
        }
        if (outputs_.size() == 1) {
            contribute(outputs_.front(), output_gradient);
        } else {
            output_gradients_.resize(outputs_.size());
            Index row = 0;
            for (std::size_t k = 0; k < outputs_.size(); ++k) {
                const Index rows = nodes_[outputs_[k]].shape.size();
                output_gradients_[k] = output_gradient.middleRows(row, rows);
                contribute(outputs_[k], output_gradients_[k]);
                row += rows;
            }
        }
        return propagate(need_input_gradient, output_gradient.cols());
    }

    void do_infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const override {
        require_all_used("Graph::infer", first_unused());
        // Local buffers, so several threads may share the graph; each is freed after its last use.
        std::vector<Matrix<Scalar>> values(nodes_.size());
        std::vector<const Matrix<Scalar>*> pointers(nodes_.size(), nullptr);
        std::vector<std::size_t> uses(nodes_.size());
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
            uses[i] = nodes_[i].uses;
        }
        split_inputs(input, [&values](std::size_t i) -> Matrix<Scalar>& { return values[i]; },
                     [&pointers](std::size_t i, const Matrix<Scalar>* value) { pointers[i] = value; });
        std::vector<const Matrix<Scalar>*> arguments;
        std::vector<const Layer<Scalar>*> chain;
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
            const NodeData& node = nodes_[i];
            const std::size_t fused = node.layer ? fusable_chain(i, chain) : 0;
            if (fused > 0) {
                // A convolution computes the chain of layers after it (batch norm, activation,
                // pooling) while its output is in cache; the nodes in between hold no value.
                const std::size_t last = i + fused;
                dynamic_cast<const FusedInference<Scalar>&>(*node.layer)
                    .infer_with(*pointers[node.from.front()], chain, fused, values[last]);
                pointers[last] = &values[last];
                if (--uses[node.from.front()] == 0) {
                    values[node.from.front()] = Matrix<Scalar>();
                }
                i = last;
                continue;
            }
            if (node.layer) {
                node.layer->infer(*pointers[node.from.front()], values[i]);
            } else if (node.merge) {
                arguments.resize(node.from.size());
                for (std::size_t k = 0; k < node.from.size(); ++k) {
                    arguments[k] = pointers[node.from[k]];
                }
                node.merge->infer(arguments, values[i]);
            } else {
                continue;
            }
            pointers[i] = &values[i];
            for (std::size_t from : node.from) {
                if (--uses[from] == 0) {
                    values[from] = Matrix<Scalar>();
                }
            }
        }
        if (outputs_.size() == 1) {
            const std::size_t out = outputs_.front();
            if (pointers[out] == &values[out]) {
                output.swap(values[out]);
            } else {
                output = *pointers[out];
            }
            return;
        }
        output.resize(output_shape().size(), input.cols());
        Index row = 0;
        for (std::size_t i : outputs_) {
            output.middleRows(row, nodes_[i].shape.size()) = *pointers[i];
            row += nodes_[i].shape.size();
        }
    }

private:
    /// How many nodes after node i its layer computes in one pass (FusedInference): the
    /// longest run i+1, i+2, ... of one-input layers each taking only the node before it,
    /// which nothing else takes and which is no output (uses 1); `chain` gets their layers.
    std::size_t fusable_chain(std::size_t i, std::vector<const Layer<Scalar>*>& chain) const {
        const auto* fusing = dynamic_cast<const FusedInference<Scalar>*>(nodes_[i].layer.get());
        if (fusing == nullptr) {
            return 0;
        }
        chain.clear();
        for (std::size_t j = i + 1; j < nodes_.size(); ++j) {
            const NodeData& before = nodes_[j - 1];
            const NodeData& node = nodes_[j];
            if (!node.layer || node.from.size() != 1 || node.from.front() != j - 1 || before.uses != 1) {
                break;
            }
            chain.push_back(node.layer.get());
        }
        return chain.empty() ? 0 : std::min(fusing->fusable_layers(chain), chain.size());
    }

    /// What set_steps will do, worked out before anything changes: each node's new shape,
    /// the merges rebuilt for them, the layer nodes whose set_steps runs.
    struct StepsPlan {
        std::vector<Shape> shapes;
        std::vector<std::unique_ptr<MergeLayer<Scalar>>> merges;
        std::vector<bool> resized;
    };
    /// The plan for `steps`; throws as set_steps does.
    StepsPlan plan_steps(Index steps) const;

    struct NodeData {
        std::string name;
        Shape shape;                                ///< one example of its output
        std::vector<std::size_t> from;              ///< the nodes it takes (none for an input)
        std::unique_ptr<Layer<Scalar>> layer;       ///< a one-input layer, or
        std::unique_ptr<MergeLayer<Scalar>> merge;  ///< a merge layer (neither: an input)
        Index input_offset = 0;                     ///< an input's first row in the graph's input
        std::size_t uses = 0;                       ///< nodes taking it, plus 1 for an output
        // One pass's values: the output and the summed gradient of its consumers.
        const Matrix<Scalar>* value = nullptr;
        Matrix<Scalar> own_value;  ///< an input's rows, when there are several inputs
        std::vector<const Matrix<Scalar>*> arguments;
        const Matrix<Scalar>* gradient = nullptr;
        Matrix<Scalar> gradient_sum;
    };

    /// Backward through every node that has a gradient, outputs first, then the input gradient.
    const Matrix<Scalar>& propagate(bool need_input_gradient, Index columns) {
        for (std::size_t i = nodes_.size(); i-- > 0;) {
            NodeData& node = nodes_[i];
            if (node.gradient == nullptr) {
                continue;  // an input, or a node whose consumers all take the graph's input (not needed)
            }
            if (node.layer) {
                const std::size_t from = node.from.front();
                const bool need = !is_input_index(from) || need_input_gradient;
                const Matrix<Scalar>& g = node.layer->backward(*node.gradient, need);
                if (need) {
                    contribute(from, g);
                }
            } else if (node.merge) {
                const std::vector<const Matrix<Scalar>*>& gradients = node.merge->backward(*node.gradient);
                for (std::size_t k = 0; k < node.from.size(); ++k) {
                    if (!is_input_index(node.from[k]) || need_input_gradient) {
                        contribute(node.from[k], *gradients[k]);
                    }
                }
            }
        }
        if (!need_input_gradient) {
            input_gradient_.resize(0, 0);
            return input_gradient_;
        }
        if (inputs_.size() == 1) {
            const NodeData& in = nodes_[inputs_.front()];
            if (in.gradient != nullptr) {
                return *in.gradient;
            }
        }
        input_gradient_.setZero(input_shape().size(), columns);
        Index row = 0;
        for (std::size_t i : inputs_) {
            if (nodes_[i].gradient != nullptr) {
                input_gradient_.middleRows(row, nodes_[i].shape.size()) = *nodes_[i].gradient;
            }
            row += nodes_[i].shape.size();
        }
        return input_gradient_;
    }

    /// The output node's layer as FusedOutput, when the graph has one output and it is one.
    FusedOutput<Scalar>* output_fused() const {
        if (outputs_.size() != 1 || !nodes_[outputs_.front()].layer) {
            return nullptr;
        }
        return dynamic_cast<FusedOutput<Scalar>*>(nodes_[outputs_.front()].layer.get());
    }

    void check_node(const char* where, Node n) const {
        if (n.index >= nodes_.size()) {
            detail::throw_invalid(where, ": node ", n.index, ", but the graph has ", nodes_.size(),
                                  " nodes, expected one of this graph's nodes");
        }
    }
    void check_new_name(const char* where, const std::string& name) const {
        if (!valid_name(name)) {
            detail::throw_invalid(where, ": the node name '", printable(name),
                                  "', expected 1 to 200 letters, digits, _, - and : (it names the node's arrays in "
                                  "model files)");
        }
        if (names_.count(name) != 0) {
            detail::throw_invalid(where, ": a node named '", printable(name), "' exists, expected a new name");
        }
    }
    /// "conv2d_2": the first free type_k (counting on from the last one given for the type).
    std::string default_name(const std::string& type) {
        std::size_t& k = name_counters_[type];
        for (;;) {
            std::string candidate = type + "_" + std::to_string(++k);
            if (names_.count(candidate) == 0) {
                return candidate;
            }
        }
    }
    std::string describe_nodes(const std::vector<Node>& from) const {
        std::string out;
        for (const Node& n : from) {
            out += (out.empty() ? "'" : ", '") + printable(nodes_[n.index].name, 60) + "'";
        }
        return out;
    }
    bool is_input_index(std::size_t i) const { return !nodes_[i].layer && !nodes_[i].merge; }

    Node append(NodeData node) {
        for (std::size_t from : node.from) {
            ++nodes_[from].uses;
        }
        names_.insert(node.name);
        nodes_.push_back(std::move(node));
        if (!outputs_set_) {
            set_output_uses({nodes_.size() - 1});
        }
        checked_ = false;
        this->release_batch();
        return Node{nodes_.size() - 1};
    }

    /// Makes `outputs` the outputs, moving their extra use (an output is used once more).
    void set_output_uses(std::vector<std::size_t> outputs) {
        for (std::size_t i : outputs_) {
            --nodes_[i].uses;
        }
        outputs_ = std::move(outputs);
        for (std::size_t i : outputs_) {
            ++nodes_[i].uses;
        }
        checked_ = false;
    }

    /// The first non-input node that leads to no output; nodes_.size() when none.
    std::size_t first_unused() const {
        std::vector<bool> live(nodes_.size(), false);
        for (std::size_t i : outputs_) {
            live[i] = true;
        }
        for (std::size_t i = nodes_.size(); i-- > 0;) {
            if (live[i]) {
                for (std::size_t from : nodes_[i].from) {
                    live[from] = true;
                }
            }
        }
        for (std::size_t i = 0; i < nodes_.size(); ++i) {
            if (!live[i] && !is_input_index(i)) {
                return i;
            }
        }
        return nodes_.size();
    }

    void require_all_used(const char* where, std::size_t unused) const {
        if (unused < nodes_.size()) {
            detail::throw_invalid(where, ": node '", printable(nodes_[unused].name),
                                  "' leads to no output, expected every node to feed an output (set_outputs)");
        }
    }

    Shape joined_shape(const std::vector<std::size_t>& indices) const {
        if (indices.size() == 1) {
            return nodes_[indices.front()].shape;
        }
        Index total = 0;
        for (std::size_t i : indices) {
            total += nodes_[i].shape.size();
        }
        return Shape(total);
    }

    /// Points each input node at its rows: the input itself when there is one, else a copy.
    template <class Storage, class Point>
    void split_inputs(const Matrix<Scalar>& input, Storage storage, Point point) const {
        if (inputs_.size() == 1) {
            point(inputs_.front(), &input);
            return;
        }
        for (std::size_t i : inputs_) {
            Matrix<Scalar>& rows = storage(i);
            rows = input.middleRows(nodes_[i].input_offset, nodes_[i].shape.size());
            point(i, &rows);
        }
    }

    /// Adds `gradient` to node i's: the first is kept by pointer, a second starts a sum.
    void contribute(std::size_t i, const Matrix<Scalar>& gradient) {
        NodeData& node = nodes_[i];
        if (node.gradient == nullptr) {
            node.gradient = &gradient;
        } else if (node.gradient == &node.gradient_sum) {
            node.gradient_sum += gradient;
        } else {
            node.gradient_sum = *node.gradient + gradient;
            node.gradient = &node.gradient_sum;
        }
    }

    std::vector<NodeData> nodes_;
    std::vector<std::size_t> inputs_;
    std::vector<std::size_t> outputs_;
    bool outputs_set_ = false;
    bool checked_ = false;  ///< every node leads to an output (forward checked since the last change)
    std::set<std::string> names_;  ///< the nodes' names
    std::map<std::string, std::size_t> name_counters_;  ///< the last default number per type
    Matrix<Scalar> output_, input_gradient_;
    std::vector<Matrix<Scalar>> output_gradients_;
};

template <class Scalar>
typename Graph<Scalar>::StepsPlan Graph<Scalar>::plan_steps(Index steps) const {
    const char* where = "Graph::set_steps";
    bool takes_sequence = false;
    for (const std::size_t i : inputs_) {
        takes_sequence = takes_sequence || nodes_[i].shape.is_sequence();
    }
    if (!takes_sequence) {
        detail::throw_invalid(where, ": the graph takes ", input_shape().to_string(), ", expected a sequence");
    }
    StepsPlan plan;
    plan.shapes.resize(nodes_.size());
    plan.merges.resize(nodes_.size());
    plan.resized.assign(nodes_.size(), false);
    // varies[i]: node i's output has the steps of the input (so it changes with them).
    std::vector<bool> varies(nodes_.size(), false);
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        const NodeData& node = nodes_[i];
        const std::string at = detail::concat(where, ": node '", printable(node.name), "'");
        plan.shapes[i] = node.shape;
        if (node.from.empty()) {  // an input
            if (node.shape.is_sequence()) {
                plan.shapes[i] = detail::with_steps(at.c_str(), node.shape, steps);
                varies[i] = true;
            }
            continue;
        }
        bool takes_varying = false;
        for (const std::size_t f : node.from) {
            takes_varying = takes_varying || varies[f];
        }
        if (!takes_varying) {
            continue;
        }
        if (node.layer) {
            plan.shapes[i] = detail::output_with_steps(at, *node.layer, steps);
            plan.resized[i] = true;
            varies[i] = plan.shapes[i].is_sequence();
        } else {
            std::vector<Shape> inputs;
            for (const std::size_t f : node.from) {
                inputs.push_back(plan.shapes[f]);
            }
            try {
                plan.merges[i] = node.merge->with_input_shapes(std::move(inputs));
            } catch (const ShapeError& e) {
                detail::throw_shape(at, " ('", printable(node.merge->type()), "'): ", e.what());
            } catch (const InvalidArgument& e) {
                detail::throw_invalid(at, " ('", printable(node.merge->type()), "'): ", e.what());
            }
            plan.shapes[i] = plan.merges[i]->output_shape();
            varies[i] = plan.shapes[i].is_sequence();
        }
    }
    if (outputs_.size() > 1) {
        for (const std::size_t i : outputs_) {
            if (varies[i]) {
                detail::throw_invalid(where, ": output node '", printable(nodes_[i].name),
                                      "' is a sequence, and the graph's ", outputs_.size(),
                                      " outputs are joined into one vector whose size would change; a graph "
                                      "that changes its steps has one output, or outputs that keep their shapes");
            }
        }
    }
    Index inputs_total = 0;
    for (const std::size_t i : inputs_) {
        inputs_total += plan.shapes[i].size();
    }
    if (inputs_total > Shape::max_values) {
        detail::throw_invalid(where, ": ", steps, " steps make ", inputs_total, " values of input per example, more than ",
                              Shape::max_values);
    }
    return plan;
}

template <class Scalar>
void Graph<Scalar>::check_steps(Index steps) const {
    (void)plan_steps(steps);
}

template <class Scalar>
void Graph<Scalar>::set_steps(Index steps) {
    StepsPlan plan = plan_steps(steps);
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        NodeData& node = nodes_[i];
        if (plan.resized[i]) {
            dynamic_cast<VariableSteps<Scalar>&>(*node.layer).set_steps(steps);
        }
        if (plan.merges[i]) {
            node.merge = std::move(plan.merges[i]);
        }
        node.shape = plan.shapes[i];
    }
    Index offset = 0;
    for (const std::size_t i : inputs_) {
        nodes_[i].input_offset = offset;
        offset += nodes_[i].shape.size();
    }
    this->release_batch();
}

/// ONNX: each node in order, from the tensor of the node it takes; merges through their own
/// converters (OnnxMergeExportable). Graphs of one input and one output, over images or flat
/// tensors.
template <class Scalar>
void Graph<Scalar>::export_onnx(OnnxGraphBuilder& out, const Shape& in) const {
    if (input_count() != 1 || outputs().size() != 1) {
        detail::throw_invalid(out.where(), " is a graph of ", input_count(), " inputs and ", outputs().size(),
                              " outputs; save_onnx writes graphs of one input and one output");
    }
    if (out.sequence) {
        detail::throw_invalid(out.where(), " is a graph over sequences; save_onnx writes graphs of images and flat "
                              "tensors");
    }
    // Each node's tensor, and for an image tensor the image it holds (a node of flat shape
    // may pass an image on: an activation declared flat over a convolution's output).
    struct Tensor {
        std::string name;
        bool image = false;
        Shape image_shape;
    };
    if (out.image && input_shape().is_flat() && !in.is_flat()) {
        out.flatten_in_nndl_order(in);  // the graph takes flat rows: nndl's order
    }
    std::vector<Tensor> tensors(size());
    tensors[input().index] = Tensor{out.current, out.image, in};
    for (std::size_t i = 0; i < size(); ++i) {
        const Node n{i};
        if (is_input(n)) {
            continue;
        }
        const std::vector<Node> from = inputs_of(n);
        Shape image_shape;
        if (const MergeLayer<Scalar>* merge = merge_layer(n)) {
            const auto* exportable = dynamic_cast<const OnnxMergeExportable*>(merge);
            if (exportable == nullptr) {
                detail::throw_invalid(out.where(), " has a '", printable(merge->type()),
                                      "' merge, which has no ONNX operator: its class does not implement "
                                      "OnnxMergeExportable (layer_onnx.hpp)");
            }
            // Inputs of one kind: an image beside a flat tensor is flattened in nndl's order.
            bool any_flat = false;
            for (const Node& f : from) {
                any_flat = any_flat || !tensors[f.index].image;
            }
            std::vector<std::string> names;
            for (const Node& f : from) {
                out.current = tensors[f.index].name;
                out.image = tensors[f.index].image;
                if (any_flat && out.image) {
                    out.flatten_in_nndl_order(tensors[f.index].image_shape);
                }
                names.push_back(out.current);
            }
            exportable->export_onnx(out, names);
            out.image = !any_flat;
            image_shape = merge->output_shape();
        } else {
            const Tensor& source = tensors[from.front().index];
            out.current = source.name;
            out.image = source.image;
            const Layer<Scalar>& node_layer = *layer(n);
            export_onnx_layer(out, node_layer, source.image ? source.image_shape : shape(from.front()));
            const Shape produced = node_layer.output_shape();
            image_shape = !produced.is_flat() ? produced
                          : source.image && node_layer.input_size() == node_layer.output_size() ? source.image_shape
                                                                                                 : produced;
        }
        tensors[i] = Tensor{out.current, out.image, image_shape};
    }
    const Tensor& result = tensors[outputs().front().index];
    out.current = result.name;
    out.image = result.image;
    // The network's last node gets the output's name: the graph's own output must be a node
    // written last, not a tensor other nodes read.
    out.add_node("Identity", {out.current});
}

}  // namespace nndl
