#pragma once
// How a layer writes itself as ONNX operators, and reads itself back. save_onnx (nndl/io/onnx.hpp) walks the
// network and hands each layer an OnnxGraphBuilder: the graph written so far, with the name
// of the tensor the layer reads (`current`) and that tensor's layout. A layer that can be
// exported implements the OnnxExportable capability beside its class, adding initializers
// and nodes and leaving `current` at its output:
//
//   void export_onnx(nndl::OnnxGraphBuilder& out, const nndl::Shape& in) const override {
//       out.require_no_sequence(type(), in);               // images and flat tensors only
//       if (out.image) out.flatten_in_nndl_order(in);      // s is in nndl's order
//       const std::string s = out.add_tensor("s", {in.size()}, [&](nndl::Index k) { return double(s_(k, 0)); });
//       out.add_node("Mul", {out.current, s});             // its output becomes out.current
//   }
//
// (An image layer after such a layer gets its image back: ensure_image undoes the flattening.)
//
// The builder has no ONNX types: it is what protobuf's messages are behind, implemented by
// io/onnx/writer.hpp. So a layer's converter lives in the layer's own header, and a program
// that never exports compiles only those few lines, never ONNX's schema.
//
// The other way, a layer that one ONNX operator computes alone can read it: its header
// registers an importer for the operator (detail::register_onnx_importer), which builds the
// layer from an OnnxNodeReader (the node's attributes and constant inputs, the shape it
// reads). load_onnx asks the importers for the operators it does not read itself (Gemm, Conv
// and the others it combines across nodes).
//
// Layouts: a flat tensor is [batch, features]; an image is [batch, channels, height, width]
// (ONNX's channel-major order, where nndl's column holds height x width x channels); a
// sequence is [batch, steps, features], or [steps, batch, features] where `time_major` says
// so (what ONNX's recurrent operators read and write).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "activation_tag.hpp"
#include "detail/scalar_function_table.hpp"
#include "errors.hpp"
#include "layer.hpp"
#include "shape.hpp"
#include "types.hpp"

namespace nndl {

class OnnxGraphBuilder;

/// A node a converter just added (OnnxGraphBuilder::add_node): set its attributes, name a
/// further output. Valid while the builder is.
class OnnxNode {
public:
    /// Sets an INT attribute.
    OnnxNode& set_int(const char* name, std::int64_t value);
    /// Sets an INTS attribute.
    OnnxNode& set_ints(const char* name, const std::vector<std::int64_t>& values);
    /// Sets a FLOAT attribute (ONNX keeps 32 bits).
    OnnxNode& set_float(const char* name, double value);
    /// Sets a STRING attribute.
    OnnxNode& set_string(const char* name, const std::string& value);
    /// The node's unique name.
    std::string name() const;
    /// Its first output (what add_node made current).
    std::string output() const;
    /// Gives the node one more output, named after the node with `suffix`; returns the name.
    std::string add_output(const std::string& suffix);

private:
    friend class OnnxGraphBuilder;  // the only one that makes them (OnnxGraphBuilder::node_handle)
    OnnxNode(OnnxGraphBuilder& graph, std::size_t index) : graph_(&graph), index_(index) {}

    OnnxGraphBuilder* graph_;
    std::size_t index_;
};

/// The ONNX graph under construction, as a layer's converter sees it (see the top of this
/// header). The writer (io/onnx/writer.hpp) implements it, helpers included, so their code is
/// compiled only in a program that exports.
class OnnxGraphBuilder {
public:
    virtual ~OnnxGraphBuilder() = default;

    /// True when tensors are written as float32 (else float64).
    virtual bool writes_float32() const = 0;
    /// An initializer of shape `dims` (row-major, ONNX's order) whose entry k is value_at(k),
    /// in the model's precision; returns its unique name (made from `stem`). Throws
    /// InvalidArgument for a value float32 cannot hold where the model is float32.
    virtual std::string add_tensor(const std::string& stem, const std::vector<std::int64_t>& dims,
                                   const std::function<double(Index)>& value_at) = 0;
    /// A float32 vector whatever the precision (Resize's scales).
    virtual std::string add_float32_tensor(const std::string& stem, const std::vector<float>& values) = 0;
    /// An int64 vector (shapes, pads).
    virtual std::string add_int64_tensor(const std::string& stem, const std::vector<std::int64_t>& values) = 0;
    /// Appends a node of operator `op` reading `inputs` ("" for an input left out) and makes
    /// its first output current.
    virtual OnnxNode add_node(const std::string& op, const std::vector<std::string>& inputs) = 0;

