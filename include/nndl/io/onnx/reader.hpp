#pragma once
// Optional part: needs ONNX (link nndl::onnx). Part of nndl/io/onnx.hpp: GraphReader, which builds
// a Network node by node from an ONNX graph, and parse_model.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../../errors.hpp"
#include "../../graph.hpp"
#include "../../layer.hpp"
#include "../../layers/all.hpp"  // load_onnx builds any layer
#include "../../network.hpp"
#include "../model_limits.hpp"
#include "common.hpp"
#include "tensor_reader.hpp"

namespace nndl {

namespace detail::onnx_format {

/// Builds the network node by node. A Gemm, MatMul or Conv waits in `pending_` so that
/// the activation (and, after MatMul, the bias Add) that follows joins the same layer.
template <class Scalar>
class GraphReader {
public:
    GraphReader(const ModelProto& model, TensorReader tensors, std::string file)
        : model_(model), graph_(model.graph()), tensors_(std::move(tensors)), file_(printable(file)) {}

    Network<Scalar> read() {
        check_opset();
        for (const auto& t : graph_.initializer()) {
            if (!constants_.emplace(t.name(), &t).second) {
                fail(concat("has two initializers named '", printable(t.name()), "'"));
            }
        }
        branching_ = find_branches();
        read_input();
        check_total_weights();
        for (int i = 0; i < graph_.node_size(); ++i) {
            with_context(graph_.node(i), i, [&] { read_node(graph_.node(i), i); });
            previous_op_ = graph_.node(i).op_type();
        }
        flush();
        if (recurrent_.active) {
            fail(concat("ends with the outputs of ", recurrent_.node, "; nndl's output is [batch, steps, features] or "
                        "[batch, features]: Squeeze and Transpose them (perm 1, 0, 2)"));
        }
        if (sequence_ != Sequence::none && sequence_ != Sequence::batch_major) {
            fail("ends with a sequence in [steps, batch, features] order or with a recurrent operator's directions "
                 "axis; nndl's output is [batch, steps, features]: end with a Squeeze and a Transpose (perm 1, 0, 2)");
        }
        if (zero_padding_) {  // its padding would be lost, not applied
            fail("ends with a Pad (or a Pad and what keeps 0 at 0); nndl reads a Pad only before a Conv or an "
                 "AveragePool, whose padding it becomes");
        }
        if (graph_.output_size() != 1 || graph_.output(0).name() != current_) {
            fail(concat("expected one graph output, the last node's; got ", graph_.output_size(), " output(s)",
                        graph_.output_size() > 0 ? concat(", the first '", printable(graph_.output(0).name()), "'")
                                                 : std::string()));
        }
        if (!flat_order_.empty()) {
            fail("ends with an image flattened in ONNX's channel-major order, which nndl's output cannot keep; end "
                 "with a Gemm, MatMul or an image");
        }
        if (depth() == 0) {
            fail("has no layer nndl can build (a graph of Identity or Flatten only)");
        }
        if (branching_) {
            graph_builder_->set_outputs({node_});
            try {
                graph_builder_->validate();
            } catch (const InvalidArgument& e) {
                fail(concat("has a branch that leads to no output (", e.what(), ")"));
            }
            // The chain after the last merge (pooling, the dense head) follows the graph in the network.
            auto tail = graph_builder_->take_trailing_layers();
            network_.add(std::move(graph_builder_));
            for (auto& layer : tail) {
                network_.add(std::move(layer));
            }
        }
        return std::move(network_);
    }

private:
    /// A node as a layer's importer sees it (OnnxNodeReader, layer_onnx.hpp).
    class NodeView final : public OnnxNodeReader {
    public:
        NodeView(GraphReader& reader, const NodeProto& node, int index) : reader_(reader), node_(node), index_(index) {}
        Shape input_shape() const override { return reader_.output_shape(); }
        void require_image() const override { reader_.require_image(node_, index_); }
        bool has_attribute(const char* name) const override { return find_attribute(node_, name) != nullptr; }
        std::int64_t int_attribute(const char* name, std::int64_t fallback) const override {
            return reader_.int_attribute(node_, index_, name, fallback);
        }
        std::string string_attribute(const char* name, const std::string& fallback) const override {
            const AttributeProto* a = find_attribute(node_, name);
            if (a == nullptr) {
                return fallback;
            }
            if (a->type() != AttributeProto::STRING) {
                fail(concat("attribute '", name, "' is not a string"));
            }
            return a->s();
        }
        bool constant_dims(int input, std::vector<std::int64_t>& dims) const override {
            const TensorProto* t = constant(input);
            if (t != nullptr) {
                dims = reader_.tensors_.dims(*t, what(input));
            }
            return t != nullptr;
        }
        std::vector<double> constant_values(int input, bool integers) const override {
            const TensorProto* t = constant(input);
            if (t == nullptr) {
                fail(concat("needs input ", input + 1));
            }
            return reader_.tensors_.values(*t, what(input),
                                           integers ? TensorReader::Kind::integer : TensorReader::Kind::real);
        }
        [[noreturn]] void fail(const std::string& problem) const override { reader_.fail_node(node_, index_, problem); }

    private:
        const TensorProto* constant(int input) const {
            if (input < 0) {
                fail(concat("is asked for input ", input, " by its importer; inputs count from 0"));
            }
            return reader_.constant(node_, index_, input, false);
        }
        std::string what(int input) const { return concat(describe(node_, index_), ": input ", input + 1); }

        GraphReader& reader_;
        const NodeProto& node_;
        int index_;
    };

    /// The operators the layers' importers read, for messages.
    static std::string imported_ops() {
        std::string ops;
        for (const std::string& op : onnx_importer_ops()) {
            ops += (ops.empty() ? "" : ", ") + op;
        }
        return ops.empty() ? std::string("none") : ops;
    }

    /// Errors a layer's constructor raises get the file and node in front.
    template <class F>
    void with_context(const NodeProto& node, int index, F&& f) {
        try {
            f();
        } catch (const InvalidArgument& e) {
            const std::string message = e.what();
            if (message.rfind("load_onnx:", 0) == 0) {
                throw;
            }
            fail_node(node, index, "cannot be built: " + message);
        }
    }

    [[noreturn]] void fail(const std::string& problem) const { throw_invalid("load_onnx: '", file_, "' ", problem); }
    [[noreturn]] void fail_node(const NodeProto& node, int index, const std::string& problem) const {
        throw_invalid("load_onnx: '", file_, "': ", describe(node, index), " ", problem);
    }

    void check_opset() {
        bool found = false;
        for (const auto& opset : model_.opset_import()) {
            if (opset.domain().empty() || opset.domain() == "ai.onnx") {
                found = true;
                opset_ = opset.version();
            }
        }
        if (!found || opset_ < 9 || opset_ > 18) {
            fail(concat("imports opset ", found ? std::to_string(opset_) : std::string("(none)"),
                        " of the default domain; nndl reads opsets 9 to 18"));
        }
    }

    void read_input() {
        const ::onnx::ValueInfoProto* data = nullptr;
        for (const auto& in : graph_.input()) {
            if (constants_.count(in.name()) == 0) {
                if (data != nullptr) {
                    fail(concat("has inputs '", printable(data->name()), "' and '", printable(in.name()),
                                "'; nndl networks take one"));
                }
                data = &in;
            }
        }
        if (data == nullptr) {
            fail("has no graph input");
        }
        if (!data->type().has_tensor_type()) {
            fail(concat("input '", printable(data->name()), "' is not a tensor"));
        }
        const auto& tensor = data->type().tensor_type();
        const int rank = tensor.shape().dim_size();
        // Whole numbers [batch, steps]: tokens for an embedding (PyTorch's nn.Embedding).
        const bool tokens = (tensor.elem_type() == TensorProto::INT64 || tensor.elem_type() == TensorProto::INT32) &&
                            rank == 2;
        if (tensor.elem_type() != TensorProto::FLOAT && tensor.elem_type() != TensorProto::DOUBLE && !tokens) {
            fail(concat("input '", printable(data->name()), "' has element type ", tensor.elem_type(),
                        "; expected float or double (or int64 tokens, [batch, steps])"));
        }
        if (rank != 2 && rank != 3 && rank != 4) {
            fail(concat("input '", printable(data->name()), "' has ", rank,
                        " dimensions; expected [batch, features], [batch, steps, features] or [batch, channels, "
                        "height, width]"));
        }
        std::vector<Index> dims;
        for (int i = 1; i < rank; ++i) {
            const auto& dim = tensor.shape().dim(i);
            if ((rank == 3 || tokens) && i == 1 && !dim.has_dim_value()) {  // free steps: built for 1 (set_steps)
                dims.push_back(1);
                free_steps_ = true;
                continue;
            }
            if (!dim.has_dim_value() || dim.dim_value() < 1 || dim.dim_value() > Shape::max_values) {
                fail(concat("input '", printable(data->name()), "' has dimension ", i, " = ",
                            dim.has_dim_value() ? std::to_string(dim.dim_value()) : "'" + printable(dim.dim_param()) + "'",
                            "; expected a fixed size of at least 1"));
            }
            dims.push_back(static_cast<Index>(dim.dim_value()));
        }
        const Shape shape = tokens      ? Shape::sequence(dims[0], 1)
                            : rank == 2 ? Shape(dims[0])
                            : rank == 3 ? Shape::sequence(dims[0], dims[1])
                                        : Shape(dims[0], dims[1], dims[2]);
        if (!shape.valid() || shape.size() > max_onnx_tensor_values) {
            fail(concat("input '", printable(data->name()), "' holds more than ", max_onnx_tensor_values,
                        " values per example"));
        }
        budget_.add_input(shape, concat("load_onnx: '", file_, "': input '", printable(data->name()), "'"));
        network_ = Network<Scalar>(shape);
        image_ = rank == 4;
        if (branching_) {
            graph_builder_ = std::make_unique<Graph<Scalar>>(shape);
            node_ = graph_builder_->input();
            tensor_states_[data->name()] = TensorState{node_, image_};
        }
        sequence_ = tokens ? Sequence::tokens : rank == 3 ? Sequence::batch_major : Sequence::none;
        const auto& batch = tensor.shape().dim(0);
        input_batch_ = batch.has_dim_value() && batch.dim_value() >= 1 ? batch.dim_value() : 0;
        current_ = data->name();
        written_.insert(current_);
    }

