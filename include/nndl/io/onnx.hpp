#pragma once
// Optional part: needs the ONNX project's protobuf schema (Debian's libonnx-dev and
// libprotobuf-dev). Link the CMake target nndl::onnx.
//
// ONNX models in and out of nndl.
//
//   save_onnx(network, path)       writes the network as standard ONNX operators (opset 13,
//                                  IR version 8): Gemm, Conv, MaxPool, AveragePool,
//                                  GlobalAveragePool, BatchNormalization (inference form),
//                                  Relu, Sigmoid, Tanh, LeakyRelu, Softmax, Flatten, Add,
//                                  Mul, Concat (graphs), Resize (Upsample2D), and
//                                  Pad before a padded AveragePool (some engines ignore
//                                  count_include_pad), Sub and Div (a normalization; Mul
//                                  and Add inverted). Dropout is left out (inference).
//                                  Over sequences: LSTM, GRU (linear_before_reset 1) and
//                                  RNN for nndl's LSTM, GRU and SimpleRNN (forward, from a
//                                  zero state: a state set with set_initial_state is not
//                                  written), MatMul + Add for SequenceDense, Gather for
//                                  Embedding, Transpose and Reshape between them.
//   load_onnx<Scalar>(path)        builds a Network from a chain of those operators, as
//                                  torch.onnx.export writes them for nn.Sequential MLPs and
//                                  small CNNs (also MatMul + Add, Reshape to flat, a
//                                  Transpose to NHWC before Flatten, a zero Pad before Conv
//                                  or AveragePool, Sub / Div / Mul / Add of per-feature
//                                  constants, Identity, Dropout, Constant, external or raw
//                                  data), and for nn.LSTM, nn.GRU, nn.RNN (tanh), several
//                                  layers of them, nn.Embedding and nn.Linear at every step
//                                  or on h_n[-1] (the Shape ... ConstantOfShape nodes that
//                                  make PyTorch's zero start state are followed as shapes),
//                                  and graphs that branch and merge (Add, Mul, Concat, Sum).
//                                  An operator one layer computes alone may be read by that
//                                  layer's importer (Resize, GlobalAveragePool: registered
//                                  in the layer's header, asked after the operators above).
//
// Layout. nndl keeps one example per column, an image as height x width x channels.
// ONNX tensors are batch first, images NCHW. The graph's input, named "input", is a
// [batch, features] tensor for a network of flat input, or a [batch, channels, height,
// width] tensor for a network of image input; its output, "output", is [batch, outputs]
// (or [batch, channels, height, width] when the network ends with an image). The batch
// dimension is free ("batch"). Where a flat layer follows an image, the file holds a
// Flatten (channel-major, ONNX's order) and the next weights are reordered to match, so
// a model moves in and out with its numbers unchanged. Loading reverses all of it: the
// network it returns takes nndl's image columns.
//
// Sequences. A network of sequence input (Shape::sequence) reads [batch, steps, features],
// in memory nndl's own column order, and outputs [batch, steps, outputs] (or [batch,
// outputs] after a layer that returns the last step). ONNX's recurrent operators read
// [steps, batch, features] and add a directions axis: the file transposes and reshapes
// around them. Gate orders differ and are converted both ways: ONNX stacks an LSTM's gates
// i, o, f, c (nndl: f, i, c, o over [a; x], one bias = ONNX's two summed) and a GRU's z,
// r, h (nndl and PyTorch: r, z, n). A file whose steps dimension is free is built for one
// step: Network::set_steps(n) before running n-step sequences. int64 input of [batch,
// steps] is read as the tokens of an Embedding (nndl's input: one whole number per step).
//
// Errors: an operator, attribute or graph shape nndl has no layer for is refused with
// InvalidArgument naming the node, its operator and what is supported; a file that is
// not a model, FileError. Nothing is half-built: a refused file leaves no network.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "../detail/file_util.hpp"
#include "../errors.hpp"
#include "../layer.hpp"
#include "../network.hpp"
#include "../version.hpp"
// The parts, in the order they build on each other (none includes this header).
#include "onnx/common.hpp"         // OnnxPrecision, OnnxExportOptions, max_onnx_*; shared helpers
#include "onnx/writer.hpp"         // GraphWriter: the OnnxGraphBuilder the layers write into
#include "onnx/tensor_reader.hpp"  // TensorReader: constants, raw and external data
#include "onnx/reader.hpp"         // GraphReader: the importer

