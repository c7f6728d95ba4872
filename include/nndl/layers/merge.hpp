#pragma once
// Merge layers: several inputs, one output (the MergeLayer contract in layer.hpp). They
// are the joints of a Graph (graph.hpp):
//
//   Add          the elementwise sum of inputs of one shape (a residual connection)
//   Multiply     the elementwise product of inputs of one shape (gates, attention weights)
//   Concatenate  inputs side by side along the channels of images (same height and width),
//                the features of flat vectors, or the features of each time step of
//                sequences (same steps)
//
// None has parameters. create_merge rebuilds one from its type name and input shapes (a
// model file's graph).

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../errors.hpp"
#include "../layer.hpp"
#include "../layer_onnx.hpp"

namespace nndl {

namespace detail {

/// Throws ShapeError, naming `where`, unless there are at least two shapes, all valid.
inline void require_merge_inputs(const char* where, const std::vector<Shape>& inputs) {
    if (inputs.size() < 2) {
        throw_shape(where, ": ", inputs.size(), " inputs, expected at least 2");
    }
    for (std::size_t k = 0; k < inputs.size(); ++k) {
        if (!inputs[k].valid()) {
            throw_shape(where, ": input ", k + 1, " has an invalid shape (", inputs[k].channels, " x ",
                        inputs[k].height, " x ", inputs[k].width, ")");
        }
    }
}

/// Throws ShapeError, naming `where`, unless every shape equals the first.
inline void require_equal_shapes(const char* where, const std::vector<Shape>& inputs) {
    require_merge_inputs(where, inputs);
    for (std::size_t k = 1; k < inputs.size(); ++k) {
        if (inputs[k] != inputs.front()) {
            throw_shape(where, ": input ", k + 1, " is ", inputs[k].to_string(), ", expected ",
                        inputs.front().to_string(), " as input 1");
        }
    }
}

}  // namespace detail

/// The elementwise sum of inputs of one shape: a residual connection's joint.
template <class Scalar>
class Add final : public MergeLayer<Scalar>, public OnnxMergeExportable {
public:
    /// Contract: see OnnxMergeExportable::export_onnx (layer_onnx.hpp).
    void export_onnx(OnnxGraphBuilder& out, const std::vector<std::string>& inputs) const override;
    /// Adds inputs of these shapes; throws ShapeError unless there are at least two, all equal.
    explicit Add(std::vector<Shape> inputs) : inputs_(std::move(inputs)) {
        detail::require_equal_shapes("Add::Add", inputs_);
    }
    /// "add".
    std::string type() const override { return "add"; }
    /// The shapes given to the constructor.
    const std::vector<Shape>& input_shapes() const override { return inputs_; }
    /// The inputs' shape.
    Shape output_shape() const override { return inputs_.front(); }
    /// A copy that has seen no batch.
    std::unique_ptr<MergeLayer<Scalar>> clone() const override { return std::make_unique<Add>(*this); }
    /// Contract: see MergeLayer::with_input_shapes; throws as the constructor.
    std::unique_ptr<MergeLayer<Scalar>> with_input_shapes(std::vector<Shape> inputs) const override {
        return std::make_unique<Add>(std::move(inputs));
    }

protected:
    const Matrix<Scalar>& do_forward(const std::vector<const Matrix<Scalar>*>& inputs, Mode) override {
        sum(inputs, output_);
        return output_;
    }
    const std::vector<const Matrix<Scalar>*>& do_backward(const Matrix<Scalar>& output_gradient) override {
        gradients_.assign(inputs_.size(), &output_gradient);  // d(a + b)/da = 1
        return gradients_;
    }
    void do_infer(const std::vector<const Matrix<Scalar>*>& inputs, Matrix<Scalar>& output) const override {
        sum(inputs, output);
    }

private:
    /// In the inputs' order, so the rounding is the same in forward and infer.
    static void sum(const std::vector<const Matrix<Scalar>*>& inputs, Matrix<Scalar>& output) {
        output = *inputs[0] + *inputs[1];
        for (std::size_t k = 2; k < inputs.size(); ++k) {
            output += *inputs[k];
        }
    }