    /// A constant input of a node, by position; nullptr when the node has fewer inputs.
    /// The most inputs and outputs ONNX allows each operator nndl reads, so a node the
    /// checker would refuse is not half-read.
    void check_arity(const NodeProto& node, int index) const {
        static const std::map<std::string, std::pair<int, int>> limits{
            {"Gemm", {3, 1}}, {"MatMul", {2, 1}}, {"Add", {2, 1}}, {"Conv", {3, 1}}, {"MaxPool", {1, 2}},
            {"AveragePool", {1, 1}}, {"GlobalAveragePool", {1, 1}}, {"BatchNormalization", {5, 3}},
            {"Relu", {1, 1}}, {"Sigmoid", {1, 1}}, {"Tanh", {1, 1}}, {"LeakyRelu", {1, 1}}, {"Softmax", {1, 1}},
            {"Flatten", {1, 1}}, {"Reshape", {2, 1}}, {"Transpose", {1, 1}}, {"Pad", {4, 1}}, {"Identity", {1, 1}},
            {"Dropout", {3, 2}}, {"Sub", {2, 1}}, {"Div", {2, 1}}, {"Mul", {2, 1}}, {"LSTM", {8, 3}},
            {"GRU", {6, 2}}, {"RNN", {6, 2}}, {"Squeeze", {2, 1}}, {"Gather", {2, 1}}, {"Resize", {4, 1}}};
        const auto found = limits.find(node.op_type());
        if (found != limits.end() &&
            (node.input_size() > found->second.first || node.output_size() > found->second.second)) {
            fail_node(node, index, concat("has ", node.input_size(), " inputs and ", node.output_size(),
                                          " outputs; ", node.op_type(), " takes at most ", found->second.first,
                                          " and ", found->second.second));
        }
    }

    /// A constant by a new name (Constant, Identity of a constant).
    void define(const NodeProto& node, int index, const std::string& name, const TensorProto* tensor) {
        if (name.empty() || written_.count(name) != 0 || !constants_.emplace(name, tensor).second) {
            fail_node(node, index, concat("writes '", printable(name), "', a name the graph already has"));
        }
    }

    const TensorProto* constant(const NodeProto& node, int index, int input, bool required) const {
        if (input >= node.input_size() || node.input(input).empty()) {
            if (required) {
                fail_node(node, index, concat("needs input ", input + 1));
            }
            return nullptr;
        }
        const auto found = constants_.find(node.input(input));
        if (found == constants_.end()) {
            fail_node(node, index, concat("reads '", printable(node.input(input)), "' as input ", input + 1,
                                          "; nndl needs an initializer or Constant there"));
        }
        return found->second;
    }

    std::vector<double> values(const NodeProto& node, int index, const TensorProto& t, const char* what,
                               const std::vector<std::int64_t>& expected) const {
        const std::vector<std::int64_t> dims = tensors_.dims(t, concat(describe(node, index), ": ", what));
        if (dims != expected) {
            std::string want;
            for (const auto d : expected) {
                want += (want.empty() ? "" : ", ") + std::to_string(d);
            }
            std::string got;
            for (const auto d : dims) {
                got += (got.empty() ? "" : ", ") + std::to_string(d);
            }
            fail_node(node, index, concat(what, " has shape [", got, "], expected [", want, "]"));
        }
        return tensors_.values(t, concat(describe(node, index), ": ", what));
    }

    std::int64_t int_attribute(const NodeProto& node, int index, const char* name, std::int64_t fallback) const {
        const AttributeProto* a = find_attribute(node, name);
        if (a == nullptr) {
            return fallback;
        }
        if (a->type() != AttributeProto::INT) {
            fail_node(node, index, concat("attribute '", name, "' is not an integer"));
        }
        return a->i();
    }
    double float_attribute(const NodeProto& node, int index, const char* name, double fallback) const {
        const AttributeProto* a = find_attribute(node, name);
        if (a == nullptr) {
            return fallback;
        }
        if (a->type() != AttributeProto::FLOAT) {
            fail_node(node, index, concat("attribute '", name, "' is not a number"));
        }
        return shortest_decimal(a->f());
    }
    std::vector<std::int64_t> ints_attribute(const NodeProto& node, int index, const char* name,
                                             std::vector<std::int64_t> fallback) const {
        const AttributeProto* a = find_attribute(node, name);
        if (a == nullptr) {
            return fallback;
        }
        if (a->type() != AttributeProto::INTS) {
            fail_node(node, index, concat("attribute '", name, "' is not a list of integers"));
        }
        return {a->ints().begin(), a->ints().end()};
    }

    void require_image(const NodeProto& node, int index) {
        if (!image_) {
            fail_node(node, index, "needs a [batch, channels, height, width] input, but its input is flat");
        }
    }

    /// The ONNX position of each of nndl's flat inputs (channel-major after a Flatten).
    Index onnx_position(Index j) const {
        return flat_order_.empty() ? j : flat_order_[static_cast<std::size_t>(j)];
    }

    struct Pending {
        enum class Kind { none, dense, conv } kind = Kind::none;
        Matrix<double> weights;  // nndl's layout
        Matrix<double> bias;
        Window kernel{1};
        Stride stride{1};
        Padding padding;
        std::string output;       // the tensor the layer's output is known by
        std::string node;         // the node that began the layer, for messages
        bool bias_allowed = false;  // a MatMul without bias: the next Add may bring it
        bool has_activation = false;
        bool per_step = false;    // a MatMul on a sequence: a SequenceDense layer
        Activation activation = Activation::identity;
    };