namespace nndl {

/// The network as an ONNX model (see the top of this header for the layout).
/// Throws InvalidArgument for a network without layers or with a layer ONNX has no
/// operator for here (a custom layer type), naming the layer.
template <class Scalar>
::onnx::ModelProto to_onnx_model(Network<Scalar>& network, const OnnxExportOptions& options = {}) {
    namespace format = detail::onnx_format;
    if (network.depth() == 0) {
        detail::throw_invalid("save_onnx: the network has no layers; expected at least one");
    }
    ::onnx::ModelProto model;
    model.set_ir_version(8);
    model.set_producer_name("nndl");
    model.set_producer_version(version_string);
    auto& opset = *model.add_opset_import();
    opset.set_domain("");
    opset.set_version(13);
    auto& graph = *model.mutable_graph();
    graph.set_name("nndl");
    graph.set_doc_string(
        "input: [batch, features], [batch, channels, height, width] or [batch, steps, features]; output: "
        "[batch, outputs], an image or [batch, steps, outputs]");
    format::GraphWriter out(graph, options.precision);
    const Shape input = network.input_shape();
    out.sequence = input.is_sequence();
    out.image = !input.is_flat() && !out.sequence;
    out.current = "input";
    format::add_value_info(*graph.add_input(), "input", out.element_type(), input, out.image);
    // `image`: the image the ONNX tensor still holds. A layer declared flat over an image
    // (an activation built with the image's size) leaves the tensor an image, so the next
    // layer, and the final flatten, must see the image's shape, not the flat one.
    Shape image = input;
    for (std::size_t i = 0; i < network.depth(); ++i) {
        Layer<Scalar>& layer = network.layer(i);
        const Shape previous = i == 0 ? input : network.layer(i - 1).output_shape();
        const bool holds_image = out.image && previous.is_flat() && !image.is_flat() && image.size() == previous.size();
        const Shape in = holds_image ? image : previous;
        out.layer = i + 1;
        export_onnx_layer(out, layer, in);
        const Shape produced = layer.output_shape();
        const bool keeps_image = out.image && layer.input_size() == layer.output_size() && !in.is_flat();
        image = !produced.is_flat() ? produced : keeps_image ? in : produced;
    }
    const Shape output = network.output_shape();
    if (out.image && output.is_flat()) {
        out.flatten_in_nndl_order(image.size() == output.size() ? image : output);
    } else if (!out.image && !out.sequence && !output.is_flat() && !output.is_sequence()) {
        out.ensure_image(output);  // an image flattened by the last layer's converter: NCHW, as described
    }
    if (out.sequence) {
        out.set_time_major(false);
    }
    if (graph.node_size() == 0) {  // only layers that pass through at inference
        out.add_node("Identity", {out.current});
    }
    graph.mutable_node(graph.node_size() - 1)->set_output(0, "output");
    format::add_value_info(*graph.add_output(), "output", out.element_type(), output, out.image);
    return model;
}

/// Writes the network as an ONNX model file, atomically (a failed save leaves any
/// previous file untouched). Throws as to_onnx_model, and FileError when writing fails.
template <class Scalar>
void save_onnx(Network<Scalar>& network, const std::filesystem::path& path, const OnnxExportOptions& options = {}) {
    const ::onnx::ModelProto model = to_onnx_model(network, options);
    write_file_atomically(path, "save_onnx", [&](std::ofstream& out) {
        // A stream that fails (a full disk) is reported with its reason when the write ends.
        if (!model.SerializeToOstream(&out) && out.good()) {
            throw FileError(detail::concat("save_onnx: cannot serialize the model for '", printable(path.string()), "'"));
        }
    });
}

/// A network from a parsed ONNX model. `folder` is where tensors stored outside the
/// model (external data) are read from; empty refuses them. `name` is used in messages.
/// Throws as load_onnx does.
template <class Scalar>
Network<Scalar> network_from_onnx_model(const ::onnx::ModelProto& model, const std::filesystem::path& folder = {},
                                        const std::string& name = "model") {
    detail::onnx_format::TensorReader tensors(folder, name, static_cast<double>(std::numeric_limits<Scalar>::max()));
    detail::onnx_format::GraphReader<Scalar> reader(model, std::move(tensors), name);
    return reader.read();
}

/// A network from `size` bytes of ONNX model at `data` (no external data); `name` is used in
/// messages. Throws InvalidArgument for more than max_onnx_file_bytes, FileError for bytes
/// that are not a model, and as load_onnx does otherwise.
template <class Scalar>
Network<Scalar> network_from_onnx_bytes(const void* data, std::size_t size, const std::string& name = "model") {
    if (size > max_onnx_file_bytes) {
        detail::throw_invalid("load_onnx: '", printable(name), "' has ", size, " bytes, more than the ", max_onnx_file_bytes,
                              " accepted");
    }
    return network_from_onnx_model<Scalar>(detail::onnx_format::parse_model(data, size, name), {}, name);
}

/// The files beside `path` that its tensors are stored in (external data), as the
/// model names them, each once, in the model's order. A program that writes files
/// checks its outputs against these, so a conversion never overwrites the weights it
/// reads. Throws FileError when the file cannot be read or is not a model.
inline std::vector<std::filesystem::path> onnx_external_files(const std::filesystem::path& path) {
    const std::vector<unsigned char> bytes = read_regular_file(path, "onnx_external_files", max_onnx_file_bytes);
    const ::onnx::ModelProto model = detail::onnx_format::parse_model(bytes.data(), bytes.size(), path.string());
    const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    std::vector<std::filesystem::path> files;
    const auto add = [&](const ::onnx::TensorProto& t) {
        if (t.data_location() != ::onnx::TensorProto::EXTERNAL) {
            return;
        }
        for (const auto& entry : t.external_data()) {
            const std::filesystem::path file = folder / entry.value();
            if (entry.key() == "location" && std::find(files.begin(), files.end(), file) == files.end()) {
                files.push_back(file);
            }
        }
    };
    for (const auto& t : model.graph().initializer()) {
        add(t);
    }
    for (const auto& node : model.graph().node()) {
        for (const auto& attribute : node.attribute()) {
            if (attribute.has_t()) {
                add(attribute.t());
            }
            for (const auto& t : attribute.tensors()) {
                add(t);
            }
        }
    }
    return files;
}

/// Loads an ONNX model file written by save_onnx or by torch.onnx.export (see the top of
/// this header for what it reads). Weights are converted to Scalar. Throws FileError
/// when the file cannot be read or is not a model, InvalidArgument naming the node when
/// the model has something nndl cannot build.
template <class Scalar>
Network<Scalar> load_onnx(const std::filesystem::path& path) {
    const std::vector<unsigned char> bytes = read_regular_file(path, "load_onnx", max_onnx_file_bytes);
    const ::onnx::ModelProto model = detail::onnx_format::parse_model(bytes.data(), bytes.size(), path.string());
    const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    return network_from_onnx_model<Scalar>(model, folder, path.string());
}

}  // namespace nndl

#ifdef NNDL_COMPILED  // the layers and the network this header builds come from nndl::compiled
#include "../cnn.hpp"
#endif