    std::vector<Shape> inputs_;
    Matrix<Scalar> output_;
    std::vector<const Matrix<Scalar>*> gradients_;
};

/// The elementwise product of inputs of one shape: gates, attention weights.
template <class Scalar>
class Multiply final : public MergeLayer<Scalar>, public OnnxMergeExportable {
public:
    /// Contract: see OnnxMergeExportable::export_onnx (layer_onnx.hpp).
    void export_onnx(OnnxGraphBuilder& out, const std::vector<std::string>& inputs) const override;
    /// Multiplies inputs of these shapes; throws ShapeError unless there are at least two, all equal.
    explicit Multiply(std::vector<Shape> inputs) : inputs_(std::move(inputs)) {
        detail::require_equal_shapes("Multiply::Multiply", inputs_);
    }
    /// "multiply".
    std::string type() const override { return "multiply"; }
    /// The shapes given to the constructor.
    const std::vector<Shape>& input_shapes() const override { return inputs_; }
    /// The inputs' shape.
    Shape output_shape() const override { return inputs_.front(); }
    /// A copy that has seen no batch.
    std::unique_ptr<MergeLayer<Scalar>> clone() const override { return std::make_unique<Multiply>(*this); }
    /// Contract: see MergeLayer::with_input_shapes; throws as the constructor.
    std::unique_ptr<MergeLayer<Scalar>> with_input_shapes(std::vector<Shape> inputs) const override {
        return std::make_unique<Multiply>(std::move(inputs));
    }

protected:
    const Matrix<Scalar>& do_forward(const std::vector<const Matrix<Scalar>*>& inputs, Mode) override {
        product(inputs, inputs.size(), output_);
        return output_;
    }
    const std::vector<const Matrix<Scalar>*>& do_backward(const Matrix<Scalar>& output_gradient) override {
        const auto& inputs = this->last_inputs();
        gradient_values_.resize(inputs.size());
        gradients_.resize(inputs.size());
        for (std::size_t k = 0; k < inputs.size(); ++k) {
            // d(prod)/d(input k) = the product of the others (not prod / input k: inputs may be 0)
            product(inputs, k, gradient_values_[k]);
            gradient_values_[k].array() *= output_gradient.array();
            gradients_[k] = &gradient_values_[k];
        }
        return gradients_;
    }
    void do_infer(const std::vector<const Matrix<Scalar>*>& inputs, Matrix<Scalar>& output) const override {
        product(inputs, inputs.size(), output);
    }

private:
    /// The product of every input but `skip` (none when skip is inputs.size()), in order.
    static void product(const std::vector<const Matrix<Scalar>*>& inputs, std::size_t skip, Matrix<Scalar>& output) {
        bool first = true;
        for (std::size_t k = 0; k < inputs.size(); ++k) {
            if (k == skip) {
                continue;
            }
            if (first) {
                output = *inputs[k];
                first = false;
            } else {
                output.array() *= inputs[k]->array();
            }
        }
    }

    std::vector<Shape> inputs_;
    Matrix<Scalar> output_;
    std::vector<Matrix<Scalar>> gradient_values_;
    std::vector<const Matrix<Scalar>*> gradients_;
};

/// Inputs side by side: along the channels of images of one height and width (entry (h, w)
/// holds input 1's channels, then input 2's, ...), along the features of flat vectors, or
/// along the features of each time step of sequences of one length.
template <class Scalar>
class Concatenate final : public MergeLayer<Scalar>, public OnnxMergeExportable {
public:
    /// Contract: see OnnxMergeExportable::export_onnx (layer_onnx.hpp).
    void export_onnx(OnnxGraphBuilder& out, const std::vector<std::string>& inputs) const override;
    /// Throws ShapeError unless there are at least two inputs of one kind (all flat, all
    /// images of one height and width, or all sequences of one length).
    explicit Concatenate(std::vector<Shape> inputs) : inputs_(std::move(inputs)) {
        detail::require_merge_inputs("Concatenate::Concatenate", inputs_);
        const Shape& first = inputs_.front();
        Index channels = 0;
        for (std::size_t k = 0; k < inputs_.size(); ++k) {
            const Shape& s = inputs_[k];
            if (s.height != first.height || s.width != first.width || s.is_sequence() != first.is_sequence()) {
                detail::throw_shape("Concatenate::Concatenate: input ", k + 1, " is ", s.to_string(),
                                    ", expected the kind and ",
                                    first.is_sequence() ? "steps" : (first.is_flat() ? "flatness" : "height and width"),
                                    " of input 1 (", first.to_string(), ")");
            }
            if (s.channels > Shape::max_values - channels) {
                detail::throw_shape("Concatenate::Concatenate: more than ", Shape::max_values, " channels in all");
            }
            channels += s.channels;
        }
        output_shape_ = first.is_sequence() ? Shape::sequence(first.steps(), channels)
                                            : Shape(channels, first.height, first.width);
        if (!output_shape_.valid()) {
            detail::throw_shape("Concatenate::Concatenate: the output (", channels, " channels of ", first.height, "x",
                                first.width, ") is more than ", Shape::max_values, " values per example");
        }
    }
    /// "concatenate".
    std::string type() const override { return "concatenate"; }
    /// The shapes given to the constructor.
    const std::vector<Shape>& input_shapes() const override { return inputs_; }
    /// The inputs' height and width (or steps) with their channels (or features) summed.
    Shape output_shape() const override { return output_shape_; }
    /// A copy that has seen no batch.
    std::unique_ptr<MergeLayer<Scalar>> clone() const override { return std::make_unique<Concatenate>(*this); }
    /// Contract: see MergeLayer::with_input_shapes; throws as the constructor.
    std::unique_ptr<MergeLayer<Scalar>> with_input_shapes(std::vector<Shape> inputs) const override {
        return std::make_unique<Concatenate>(std::move(inputs));
    }

protected:
    const Matrix<Scalar>& do_forward(const std::vector<const Matrix<Scalar>*>& inputs, Mode) override {
        join(inputs, output_);
        return output_;
    }
    const std::vector<const Matrix<Scalar>*>& do_backward(const Matrix<Scalar>& output_gradient) override {
        const Index columns = output_gradient.cols();
        const Index positions = output_shape_.height * output_shape_.width * columns;
        const Eigen::Map<const Matrix<Scalar>> all(output_gradient.data(), output_shape_.channels, positions);
        gradient_values_.resize(inputs_.size());
        gradients_.resize(inputs_.size());
        Index row = 0;
        for (std::size_t k = 0; k < inputs_.size(); ++k) {
            const Index c = inputs_[k].channels;
            gradient_values_[k].resize(inputs_[k].size(), columns);
            Eigen::Map<Matrix<Scalar>>(gradient_values_[k].data(), c, positions) = all.middleRows(row, c);
            gradients_[k] = &gradient_values_[k];
            row += c;
        }
        return gradients_;
    }
    void do_infer(const std::vector<const Matrix<Scalar>*>& inputs, Matrix<Scalar>& output) const override {
        join(inputs, output);
    }

private:
    /// Each column is (height x width) positions of channels, channels fastest: seen as a
    /// channels x (positions x columns) matrix, the inputs stack as row blocks.
    void join(const std::vector<const Matrix<Scalar>*>& inputs, Matrix<Scalar>& output) const {
        const Index columns = inputs.front()->cols();
        const Index positions = output_shape_.height * output_shape_.width * columns;
        output.resize(output_shape_.size(), columns);
        Eigen::Map<Matrix<Scalar>> all(output.data(), output_shape_.channels, positions);
        Index row = 0;
        for (std::size_t k = 0; k < inputs.size(); ++k) {
            const Index c = inputs_[k].channels;
            all.middleRows(row, c) = Eigen::Map<const Matrix<Scalar>>(inputs[k]->data(), c, positions);
            row += c;
        }
    }

