#pragma once
// A learned vector per token: a sequence of token indices (one value per step, a whole
// number in [0, vocabulary)) becomes a sequence of `dimensions` values per step, column
// E(:, token) of the embedding matrix E. It is a one-hot input times E without the
// product, so a character or word model need not build one-hot columns. Backward adds each
// step's output gradient to its token's column of dE; the indices have no gradient (the
// input gradient is zero).

#include <cmath>
#include <cstdio>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../errors.hpp"
#include "../layer.hpp"
#include "../layer_onnx.hpp"
#include "../random.hpp"
#include "../types.hpp"
#include "registry.hpp"

namespace nndl {

/// Token indices to learned vectors over sequences (see the top of embedding.hpp).
template <class Scalar>
class Embedding final : public Layer<Scalar>, public VariableSteps<Scalar>, public OnnxExportable<Scalar> {
public:
    /// Contract: see OnnxExportable::export_onnx (layer_onnx.hpp).
    void export_onnx(OnnxGraphBuilder& out, const Shape& in) const override;
    /// The most values E may have: 2^26.
    static constexpr Index max_weights = Index(1) << 26;

    /// Vectors of `dimensions` values for `vocabulary` tokens, over sequences of `input`
    /// shape (one feature per step: the token). E is drawn from NumpyRandom(seed).randn() *
    /// 0.01. Throws InvalidArgument when `input` is not a sequence of one feature, a size is
    /// below 1, or E would hold more than max_weights values.
    Embedding(Shape input, Index vocabulary, Index dimensions, std::uint32_t seed = 1) : input_shape_(input) {
        if (!input.is_sequence() || !input.valid() || input.features() != 1) {
            detail::throw_invalid("Embedding::Embedding: the input is ", input.to_string(),
                                  ", expected a sequence of one feature per step (the token index)");
        }
        if (vocabulary < 1 || dimensions < 1 || dimensions > max_weights / vocabulary) {
            detail::throw_invalid("Embedding::Embedding: vocabulary ", vocabulary, " and dimensions ", dimensions,
                                  ", expected at least 1 each and at most ", max_weights, " values in all");
        }
        table_ = NumpyRandom(seed).randn<Scalar>(dimensions, vocabulary) * Scalar(0.01);
        table_gradient_ = Matrix<Scalar>::Zero(dimensions, vocabulary);
    }

    /// "embedding".
    std::string type() const override { return "embedding"; }
    /// The sequence shape given to the constructor.
    Shape input_shape() const override { return input_shape_; }
    /// Contract: see VariableSteps.
    void set_steps(Index steps) override {
        input_shape_ = detail::input_with_steps("Embedding::set_steps", input_shape_, output_shape(), steps);
        this->release_batch();
    }
    /// A sequence of `dimensions` values per step.
    Shape output_shape() const override { return Shape::sequence(input_shape_.steps(), dimensions()); }
    /// "vocabulary" and "dimensions".
    Settings settings() const override {
        return Settings()
            .set("vocabulary", static_cast<long long>(vocabulary()))
            .set("dimensions", static_cast<long long>(dimensions()));
    }
    /// E (dimensions x vocabulary), without weight decay (a rare token's vector is not
    /// pulled to zero by every step).
    std::vector<Parameter<Scalar>> parameters() override { return {{"E", &table_, &table_gradient_, false}}; }
    /// Contract: see Layer::clone.
    std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<Embedding>(*this); }