    void read_node(const NodeProto& node, int index) {
        const std::string& op = node.op_type();
        if (!node.domain().empty() && node.domain() != "ai.onnx") {
            fail_node(node, index, concat("is in domain '", printable(node.domain()),
                                          "'; nndl reads the default domain only"));
        }
        if (op == "Constant") {
            const AttributeProto* value = find_attribute(node, "value");
            if (value == nullptr || value->type() != AttributeProto::TENSOR || node.output_size() != 1) {
                fail_node(node, index, "has no 'value' tensor; nndl reads Constant nodes with a tensor value only");
            }
            define(node, index, node.output(0), &value->t());
            return;
        }
        if (op == "Identity" && node.input_size() == 1 && node.output_size() == 1 && constants_.count(node.input(0))) {
            define(node, index, node.output(0), constants_.at(node.input(0)));  // PyTorch names shared weights so
            return;
        }
        if ((op == "Add" || op == "Mul") && node.input_size() == 2 &&
            (node.input(1) == current_ || (branching_ && tensor_states_.count(node.input(1)) != 0)) &&
            node.input(0) != current_ && constants_.count(node.input(0)) != 0) {
            NodeProto swapped = node;  // Add(bias, h) is Add(h, bias): the chain's tensor first
            swapped.set_input(0, node.input(1));
            swapped.set_input(1, node.input(0));
            read_node(swapped, index);
            return;
        }
        if (read_shape_arithmetic(node, index)) {
            return;
        }
        if (op == "Gather" && sequence_ == Sequence::tokens && node.input_size() == 2 && node.input(1) == current_ &&
            constants_.count(node.input(0)) != 0 && node.output_size() == 1) {
            flush();
            with_context(node, index, [&] { read_embedding(node, index); });
            return;
        }
        if (sequence_ == Sequence::tokens && op != "Reshape" && op != "Cast" && op != "Identity") {
            fail_node(node, index, "reads tokens (whole numbers, [batch, steps]); nndl reads them only as the indices "
                                   "of a Gather from an embedding table");
        }
        if (recurrent_.active && node.input_size() > 0 && !node.input(0).empty() &&
            (node.input(0) == recurrent_.all_steps || node.input(0) == recurrent_.last_step)) {
            with_context(node, index, [&] { settle_recurrent(node.input(0) == recurrent_.last_step); });
        }
        if ((op == "Sub" || op == "Div") && node.input_size() == 2 && node.input(1) == current_ &&
            constants_.count(node.input(0)) != 0) {
            fail_node(node, index, concat("computes constant ", op == "Sub" ? "- " : "/ ", "'", printable(current_),
                                          "'; nndl reads ", op, " with the previous output first (x - c, x / c)"));
        }
        if (branching_ && (op == "Add" || op == "Mul" || op == "Sum" || op == "Concat") && node.input_size() >= 2 &&
            std::none_of(node.input().begin(), node.input().end(),
                         [&](const std::string& in) { return in.empty() || constants_.count(in) != 0; })) {
            read_merge(node, index);
            return;
        }
        if (branching_ && node.input_size() > 0 && node.input(0) != current_) {
            switch_to(node, index, node.input(0));
        }
        if (branching_ && consumers_[current_] > 1) {  // others read it too: nothing may fuse into its layer
            leave_current(node, index);
        }
        if (node.input_size() == 0 || node.input(0) != current_) {
            fail_node(node, index, concat("reads '", printable(node.input_size() > 0 ? node.input(0) : std::string()),
                                          "', which is not the previous node's output '", printable(current_),
                                          "' (and the file does not branch: a name no node writes?)"));
        }
        const bool recurrent = op == "LSTM" || op == "GRU" || op == "RNN";  // Y may be left out for Y_h
        if (node.output_size() < 1 || (node.output(0).empty() && !(recurrent && node.output_size() > 1))) {
            fail_node(node, index, "has no output");
        }
        check_arity(node, index);
        write_outputs(node, index);
        const std::string output = node.output(0);
        if (op == "Add" && pending_.kind == Pending::Kind::dense && pending_.bias_allowed) {
            const TensorProto* b = constant(node, index, 1, true);
            const Index units = pending_.weights.rows();
            const std::vector<std::int64_t> dims = tensors_.dims(*b, describe(node, index) + ": bias");
            if (dims != std::vector<std::int64_t>{units} && dims != std::vector<std::int64_t>{1, units}) {
                fail_node(node, index, concat("adds a tensor that is not a bias of ", units, " values"));
            }
            const std::vector<double> v = tensors_.values(*b, describe(node, index) + ": bias");
            for (Index u = 0; u < units; ++u) {
                pending_.bias(u, 0) = v[static_cast<std::size_t>(u)];
            }
            pending_.bias_allowed = false;
            current_ = output;
            return;
        }
        if (const std::optional<Activation> activation = activation_of(node, index)) {
            if (zero_padding_ && (*activation == Activation::sigmoid || *activation == Activation::softmax)) {
                // ONNX pads with 0, then applies it (sigmoid(0) = 0.5 at the border); nndl's
                // Conv would pad after it. Activations that keep 0 at 0 commute with the Pad.
                fail_node(node, index, concat("applies ", to_string(*activation), " between a Pad and the Conv or "
                                              "AveragePool it pads, which changes the padded zeros; nndl reads "
                                              "only activations that keep 0 at 0 there"));
            }
            if (pending_.kind != Pending::Kind::none && !pending_.has_activation) {
                pending_.activation = *activation;
                pending_.has_activation = true;
                pending_.bias_allowed = false;
            } else {
                flush();
                if (*activation == Activation::softmax && image_) {
                    fail_node(node, index, "applies softmax to an image; nndl's softmax takes flat [batch, n] input");
                }
                add_layer(make_activation_layer<Scalar>(output_shape(), *activation));
            }
            current_ = output;
            return;
        }
        flush();
        if (op == "LSTM" || op == "GRU" || op == "RNN") {
            read_recurrent(node, index);
            return;
        }
        if (sequence_ != Sequence::none && read_sequence_node(node, index)) {
            current_ = output;
            return;
        }
        if (op == "Sub" || op == "Div" || op == "Mul" || op == "Add") {
            read_normalization(node, index);
            current_ = output;
            return;
        }
        if (op == "Identity" || op == "Dropout") {
            if (op == "Dropout" && node.input_size() > 2 && !node.input(2).empty()) {
                const TensorProto* mode = constant(node, index, 2, true);
                if (tensors_.values(*mode, describe(node, index) + ": training_mode", TensorReader::Kind::boolean) !=
                    std::vector<double>{0.0}) {
                    fail_node(node, index, "is in training mode; nndl reads models for inference");
                }
            }
            current_ = output;
            return;
        }
        if (zero_padding_ && op != "Conv" && op != "AveragePool") {
            fail_node(node, index, "follows a Pad; nndl reads a Pad only before a Conv or an AveragePool, "
                                   "whose padding it becomes");
        }
        if (op == "Pad") {
            read_pad(node, index);
            current_ = output;
            return;
        }
        if (channels_last_ && op != "Flatten" && op != "Reshape") {
            fail_node(node, index, "follows a Transpose to [batch, height, width, channels]; nndl reads only a "
                                   "Flatten or Reshape to [batch, features] there");
        }
        if (op == "Transpose") {
            // Transpose to NHWC, then Flatten: nndl's own order (what save_onnx writes
            // where a flat layer other than a dense one follows an image).
            if (!image_ || ints_attribute(node, index, "perm", {}) != std::vector<std::int64_t>{0, 2, 3, 1}) {
                fail_node(node, index, "is not the Transpose of an image to [batch, height, width, channels] (perm "
                                       "0, 2, 3, 1) before a Flatten, the one transpose nndl reads");
            }
            channels_last_ = true;
            current_ = output;
            return;
        }
        if (op == "Flatten" || op == "Reshape") {
            read_flatten(node, index);
            current_ = output;
            return;
        }
        if (op == "Gemm" || op == "MatMul") {
            read_dense(node, index);
            current_ = output;
            return;
        }
        if (op == "Conv") {
            read_conv(node, index);
            current_ = output;
            return;
        }
        if (op == "MaxPool" || op == "AveragePool") {
            read_pool(node, index);
            current_ = output;
            return;
        }
        if (op == "BatchNormalization") {
            read_batch_norm(node, index);
            current_ = output;
            return;
        }
        if (const OnnxImporter<Scalar> importer = onnx_importer<Scalar>(op)) {  // a layer's own importer
            const NodeView view(*this, node, index);
            std::unique_ptr<Layer<Scalar>> layer = importer(view);
            if (!layer) {
                fail_node(node, index, "was given no layer by the importer of its operator");
            }
            add_layer(std::move(layer));
            current_ = output;
            return;
        }
        fail_node(node, index,
                  "has an operator nndl has no layer for; supported: Gemm, MatMul (+ Add), Conv, MaxPool, AveragePool, "
                  "BatchNormalization, Relu, LeakyRelu (alpha 0.01), Sigmoid, Tanh, Softmax, "
                  "Flatten, Reshape (to [batch, features]), Transpose (to NHWC before a Flatten), Pad (zeros, before "
                  "Conv or AveragePool), Sub, Div, Mul, Add (a constant per feature of flat input), Add, Sum, Mul, "
                  "Concat (of computed tensors: a graph), Identity, Dropout, Constant, LSTM, GRU, RNN, Gather over "
                  "sequences, and through the layers' own importers: " + imported_ops());
    }

    /// Records a node's outputs as written; ONNX writes each name once, and an optional
    /// output left out is "".
    void write_outputs(const NodeProto& node, int index) {
        for (const auto& name : node.output()) {
            if (name.empty()) {
                continue;
            }
            if (constants_.count(name) != 0 || !written_.insert(name).second) {
                fail_node(node, index, concat("writes '", printable(name), "', a name the graph already has"));
            }
        }
    }

    /// Whether every value of `t` is 0 (`what` names it in a reader's error).
    bool all_zero(const TensorProto& t, const std::string& what) const {
        const std::vector<double> v = tensors_.values(t, what);
        return std::all_of(v.begin(), v.end(), [](double x) { return x == 0.0; });
    }

    /// Whether `name` is zeros: a zero state followed from the input's shape, or a constant
    /// of zeros only.
    bool is_zero(const std::string& name, const std::string& what) const {
        if (zero_states_.count(name) != 0) {
            return true;
        }
        const auto found = constants_.find(name);
        return found != constants_.end() && all_zero(*found->second, what);
    }

    /// The nodes that make a recurrent operator's zero start state from the input's shape,
    /// as torch.onnx.export writes them (Shape, Gather, Unsqueeze, Concat, then a
    /// ConstantOfShape of zeros): followed as shape arithmetic, never as layers. False for
    /// a node that is not one of them.
    bool read_shape_arithmetic(const NodeProto& node, int index) {
        const std::string& op = node.op_type();
        static const std::set<std::string> shape_ops{"Shape", "Gather",  "Unsqueeze", "Concat", "Cast",
                                                     "Slice", "Squeeze", "Reshape",   "Expand", "ConstantOfShape"};
        if (shape_ops.count(op) == 0 || node.output_size() != 1 || node.input_size() < 1) {
            return false;
        }
        if (op == "Shape") {
            if (node.input_size() != 1 || written_.count(node.input(0)) == 0) {
                return false;
            }
        } else {
            bool from_shape = false;
            for (const auto& in : node.input()) {
                if (shape_values_.count(in) != 0 || zero_states_.count(in) != 0) {
                    from_shape = true;
                } else if (!in.empty() && constants_.count(in) == 0) {
                    return false;
                }
            }
            if (!from_shape) {
                return false;
            }
        }
        const std::string& output = node.output(0);
        if (output.empty()) {
            fail_node(node, index, "writes '', a name the graph already has");
        }
        write_outputs(node, index);
        if (op == "ConstantOfShape") {
            const AttributeProto* value = find_attribute(node, "value");
            if (value != nullptr) {
                if (value->type() != AttributeProto::TENSOR) {
                    fail_node(node, index, "has a 'value' that is not a tensor");
                }
                if (!all_zero(value->t(), describe(node, index) + ": value")) {
                    fail_node(node, index, "fills a tensor with a value other than 0; nndl reads ConstantOfShape "
                                           "only as a recurrent operator's zero start state");
                }
            }
            zero_states_.insert(output);
        } else if (op != "Shape" && op != "Concat" && zero_states_.count(node.input(0)) != 0) {
            zero_states_.insert(output);  // a slice, reshape or expansion of zeros: zeros
        } else if (op == "Concat" && std::all_of(node.input().begin(), node.input().end(), [&](const std::string& in) {
                       return zero_states_.count(in) != 0;
                   })) {
            zero_states_.insert(output);
        } else if (op == "Expand") {
            if (!is_zero(node.input(0), describe(node, index) + ": input")) {
                fail_node(node, index, "expands a tensor other than zeros; nndl reads Expand only as a recurrent "
                                       "operator's zero start state");
            }
            zero_states_.insert(output);
        } else {
            shape_values_.insert(output);
        }
        return true;
    }