    /// Where messages say the layer is: "save_onnx: layer 3".
    std::string where() const { return "save_onnx: layer " + std::to_string(layer); }

    /// Throws InvalidArgument where the current tensor is a sequence: for a converter that
    /// writes images and flat tensors only. `type` names the layer.
    virtual void require_no_sequence(const std::string& type, const Shape& in) const = 0;
    /// Applies `activation` to the current tensor (of nndl shape `shape`); the identity adds
    /// nothing. Softmax normalizes features: a flat tensor's, or each step's of a sequence.
    virtual void add_activation(Activation activation, const Shape& shape) = 0;
    /// Flattens the current image tensor of nndl shape `shape` in nndl's order (height, width,
    /// channel): a Transpose to NHWC first unless the image is 1 x 1.
    virtual void flatten_in_nndl_order(const Shape& shape) = 0;
    /// Makes the current tensor an image for a layer whose input is `shape`: a flat tensor in
    /// nndl's order (height, width, channel) becomes [batch, C, H, W].
    virtual void ensure_image(const Shape& shape) = 0;
    /// Makes the current sequence time-major ([steps, batch, features]) or batch-major: a
    /// Transpose of the first two axes when it is the other way.
    virtual void set_time_major(bool wanted) = 0;

    std::string current;      ///< the tensor the next node reads
    bool image = false;       ///< current is [batch, C, H, W] (else flat or a sequence)
    bool sequence = false;    ///< current is a sequence
    bool time_major = false;  ///< the sequence is [steps, batch, features]
    std::size_t layer = 0;    ///< the network's layer being written, from 1, for messages

protected:
    /// Only a writer constructs one.
    OnnxGraphBuilder() = default;
    /// Protected, so that only the writer copies it (no slicing).
    OnnxGraphBuilder(const OnnxGraphBuilder&) = default;
    /// Protected, so that only the writer assigns it (no slicing).
    OnnxGraphBuilder& operator=(const OnnxGraphBuilder&) = default;

    /// The handle of the writer's node `index` (for add_node).
    OnnxNode node_handle(std::size_t index) { return OnnxNode(*this, index); }

