#pragma once
// Optional part: needs ONNX (link nndl::onnx). Part of nndl/io/onnx.hpp: GraphWriter, the
// OnnxGraphBuilder (layer_onnx.hpp) that writes the layers' operators as protobuf messages,
// and the graph's input and output descriptions.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "../../errors.hpp"
#include "../../layer.hpp"
#include "../../layer_onnx.hpp"
#include "common.hpp"

namespace nndl {

namespace detail::onnx_format {

/// The OnnxGraphBuilder (layer_onnx.hpp) save_onnx hands the layers: nodes and initializers
/// go into `graph` as protobuf messages.
class GraphWriter final : public OnnxGraphBuilder {
public:
    GraphWriter(GraphProto& graph, OnnxPrecision precision) : graph_(graph), precision_(precision) {}

    int element_type() const {
        return precision_ == OnnxPrecision::float32 ? TensorProto::FLOAT : TensorProto::DOUBLE;
    }

    bool writes_float32() const override { return precision_ == OnnxPrecision::float32; }

    std::string add_tensor(const std::string& stem, const std::vector<std::int64_t>& dims,
                           const std::function<double(Index)>& value_at) override {
        TensorProto& t = *graph_.add_initializer();
        t.set_name(fresh(stem));
        std::int64_t count = 1;
        for (const auto d : dims) {
            t.add_dims(d);
            count *= d;
        }
        t.set_data_type(element_type());
        if (precision_ == OnnxPrecision::float32) {
            t.mutable_float_data()->Reserve(static_cast<int>(count));
            for (std::int64_t k = 0; k < count; ++k) {
                const double v = value_at(static_cast<Index>(k));
                if (!(std::abs(v) <= static_cast<double>(std::numeric_limits<float>::max()))) {
                    throw_invalid(where(), ": ", stem, " holds ", v, ", which float32 cannot hold; save with "
                                  "OnnxPrecision::float64");
                }
                t.add_float_data(static_cast<float>(v));
            }
        } else {
            t.mutable_double_data()->Reserve(static_cast<int>(count));
            for (std::int64_t k = 0; k < count; ++k) {
                t.add_double_data(value_at(static_cast<Index>(k)));
            }
        }
        return t.name();
    }

    std::string add_float32_tensor(const std::string& stem, const std::vector<float>& values) override {
        TensorProto& t = *graph_.add_initializer();
        t.set_name(fresh(stem));
        t.add_dims(static_cast<std::int64_t>(values.size()));
        t.set_data_type(TensorProto::FLOAT);
        for (const auto v : values) {
            t.add_float_data(v);
        }
        return t.name();
    }

    std::string add_int64_tensor(const std::string& stem, const std::vector<std::int64_t>& values) override {
        TensorProto& t = *graph_.add_initializer();
        t.set_name(fresh(stem));
        t.add_dims(static_cast<std::int64_t>(values.size()));
        t.set_data_type(TensorProto::INT64);
        for (const auto v : values) {
            t.add_int64_data(v);
        }
        return t.name();
    }

    OnnxNode add_node(const std::string& op, const std::vector<std::string>& inputs) override {
        NodeProto& node = *graph_.add_node();
        node.set_op_type(op);
        node.set_name(fresh(op));
        for (const auto& in : inputs) {
            node.add_input(in);
        }
        current = node.name() + "_out";
        node.add_output(current);
        return node_handle(static_cast<std::size_t>(graph_.node_size() - 1));
    }

    void set_int(std::size_t node, const char* name, std::int64_t value) override {
        AttributeProto& a = attribute(node, name, AttributeProto::INT);
        a.set_i(value);
    }
    void set_ints(std::size_t node, const char* name, const std::vector<std::int64_t>& values) override {
        AttributeProto& a = attribute(node, name, AttributeProto::INTS);
        for (const auto v : values) {
            a.add_ints(v);
        }
    }
    void set_float(std::size_t node, const char* name, double value) override {
        attribute(node, name, AttributeProto::FLOAT).set_f(static_cast<float>(value));
    }
    void set_string(std::size_t node, const char* name, const std::string& value) override {
        attribute(node, name, AttributeProto::STRING).set_s(value);
    }
    std::string node_name(std::size_t node) const override { return graph_.node(static_cast<int>(node)).name(); }
    std::string node_output(std::size_t node) const override { return graph_.node(static_cast<int>(node)).output(0); }
    std::string add_node_output(std::size_t node, const std::string& suffix) override {
        NodeProto& n = *graph_.mutable_node(static_cast<int>(node));
        const std::string name = n.name() + suffix;
        n.add_output(name);
        return name;
    }

