#pragma once
// Optional part: needs ONNX (link nndl::onnx). Part of nndl/io/onnx.hpp: each layer family as
// ONNX operators (export_layer: dense, convolution and pooling, batch norm, normalization,
// recurrent layers, sequence dense, embedding, and Graph layers through export_graph).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../../errors.hpp"
#include "../../graph.hpp"
#include "../../layer.hpp"
#include "common.hpp"
#include "writer.hpp"

namespace nndl {

namespace detail::onnx_format {

/// An LSTM, GRU or SimpleRNN layer as ONNX's LSTM, GRU (linear_before_reset = 1) or RNN
/// (tanh) operator, forward, from a zero start state. Its output: every step as [steps,
/// batch, units] (Y without its directions axis) or the last as [batch, units] (Y_h).
template <class Scalar>
void export_recurrent(GraphWriter& out, Layer<Scalar>& layer, const Shape& in) {
    const std::string type = layer.type();
    const Settings settings = layer.settings();
    const Index units = static_cast<Index>(settings.integer("units"));
    const Index features = in.features();
    Matrix<Scalar> input_weights, recurrent_weights, input_bias, recurrent_bias;
    if (type == "lstm") {  // W is [Wa | Wx], one bias
        const Matrix<Scalar>& w = layer_matrix(layer, "W");
        recurrent_weights = w.leftCols(units);
        input_weights = w.rightCols(features);
        input_bias = layer_matrix(layer, "b");
        recurrent_bias = Matrix<Scalar>::Zero(input_bias.rows(), 1);
    } else if (type == "gru") {
        input_weights = layer_matrix(layer, "Wx");
        recurrent_weights = layer_matrix(layer, "Wh");
        input_bias = layer_matrix(layer, "bx");
        recurrent_bias = layer_matrix(layer, "bh");
    } else {
        input_weights = layer_matrix(layer, "Wax");
        recurrent_weights = layer_matrix(layer, "Waa");
        input_bias = layer_matrix(layer, "ba");
        recurrent_bias = Matrix<Scalar>::Zero(units, 1);
    }
    const std::vector<Index> blocks = onnx_gate_blocks(type);
    const Index rows = static_cast<Index>(blocks.size()) * units;
    const auto nndl_row = [&](Index onnx_row) {
        return blocks[static_cast<std::size_t>(onnx_row / units)] * units + onnx_row % units;
    };
    set_time_major(out, true);
    const std::string w = out.add_tensor("W", {1, rows, features},
                                         [&](Index k) { return input_weights(nndl_row(k / features), k % features); });
    const std::string r = out.add_tensor("R", {1, rows, units},
                                         [&](Index k) { return recurrent_weights(nndl_row(k / units), k % units); });
    const std::string b = out.add_tensor("B", {1, 2 * rows}, [&](Index k) {
        return k < rows ? input_bias(nndl_row(k), 0) : recurrent_bias(nndl_row(k - rows), 0);
    });
    NodeProto& node = out.add_node(type == "lstm" ? "LSTM" : type == "gru" ? "GRU" : "RNN", {out.current, w, r, b});
    GraphWriter::set_int(node, "hidden_size", units);
    if (type == "gru") {
        GraphWriter::set_int(node, "linear_before_reset", 1);
    }
    const std::string all_steps = node.output(0);
    const std::string last_step = node.name() + "_last";
    node.add_output(last_step);
    const bool sequences = settings.integer("return_sequences") == 1;
    // Y is [steps, directions, batch, units] and Y_h [directions, batch, units]: drop the
    // directions axis (one direction) with a Reshape (-1 is the batch), which OpenCV 4.6
    // reads where it refuses opset 13's Squeeze.
    out.current = sequences ? all_steps : last_step;
    const std::vector<std::int64_t> dims = sequences ? std::vector<std::int64_t>{in.steps(), -1, units}
                                                     : std::vector<std::int64_t>{-1, units};
    out.add_node("Reshape", {out.current, out.add_int64_tensor("shape", dims)});
    out.sequence = sequences;
    out.time_major = sequences;
}

template <class Scalar>
void export_layer(GraphWriter& out, Layer<Scalar>& layer, const Shape& in, std::size_t index);

/// A Graph layer: each node in order, from the tensor of the node it takes; merges as Add
/// (Sum for more than two), Mul and Concat along axis 1 (channels, features).
template <class Scalar>
void export_graph(GraphWriter& out, Graph<Scalar>& graph, const Shape& in, std::size_t index) {
    using Node = typename Graph<Scalar>::Node;
    if (graph.input_count() != 1 || graph.outputs().size() != 1) {
        throw_invalid("save_onnx: layer ", index, " is a graph of ", graph.input_count(), " inputs and ",
                      graph.outputs().size(), " outputs; save_onnx writes graphs of one input and one output");
    }
    if (out.sequence) {
        throw_invalid("save_onnx: layer ", index, " is a graph over sequences; save_onnx writes graphs of images "
                      "and flat tensors");
    }
    // Each node's tensor, and for an image tensor the image it holds (a node of flat shape
    // may pass an image on: an activation declared flat over a convolution's output).
    struct Tensor {
        std::string name;
        bool image = false;
        Shape image_shape;
    };
    if (out.image && graph.input_shape().is_flat() && !in.is_flat()) {
        flatten_in_nndl_order(out, in);  // the graph takes flat rows: nndl's order
    }
    std::vector<Tensor> tensors(graph.size());
    tensors[graph.input().index] = Tensor{out.current, out.image, in};
    for (std::size_t i = 0; i < graph.size(); ++i) {
        const Node n{i};
        if (graph.is_input(n)) {
            continue;
        }
        const std::vector<Node> from = graph.inputs_of(n);
        Shape image_shape;
        if (const MergeLayer<Scalar>* merge = graph.merge_layer(n)) {
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
                    flatten_in_nndl_order(out, tensors[f.index].image_shape);
                }
                names.push_back(out.current);
            }
            const std::string type = merge->type();
            if (type == "concatenate") {
                GraphWriter::set_int(out.add_node("Concat", names), "axis", 1);
            } else if (type == "add") {
                out.add_node(names.size() == 2 ? "Add" : "Sum", names);
            } else if (type == "multiply") {
                out.add_node("Mul", {names[0], names[1]});
                for (std::size_t k = 2; k < names.size(); ++k) {
                    out.add_node("Mul", {out.current, names[k]});
                }
            } else {
                throw_invalid("save_onnx: layer ", index, " has a '", printable(type),
                              "' merge, which has no ONNX operator here");
            }
            out.image = !any_flat;
            image_shape = merge->output_shape();
        } else {
            const Tensor& source = tensors[from.front().index];
            out.current = source.name;
            out.image = source.image;
            Layer<Scalar>& layer = *graph.layer(n);
            export_layer(out, layer, source.image ? source.image_shape : graph.shape(from.front()), index);
            const Shape shape = layer.output_shape();
            image_shape = !shape.is_flat() ? shape
                          : source.image && layer.input_size() == layer.output_size() ? source.image_shape
                                                                                      : shape;
        }
        tensors[i] = Tensor{out.current, out.image, image_shape};
    }
    const Tensor& result = tensors[graph.outputs().front().index];
    out.current = result.name;
    out.image = result.image;
    // The network's last node gets the output's name: the graph's own output must be a node
    // written last, not a tensor other nodes read.
    out.add_node("Identity", {out.current});
}