    // What OnnxNode forwards to; `node` is an index node_handle was given.
    friend class OnnxNode;
    /// OnnxNode::set_int of node `node`.
    virtual void set_int(std::size_t node, const char* name, std::int64_t value) = 0;
    /// OnnxNode::set_ints of node `node`.
    virtual void set_ints(std::size_t node, const char* name, const std::vector<std::int64_t>& values) = 0;
    /// OnnxNode::set_float of node `node`.
    virtual void set_float(std::size_t node, const char* name, double value) = 0;
    /// OnnxNode::set_string of node `node`.
    virtual void set_string(std::size_t node, const char* name, const std::string& value) = 0;
    /// OnnxNode::name of node `node`.
    virtual std::string node_name(std::size_t node) const = 0;
    /// OnnxNode::output of node `node`.
    virtual std::string node_output(std::size_t node) const = 0;
    /// OnnxNode::add_output of node `node`.
    virtual std::string add_node_output(std::size_t node, const std::string& suffix) = 0;
};

inline OnnxNode& OnnxNode::set_int(const char* name, std::int64_t value) {
    graph_->set_int(index_, name, value);
    return *this;
}
inline OnnxNode& OnnxNode::set_ints(const char* name, const std::vector<std::int64_t>& values) {
    graph_->set_ints(index_, name, values);
    return *this;
}
inline OnnxNode& OnnxNode::set_float(const char* name, double value) {
    graph_->set_float(index_, name, value);
    return *this;
}
inline OnnxNode& OnnxNode::set_string(const char* name, const std::string& value) {
    graph_->set_string(index_, name, value);
    return *this;
}
inline std::string OnnxNode::name() const { return graph_->node_name(index_); }
inline std::string OnnxNode::output() const { return graph_->node_output(index_); }
inline std::string OnnxNode::add_output(const std::string& suffix) { return graph_->add_node_output(index_, suffix); }

/// Capability: the layer writes itself as ONNX operators (see the top of this header).
template <class Scalar>
class OnnxExportable {
public:
    virtual ~OnnxExportable() = default;
    /// Adds the layer's operators reading out.current, whose nndl shape is `in` (an image's
    /// shape where a flat layer follows one and the tensor still holds the image), and leaves
    /// out.current (and its layout flags) at the layer's output. Throws InvalidArgument,
    /// starting with out.where(), for a layer or input ONNX cannot express.
    virtual void export_onnx(OnnxGraphBuilder& out, const Shape& in) const = 0;

protected:
    /// Only a layer implementing the capability constructs one.
    OnnxExportable() = default;
    /// Protected, so that only the implementing layer copies it (no slicing).
    OnnxExportable(const OnnxExportable&) = default;
    /// Protected, so that only the implementing layer assigns it (no slicing).
    OnnxExportable& operator=(const OnnxExportable&) = default;
};

/// Capability of a MergeLayer: writes itself as ONNX operators over `inputs`, tensors of one
/// layout (all images or all flat), leaving out.current at its output.
class OnnxMergeExportable {
public:
    virtual ~OnnxMergeExportable() = default;
    /// Adds the merge's operators; throws InvalidArgument starting with out.where().
    virtual void export_onnx(OnnxGraphBuilder& out, const std::vector<std::string>& inputs) const = 0;

protected:
    /// Only a merge implementing the capability constructs one.
    OnnxMergeExportable() = default;
    /// Protected, so that only the implementing merge copies it (no slicing).
    OnnxMergeExportable(const OnnxMergeExportable&) = default;
    /// Protected, so that only the implementing merge assigns it (no slicing).
    OnnxMergeExportable& operator=(const OnnxMergeExportable&) = default;
};

/// Writes `layer` reading out.current (nndl shape `in`): nothing for a layer that passes
/// through at inference (dropout, augmentation), its own converter otherwise. Throws
/// InvalidArgument for a layer without one, and as the converter does.
template <class Scalar>
void export_onnx_layer(OnnxGraphBuilder& out, const Layer<Scalar>& layer, const Shape& in) {
    if (layer.passes_through_at_inference()) {
        return;
    }
    const auto* exportable = dynamic_cast<const OnnxExportable<Scalar>*>(&layer);
    if (exportable == nullptr) {
        detail::throw_invalid(out.where(), " ('", printable(layer.type()),
                              "') has no ONNX operator: its class does not implement OnnxExportable (layer_onnx.hpp)");
    }
    exportable->export_onnx(out, in);
}

/// One ONNX node as a layer's importer sees it (load_onnx implements it over the file's
/// node). Every method that refuses throws InvalidArgument naming the file and the node.
class OnnxNodeReader {
public:
    virtual ~OnnxNodeReader() = default;
    /// The nndl shape of the tensor the node reads: an image for [batch, C, H, W].
    virtual Shape input_shape() const = 0;
    /// Refuses a node that reads no image.
    virtual void require_image() const = 0;
    /// Whether the node has the attribute.
    virtual bool has_attribute(const char* name) const = 0;
    /// An INT attribute, or `fallback` where the node has none; refuses another type.
    virtual std::int64_t int_attribute(const char* name, std::int64_t fallback) const = 0;
    /// A STRING attribute, or `fallback` where the node has none; refuses another type.
    virtual std::string string_attribute(const char* name, const std::string& fallback) const = 0;
    /// The dims of input `input` (from 0), a constant (an initializer or a Constant's output):
    /// false where the node leaves the input out; refuses a computed tensor.
    virtual bool constant_dims(int input, std::vector<std::int64_t>& dims) const = 0;
    /// The values of constant input `input`, read after its dims were checked: reals (float or
    /// double, finite) or, where `integers`, int64 values; refuses other element types.
    virtual std::vector<double> constant_values(int input, bool integers) const = 0;
    /// Refuses the node: "load_onnx: 'FILE': node N ('NAME', OP) " then `problem`.
    [[noreturn]] virtual void fail(const std::string& problem) const = 0;

protected:
    /// Only the reader constructs one.
    OnnxNodeReader() = default;
    /// Protected, so that only the reader copies it (no slicing).
    OnnxNodeReader(const OnnxNodeReader&) = default;
    /// Protected, so that only the reader assigns it (no slicing).
    OnnxNodeReader& operator=(const OnnxNodeReader&) = default;
};

/// Builds the layer one ONNX node computes, or refuses the node (OnnxNodeReader::fail).
template <class Scalar>
using OnnxImporter = std::function<std::unique_ptr<Layer<Scalar>>(const OnnxNodeReader& node)>;

namespace detail {

/// The ONNX operators that one layer computes alone, with their importers for float and double.
using OnnxImporters = ScalarFunctionTable<OnnxImporter>;

/// Adds an operator's importer: a layer header calls it to initialize an inline variable, so
/// load_onnx reads the operators of the layers a program includes, and the importer lives
/// beside its layer. load_onnx asks them for an operator it does not read itself. Each
/// operator has one importer: false (and nothing added) where the operator has one already.
inline bool register_onnx_importer(OnnxImporters::Entry importer) {
    return OnnxImporters::instance().add(std::move(importer));
}

/// The importer of `op`, or an empty function.
template <class Scalar>
OnnxImporter<Scalar> onnx_importer(const std::string& op) {
    return OnnxImporters::instance().template find<Scalar>(op);
}

/// The operators with an importer, sorted, for messages.
inline std::vector<std::string> onnx_importer_ops() { return OnnxImporters::instance().names(); }

}  // namespace detail

namespace detail {

/// For a flat column holding an image of `shape` in nndl's order (h, w, c), the index of
/// each entry in ONNX's channel-major order (c, h, w).
inline std::vector<Index> channel_major_positions(const Shape& shape) {
    std::vector<Index> position(static_cast<std::size_t>(shape.size()));
    for (Index h = 0; h < shape.height; ++h) {
        for (Index w = 0; w < shape.width; ++w) {
            for (Index c = 0; c < shape.channels; ++c) {
                position[static_cast<std::size_t>(shape.offset(h, w, c))] = (c * shape.height + h) * shape.width + w;
            }
        }
    }
    return position;
}

/// nndl's gate blocks in ONNX's order: entry g is the nndl block that ONNX's block g holds.
/// LSTM: nndl f, i, c, o; ONNX i, o, f, c. GRU: nndl (PyTorch) r, z, n; ONNX z, r, h.
inline std::vector<Index> onnx_gate_blocks(const std::string& type) {
    if (type == "lstm") {
        return {1, 3, 0, 2};
    }
    if (type == "gru") {
        return {1, 0, 2};
    }
    return {0};
}

/// What a recurrent layer hands export_recurrent_onnx: its weights in nndl's gate order.
template <class Scalar>
struct RecurrentWeights {
    const char* op;                          ///< "LSTM", "GRU" or "RNN"
    const char* type;                        ///< the nndl type: "lstm", "gru", "simple_rnn"
    Index units;                             ///< hidden size
    Matrix<Scalar> input_weights;            ///< gates x features
    Matrix<Scalar> recurrent_weights;        ///< gates x units
    Matrix<Scalar> input_bias;               ///< gates x 1
    Matrix<Scalar> recurrent_bias;           ///< gates x 1
    bool sequences;                          ///< every step out, or the last
};

/// A recurrent layer as ONNX's LSTM, GRU (linear_before_reset = 1) or RNN (tanh) operator,
/// forward, from a zero start state. Its output: every step as [steps, batch, units] (Y
/// without its directions axis) or the last as [batch, units] (Y_h).
template <class Scalar>
void export_recurrent_onnx(OnnxGraphBuilder& out, const RecurrentWeights<Scalar>& r, const Shape& in) {
    const Index units = r.units;
    const Index features = in.features();
    const std::vector<Index> blocks = onnx_gate_blocks(r.type);
    const Index rows = static_cast<Index>(blocks.size()) * units;
    const auto nndl_row = [&](Index onnx_row) {
        return blocks[static_cast<std::size_t>(onnx_row / units)] * units + onnx_row % units;
    };
    out.set_time_major(true);
    const std::string w = out.add_tensor("W", {1, rows, features}, [&](Index k) {
        return static_cast<double>(r.input_weights(nndl_row(k / features), k % features));
    });
    const std::string rw = out.add_tensor("R", {1, rows, units}, [&](Index k) {
        return static_cast<double>(r.recurrent_weights(nndl_row(k / units), k % units));
    });
    const std::string b = out.add_tensor("B", {1, 2 * rows}, [&](Index k) {
        return static_cast<double>(k < rows ? r.input_bias(nndl_row(k), 0) : r.recurrent_bias(nndl_row(k - rows), 0));
    });
    OnnxNode node = out.add_node(r.op, {out.current, w, rw, b});
    node.set_int("hidden_size", units);
    if (std::string(r.op) == "GRU") {
        node.set_int("linear_before_reset", 1);
    }
    const std::string all_steps = node.output();
    const std::string last_step = node.add_output("_last");
    // Y is [steps, directions, batch, units] and Y_h [directions, batch, units]: drop the
    // directions axis (one direction) with a Reshape (-1 is the batch), which OpenCV 4.6
    // reads where it refuses opset 13's Squeeze.
    out.current = r.sequences ? all_steps : last_step;
    const std::vector<std::int64_t> dims = r.sequences ? std::vector<std::int64_t>{in.steps(), -1, units}
                                                       : std::vector<std::int64_t>{-1, units};
    out.add_node("Reshape", {out.current, out.add_int64_tensor("shape", dims)});
    out.sequence = r.sequences;
    out.time_major = r.sequences;
}

}  // namespace detail

}  // namespace nndl