    /// Tokens the table has a vector for.
    Index vocabulary() const { return table_.cols(); }
    /// Values per vector.
    Index dimensions() const { return table_.rows(); }

protected:
    /// Contract: see Layer::forward. Throws InvalidArgument for an entry that is not a token.
    const Matrix<Scalar>& do_forward(const Matrix<Scalar>& input, Mode) override {
        look_up("Embedding::forward", input, output_);
        return output_;
    }
    /// Contract: see Layer::backward. dE gathers each step's gradient at its token; the
    /// input gradient is zero.
    const Matrix<Scalar>& do_backward(const Matrix<Scalar>& output_gradient, bool need_input_gradient) override {
        const Matrix<Scalar>& input = this->last_input();
        const Index d = dimensions();
        table_gradient_.setZero();
        for (Index i = 0; i < input.cols(); ++i) {
            for (Index t = 0; t < input.rows(); ++t) {
                table_gradient_.col(static_cast<Index>(input(t, i))) += output_gradient.col(i).segment(t * d, d);
            }
        }
        if (need_input_gradient) {
            input_gradient_ = Matrix<Scalar>::Zero(input.rows(), input.cols());
        } else {
            input_gradient_.resize(0, 0);
        }
        return input_gradient_;
    }
    /// Contract: see Layer::infer.
    void do_infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const override {
        look_up("Embedding::infer", input, output);
    }

private:
    void look_up(const char* where, const Matrix<Scalar>& input, Matrix<Scalar>& output) const {
        const Index d = dimensions();
        for (Index i = 0; i < input.cols(); ++i) {  // every entry checked before any is used
            for (Index t = 0; t < input.rows(); ++t) {
                const auto token = static_cast<double>(input(t, i));  // exact for float and double
                if (!(token >= 0) || !(token < static_cast<double>(vocabulary())) || token != std::floor(token)) {
                    char text[32];
                    std::snprintf(text, sizeof text, "%.17g", token);  // all digits: 4.9999999 is not 5
                    detail::throw_invalid(where, ": step ", t, " of example ", i, " holds ", text,
                                          ", expected a token index, a whole number in [0, ", vocabulary(), ")");
                }
            }
        }
        output.resize(input.rows() * d, input.cols());
        for (Index i = 0; i < input.cols(); ++i) {
            for (Index t = 0; t < input.rows(); ++t) {
                output.col(i).segment(t * d, d) = table_.col(static_cast<Index>(input(t, i)));
            }
        }
    }

    Shape input_shape_;
    Matrix<Scalar> table_, table_gradient_;
    Matrix<Scalar> output_, input_gradient_;
};

// ---- model files --------------------------------------------------------------------

namespace detail {

/// An Embedding from a model file's settings: vocabulary, dimensions.
template <class Scalar>
std::unique_ptr<Layer<Scalar>> embedding_from_settings(const Shape& input, const Settings& s) {
    const long long vocabulary = s.integer("vocabulary");
    const long long dimensions = s.integer("dimensions");
    if (vocabulary < 1 || dimensions < 1 || vocabulary > Embedding<Scalar>::max_weights ||
        dimensions > Embedding<Scalar>::max_weights / vocabulary) {
        throw_invalid("embedding: vocabulary ", vocabulary, " and dimensions ", dimensions,
                      ", expected at least 1 each and at most ", Embedding<Scalar>::max_weights, " values in all");
    }
    return std::make_unique<Embedding<Scalar>>(input, static_cast<Index>(vocabulary), static_cast<Index>(dimensions));
}

/// Embedding in the registries of a program that includes this header.
inline const bool embedding_registered =
    register_builtin_layer({"embedding", embedding_from_settings<float>, embedding_from_settings<double>});

}  // namespace detail

/// ONNX: the token of each step picks a row of E's transpose (Gather), after the tokens
/// become a [batch, steps] int64 tensor.
template <class Scalar>
void Embedding<Scalar>::export_onnx(OnnxGraphBuilder& out, const Shape&) const {
    const Index dimensions = table_.rows();
    const Index vocabulary = table_.cols();
    out.set_time_major(false);
    out.add_node("Reshape", {out.current, out.add_int64_tensor("shape", {0, -1})});  // [batch, steps]
    out.add_node("Cast", {out.current}).set_int("to", 7);  // ONNX's TensorProto::INT64
    const std::string table = out.add_tensor("E", {vocabulary, dimensions}, [&](Index k) {
        return static_cast<double>(table_(k % dimensions, k / dimensions));
    });
    out.add_node("Gather", {table, out.current});
}

}  // namespace nndl

// nndl::compiled holds Embedding<float> and Embedding<double>: a program that links it (NNDL_COMPILED)
// compiles none of the layer's code.
#if defined(NNDL_COMPILED) || defined(NNDL_COMPILED_DEFINITIONS_FLOAT) || defined(NNDL_COMPILED_DEFINITIONS_DOUBLE)
#include "../detail/compiled_fingerprint.hpp"
#include "../detail/compiled_kind.hpp"  // NNDL_COMPILED_FLOAT_KIND, NNDL_COMPILED_DOUBLE_KIND
/// \cond
namespace nndl {
NNDL_COMPILED_FLOAT_KIND template class Embedding<float>;
NNDL_COMPILED_DOUBLE_KIND template class Embedding<double>;
}  // namespace nndl
/// \endcond
#undef NNDL_COMPILED_FLOAT_KIND
#undef NNDL_COMPILED_DOUBLE_KIND
#endif
