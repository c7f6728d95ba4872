#pragma once
// Optional part: needs ONNX (link nndl::onnx). Part of nndl/io/onnx.hpp: GraphWriter, which
// builds the exported graph, and the helpers that write value infos, activations and layouts.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../../errors.hpp"
#include "../../layer.hpp"
#include "../../layers/activations.hpp"
#include "common.hpp"

namespace nndl {

namespace detail::onnx_format {

class GraphWriter {
public:
    GraphWriter(GraphProto& graph, OnnxPrecision precision) : graph_(graph), precision_(precision) {}

    int element_type() const {
        return precision_ == OnnxPrecision::float32 ? TensorProto::FLOAT : TensorProto::DOUBLE;
    }

    /// True when tensors are written as float32.
    bool writes_float32() const { return precision_ == OnnxPrecision::float32; }

    std::string fresh(const std::string& stem) { return stem + "_" + std::to_string(++counter_); }

    /// An initializer of the given dims; value(k) gives the entry at row-major index k.
    template <class ValueAt>
    std::string add_tensor(const std::string& stem, const std::vector<std::int64_t>& dims, ValueAt value) {
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
                const double v = static_cast<double>(value(static_cast<Index>(k)));
                if (!(std::abs(v) <= static_cast<double>(std::numeric_limits<float>::max()))) {
                    throw_invalid("save_onnx: ", stem, " holds ", v, ", which float32 cannot hold; save with "
                                  "OnnxPrecision::float64");
                }
                t.add_float_data(static_cast<float>(v));
            }
        } else {
            t.mutable_double_data()->Reserve(static_cast<int>(count));
            for (std::int64_t k = 0; k < count; ++k) {
                t.add_double_data(static_cast<double>(value(static_cast<Index>(k))));
            }
        }
        return t.name();
    }

    /// A float32 vector whatever the precision (what Resize's scales must be).
    std::string add_float32_tensor(const std::string& stem, const std::vector<float>& values) {
        TensorProto& t = *graph_.add_initializer();
        t.set_name(fresh(stem));
        t.add_dims(static_cast<std::int64_t>(values.size()));
        t.set_data_type(TensorProto::FLOAT);
        for (const auto v : values) {
            t.add_float_data(v);
        }
        return t.name();
    }

    std::string add_int64_tensor(const std::string& stem, const std::vector<std::int64_t>& values) {
        TensorProto& t = *graph_.add_initializer();
        t.set_name(fresh(stem));
        t.add_dims(static_cast<std::int64_t>(values.size()));
        t.set_data_type(TensorProto::INT64);
        for (const auto v : values) {
            t.add_int64_data(v);
        }
        return t.name();
    }

    /// Appends a node reading `inputs` (the current tensor first) and makes its output current.
    NodeProto& add_node(const std::string& op, const std::vector<std::string>& inputs) {
        NodeProto& node = *graph_.add_node();
        node.set_op_type(op);
        node.set_name(fresh(op));
        for (const auto& in : inputs) {
            node.add_input(in);
        }
        current = node.name() + "_out";
        node.add_output(current);
        return node;
    }

    static void set_int(NodeProto& node, const char* name, std::int64_t value) {
        AttributeProto& a = *node.add_attribute();
        a.set_name(name);
        a.set_type(AttributeProto::INT);
        a.set_i(value);
    }
    static void set_float(NodeProto& node, const char* name, double value) {
        AttributeProto& a = *node.add_attribute();
        a.set_name(name);
        a.set_type(AttributeProto::FLOAT);
        a.set_f(static_cast<float>(value));
    }
    static void set_string(NodeProto& node, const char* name, const std::string& value) {
        AttributeProto& a = *node.add_attribute();
        a.set_name(name);
        a.set_type(AttributeProto::STRING);
        a.set_s(value);
    }

    static void set_ints(NodeProto& node, const char* name, const std::vector<std::int64_t>& values) {
        AttributeProto& a = *node.add_attribute();
        a.set_name(name);
        a.set_type(AttributeProto::INTS);
        for (const auto v : values) {
            a.add_ints(v);
        }
    }

    std::string current;  ///< the tensor the next node reads
    bool image = false;   ///< current is [batch, C, H, W] (else [batch, features])
    bool sequence = false;    ///< current is a sequence: [batch, steps, features]
    bool time_major = false;  ///< a sequence as the recurrent operators read it: [steps, batch, features]

private:
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

/// Matrix of the parameter or state buffer `name` of `layer`.
template <class Scalar>
const Matrix<Scalar>& layer_matrix(Layer<Scalar>& layer, const std::string& name) {
    for (const auto& p : layer.parameters()) {
        if (p.name == name) {
            return *p.value;
        }
    }
    for (const auto& s : layer.state()) {
        if (s.name == name) {
            return *s.value;
        }
    }
    throw_invalid("save_onnx: the '", layer.type(), "' layer has no '", name, "'");
}

inline void export_activation(GraphWriter& out, Activation activation, const Shape& shape, std::size_t index) {
    switch (activation) {
        case Activation::identity: return;
        case Activation::sigmoid: out.add_node("Sigmoid", {out.current}); return;
        case Activation::tanh: out.add_node("Tanh", {out.current}); return;
        case Activation::relu: out.add_node("Relu", {out.current}); return;
        case Activation::leaky_relu:
            GraphWriter::set_float(out.add_node("LeakyRelu", {out.current}), "alpha", LeakyReLU::slope);
            return;
        case Activation::softmax:
            if (out.sequence) {  // ONNX's Softmax (opset 13) normalizes the last axis alone: each step
                GraphWriter::set_int(out.add_node("Softmax", {out.current}), "axis", -1);
                return;
            }
            if (out.image) {
                if (!shape.is_flat()) {
                    throw_invalid("save_onnx: layer ", index, " applies softmax over an image (", shape.to_string(),
                                  "); ONNX's Softmax normalizes one axis, so only flat outputs are exported");
                }
                GraphWriter::set_int(out.add_node("Flatten", {out.current}), "axis", 1);
                out.image = false;
            }
            GraphWriter::set_int(out.add_node("Softmax", {out.current}), "axis", 1);
            return;
    }
}

/// Flattens the current [batch, C, H, W] tensor of image `shape` into nndl's order
/// (height, width, channel): a Transpose to NHWC first unless the image is 1 x 1.
inline void flatten_in_nndl_order(GraphWriter& out, const Shape& shape) {
    if (!shape.is_flat()) {
        GraphWriter::set_ints(out.add_node("Transpose", {out.current}), "perm", {0, 2, 3, 1});
    }
    GraphWriter::set_int(out.add_node("Flatten", {out.current}), "axis", 1);
    out.image = false;
}

/// Makes the current tensor [batch, C, H, W] for an image layer whose input is `shape`.
inline void ensure_image(GraphWriter& out, const Shape& shape) {
    if (!out.image) {  // only a flat shape (C x 1 x 1) reaches here: the same order both ways
        const std::string dims = out.add_int64_tensor("shape", {-1, shape.channels, shape.height, shape.width});
        out.add_node("Reshape", {out.current, dims});
        out.image = true;
    }
}

/// Makes the current sequence [steps, batch, features] (time_major) or [batch, steps,
/// features]: a Transpose of the first two axes when it is the other way.
inline void set_time_major(GraphWriter& out, bool time_major) {
    if (out.time_major != time_major) {
        GraphWriter::set_ints(out.add_node("Transpose", {out.current}), "perm", {1, 0, 2});
        out.time_major = time_major;
    }
}

}  // namespace detail::onnx_format

}  // namespace nndl
