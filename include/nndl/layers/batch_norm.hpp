#pragma once
// Batch normalization: per feature after a flat layer (shape {n, 1, 1}), per channel
// after an image layer (statistics over the examples and all pixels of a channel).
//
//   training:    y = gamma * (x - mean_batch) / sqrt(var_batch + epsilon) + beta, and
//                running = (1 - momentum) * running + momentum * batch statistic
//                (the running variance takes the unbiased batch variance, as PyTorch)
//   evaluation:  y = gamma * (x - running_mean) / sqrt(running_var + epsilon) + beta
//
// gamma and beta are trained (no weight decay); running_mean and running_var are the
// layer's state: saved and loaded with it, never touched by an optimizer.

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "../detail/parallel.hpp"
#include "../errors.hpp"
#include "../layer.hpp"
#include "../layer_onnx.hpp"
#include "../types.hpp"
#include "activations.hpp"  // detail::keep_where_positive
#include "registry.hpp"

namespace nndl {

/// Batch normalization per feature (flat input) or per channel (image input), see the
/// top of batch_norm.hpp. Parameters: "gamma" and "beta" (channels x 1, no weight
/// decay); state: "running_mean" and "running_var" (channels x 1).
template <class Scalar>
class BatchNorm final : public Layer<Scalar>, public ChannelAffine<Scalar>, public OnnxExportable<Scalar>,
                        public BackwardThroughRelu<Scalar> {
public:
    /// Contract: see OnnxExportable::export_onnx (layer_onnx.hpp).
    void export_onnx(OnnxGraphBuilder& out, const Shape& in) const override;
    /// Normalizes examples of `shape`; gamma starts at 1, beta at 0, the running mean at 0
    /// and the running variance at 1. `momentum` is the batch statistics' weight in the
    /// running ones (PyTorch's convention, not Keras's); `epsilon` is added to the variance.
    /// Throws InvalidArgument for a dimension below 1, a momentum outside [0, 1], or an
    /// epsilon that is not finite or below the scalar type's smallest normal value.
    explicit BatchNorm(Shape shape, double momentum = 0.1, double epsilon = 1e-5)
        : shape_(shape), momentum_(momentum), epsilon_(epsilon) {
        if (!shape.valid()) {
            detail::throw_invalid("BatchNorm::BatchNorm: shape has a dimension below 1");
        }
        if (!(momentum >= 0.0 && momentum <= 1.0)) {
            detail::throw_invalid("BatchNorm::BatchNorm: momentum is ", momentum, ", expected a number in [0, 1]");
        }
        if (!(epsilon >= static_cast<double>(std::numeric_limits<Scalar>::min())) || !std::isfinite(epsilon)) {
            detail::throw_invalid("BatchNorm::BatchNorm: epsilon is ", epsilon, ", expected a finite number of at least ",
                                  std::numeric_limits<Scalar>::min(), " (the smallest normal value of the scalar type)");
        }
        const Index c = shape.channels;
        gamma_ = Matrix<Scalar>::Ones(c, 1);
        beta_ = Matrix<Scalar>::Zero(c, 1);
        gamma_gradient_ = Matrix<Scalar>::Zero(c, 1);
        beta_gradient_ = Matrix<Scalar>::Zero(c, 1);
        running_mean_ = Matrix<Scalar>::Zero(c, 1);
        running_var_ = Matrix<Scalar>::Ones(c, 1);
    }

    /// "batch_norm".
    std::string type() const override { return "batch_norm"; }
    /// The shape given to the constructor.
    Shape input_shape() const override { return shape_; }
    /// The input shape: normalization keeps it.
    Shape output_shape() const override { return shape_; }
    /// "momentum" and "epsilon"; the shape comes from the input.
    Settings settings() const override { return Settings().set("momentum", momentum_).set("epsilon", epsilon_); }
    /// "gamma" and "beta", in that order, neither with weight decay.
    std::vector<Parameter<Scalar>> parameters() override {
        return {{"gamma", &gamma_, &gamma_gradient_, false}, {"beta", &beta_, &beta_gradient_, false}};
    }
    /// "running_mean" and "running_var", in that order.
    std::vector<StateBuffer<Scalar>> state() override {
        return {{"running_mean", &running_mean_}, {"running_var", &running_var_}};
    }
    /// Contract: see Layer::clone. The copy keeps the running statistics.
    std::unique_ptr<Layer<Scalar>> clone() const override { return std::make_unique<BatchNorm>(*this); }
    /// Throws InvalidArgument when a running variance is below zero: inference would take
    /// the square root of a negative number.
    void check_loaded() const override {
        Index channel = 0;
        if (running_var_.size() > 0 && running_var_.col(0).minCoeff(&channel) < Scalar(0)) {
            detail::throw_invalid("BatchNorm::check_loaded: running_var of channel ", channel, " is ",
                                  running_var_(channel, 0), ", expected a variance >= 0");
        }
    }

    /// Contract: see BackwardThroughRelu. Always: the input gradient is kept where the input
    /// (the ReLU's output) is above zero, a run at a time while it is in cache.
    bool takes_relu_backward() const override { return true; }
    /// Contract: see BackwardThroughRelu.
    const Matrix<Scalar>& backward_through_relu(const Matrix<Scalar>& output_gradient) override {
        return this->backward_with_flag(*this, through_relu_, output_gradient);
    }

    /// The scale gamma, channels x 1. Pre: what is assigned keeps that shape.
    Matrix<Scalar>& gamma() { return gamma_; }
    /// The shift beta, channels x 1. Pre: what is assigned keeps that shape.
    Matrix<Scalar>& beta() { return beta_; }
    /// The running mean used in evaluation, channels x 1.
    const Matrix<Scalar>& running_mean() const { return running_mean_; }
    /// The running (unbiased) variance used in evaluation, channels x 1.
    const Matrix<Scalar>& running_var() const { return running_var_; }

protected:
    /// Contract: see Layer::forward. Mode::training normalizes with the batch's statistics
    /// and updates the running ones; it throws InvalidArgument when a channel has a single
    /// value (one flat example). Mode::evaluation uses the running statistics.
    const Matrix<Scalar>& do_forward(const Matrix<Scalar>& input, Mode mode) override {
        training_ = mode == Mode::training;
        if (!training_) {
            normalize(input, running_mean_, running_var_, output_);
            inverse_std_ = (running_var_.array() + static_cast<Scalar>(epsilon_)).rsqrt().matrix();
            return output_;
        }
        const Index c = shape_.channels;
        const Index count = input.size() / c;  // examples * pixels per channel
        if (count < 2) {  // as PyTorch: one value per channel has no variance to normalize by
            detail::throw_invalid("BatchNorm::forward: training needs more than one value per channel, got a batch of ",
                                  input.cols(), " example(s) of ", shape_.to_string(),
                                  "; use larger batches (a last batch of one example: change the batch size)");
        }
        // Each column is pixels x channels with channels fastest: a channels x (pixels * m) view,
        // walked in runs of whole columns (see runs()). Members, not locals: a training step
        // allocates nothing once warmed up.
        const Scalar* x = input.data();
        channel_sums(count, [&](Index at, Index n) { return ConstValues(x + at, n); }, mean_);
        mean_ /= static_cast<Scalar>(count);
        tile(0, mean_);
        channel_sums(count, [&](Index at, Index n) { return (ConstValues(x + at, n) - tiled(0, n)).square(); }, var_);
        var_ /= static_cast<Scalar>(count);
        inverse_std_ = (var_.array() + static_cast<Scalar>(epsilon_)).rsqrt().matrix();
        tile(1, inverse_std_);
        tile(2, gamma_);
        tile(3, beta_);
        // The normalized values are not kept: backward computes them again from the input
        // (the same expression, so the same values), which saves a write and a read of a
        // batch-sized array.
        output_.resize(input.rows(), input.cols());
        runs(count, [&](Index at, Index n) { Values(output_.data() + at, n) = xhat(x, at, n) * tiled(2, n) + tiled(3, n); });
        const auto mom = static_cast<Scalar>(momentum_);
        const Scalar unbias = count > 1 ? static_cast<Scalar>(count) / static_cast<Scalar>(count - 1) : Scalar(1);
        running_mean_ = (Scalar(1) - mom) * running_mean_ + mom * mean_;
        running_var_ = (Scalar(1) - mom) * running_var_ + mom * unbias * var_;
        return output_;
    }

    /// Contract: see Layer::backward. After a training forward the gradient runs through the
    /// batch statistics; after an evaluation forward they are constants.
    const Matrix<Scalar>& do_backward(const Matrix<Scalar>& dy_in, bool need_input_gradient) override {
        const Index c = shape_.channels;
        const Index count = dy_in.size() / c;
        Eigen::Map<const Matrix<Scalar>> dy(dy_in.data(), c, count);
        if (!training_) {
            // Statistics were constants: y = gamma * (x - mean) * inverse_std + beta.
            const Matrix<Scalar>& x = this->last_input();
            Eigen::Map<const Matrix<Scalar>> xv(x.data(), c, count);
            const Matrix<Scalar> xhat =
                ((xv.colwise() - running_mean_.col(0)).array().colwise() * inverse_std_.col(0).array()).matrix();
            gamma_gradient_ = (dy.array() * xhat.array()).rowwise().sum().matrix();
            beta_gradient_ = dy.rowwise().sum();
            if (need_input_gradient) {
                input_gradient_.resize(dy_in.rows(), dy_in.cols());
                Eigen::Map<Matrix<Scalar>> dx(input_gradient_.data(), c, count);
                dx = (dy.array().colwise() * (gamma_.array() * inverse_std_.array()).col(0)).matrix();
                if (through_relu_) {
                    detail::keep_where_positive(x.data(), dx.data(), dx.data(), dx.size());
                }
            } else {
                input_gradient_.resize(0, 0);
            }
            return input_gradient_;
        }
        const Scalar* g = dy_in.data();
        const Scalar* x = this->last_input().data();
        // Both sums in one pass over dy (each accumulated as channel_sums would alone); tiled_
        // still holds the forward's mean and inverse standard deviation in columns 0 and 1.
        accumulator_.setZero(tile_columns() * c);
        second_accumulator_.setZero(tile_columns() * c);
        for (Index first = 0; first < count; first += tile_columns()) {
            const Index n = std::min(tile_columns(), count - first) * c;
            const ConstValues dy_run(g + first * c, n);
            accumulator_.head(n) += dy_run;
            second_accumulator_.head(n) += dy_run * xhat(x, first * c, n);
        }
        sum_runs(accumulator_, beta_gradient_);
        sum_runs(second_accumulator_, gamma_gradient_);
        if (!need_input_gradient) {
            input_gradient_.resize(0, 0);
            return input_gradient_;
        }
        // dx = gamma * inverse_std / n * (n * dy - sum(dy) - xhat * sum(dy * xhat)), per channel.
        const auto total = static_cast<Scalar>(count);
        input_gradient_.resize(dy_in.rows(), dy_in.cols());
        scale_ = gamma_.array().col(0) * inverse_std_.array().col(0) / total;
        tile(2, beta_gradient_);   // sum(dy)
        tile(3, gamma_gradient_);  // sum(dy * xhat)
        tile(4, scale_.matrix());
        runs(count, [&](Index at, Index n) {
            Scalar* dx = input_gradient_.data() + at;
            Values(dx, n) =
                ((ConstValues(g + at, n) * total - tiled(2, n)) - xhat(x, at, n) * tiled(3, n)) * tiled(4, n);
            if (through_relu_) {  // x is the ReLU's output
                detail::keep_where_positive(x + at, dx, dx, n);
            }
        });
        return input_gradient_;
    }

    /// Contract: see Layer::infer. Uses the running statistics.
    void do_infer(const Matrix<Scalar>& input, Matrix<Scalar>& output) const override {
        normalize(input, running_mean_, running_var_, output);
    }

public:
    /// Contract: see ChannelAffine. gamma / sqrt(running variance + epsilon), and beta -
    /// running mean * that scale.
    void inference_affine(Matrix<Scalar>& scale, Matrix<Scalar>& shift) const override {
        affine(running_mean_, running_var_, scale, shift);
    }

private:
    using Values = Eigen::Map<Eigen::Array<Scalar, Eigen::Dynamic, 1>>;
    using ConstValues = Eigen::Map<const Eigen::Array<Scalar, Eigen::Dynamic, 1>>;

    /// Columns of the channels x count view per run: about 1024 values. A per-channel
    /// vector repeated over them (tile()) turns each run into one long vector loop, where
    /// Eigen's column-wise broadcasts make a short loop per column.
    Index tile_columns() const { return std::max<Index>(1, 1024 / shape_.channels); }

    /// Column `k` of tiled_ := the channels x 1 `v` repeated over tile_columns() columns.
    template <class Derived>
    void tile(Index k, const Eigen::MatrixBase<Derived>& v) {
        tiled_.resize(tile_columns() * shape_.channels, 5);
        tiled_.col(k) = v.col(0).replicate(tile_columns(), 1);
    }
    /// The first n values of tiled_'s column k, as an array.
    auto tiled(Index k, Index n) const { return tiled_.col(k).head(n).array(); }
    /// The normalized values of x's run [at, at + n) in a training step: (x - mean) *
    /// inverse_std with the batch's statistics, tiled in columns 0 and 1.
    auto xhat(const Scalar* x, Index at, Index n) const { return (ConstValues(x + at, n) - tiled(0, n)) * tiled(1, n); }

    /// Calls f(first value, values) for each run of whole columns of the channels x count
    /// view (values in runs of tile_columns() columns), runs shared between threads: for
    /// work value by value, whose results no thread count changes.
    template <class F>
    void runs(Index count, F&& f) const {
        const Index c = shape_.channels;
        const Index per = tile_columns();
        detail::parallel_chunks((count + per - 1) / per, per * c * 4, [&](Index r) {
            f(r * per * c, std::min(per, count - r * per) * c);
        });
    }

    /// sums := per channel, the sum of values(first value, values) over the channels x
    /// count view: each run added onto a run-sized accumulator, then its columns summed, in
    /// a fixed order on one thread.
    template <class F>
    void channel_sums(Index count, F&& values, Matrix<Scalar>& sums) {
        const Index c = shape_.channels;
        const Index per = tile_columns();
        accumulator_.setZero(per * c);
        for (Index first = 0; first < count; first += per) {
            const Index n = std::min(per, count - first) * c;
            accumulator_.head(n) += values(first * c, n);
        }
        sum_runs(accumulator_, sums);
    }

    /// sums := per channel, the sum of a run-sized accumulator's columns, in order.
    void sum_runs(const Eigen::Array<Scalar, Eigen::Dynamic, 1>& accumulator, Matrix<Scalar>& sums) const {
        const Index c = shape_.channels;
        sums.setZero(c, 1);
        for (Index k = 0; k < tile_columns(); ++k) {
            sums.col(0) += accumulator.segment(k * c, c).matrix();
        }
    }

    void normalize(const Matrix<Scalar>& input, const Matrix<Scalar>& mean, const Matrix<Scalar>& var,
                   Matrix<Scalar>& output) const {
        const Index c = shape_.channels;
        const Index count = input.size() / c;
        Eigen::Map<const Matrix<Scalar>> x(input.data(), c, count);
        Matrix<Scalar> scale;
        Matrix<Scalar> shift;
        affine(mean, var, scale, shift);
        output.resize(input.rows(), input.cols());
        Eigen::Map<Matrix<Scalar>> y(output.data(), c, count);
        y = ((x.array().colwise() * scale.col(0).array()).colwise() + shift.col(0).array()).matrix();
    }

    /// y = scale * x + shift with the given statistics.
    void affine(const Matrix<Scalar>& mean, const Matrix<Scalar>& var, Matrix<Scalar>& scale,
                Matrix<Scalar>& shift) const {
        scale = (gamma_.array() * (var.array() + static_cast<Scalar>(epsilon_)).rsqrt()).matrix();
        shift = (beta_.array() - mean.array() * scale.array()).matrix();
    }

    Shape shape_;
    double momentum_;
    double epsilon_;
    bool training_ = false;
    Matrix<Scalar> gamma_, beta_, gamma_gradient_, beta_gradient_;
    Matrix<Scalar> running_mean_, running_var_;
    Matrix<Scalar> mean_, var_, inverse_std_, output_, input_gradient_;
    Eigen::Array<Scalar, Eigen::Dynamic, 1> scale_;
    Matrix<Scalar> tiled_;                                 // per-channel vectors, see tile()
    Eigen::Array<Scalar, Eigen::Dynamic, 1> accumulator_;  // channel_sums' run-sized sums
    Eigen::Array<Scalar, Eigen::Dynamic, 1> second_accumulator_;  // backward's second sum beside it
    bool through_relu_ = false;  // set during backward_through_relu only
};

// ---- model files --------------------------------------------------------------------

namespace detail {

/// A BatchNorm from a model file's settings: momentum and epsilon (the loader fills its
/// parameters and running statistics).
template <class Scalar>
std::unique_ptr<Layer<Scalar>> batch_norm_from_settings(const Shape& input, const Settings& s) {
    return std::make_unique<BatchNorm<Scalar>>(input, s.real("momentum"), s.real("epsilon"));
}

/// "batch_norm" in the registries of a program that includes this header.
inline const bool batch_norm_registered =
    register_builtin_layer({"batch_norm", batch_norm_from_settings<float>, batch_norm_from_settings<double>});

}  // namespace detail

/// ONNX: BatchNormalization, per channel of an image; per feature of a flat layer, after
/// flattening an image in nndl's order if one comes before.
template <class Scalar>
void BatchNorm<Scalar>::export_onnx(OnnxGraphBuilder& out, const Shape& in) const {
    out.require_no_sequence(type(), in);
    if (shape_.is_flat() && out.image) {
        out.flatten_in_nndl_order(in);
    }
    const Index c = shape_.channels;
    const auto vector = [&](const char* name, const Matrix<Scalar>& v) {
        return out.add_tensor(name, {c}, [&](Index k) { return static_cast<double>(v(k, 0)); });
    };
    const std::vector<std::string> inputs{out.current, vector("gamma", gamma_), vector("beta", beta_),
                                          vector("running_mean", running_mean_), vector("running_var", running_var_)};
    if (!(std::abs(epsilon_) >= static_cast<double>(std::numeric_limits<float>::min()) &&
          std::abs(epsilon_) <= static_cast<double>(std::numeric_limits<float>::max()))) {
        // ONNX keeps epsilon as a float attribute: a smaller one would be written as 0
        // (or a subnormal that consumers flush to 0), dividing by a zero variance.
        detail::throw_invalid(out.where(), " ('batch_norm') has epsilon ", epsilon_,
                              ", which ONNX's float32 attribute cannot hold; expected ",
                              std::numeric_limits<float>::min(), " to ", std::numeric_limits<float>::max());
    }
    out.add_node("BatchNormalization", inputs)
        .set_float("epsilon", epsilon_)
        .set_float("momentum", 1.0 - momentum_);  // ONNX's share kept
}

}  // namespace nndl

// nndl::compiled holds BatchNorm for float and double: a program that links it (NNDL_COMPILED)
// compiles none of their code.
#if defined(NNDL_COMPILED) || defined(NNDL_COMPILED_DEFINITIONS_FLOAT) || defined(NNDL_COMPILED_DEFINITIONS_DOUBLE)
#include "../detail/compiled_fingerprint.hpp"
#include "../detail/compiled_kind.hpp"  // NNDL_COMPILED_FLOAT_KIND, NNDL_COMPILED_DOUBLE_KIND
/// \cond
namespace nndl {
NNDL_COMPILED_FLOAT_KIND template class BatchNorm<float>;
NNDL_COMPILED_DOUBLE_KIND template class BatchNorm<double>;
}  // namespace nndl
/// \endcond
#undef NNDL_COMPILED_FLOAT_KIND
#undef NNDL_COMPILED_DOUBLE_KIND
#endif