    /// ONNX's LSTM, GRU or RNN, forward, with the activations nndl's layers have: kept in
    /// recurrent_ until the next node shows whether it reads every step (Y) or the last (Y_h).
    void read_recurrent(const NodeProto& node, int index) {
        const std::string& op = node.op_type();
        if (sequence_ != Sequence::time_major) {
            fail_node(node, index, sequence_ == Sequence::batch_major
                                       ? "reads a [batch, steps, features] sequence; ONNX's recurrent operators read "
                                         "[steps, batch, features]: Transpose it first (perm 1, 0, 2)"
                                       : "reads a tensor that is not a sequence in [steps, batch, features] order");
        }
        const std::int64_t units = int_attribute(node, index, "hidden_size", 0);
        if (units < 1 || units > max_onnx_tensor_values) {
            fail_node(node, index, concat("has hidden_size ", units, "; expected 1 to ", max_onnx_tensor_values));
        }
        if (const AttributeProto* direction = find_attribute(node, "direction")) {
            if (direction->s() != "forward") {
                fail_node(node, index, concat("runs in direction '", printable(direction->s()),
                                              "'; nndl's recurrent layers run forward"));
            }
        }
        for (const char* unsupported : {"clip", "activation_alpha", "activation_beta"}) {
            if (find_attribute(node, unsupported) != nullptr) {
                fail_node(node, index, concat("has attribute '", unsupported, "', which nndl's recurrent layers lack"));
            }
        }
        if (int_attribute(node, index, "layout", 0) != 0) {
            fail_node(node, index, "has layout 1 (batch first); nndl reads layout 0, [steps, batch, features]");
        }
        if (op == "LSTM" && int_attribute(node, index, "input_forget", 0) != 0) {
            fail_node(node, index, "couples its input and forget gates (input_forget 1); nndl's LSTM does not");
        }
        if (op == "GRU" && int_attribute(node, index, "linear_before_reset", 0) != 1) {
            fail_node(node, index, "has linear_before_reset 0; nndl's GRU is PyTorch's form, linear_before_reset 1");
        }
        const std::vector<std::string> expected = op == "LSTM"  ? std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"}
                                                  : op == "GRU" ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                                : std::vector<std::string>{"Tanh"};
        if (const AttributeProto* activations = find_attribute(node, "activations")) {
            const std::vector<std::string> given(activations->strings().begin(), activations->strings().end());
            if (given != expected) {
                std::string want;
                for (const auto& name : expected) {
                    want += (want.empty() ? "" : ", ") + name;
                }
                fail_node(node, index, concat("has activations other than ", want, ", which nndl's layer computes"));
            }
        }
        if (node.input_size() > 4 && !node.input(4).empty()) {
            fail_node(node, index, "gives sequence_lens; the sequences of an nndl batch share one length");
        }
        for (int start = 5; start < std::min(node.input_size(), op == "LSTM" ? 7 : 6); ++start) {
            const std::string& name = node.input(start);
            if (!name.empty() && !is_zero(name, describe(node, index) + ": start state")) {
                fail_node(node, index, concat("starts from '", printable(name), "', a state other than zeros; nndl's "
                                              "loaded recurrent layers start from zeros (set_initial_state)"));
            }
        }
        if (op == "LSTM" && node.input_size() > 7 && !node.input(7).empty()) {
            fail_node(node, index, "has peephole weights (P), which nndl's LSTM lacks");
        }
        const Index gates = op == "LSTM" ? 4 : op == "GRU" ? 3 : 1;
        const Index rows = gates * units;
        const Index features = output_shape().features();
        // The layer's own bound (2^26 weights, LSTM::max_weights and its siblings), before
        // W and R are read.
        if (units > (Index(1) << 26) / gates / (units + features + 2)) {
            fail_node(node, index, concat("has hidden_size ", units, " over ", features, " features: more than ",
                                          Index(1) << 26, " weights, the most an nndl recurrent layer has"));
        }
        const std::vector<double> w = values(node, index, *constant(node, index, 1, true), "W", {1, rows, features});
        const std::vector<double> r = values(node, index, *constant(node, index, 2, true), "R", {1, rows, units});
        std::vector<double> b(static_cast<std::size_t>(2 * rows), 0.0);
        if (const TensorProto* bias = constant(node, index, 3, false)) {
            b = values(node, index, *bias, "B", {1, 2 * rows});
        }
        const std::vector<Index> blocks = onnx_gate_blocks(op == "LSTM" ? "lstm" : op == "GRU" ? "gru" : "rnn");
        PendingRecurrent pending;
        pending.op = op;
        pending.units = units;
        pending.input_weights.resize(rows, features);
        pending.recurrent_weights.resize(rows, units);
        pending.input_bias.resize(rows, 1);
        pending.recurrent_bias.resize(rows, 1);
        for (Index q = 0; q < rows; ++q) {
            const Index row = blocks[static_cast<std::size_t>(q / units)] * units + q % units;
            for (Index j = 0; j < features; ++j) {
                pending.input_weights(row, j) = w[static_cast<std::size_t>(q * features + j)];
            }
            for (Index j = 0; j < units; ++j) {
                pending.recurrent_weights(row, j) = r[static_cast<std::size_t>(q * units + j)];
            }
            pending.input_bias(row, 0) = b[static_cast<std::size_t>(q)];
            pending.recurrent_bias(row, 0) = b[static_cast<std::size_t>(rows + q)];
        }
        pending.all_steps = node.output(0);
        pending.last_step = node.output_size() > 1 ? node.output(1) : std::string();
        if (pending.all_steps.empty() && pending.last_step.empty()) {
            fail_node(node, index, "names neither Y nor Y_h; nndl reads one of them");
        }
        pending.node = describe(node, index);
        pending.active = true;
        recurrent_ = std::move(pending);
        current_ = recurrent_.all_steps.empty() ? recurrent_.last_step : recurrent_.all_steps;
    }

    /// Builds the recurrent layer waiting in recurrent_: its output is the last step (Y_h)
    /// when `last`, else every step (Y).
    void settle_recurrent(bool last) {
        PendingRecurrent pending = std::move(recurrent_);
        recurrent_ = PendingRecurrent{};
        const Shape in = output_shape();
        std::unique_ptr<Layer<Scalar>> layer;
        std::vector<std::pair<const char*, Matrix<double>>> given;  // nndl's parameters by name
        try {
            if (pending.op == "LSTM") {
                layer = std::make_unique<LSTM<Scalar>>(in, pending.units, !last);
                Matrix<double> w(pending.input_weights.rows(), pending.units + in.features());
                w << pending.recurrent_weights, pending.input_weights;  // nndl's columns: [a; x]
                given = {{"W", w}, {"b", pending.input_bias + pending.recurrent_bias}};
            } else if (pending.op == "GRU") {
                layer = std::make_unique<GRU<Scalar>>(in, pending.units, !last);
                given = {{"Wx", pending.input_weights}, {"Wh", pending.recurrent_weights},
                          {"bx", pending.input_bias}, {"bh", pending.recurrent_bias}};
            } else {
                layer = std::make_unique<SimpleRNN<Scalar>>(in, pending.units, !last);
                given = {{"Wax", pending.input_weights}, {"Waa", pending.recurrent_weights},
                          {"ba", pending.input_bias + pending.recurrent_bias}};
            }
        } catch (const std::invalid_argument& e) {
            throw_invalid("load_onnx: '", file_, "': ", pending.node, " cannot be built: ", e.what());
        }
        for (const auto& p : layer->parameters()) {
            for (const auto& [name, value] : given) {
                if (p.name == name) {
                    *p.value = value.template cast<Scalar>();
                }
            }
        }
        add_layer(std::move(layer));
        current_ = last ? pending.last_step : pending.all_steps;
        sequence_ = last ? Sequence::last_state : Sequence::with_directions;
    }

    /// The operators that change only how a sequence is held: Transpose of its first two
    /// axes, Squeeze of a recurrent operator's directions axis, Gather of the last state
    /// (h_n[-1]). Refuses the rest, except activations, MatMul, Identity and Dropout, which
    /// act on a sequence as on flat input (false: read them as usual).
    bool read_sequence_node(const NodeProto& node, int index) {
        const std::string& op = node.op_type();
        if (op == "Transpose" && (sequence_ == Sequence::batch_major || sequence_ == Sequence::time_major) &&
            ints_attribute(node, index, "perm", {}) == std::vector<std::int64_t>{1, 0, 2}) {
            sequence_ = sequence_ == Sequence::batch_major ? Sequence::time_major : Sequence::batch_major;
            return true;
        }
        if (op == "Squeeze" && (sequence_ == Sequence::with_directions || sequence_ == Sequence::last_state)) {
            std::vector<std::int64_t> axes;
            if (opset_ >= 13) {
                if (const TensorProto* given = constant(node, index, 1, false)) {
                    for (const double v : tensors_.values(*given, describe(node, index) + ": axes",
                                                          TensorReader::Kind::integer)) {
                        axes.push_back(static_cast<std::int64_t>(v));
                    }
                }
            } else {
                axes = ints_attribute(node, index, "axes", {});
            }
            const std::int64_t directions = sequence_ == Sequence::with_directions ? 1 : 0;
            const std::int64_t rank = sequence_ == Sequence::with_directions ? 4 : 3;
            if (axes.size() != 1 || (axes[0] != directions && axes[0] != directions - rank)) {
                fail_node(node, index, concat("squeezes axes other than ", directions,
                                              ", the recurrent operator's directions axis"));
            }
            sequence_ = sequence_ == Sequence::with_directions ? Sequence::time_major : Sequence::none;
            return true;
        }
        if (op == "Reshape" && node.input_size() == 2) {
            // save_onnx's forms: Y to [steps, -1, units] (or [0, -1, units]), Y_h to [-1,
            // units], a one-feature sequence to [batch, steps] tokens, [0, -1].
            std::vector<std::int64_t> dims;
            for (const double v : tensors_.values(*constant(node, index, 1, true), describe(node, index) + ": shape",
                                                  TensorReader::Kind::integer)) {
                dims.push_back(static_cast<std::int64_t>(v));
            }
            const Shape shape = output_shape();
            const std::int64_t width = shape.is_sequence() ? shape.features() : shape.size();
            // A number of steps written into the file holds only where the file fixes them.
            const bool steps_fixed = !free_steps_;
            if (sequence_ == Sequence::with_directions && dims.size() == 3 &&
                (dims[0] == 0 || (steps_fixed && dims[0] == shape.steps())) &&
                dims[1] == -1 && dims[2] == width) {
                sequence_ = Sequence::time_major;
                return true;
            }
            if (sequence_ == Sequence::last_state && dims == std::vector<std::int64_t>{-1, width}) {
                sequence_ = Sequence::none;
                return true;
            }
            if (sequence_ == Sequence::batch_major && width == 1 && pending_.kind == Pending::Kind::none &&
                (dims == std::vector<std::int64_t>{0, -1} ||
                 (steps_fixed && dims == std::vector<std::int64_t>{-1, shape.steps()}))) {
                sequence_ = Sequence::tokens;
                return true;
            }
            fail_node(node, index, "reshapes a sequence other than by dropping a recurrent operator's directions axis "
                                   "or a one-feature sequence's feature axis");
        }
        if (op == "Cast" && sequence_ == Sequence::tokens) {
            const std::int64_t to = int_attribute(node, index, "to", 0);
            if (to != TensorProto::INT64 && to != TensorProto::INT32) {
                fail_node(node, index, "casts tokens to other than int64 or int32; nndl reads them as a Gather's indices");
            }
            return true;
        }
        if (op == "Gather" && sequence_ == Sequence::last_state && node.input_size() == 2 &&
            int_attribute(node, index, "axis", 0) == 0) {
            const TensorProto* which = constant(node, index, 1, true);
            const std::vector<double> at =
                tensors_.values(*which, describe(node, index) + ": indices", TensorReader::Kind::integer);
            if (!tensors_.dims(*which, describe(node, index) + ": indices").empty() || at.size() != 1 ||
                (at[0] != 0 && at[0] != -1)) {
                fail_node(node, index, "gathers other than one direction's last state (a scalar index 0 or -1)");
            }
            sequence_ = Sequence::none;
            return true;
        }
        if ((op == "MatMul" && (sequence_ == Sequence::batch_major || sequence_ == Sequence::time_major)) ||
            op == "Identity" || op == "Dropout") {
            return false;
        }
        fail_node(node, index, "acts on a sequence in a way nndl has no layer for; over sequences nndl reads LSTM, "
                               "GRU, RNN, MatMul (+ Add), Relu, LeakyRelu, Sigmoid, Tanh, Softmax (each step), "
                               "Transpose (perm 1, 0, 2), Squeeze or Reshape (the directions axis), Gather (h_n[-1], "
                               "or an embedding of tokens), Cast (of tokens), Identity and Dropout");
    }