    // The helpers of OnnxGraphBuilder: layer_onnx.hpp says what each does.

    void require_no_sequence(const std::string& type, const Shape& in) const override {
        if (sequence) {
            detail::throw_invalid(where(), " ('", printable(type), "') acts on a sequence (", in.to_string(),
                                  "); its ONNX converter writes images and flat tensors (over sequences save_onnx "
                                  "writes lstm, gru, simple_rnn, sequence_dense, embedding and activation layers, and "
                                  "leaves out those that pass through at inference, such as dropout)");
        }
    }

    void add_activation(Activation activation, const Shape& shape) override {
        switch (activation) {
            case Activation::identity: return;
            case Activation::sigmoid: add_node("Sigmoid", {current}); return;
            case Activation::tanh: add_node("Tanh", {current}); return;
            case Activation::relu: add_node("Relu", {current}); return;
            case Activation::leaky_relu: add_node("LeakyRelu", {current}).set_float("alpha", leaky_relu_slope); return;
            case Activation::softmax:
                if (sequence) {  // ONNX's Softmax (opset 13) normalizes the last axis alone: each step
                    add_node("Softmax", {current}).set_int("axis", -1);
                    return;
                }
                if (image) {
                    if (!shape.is_flat()) {
                        detail::throw_invalid(where(), " applies softmax over an image (", shape.to_string(),
                                              "); ONNX's Softmax normalizes one axis, so only flat outputs are "
                                              "exported");
                    }
                    add_node("Flatten", {current}).set_int("axis", 1);
                    image = false;
                }
                add_node("Softmax", {current}).set_int("axis", 1);
                return;
        }
    }

    void flatten_in_nndl_order(const Shape& shape) override {
        if (!shape.is_flat()) {
            add_node("Transpose", {current}).set_ints("perm", {0, 2, 3, 1});
        }
        add_node("Flatten", {current}).set_int("axis", 1);
        image = false;
    }

    void ensure_image(const Shape& shape) override {
        if (image) {
            return;
        }
        if (shape.height * shape.width == 1) {  // C x 1 x 1: the same order both ways
            add_node("Reshape", {current, add_int64_tensor("shape", {-1, shape.channels, 1, 1})});
        } else {  // nndl's order (height, width, channel): NHWC, then NCHW
            add_node("Reshape", {current, add_int64_tensor("shape", {-1, shape.height, shape.width, shape.channels})});
            add_node("Transpose", {current}).set_ints("perm", {0, 3, 1, 2});
        }
        image = true;
    }
    void set_time_major(bool wanted) override {
        if (time_major != wanted) {
            add_node("Transpose", {current}).set_ints("perm", {1, 0, 2});
            time_major = wanted;
        }
    }

private:
    std::string fresh(const std::string& stem) { return stem + "_" + std::to_string(++counter_); }

    AttributeProto& attribute(std::size_t node, const char* name, AttributeProto::AttributeType type) {
        AttributeProto& a = *graph_.mutable_node(static_cast<int>(node))->add_attribute();
        a.set_name(name);
        a.set_type(type);
        return a;
    }

    GraphProto& graph_;
    OnnxPrecision precision_;
    int counter_ = 0;
};

inline void add_value_info(::onnx::ValueInfoProto& info, const std::string& name, int element_type, const Shape& shape,
                           bool image) {
    info.set_name(name);
    auto& tensor = *info.mutable_type()->mutable_tensor_type();
    tensor.set_elem_type(element_type);
    auto& dims = *tensor.mutable_shape();
    dims.add_dim()->set_dim_param("batch");
    if (shape.is_sequence()) {
        dims.add_dim()->set_dim_value(shape.steps());
        dims.add_dim()->set_dim_value(shape.features());
    } else if (image) {
        dims.add_dim()->set_dim_value(shape.channels);
        dims.add_dim()->set_dim_value(shape.height);
        dims.add_dim()->set_dim_value(shape.width);
    } else {
        dims.add_dim()->set_dim_value(shape.size());
    }
}

}  // namespace detail::onnx_format

}  // namespace nndl