    std::vector<Shape> inputs_;
    Shape output_shape_;
    Matrix<Scalar> output_;
    std::vector<Matrix<Scalar>> gradient_values_;
    std::vector<const Matrix<Scalar>*> gradients_;
};

/// A merge layer of a built-in type ("add", "multiply", "concatenate") over inputs of these
/// shapes. Throws InvalidArgument for another type name (quoted as given), ShapeError as
/// the layer's constructor.
template <class Scalar>
std::unique_ptr<MergeLayer<Scalar>> create_merge(const std::string& type, const std::vector<Shape>& inputs) {
    if (type == "add") {
        return std::make_unique<Add<Scalar>>(inputs);
    }
    if (type == "multiply") {
        return std::make_unique<Multiply<Scalar>>(inputs);
    }
    if (type == "concatenate") {
        return std::make_unique<Concatenate<Scalar>>(inputs);
    }
    detail::throw_invalid("create_merge: type '", printable(type),
                          "', expected 'add', 'multiply' or 'concatenate'");
}

/// ONNX: Add, or Sum for more than two inputs.
template <class Scalar>
void Add<Scalar>::export_onnx(OnnxGraphBuilder& out, const std::vector<std::string>& inputs) const {
    out.add_node(inputs.size() == 2 ? "Add" : "Sum", inputs);
}

/// ONNX: one Mul per input after the first.
template <class Scalar>
void Multiply<Scalar>::export_onnx(OnnxGraphBuilder& out, const std::vector<std::string>& inputs) const {
    out.add_node("Mul", {inputs[0], inputs[1]});
    for (std::size_t k = 2; k < inputs.size(); ++k) {
        out.add_node("Mul", {out.current, inputs[k]});
    }
}

/// ONNX: Concat along axis 1 (channels of images, features of flat tensors).
template <class Scalar>
void Concatenate<Scalar>::export_onnx(OnnxGraphBuilder& out, const std::vector<std::string>& inputs) const {
    out.add_node("Concat", inputs).set_int("axis", 1);
}



}  // namespace nndl

// nndl::compiled holds Add, Multiply and Concatenate for float and double: a program that links it (NNDL_COMPILED)
// compiles none of their code.
#if defined(NNDL_COMPILED) || defined(NNDL_COMPILED_DEFINITIONS_FLOAT) || defined(NNDL_COMPILED_DEFINITIONS_DOUBLE)
#include "../detail/compiled_fingerprint.hpp"
#include "../detail/compiled_kind.hpp"  // NNDL_COMPILED_FLOAT_KIND, NNDL_COMPILED_DOUBLE_KIND
/// \cond
namespace nndl {
NNDL_COMPILED_FLOAT_KIND template class Add<float>;
NNDL_COMPILED_DOUBLE_KIND template class Add<double>;
NNDL_COMPILED_FLOAT_KIND template class Multiply<float>;
NNDL_COMPILED_DOUBLE_KIND template class Multiply<double>;
NNDL_COMPILED_FLOAT_KIND template class Concatenate<float>;
NNDL_COMPILED_DOUBLE_KIND template class Concatenate<double>;
}  // namespace nndl
/// \endcond
#undef NNDL_COMPILED_FLOAT_KIND
#undef NNDL_COMPILED_DOUBLE_KIND
#endif