    /// Gather(E, tokens): an Embedding whose vectors are E's rows ([vocabulary, dimensions]).
    void read_embedding(const NodeProto& node, int index) {
        check_arity(node, index);
        write_outputs(node, index);
        if (int_attribute(node, index, "axis", 0) != 0) {
            fail_node(node, index, "gathers along an axis other than 0; an embedding picks rows of its table");
        }
        const TensorProto& table = *constant(node, index, 0, true);
        const std::vector<std::int64_t> dims = tensors_.dims(table, describe(node, index) + ": table");
        if (dims.size() != 2 || dims[0] < 1 || dims[1] < 1) {
            fail_node(node, index, concat("has a table of ", dims.size(), " dimensions; expected [vocabulary, dimensions]"));
        }
        const std::vector<double> e = values(node, index, table, "table", dims);
        auto layer = std::make_unique<Embedding<Scalar>>(output_shape(), static_cast<Index>(dims[0]),
                                                         static_cast<Index>(dims[1]));
        Matrix<double> vectors(dims[1], dims[0]);  // nndl's E: one column per token
        for (Index t = 0; t < dims[0]; ++t) {
            for (Index d = 0; d < dims[1]; ++d) {
                vectors(d, t) = e[static_cast<std::size_t>(t * dims[1] + d)];
            }
        }
        *layer->parameters()[0].value = vectors.template cast<Scalar>();
        add_layer(std::move(layer));
        sequence_ = Sequence::batch_major;
        current_ = node.output(0);
    }

    /// Sub, Div, Mul or Add of a constant per feature of flat input: a Normalization layer,
    /// (x - c) / s for Sub then Div, x * s + c (inverted) for Mul then Add. A Div right after
    /// a Sub (an Add right after a Mul) completes the layer the first one began.
    void read_normalization(const NodeProto& node, int index) {
        const std::string& op = node.op_type();
        if (image_) {
            fail_node(node, index, "acts on an image; nndl reads Sub, Div, Mul and Add of per-feature constants on "
                                   "flat [batch, n] input only");
        }
        const Index n = output_size();
        const TensorProto* t = constant(node, index, 1, true);
        const std::vector<std::int64_t> dims = tensors_.dims(*t, describe(node, index) + ": operand");
        if (dims != std::vector<std::int64_t>{n} && dims != std::vector<std::int64_t>{1, n}) {
            std::string shape;
            for (const auto d : dims) {
                shape += (shape.empty() ? "" : ", ") + std::to_string(d);
            }
            fail_node(node, index, concat("takes a constant of shape [", shape, "], expected [", n, "] or [1, ", n,
                                          "]: one value per feature"));
        }
        const std::vector<double> v = tensors_.values(*t, describe(node, index) + ": operand");
        Matrix<Scalar> operand(n, 1);
        for (Index i = 0; i < n; ++i) {
            // After a channel-major Flatten, nndl's feature i is at another ONNX position.
            const double value = v[static_cast<std::size_t>(onnx_position(i))];
            const auto scalar = static_cast<double>(static_cast<Scalar>(value));  // what the layer will hold
            const bool divisor = op == "Div" || op == "Mul";
            if (!std::isfinite(scalar) ||
                (divisor && !(scalar >= static_cast<double>(std::numeric_limits<Scalar>::min())))) {
                fail_node(node, index, concat("has ", value, " at feature ", i, "; nndl's normalization needs ",
                                              divisor ? "finite factors above 0, not subnormal" : "finite values",
                                              std::is_same_v<Scalar, float> ? " as float" : ""));
            }
            operand(i, 0) = static_cast<Scalar>(value);
        }
        const bool inverted = op == "Mul" || op == "Add";
        // It completes the normalization the node before it began only where it reads that
        // layer's output, which nothing else reads (a branch may read it too).
        const bool completes = ((op == "Div" && previous_op_ == "Sub") || (op == "Add" && previous_op_ == "Mul")) &&
                               !open_normalization_.empty() && node.input(0) == open_normalization_ &&
                               consumers_[open_normalization_] <= 1 &&
                               dynamic_cast<Normalization<Scalar>*>(last_layer_) != nullptr;
        open_normalization_.clear();
        if (completes) {
            const auto buffers = last_layer_->state();  // center, spread
            *buffers[op == "Div" ? 1 : 0].value = operand;
            return;
        }
        Matrix<Scalar> center = Matrix<Scalar>::Zero(n, 1);
        Matrix<Scalar> spread = Matrix<Scalar>::Ones(n, 1);
        (op == "Sub" || op == "Add" ? center : spread) = operand;
        add_layer(std::make_unique<Normalization<Scalar>>(Shape(n), center, spread, inverted, "onnx"));
        open_normalization_ = node.output(0);
    }

    std::optional<Activation> activation_of(const NodeProto& node, int index) const {
        const std::string& op = node.op_type();
        if (op == "Relu") {
            return Activation::relu;
        }
        if (op == "Sigmoid") {
            return Activation::sigmoid;
        }
        if (op == "Tanh") {
            return Activation::tanh;
        }
        if (op == "LeakyRelu") {
            const double alpha = float_attribute(node, index, "alpha", 0.01);
            if (!(std::abs(alpha - LeakyReLU::slope) <= 1e-7)) {  // NaN is refused too
                fail_node(node, index, concat("has alpha ", alpha, "; nndl's leaky_relu has slope ", LeakyReLU::slope));
            }
            return Activation::leaky_relu;
        }
        if (op == "Softmax" && sequence_ != Sequence::none) {
            // One step's features are the last axis, whatever the layout: axis -1 (or the
            // last one's number) normalizes each step, in every opset.
            const std::int64_t axis = int_attribute(node, index, "axis", opset_ >= 13 ? -1 : 1);
            const std::int64_t last = sequence_ == Sequence::with_directions ? 3 : 2;
            if (axis != -1 && axis != last) {
                fail_node(node, index, concat("normalizes axis ", axis, " of a sequence; nndl's softmax normalizes "
                                              "each step's features, the last axis (-1 or ", last, ")"));
            }
            return Activation::softmax;
        }
        if (op == "Softmax") {
            const bool flat_now = pending_.kind == Pending::Kind::dense || !image_;
            const std::int64_t axis = int_attribute(node, index, "axis", opset_ >= 13 ? -1 : 1);
            if (!flat_now || (axis != 1 && axis != -1)) {
                fail_node(node, index, concat("normalizes axis ", axis, flat_now ? "" : " of an image",
                                              "; nndl's softmax normalizes the features of [batch, n] input"));
            }
            return Activation::softmax;
        }
        return std::nullopt;
    }

    void read_flatten(const NodeProto& node, int index) {
        const Shape shape = output_shape();
        if (node.op_type() == "Flatten") {
            const std::int64_t axis = int_attribute(node, index, "axis", 1);
            if (axis != 1 && !(axis == -1 && !image_)) {
                fail_node(node, index, concat("flattens from axis ", axis, "; nndl keeps the batch first (axis 1)"));
            }
        } else {
            const TensorProto* target = constant(node, index, 1, true);
            const std::vector<double> dims =
                tensors_.values(*target, describe(node, index) + ": shape", TensorReader::Kind::integer);
            const double features = static_cast<double>(shape.size());
            // [-1, n], [0, n], [0, -1]; and [b, n] or [b, -1] with a fixed batch b, which are the
            // same where ONNX runs the model (batch b).
            const double batch = static_cast<double>(input_batch_);  // 0: not fixed
            const bool batch_ok = dims.size() == 2 && (dims[0] == 0 || (dims[0] >= 1 && dims[0] == batch));
            const bool to_flat = dims.size() == 2 && int_attribute(node, index, "allowzero", 0) == 0 &&
                                 ((dims[1] == features && (dims[0] == -1 || batch_ok)) || (dims[1] == -1 && batch_ok));
            const bool to_image = dims.size() == 4 && shape.is_flat() && !image_ && dims[1] == features &&
                                  dims[2] == 1 && dims[3] == 1 && (dims[0] == -1 || dims[0] == 0);
            if (to_image) {
                // [batch, n] as n channels of 1 x 1. nndl's entry j is ONNX's feature
                // onnx_position(j); an image needs them in ONNX's order, which holds only
                // where the flattening kept the order (one channel, or 1 x 1 pixels).
                for (Index j = 0; j < static_cast<Index>(flat_order_.size()); ++j) {
                    if (flat_order_[static_cast<std::size_t>(j)] != j) {
                        fail_node(node, index, "reshapes features that were an image flattened in ONNX's channel-major "
                                               "order back to an image; nndl reads that only where the two orders "
                                               "agree (one channel, or 1 x 1 pixels)");
                    }
                }
                flat_order_.clear();
                image_ = true;
                return;
            }
            if (!to_flat) {
                std::string target_text;
                for (const double d : dims) {
                    target_text += (target_text.empty() ? "" : ", ") + std::to_string(static_cast<long long>(d));
                }
                fail_node(node, index, concat("reshapes to [", target_text, "]; nndl reads a Reshape to [batch, ",
                                              shape.size(), "] only ([-1, ", shape.size(), "], [0, -1], ...; "
                                              "export with torch.flatten(x, 1) or nn.Flatten)"));
            }
        }
        if (image_ && !shape.is_flat() && !channels_last_) {
            if (shape.size() > max_onnx_tensor_values) {  // no dense layer could follow
                fail_node(node, index, concat("flattens ", shape.size(), " values per example; nndl reads at most ",
                                              max_onnx_tensor_values));
            }
            flat_order_ = channel_major_positions(shape);
        } else if (image_) {
            flat_order_.clear();  // n channels of 1 x 1 (or after a Transpose to NHWC): nndl's order is ONNX's
        }
        image_ = false;
        channels_last_ = false;
    }