template <class Scalar>
void export_layer(GraphWriter& out, Layer<Scalar>& layer, const Shape& in, std::size_t index) {
    const std::string type = layer.type();
    const Settings settings = layer.settings();
    if (auto* graph = dynamic_cast<Graph<Scalar>*>(&layer)) {
        export_graph(out, *graph, in, index);
        return;
    }
    if (layer.passes_through_at_inference()) {
        return;  // dropout, augmentation: the identity at inference
    }
    if (type == "lstm" || type == "gru" || type == "simple_rnn") {
        export_recurrent(out, layer, in);
        return;
    }
    if (type == "sequence_dense") {  // MatMul and Add act on the last axis: every step alike
        const Matrix<Scalar>& w = layer_matrix(layer, "W");
        const Matrix<Scalar>& b = layer_matrix(layer, "b");
        const Index units = w.rows();
        const Index inputs = w.cols();
        const std::string weights =
            out.add_tensor("W", {inputs, units}, [&](Index k) { return w(k % units, k / units); });
        out.add_node("MatMul", {out.current, weights});
        out.add_node("Add", {out.current, out.add_tensor("b", {units}, [&](Index k) { return b(k, 0); })});
        export_activation(out, activation_from_string(settings.text("activation")), layer.output_shape(), index);
        return;
    }
    if (type == "embedding") {  // the token of each step picks a row of E's transpose
        const Matrix<Scalar>& e = layer_matrix(layer, "E");
        const Index dimensions = e.rows();
        const Index vocabulary = e.cols();
        set_time_major(out, false);
        out.add_node("Reshape", {out.current, out.add_int64_tensor("shape", {0, -1})});  // [batch, steps]
        GraphWriter::set_int(out.add_node("Cast", {out.current}), "to", TensorProto::INT64);
        const std::string table = out.add_tensor("E", {vocabulary, dimensions},
                                                 [&](Index k) { return e(k % dimensions, k / dimensions); });
        out.add_node("Gather", {table, out.current});
        return;
    }
    if (out.sequence && type != "activation") {
        throw_invalid("save_onnx: layer ", index, " ('", type, "') acts on a sequence (", in.to_string(),
                      "); save_onnx writes lstm, gru, simple_rnn, sequence_dense, embedding and activation layers over "
                      "sequences (and leaves out those that pass through at inference, such as dropout)");
    }
    if (type == "dense") {
        const Matrix<Scalar>& w = layer_matrix(layer, "W");
        const Matrix<Scalar>& b = layer_matrix(layer, "b");
        const Index units = w.rows();
        const Index inputs = w.cols();
        std::vector<Index> nndl_column(static_cast<std::size_t>(inputs));
        for (Index j = 0; j < inputs; ++j) {
            nndl_column[static_cast<std::size_t>(j)] = j;
        }
        if (out.image) {
            GraphWriter::set_int(out.add_node("Flatten", {out.current}), "axis", 1);
            out.image = false;
            const std::vector<Index> position = channel_major_positions(in);
            for (Index j = 0; j < inputs; ++j) {
                nndl_column[static_cast<std::size_t>(position[static_cast<std::size_t>(j)])] = j;
            }
        }
        const std::string weights = out.add_tensor("W", {units, inputs}, [&](Index k) {
            return w(k / inputs, nndl_column[static_cast<std::size_t>(k % inputs)]);
        });
        const std::string bias = out.add_tensor("b", {units}, [&](Index k) { return b(k, 0); });
        GraphWriter::set_int(out.add_node("Gemm", {out.current, weights, bias}), "transB", 1);
        export_activation(out, activation_from_string(settings.text("activation")), Shape(units), index);
        return;
    }
    if (type == "conv2d" || type == "max_pool2d" || type == "avg_pool2d") {
        ensure_image(out, in);
        const bool conv = type == "conv2d";
        const auto& window = settings.integers(conv ? "kernel" : "window");
        const auto& stride = settings.integers("stride");
        const auto& pad = settings.integers("padding");  // top, bottom, left, right
        std::vector<std::string> inputs{out.current};
        if (conv) {
            const Matrix<Scalar>& w = layer_matrix(layer, "W");
            const Matrix<Scalar>& b = layer_matrix(layer, "b");
            const Index filters = w.rows();
            const Index kh = window[0];
            const Index kw = window[1];
            const Index c = in.channels;
            inputs.push_back(out.add_tensor("W", {filters, c, kh, kw}, [&](Index k) {
                const Index j = k % kw;
                const Index i = (k / kw) % kh;
                const Index ch = (k / (kw * kh)) % c;
                const Index f = k / (kw * kh * c);
                return w(f, (i * kw + j) * c + ch);
            }));
            inputs.push_back(out.add_tensor("b", {filters}, [&](Index k) { return b(k, 0); }));
        }
        std::vector<std::int64_t> pads{pad[0], pad[2], pad[1], pad[3]};  // ONNX: top, left, bottom, right
        if (type == "avg_pool2d" && pads != std::vector<std::int64_t>{0, 0, 0, 0}) {
            // nndl averages over the padding too (count_include_pad 1), which some engines
            // (OpenCV 4.6) ignore; zeros added by a Pad node mean the same everywhere.
            const std::string amounts = out.add_int64_tensor("pads", {0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]});
            out.add_node("Pad", {out.current, amounts});
            inputs[0] = out.current;
            pads = {0, 0, 0, 0};
        }
        NodeProto& node = out.add_node(conv ? "Conv" : type == "max_pool2d" ? "MaxPool" : "AveragePool", inputs);
        GraphWriter::set_ints(node, "kernel_shape", {window[0], window[1]});
        GraphWriter::set_ints(node, "strides", {stride[0], stride[1]});
        GraphWriter::set_ints(node, "pads", pads);
        if (conv) {
            export_activation(out, activation_from_string(settings.text("activation")), layer.output_shape(), index);
        }
        return;
    }
    if (type == "upsample2d") {  // Resize, nearest, as PyTorch's nn.Upsample writes it
        ensure_image(out, in);
        const std::vector<long long>& factor = settings.integers("factor");
        const std::string scales = out.add_float32_tensor(
            "scales", {1.0f, 1.0f, static_cast<float>(factor[0]), static_cast<float>(factor[1])});
        NodeProto& node = out.add_node("Resize", {out.current, "", scales});
        GraphWriter::set_string(node, "mode", "nearest");
        GraphWriter::set_string(node, "coordinate_transformation_mode", "asymmetric");
        GraphWriter::set_string(node, "nearest_mode", "floor");
        return;
    }
    if (type == "global_avg_pool") {
        ensure_image(out, in);
        out.add_node("GlobalAveragePool", {out.current});
        return;
    }
    if (type == "batch_norm") {
        // Per channel of an image; per feature of a flat layer, after flattening an image
        // in nndl's order if one comes before.
        const Shape shape = layer.input_shape();
        if (shape.is_flat() && out.image) {
            flatten_in_nndl_order(out, in);
        }
        const Index c = shape.channels;
        const auto vector = [&](const char* name) {
            const Matrix<Scalar>& v = layer_matrix(layer, name);
            return out.add_tensor(name, {c}, [&](Index k) { return v(k, 0); });
        };
        const std::vector<std::string> inputs{out.current, vector("gamma"), vector("beta"), vector("running_mean"),
                                              vector("running_var")};
        const double epsilon = settings.real("epsilon");
        if (!(std::abs(epsilon) >= static_cast<double>(std::numeric_limits<float>::min()) &&
              std::abs(epsilon) <= static_cast<double>(std::numeric_limits<float>::max()))) {
            // ONNX keeps epsilon as a float attribute: a smaller one would be written as 0
            // (or a subnormal that consumers flush to 0), dividing by a zero variance.
            throw_invalid("save_onnx: layer ", index, " ('batch_norm') has epsilon ", epsilon,
                          ", which ONNX's float32 attribute cannot hold; expected ", std::numeric_limits<float>::min(),
                          " to ", std::numeric_limits<float>::max());
        }
        NodeProto& node = out.add_node("BatchNormalization", inputs);
        GraphWriter::set_float(node, "epsilon", epsilon);
        GraphWriter::set_float(node, "momentum", 1.0 - settings.real("momentum"));  // ONNX's share kept
        return;
    }
    if (type == "activation") {
        export_activation(out, activation_from_string(settings.text("activation")), in, index);
        return;
    }
    if (type == "normalization") {
        // (x - center) / spread as Sub and Div; the inverse as Mul and Add. Flat input only:
        // a per-value map of an image would need nndl's order in an NCHW tensor.
        const Shape shape = layer.input_shape();
        if (!shape.is_flat()) {
            throw_invalid("save_onnx: layer ", index, " ('normalization') maps an image of ", shape.to_string(),
                          "; nndl exports it for flat input only");
        }
        if (out.image) {
            flatten_in_nndl_order(out, in);
        }
        const Matrix<Scalar>& center = layer_matrix(layer, "center");
        const Matrix<Scalar>& spread = layer_matrix(layer, "spread");
        Index tiny = 0;
        // Below float32's smallest normal number a spread is 0 or a subnormal that consumers
        // flush to 0 (OpenCV then divides by zero).
        if (out.writes_float32() && !(std::abs(static_cast<float>(spread.cwiseAbs().col(0).minCoeff(&tiny))) >=
                                      std::numeric_limits<float>::min())) {
            throw_invalid("save_onnx: layer ", index, " ('normalization') has spread ", spread(tiny, 0), " at value ",
                          tiny, ", below float32's smallest normal number ", std::numeric_limits<float>::min(),
                          "; save with OnnxPrecision::float64");
        }
        const std::string c = out.add_tensor("center", {shape.size()}, [&](Index k) { return center(k, 0); });
        const std::string s = out.add_tensor("spread", {shape.size()}, [&](Index k) { return spread(k, 0); });
        if (settings.integer("invert") == 1) {
            out.add_node("Mul", {out.current, s});
            out.add_node("Add", {out.current, c});
        } else {
            out.add_node("Sub", {out.current, c});
            out.add_node("Div", {out.current, s});
        }
        return;
    }
    throw_invalid("save_onnx: layer ", index, " ('", type,
                  "') has no ONNX operator in nndl; supported: dense, conv2d, max_pool2d, avg_pool2d, "
                  "global_avg_pool, batch_norm, activation, normalization (flat), and leaves out layers that pass "
                  "through at inference (dropout, random_shift_flip)");
}

}  // namespace detail::onnx_format

}  // namespace nndl