    void read_dense(const NodeProto& node, int index) {
        if (node.op_type() == "MatMul" && node.input_size() != 2) {
            fail_node(node, index, concat("has ", node.input_size(), " inputs; MatMul takes 2"));
        }
        if (image_) {
            fail_node(node, index, "multiplies a [batch, channels, height, width] tensor; Flatten it first");
        }
        const bool per_step = sequence_ != Sequence::none;
        const Index inputs = per_step ? output_shape().features() : output_size();
        const TensorProto* b = constant(node, index, 1, true);
        const std::vector<std::int64_t> dims = tensors_.dims(*b, describe(node, index) + ": weights");
        bool transposed = false;  // true: the weights are [units, inputs]
        if (node.op_type() == "Gemm") {
            if (int_attribute(node, index, "transA", 0) != 0 || float_attribute(node, index, "alpha", 1.0) != 1.0 ||
                float_attribute(node, index, "beta", 1.0) != 1.0) {
                fail_node(node, index, "has transA, alpha or beta other than 0, 1, 1; nndl reads Y = X B + C");
            }
            transposed = int_attribute(node, index, "transB", 0) != 0;
        }
        if (dims.size() != 2 || dims[transposed ? 1 : 0] != inputs || dims[transposed ? 0 : 1] < 1) {
            fail_node(node, index, concat("has weights of ", dims.size(), " dimensions that do not take ", inputs,
                                          " inputs (expected [", transposed ? "units, " : "",
                                          inputs, transposed ? "]" : ", units]", ")"));
        }
        const Index units = static_cast<Index>(dims[transposed ? 0 : 1]);
        const std::vector<double> w = values(node, index, *b, "weights", dims);
        pending_ = Pending{};
        pending_.kind = Pending::Kind::dense;
        pending_.per_step = per_step;
        pending_.node = describe(node, index);
        pending_.weights.resize(units, inputs);
        for (Index u = 0; u < units; ++u) {
            for (Index j = 0; j < inputs; ++j) {
                const Index k = onnx_position(j);
                pending_.weights(u, j) = w[static_cast<std::size_t>(transposed ? u * inputs + k : k * units + u)];
            }
        }
        pending_.bias = Matrix<double>::Zero(units, 1);
        if (const TensorProto* c = constant(node, index, 2, false)) {
            const std::vector<std::int64_t> cdims = tensors_.dims(*c, describe(node, index) + ": bias");
            std::int64_t count = 1;
            for (const auto d : cdims) {
                count *= d;
            }
            if (cdims.size() > 2 || (count != units && count != 1) || (cdims.size() == 2 && cdims[0] != 1)) {
                fail_node(node, index, concat("has a bias that is not ", units, " values or one"));
            }
            const std::vector<double> v = tensors_.values(*c, describe(node, index) + ": bias");
            for (Index u = 0; u < units; ++u) {
                pending_.bias(u, 0) = v[count == 1 ? 0 : static_cast<std::size_t>(u)];
            }
        } else {
            pending_.bias_allowed = node.op_type() == "MatMul";
        }
        flat_order_.clear();
    }

    /// Explicit top, bottom, left, right padding from pads / auto_pad.
    Padding read_padding(const NodeProto& node, int index, const Window& window, const Stride& stride) const {
        const AttributeProto* auto_pad = find_attribute(node, "auto_pad");
        const std::string mode = auto_pad != nullptr ? auto_pad->s() : "NOTSET";
        if (mode == "SAME_UPPER" || mode == "SAME_LOWER") {
            if (zero_padding_) {
                fail_node(node, index, concat("has auto_pad ", printable(mode), " after a Pad; expected explicit pads there"));
            }
            const Shape in = output_shape();
            const auto split = [&](Index size, Index k, Index s, Index& before, Index& after) {
                const Index out = (size + s - 1) / s;
                const Index total = std::max<Index>((out - 1) * s + k - size, 0);
                before = mode == "SAME_UPPER" ? total / 2 : total - total / 2;
                after = total - before;
            };
            Index top = 0, bottom = 0, left = 0, right = 0;
            split(in.height, window.height, stride.vertical, top, bottom);
            split(in.width, window.width, stride.horizontal, left, right);
            return Padding::amounts(top, bottom, left, right);
        }
        if (mode != "NOTSET" && mode != "VALID") {
            fail_node(node, index, concat("has auto_pad '", printable(mode),
                                          "'; expected NOTSET, VALID, SAME_UPPER or SAME_LOWER"));
        }
        const std::vector<std::int64_t> pads = ints_attribute(node, index, "pads", {0, 0, 0, 0});
        if (pads.size() != 4 || mode == "VALID") {
            if (mode == "VALID") {
                return Padding::valid();
            }
            fail_node(node, index, concat("has ", pads.size(), " pads; expected 4 (2-D)"));
        }
        for (const auto p : pads) {
            if (p < 0 || p > (1 << 20)) {
                fail_node(node, index, concat("has padding ", p, "; expected 0..2^20"));
            }
        }
        return Padding::amounts(static_cast<Index>(pads[0]), static_cast<Index>(pads[2]), static_cast<Index>(pads[1]),
                                static_cast<Index>(pads[3]));
    }

    /// A constant zero Pad of the height and width: kept for the next Conv or AveragePool.
    void read_pad(const NodeProto& node, int index) {
        require_image(node, index);
        const AttributeProto* mode = find_attribute(node, "mode");
        if (mode != nullptr && mode->s() != "constant") {
            fail_node(node, index, concat("pads in mode '", printable(mode->s()), "'; nndl pads with zeros (mode constant)"));
        }
        std::vector<double> amounts;
        double value = 0.0;
        if (opset_ < 11) {  // pads and value were attributes then
            for (const auto p : ints_attribute(node, index, "pads", {})) {
                amounts.push_back(static_cast<double>(p));
            }
            value = float_attribute(node, index, "value", 0.0);
        } else {
            amounts = tensors_.values(*constant(node, index, 1, true), describe(node, index) + ": pads",
                                      TensorReader::Kind::integer);
            if (const TensorProto* fill = constant(node, index, 2, false)) {
                const std::vector<double> v = tensors_.values(*fill, describe(node, index) + ": constant_value");
                value = v.empty() ? 0.0 : v[0];
            }
            if (node.input_size() > 3 && !node.input(3).empty()) {
                fail_node(node, index, "pads selected axes (opset 18's axes input); nndl reads pads of all four axes");
            }
        }
        if (amounts.size() != 8 || amounts[0] != 0 || amounts[1] != 0 || amounts[4] != 0 || amounts[5] != 0 ||
            value != 0.0) {
            fail_node(node, index, "is not a zero padding of height and width only; nndl reads that one");
        }
        for (const double a : amounts) {
            if (a < 0 || a > (1 << 20)) {
                fail_node(node, index, concat("pads by ", a, "; expected 0..2^20"));
            }
        }
        zero_padding_ = Padding::amounts(static_cast<Index>(amounts[2]), static_cast<Index>(amounts[6]),
                                         static_cast<Index>(amounts[3]), static_cast<Index>(amounts[7]));
    }

    /// The window's own padding plus that of a Pad just before it.
    Padding with_zero_padding(const Padding& own) {
        if (!zero_padding_) {
            return own;
        }
        const Padding& extra = *zero_padding_;
        Padding total = Padding::amounts(own.top + extra.top, own.bottom + extra.bottom, own.left + extra.left,
                                         own.right + extra.right);
        zero_padding_.reset();
        return total;
    }

    void read_window(const NodeProto& node, int index, const std::vector<std::int64_t>& kernel, Window& window,
                     Stride& stride, Padding& padding, Padding* own_padding = nullptr) {
        const std::vector<std::int64_t> strides = ints_attribute(node, index, "strides", {1, 1});
        const std::vector<std::int64_t> dilations = ints_attribute(node, index, "dilations", {1, 1});
        if (kernel.size() != 2 || strides.size() != 2) {
            fail_node(node, index, "is not 2-D; nndl has 2-D windows only");
        }
        if (dilations != std::vector<std::int64_t>{1, 1}) {
            fail_node(node, index, "has dilations other than 1; nndl has no dilated windows");
        }
        for (const auto v : {kernel[0], kernel[1], strides[0], strides[1]}) {
            if (v < 1 || v > (1 << 20)) {
                fail_node(node, index, concat("has a window or stride of ", v, "; expected 1..2^20"));
            }
        }
        window = Window(static_cast<Index>(kernel[0]), static_cast<Index>(kernel[1]));
        stride = Stride(static_cast<Index>(strides[0]), static_cast<Index>(strides[1]));
        const Padding own = read_padding(node, index, window, stride);
        if (own_padding != nullptr) {
            *own_padding = own;
        }
        padding = with_zero_padding(own);
    }

    void read_conv(const NodeProto& node, int index) {
        require_image(node, index);
        if (int_attribute(node, index, "group", 1) != 1) {
            fail_node(node, index, "has groups; nndl's Conv2D is a full convolution (group 1)");
        }
        const Shape in = output_shape();
        const TensorProto* w = constant(node, index, 1, true);
        const std::vector<std::int64_t> dims = tensors_.dims(*w, describe(node, index) + ": weights");
        if (dims.size() != 4 || dims[1] != in.channels || dims[0] < 1) {
            fail_node(node, index, concat("has weights that are not [filters, ", in.channels, ", height, width]"));
        }
        const std::vector<std::int64_t> kernel = ints_attribute(node, index, "kernel_shape", {dims[2], dims[3]});
        if (kernel != std::vector<std::int64_t>{dims[2], dims[3]}) {
            fail_node(node, index, "has a kernel_shape that differs from its weights");
        }
        pending_ = Pending{};
        pending_.kind = Pending::Kind::conv;
        pending_.node = describe(node, index);
        read_window(node, index, kernel, pending_.kernel, pending_.stride, pending_.padding);
        const Index filters = static_cast<Index>(dims[0]);
        const Index kh = pending_.kernel.height;
        const Index kw = pending_.kernel.width;
        const Index c = in.channels;
        const std::vector<double> v = values(node, index, *w, "weights", dims);
        pending_.weights.resize(filters, kh * kw * c);
        for (Index f = 0; f < filters; ++f) {
            for (Index ch = 0; ch < c; ++ch) {
                for (Index i = 0; i < kh; ++i) {
                    for (Index j = 0; j < kw; ++j) {
                        pending_.weights(f, (i * kw + j) * c + ch) =
                            v[static_cast<std::size_t>(((f * c + ch) * kh + i) * kw + j)];
                    }
                }
            }
        }
        pending_.bias = Matrix<double>::Zero(filters, 1);
        if (const TensorProto* b = constant(node, index, 2, false)) {
            const std::vector<double> bv = values(node, index, *b, "bias", {filters});
            for (Index f = 0; f < filters; ++f) {
                pending_.bias(f, 0) = bv[static_cast<std::size_t>(f)];
            }
        }
    }

    void read_pool(const NodeProto& node, int index) {
        require_image(node, index);
        const bool max = node.op_type() == "MaxPool";
        if (int_attribute(node, index, "ceil_mode", 0) != 0) {
            fail_node(node, index, "has ceil_mode 1; nndl's pooling rounds the output size down");
        }
        if (max && node.output_size() > 1 && !node.output(1).empty()) {
            fail_node(node, index, "asks for the indices output; nndl's pooling gives the values only");
        }
        if (max && int_attribute(node, index, "storage_order", 0) != 0) {
            fail_node(node, index, "has storage_order 1 (column-major indices); nndl reads storage_order 0");
        }
        const std::vector<std::int64_t> kernel = ints_attribute(node, index, "kernel_shape", {});
        Window window(1);
        Stride stride(1);
        Padding padding;
        Padding own;
        read_window(node, index, kernel, window, stride, padding, &own);
        const bool own_padding = own.top + own.bottom + own.left + own.right > 0;  // pads or auto_pad SAME
        if (!max && own_padding && int_attribute(node, index, "count_include_pad", 0) == 0) {
            fail_node(node, index, "averages padded windows without the padding (count_include_pad 0); nndl's "
                                   "average pooling counts the padding");
        }
        add_layer(std::make_unique<Pool2D<Scalar>>(max ? PoolMode::max : PoolMode::average, output_shape(),
                                                      window, stride, padding));
    }

    void read_batch_norm(const NodeProto& node, int index) {
        if (int_attribute(node, index, "spatial", 1) == 0) {
            fail_node(node, index, "normalizes per position (spatial 0); nndl's batch norm is per channel");
        }
        if (int_attribute(node, index, "training_mode", 0) != 0 ||
            (node.output_size() > 1 && !node.output(1).empty())) {
            fail_node(node, index, "is in training mode; nndl reads the inference form");
        }
        const Shape in = output_shape();
        // Per channel of an image, else per feature of [batch, n].
        const Shape shape = image_ ? in : Shape(in.size());
        const Index c = shape.channels;
        const double epsilon = float_attribute(node, index, "epsilon", 1e-5);
        const double momentum = float_attribute(node, index, "momentum", 0.9);
        if (!(momentum >= 0.0 && momentum <= 1.0) || !(epsilon > 0.0 && std::isfinite(epsilon))) {
            fail_node(node, index, concat("has momentum ", momentum, " or epsilon ", epsilon,
                                          "; expected momentum in [0, 1] and epsilon > 0"));
        }
        // ONNX keeps `momentum` of the running value where nndl takes the batch's share;
        // 15 digits undo the float's rounding for the usual 0.1 or 0.01.
        char text[32];
        std::snprintf(text, sizeof text, "%.15g", 1.0 - momentum);
        // The four vectors are read (and their size checked) before the layer allocates its own.
        const char* onnx_names[] = {"scale", "B", "mean", "var"};
        std::vector<std::vector<double>> vectors;
        for (int k = 0; k < 4; ++k) {
            vectors.push_back(values(node, index, *constant(node, index, k + 1, true), onnx_names[k], {c}));
        }
        auto layer = std::make_unique<BatchNorm<Scalar>>(shape, std::strtod(text, nullptr), epsilon);
        std::vector<Matrix<Scalar>*> targets;
        for (const auto& p : layer->parameters()) {
            targets.push_back(p.value);
        }
        for (const auto& s : layer->state()) {
            targets.push_back(s.value);
        }
        for (std::size_t k = 0; k < 4; ++k) {
            for (Index j = 0; j < c; ++j) {
                (*targets[k])(j, 0) = static_cast<Scalar>(vectors[k][static_cast<std::size_t>(
                    image_ ? j : onnx_position(j))]);
            }
        }
        layer->check_loaded();
        add_layer(std::move(layer));
    }

    /// Before anything is built: the weights every Gemm, MatMul and Conv would take, in
    /// all, are within max_onnx_weights (a file may use one initializer many times).
    void check_total_weights() const {
        Constants known = constants_;
        long long total = 0;
        for (int i = 0; i < graph_.node_size(); ++i) {
            const NodeProto& node = graph_.node(i);
            const std::string& op = node.op_type();
            const AttributeProto* value = find_attribute(node, "value");
            if (op == "Constant" && node.output_size() == 1 && value != nullptr && value->type() == AttributeProto::TENSOR) {
                known.emplace(node.output(0), &value->t());
            } else if (op == "Identity" && node.input_size() == 1 && node.output_size() == 1 &&
                       known.count(node.input(0)) != 0) {
                known.emplace(node.output(0), known.at(node.input(0)));
            } else if ((op == "Gemm" || op == "MatMul" || op == "Conv" || op == "Sub" || op == "Div" || op == "Mul" ||
                        op == "Add" || op == "LSTM" || op == "GRU" || op == "RNN") &&
                       node.input_size() > 1) {
                const bool recurrent = op == "LSTM" || op == "GRU" || op == "RNN";  // W and R
                for (int input = 1; input <= (recurrent ? 2 : 1) && input < node.input_size(); ++input) {
                    if (known.count(node.input(input)) == 0) {
                        continue;
                    }
                    long long count = 1;
                    for (const auto d : tensors_.dims(*known.at(node.input(input)), describe(node, i) + ": weights")) {
                        count *= d;  // each d and the product are at most max_onnx_tensor_values
                    }
                    total += count;
                }
                if (total > max_onnx_weights) {
                    fail(concat("has more than ", max_onnx_weights,
                                " weights in all (an initializer counts once per node that uses it)"));
                }
            }
        }
    }

    /// Appends a layer after checking the limits that keep a small file from asking for
    /// huge memory (every layer output, all weights together).
    /// The shape of current_.
    Shape output_shape() const { return branching_ ? graph_builder_->shape(node_) : network_.output_shape(); }
    Index output_size() const { return output_shape().size(); }
    /// Layers built so far.
    std::size_t depth() const { return layer_count_; }

    /// Whether the file's nodes branch or merge: a data tensor (not a constant, not computed
    /// from a shape) read by two nodes, or an Add, Mul, Sum or Concat of two data tensors.
    bool find_branches() {
        static const std::set<std::string> merges{"Add", "Mul", "Sum", "Concat"};
        static const std::set<std::string> shape_ops{"Gather", "Unsqueeze", "Concat", "Cast", "Slice",
                                                     "Squeeze", "Reshape", "Expand", "ConstantOfShape"};
        std::set<std::string> not_data;  // constants and values computed from shapes
        for (const auto& t : graph_.initializer()) {
            not_data.insert(t.name());
        }
        for (const auto& node : graph_.node()) {
            const bool from_constants = std::all_of(node.input().begin(), node.input().end(), [&](const std::string& in) {
                return in.empty() || not_data.count(in) != 0;
            });
            if (node.op_type() == "Constant" || node.op_type() == "Shape" ||
                (shape_ops.count(node.op_type()) != 0 && from_constants) ||
                (node.op_type() == "Identity" && from_constants)) {
                for (const auto& out : node.output()) {
                    not_data.insert(out);
                }
            }
        }
        bool branches = false;
        for (const auto& node : graph_.node()) {
            if (node.op_type() == "Shape" || node.input_size() == 0) {
                continue;
            }
            const bool merge = merges.count(node.op_type()) != 0;
            int data_inputs = 0;
            for (int i = 0; i < (merge ? node.input_size() : 1); ++i) {
                const std::string& in = node.input(i);
                if (!in.empty() && not_data.count(in) == 0) {
                    ++data_inputs;
                    branches = ++consumers_[in] > 1 || branches;
                }
            }
            branches = branches || (merge && data_inputs > 1);
        }
        return branches;
    }

    /// Records what current_ is (after a flush: the node that outputs it).
    void remember_current() { tensor_states_[current_] = TensorState{node_, image_}; }

    /// Before a node leaves the chain's tensor for another, or merges several: the waiting
    /// layer is built and the tensor remembered. Only images and flat tensors branch.
    void leave_current(const NodeProto& node, int index) {
        flush();
        if (zero_padding_ || channels_last_ || sequence_ != Sequence::none || recurrent_.active ||
            !flat_order_.empty()) {
            fail_node(node, index, concat("branches off '", printable(current_),
                                          "'; nndl's graphs branch and merge images and flat tensors only, not "
                                          "sequences, a Pad or a Transpose before what follows it, or an image "
                                          "flattened in ONNX's channel-major order before its Gemm"));
        }
        remember_current();
    }

    /// A node that reads another tensor than the last one: the graph goes on from there.
    void switch_to(const NodeProto& node, int index, const std::string& name) {
        leave_current(node, index);
        const auto found = tensor_states_.find(name);
        if (found == tensor_states_.end()) {
            fail_node(node, index, concat("reads '", printable(name), "', which is neither the input nor the output "
                                          "of a node before it (nndl reads nodes in the file's order)"));
        }
        node_ = found->second.node;
        image_ = found->second.image;
        flat_order_.clear();  // a tensor flattened in ONNX's order does not branch (leave_current)
        current_ = name;
    }

    /// Add, Sum, Mul or Concat of data tensors: a merge node.
    void read_merge(const NodeProto& node, int index) {
        check_arity(node, index);  // Add and Mul take two inputs; Sum and Concat any number
        leave_current(node, index);
        const std::string& op = node.op_type();
        std::vector<typename Graph<Scalar>::Node> from;
        const TensorState* first = nullptr;
        for (const auto& name : node.input()) {
            const auto found = tensor_states_.find(name);
            if (found == tensor_states_.end()) {
                fail_node(node, index, concat("reads '", printable(name), "', which is neither the input nor the "
                                              "output of a node before it (nndl reads nodes in the file's order)"));
            }
            if (first == nullptr) {
                first = &found->second;
            } else if (found->second.image != first->image) {
                fail_node(node, index, concat("merges '", printable(node.input(0)), "' and '", printable(name),
                                              "', one an image and one flat"));
            }
            from.push_back(found->second.node);
        }
        if (node.output_size() != 1 || node.output(0).empty()) {
            fail_node(node, index, "has not one output");
        }
        std::vector<Shape> shapes;
        for (auto& f : from) {
            const Shape shape = graph_builder_->shape(f);
            if (!first->image && !shape.is_flat()) {  // an image flattened in nndl's order: flat for the merge
                f = graph_builder_->add(make_activation_layer<Scalar>(Shape(shape.size()), Activation::identity), f);
            }
            shapes.push_back(graph_builder_->shape(f));
        }
        std::unique_ptr<MergeLayer<Scalar>> merge;
        try {
            if (op == "Concat") {
                if (find_attribute(node, "axis") == nullptr) {
                    fail_node(node, index, "has no 'axis' attribute, which Concat requires");
                }
                const std::int64_t axis = int_attribute(node, index, "axis", 1);
                const std::int64_t rank = first->image ? 4 : 2;
                if (axis != 1 && axis != 1 - rank) {
                    fail_node(node, index, concat("concatenates along axis ", axis, "; nndl concatenates along the "
                                                  "channels of images and the features of flat tensors (axis 1)"));
                }
                merge = std::make_unique<Concatenate<Scalar>>(shapes);
            } else if (op == "Mul") {
                merge = std::make_unique<Multiply<Scalar>>(shapes);
            } else {
                merge = std::make_unique<Add<Scalar>>(shapes);  // Add, Sum
            }
        } catch (const ShapeError& e) {
            fail_node(node, index, concat("cannot merge its inputs: ", e.what()));
        }
        write_outputs(node, index);
        const std::string here = concat("load_onnx: '", file_, "': ", describe(node, index));
        count_model_values(budget_.values, merge->output_shape(), here);
        count_model_operations(budget_.operations, merge->operations(), here);
        node_ = graph_builder_->add(std::move(merge), from);
        ++layer_count_;
        image_ = first->image;
        flat_order_.clear();  // tensors flattened in ONNX's order do not branch (leave_current)
        current_ = node.output(0);
        remember_current();
    }

    void add_layer(std::unique_ptr<Layer<Scalar>> layer) {
        if (layer->output_size() > max_onnx_tensor_values) {
            fail(concat("has a '", layer->type(), "' layer (layer ", depth() + 1, ") whose output holds ",
                        layer->output_size(), " values per example; nndl reads at most ", max_onnx_tensor_values));
        }
        const std::string here = concat("load_onnx: '", file_, "': layer ", depth() + 1, " ('",
                                        layer->type(), "')");
        budget_.add_layer(*layer, here);
        for (const auto& p : layer->parameters()) {
            weights_ += p.value->size();
        }
        for (const auto& b : layer->state()) {  // running statistics, a normalization's center and spread
            weights_ += b.value->size();
        }
        if (weights_ > max_onnx_weights) {
            fail(concat("has more than ", max_onnx_weights, " weights in all (shared initializers count once per use)"));
        }
        last_layer_ = layer.get();
        ++layer_count_;
        if (branching_) {
            node_ = graph_builder_->add(std::move(layer), node_);
        } else {
            network_.add(std::move(layer));
        }
    }

    /// Adds the layer waiting in pending_, if any.
    void flush() {
        if (pending_.kind == Pending::Kind::none) {
            return;
        }
        const Activation activation = pending_.activation;
        std::unique_ptr<Layer<Scalar>> layer;
        try {
            if (pending_.kind == Pending::Kind::dense && pending_.per_step) {
                layer = std::make_unique<SequenceDense<Scalar>>(output_shape(), pending_.weights.rows(),
                                                                activation);
            } else if (pending_.kind == Pending::Kind::dense) {
                layer = make_dense<Scalar>(pending_.weights.cols(), pending_.weights.rows(), activation);
            } else {
                layer = std::make_unique<Conv2D<Scalar>>(output_shape(), pending_.weights.rows(),
                                                         pending_.kernel, pending_.stride, pending_.padding, activation);
            }
        } catch (const std::invalid_argument& e) {  // the layer's own check: name the file and the node
            throw_invalid("load_onnx: '", file_, "': ", pending_.node, " cannot be built: ", e.what());
        }
        const auto parameters = layer->parameters();
        *parameters[0].value = pending_.weights.template cast<Scalar>();
        *parameters[1].value = pending_.bias.template cast<Scalar>();
        pending_ = Pending{};
        add_layer(std::move(layer));
    }

    const ModelProto& model_;
    const GraphProto& graph_;
    TensorReader tensors_;
    std::string file_;  // escaped (printable), for messages
    std::int64_t opset_ = 0;
    Constants constants_;
    Network<Scalar> network_;  // a chain's layers, in order
    // A file whose nodes branch or merge is read into a Graph instead: node_ is the node
    // whose output current_ is, tensor_states_ what each tensor met so far was.
    bool branching_ = false;
    std::unique_ptr<Graph<Scalar>> graph_builder_;
    typename Graph<Scalar>::Node node_{};
    struct TensorState {
        typename Graph<Scalar>::Node node;
        bool image = false;
    };
    std::map<std::string, TensorState> tensor_states_;
    std::map<std::string, int> consumers_;  // data tensors: the nodes that read each
    std::size_t layer_count_ = 0;
    Layer<Scalar>* last_layer_ = nullptr;
    std::string current_;
    bool image_ = false;
    bool channels_last_ = false;     // after a Transpose to NHWC, before its Flatten
    std::optional<Padding> zero_padding_;  // after a Pad, before its Conv or AveragePool
    std::vector<Index> flat_order_;  // non-empty after flattening an image: ONNX position of each nndl entry
    Pending pending_;
    // Sequences: how the current tensor holds one. batch_major is [batch, steps, features]
    // (nndl's own order, the graph's input and output), time_major [steps, batch, features]
    // (what ONNX's recurrent operators read), with_directions a recurrent operator's Y
    // [steps, 1, batch, units], last_state its Y_h [1, batch, units].
    // tokens is [batch, steps] of whole numbers: a sequence of one feature on its way to a
    // Gather (an embedding).
    enum class Sequence { none, batch_major, time_major, with_directions, last_state, tokens };
    Sequence sequence_ = Sequence::none;
    bool free_steps_ = false;  // the input's steps dimension is free: built for 1 step
    struct PendingRecurrent {
        bool active = false;
        std::string op;  // LSTM, GRU or RNN
        Index units = 0;
        Matrix<double> input_weights, recurrent_weights, input_bias, recurrent_bias;  // nndl's gate order
        std::string all_steps, last_step;  // Y and Y_h ("" where the node leaves them out)
        std::string node;
    };
    PendingRecurrent recurrent_;  // which output the next node reads decides return_sequences
    std::set<std::string> shape_values_;  // computed from a tensor's shape: never data
    std::set<std::string> zero_states_;   // ConstantOfShape of zeros: a recurrent start state
    long long weights_ = 0;
    ModelBudget budget_;  // what the input and layers hold and cost per example, bounded
    std::int64_t input_batch_ = 0;  // the input's fixed batch size, 0 when free
    std::string previous_op_;       // the last node's operator (a Div completes a Sub's normalization)
    std::string open_normalization_;  // the output of a Sub or Mul's normalization layer a Div or Add may complete
    std::set<std::string> written_;  // every tensor name the graph has defined: the input, node outputs
};

/// The model in `size` bytes at `data`; FileError when they are not one (an empty file
/// parses as a protobuf with nothing in it: no graph).
inline ::onnx::ModelProto parse_model(const void* data, std::size_t size, const std::string& name) {
    ::onnx::ModelProto model;
    if (!model.ParseFromArray(data, static_cast<int>(size))) {
        throw FileError(concat("load_onnx: '", printable(name), "' is not an ONNX model (the protobuf does not parse)"));
    }
    if (!model.has_graph()) {
        throw FileError(concat("load_onnx: '", printable(name), "' is not an ONNX model (",
                               size == 0 ? "the file is empty" : "it holds no graph", ")"));
    }
    return model;
}

}  // namespace detail::onnx_format

}  // namespace nndl
