#pragma once
// Feature scaling fitted on training data: a standardizer (zero mean, unit variance per
// feature, as scikit-learn's StandardScaler) and a min-max scaler (each feature mapped
// onto [low, high], as its MinMaxScaler). A scaler becomes a Normalization layer at the
// front of a network, so the model file keeps its statistics and predict applies them;
// an inverse layer at the end returns outputs in the targets' own units.

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "../errors.hpp"
#include "../layers/normalization.hpp"
#include "../types.hpp"

namespace nndl {

/// A per-feature affine map y = (x - center) / spread, fitted on the rows (features)
/// of a training matrix: fit it once on training data and apply the same map to
/// validation, test and new data.
template <class Scalar>
class Scaler {
public:
    /// A scaler with given statistics (columns of one value per feature; `method` names
    /// them in summaries). Throws InvalidArgument as the Normalization layer does.
    Scaler(Matrix<Scalar> center, Matrix<Scalar> spread, std::string method = "custom")
        : Scaler("Scaler::Scaler", std::move(center), std::move(spread), std::move(method)) {}

    /// Each feature scaled by its mean and population standard deviation over the
    /// columns of x (ddof 0). A constant feature keeps spread 1 and maps to 0; so does one
    /// whose variance is within rounding of 0 (scikit-learn's rule), which would otherwise
    /// be divided by a rounding error. Throws InvalidArgument when x has no columns, holds
    /// a value that is not finite, or a feature's statistics overflow.
    static Scaler standardize(const Matrix<Scalar>& x);

    /// Each feature mapped linearly from its [min, max] over the columns of x onto
    /// [low, high]. A constant feature maps to low. Throws InvalidArgument when x has no
    /// columns or a value that is not finite, or unless low < high (both finite).
    static Scaler min_max(const Matrix<Scalar>& x, double low = 0.0, double high = 1.0);

    /// How many features (rows) the scaler maps.
    Index features() const { return center_.rows(); }
    /// The value subtracted from each feature, features() x 1.
    const Matrix<Scalar>& center() const { return center_; }
    /// The divisor of each feature, features() x 1, all above 0.
    const Matrix<Scalar>& spread() const { return spread_; }
    /// "standardize", "min_max" or the name given to the constructor.
    const std::string& method() const { return method_; }

    /// (x - center) / spread for every column of x (features() rows). Throws ShapeError
    /// on another row count and InvalidArgument on a value that is not finite.
    Matrix<Scalar> transform(const Matrix<Scalar>& x) const;
    /// The inverse map, x * spread + center: scaled values back in the data's units.
    /// Throws as transform.
    Matrix<Scalar> inverse_transform(const Matrix<Scalar>& x) const;

    /// The map as the first layer of a network over flat inputs of features() values:
    /// `Network<double> net(scaler.features()); net.add(scaler.layer());`.
    std::unique_ptr<Normalization<Scalar>> layer() const {
        return std::make_unique<Normalization<Scalar>>(Shape(features()), center_, spread_, false, method_);
    }
    /// The inverse map as a last layer, for a scaler fitted on the targets: a network
    /// trained on scaled targets then predicts in the targets' own units.
    std::unique_ptr<Normalization<Scalar>> inverse_layer() const {
        return std::make_unique<Normalization<Scalar>>(Shape(features()), center_, spread_, true, method_);
    }

private:
    /// As the public constructor; `where` names the caller in messages (a factory whose
    /// statistics do not fit Scalar, say).
    Scaler(const char* where, Matrix<Scalar> center, Matrix<Scalar> spread, std::string method)
        : center_(std::move(center)), spread_(std::move(spread)), method_(std::move(method)) {
        if (center_.cols() != 1 || spread_.cols() != 1 || center_.rows() < 1) {
            detail::throw_invalid(where, ": center is ", center_.rows(), "x", center_.cols(), " and spread ",
                                  spread_.rows(), "x", spread_.cols(),
                                  ", expected two columns of one value per feature (n x 1, n >= 1)");
        }
        detail::require_normalization(where, center_.rows(), center_, spread_);
    }

    static void require_training_data(const char* where, const Matrix<Scalar>& x);
    /// X mapped (inverse: back), after the checks; `where` names the caller in messages.
    Matrix<Scalar> mapped(const char* where, const Matrix<Scalar>& x, bool inverse) const;

    Matrix<Scalar> center_;
    Matrix<Scalar> spread_;
    std::string method_;
};

template <class Scalar>
Scaler<Scalar> Scaler<Scalar>::standardize(const Matrix<Scalar>& x) {
    const char* where = "Scaler::standardize";
    require_training_data(where, x);
    const Matrix<double> values = x.template cast<double>();
    const auto m = static_cast<double>(x.cols());
    const double eps = std::numeric_limits<double>::epsilon();
    Matrix<Scalar> center(x.rows(), 1);
    Matrix<Scalar> spread(x.rows(), 1);
    for (Index i = 0; i < x.rows(); ++i) {
        const double low = values.row(i).minCoeff();
        if (low == values.row(i).maxCoeff()) {  // exactly constant: maps to exactly 0
            center(i, 0) = static_cast<Scalar>(low);
            spread(i, 0) = Scalar(1);
            continue;
        }
        // In units of a power of two near the largest value (exact): no square overflows, and
        // neither can the mean or the deviation, which are at most the largest value.
        int exponent = 0;
        std::frexp(values.row(i).cwiseAbs().maxCoeff(), &exponent);
        const double unit = std::ldexp(1.0, exponent - 1);  // 2^1023 at most: finite
        const Eigen::RowVectorXd scaled = values.row(i) / unit;
        const double mean = scaled.mean();
        const double variance = (scaled.array() - mean).square().mean();
        const bool rounding_only = variance <= m * eps * variance + (m * mean * eps) * (m * mean * eps);
        const double center_value = mean * unit;
        const double spread_value = rounding_only ? 1.0 : std::sqrt(variance) * unit;
        if (!std::isfinite(center_value) || !std::isfinite(spread_value)) {
            detail::throw_invalid(where, ": feature ", i, "'s mean or standard deviation overflows a double ",
                                  "(values from ", values.row(i).minCoeff(), " to ", values.row(i).maxCoeff(), ")");
        }
        center(i, 0) = static_cast<Scalar>(center_value);
        spread(i, 0) = static_cast<Scalar>(spread_value);
    }
    return Scaler(where, center, spread, "standardize");
}

template <class Scalar>
Scaler<Scalar> Scaler<Scalar>::min_max(const Matrix<Scalar>& x, double low, double high) {
    const char* where = "Scaler::min_max";
    require_training_data(where, x);
    if (!(low < high) || !std::isfinite(low) || !std::isfinite(high) || !std::isfinite(high - low)) {
        detail::throw_invalid(where, ": the range is [", low, ", ", high,
                              "], expected finite low < high whose difference is finite");
    }
    const Matrix<double> values = x.template cast<double>();
    Matrix<Scalar> center(x.rows(), 1);
    Matrix<Scalar> spread(x.rows(), 1);
    for (Index i = 0; i < x.rows(); ++i) {
        const double smallest = values.row(i).minCoeff();
        const double range = values.row(i).maxCoeff() - smallest;
        if (!std::isfinite(range)) {
            detail::throw_invalid(where, ": feature ", i, " spans [", smallest, ", ", values.row(i).maxCoeff(),
                                  "], a range that overflows a double; expected a finite range");
        }
        // (x - min) / range * (high - low) + low, written as (x - center) / spread.
        const double s = (range > 0.0 ? range : 1.0) / (high - low);
        if (!std::isfinite(s) || !std::isfinite(smallest - low * s)) {
            detail::throw_invalid(where, ": feature ", i, " spans ", range, ", which the range [", low, ", ",
                                  high, "] is too narrow to map (the factor overflows)");
        }
        spread(i, 0) = static_cast<Scalar>(s);
        center(i, 0) = static_cast<Scalar>(smallest - low * s);
    }
    return Scaler(where, center, spread, "min_max");
}

template <class Scalar>
Matrix<Scalar> Scaler<Scalar>::transform(const Matrix<Scalar>& x) const {
    return mapped("Scaler::transform", x, false);
}

template <class Scalar>
Matrix<Scalar> Scaler<Scalar>::inverse_transform(const Matrix<Scalar>& x) const {
    return mapped("Scaler::inverse_transform", x, true);
}

template <class Scalar>
Matrix<Scalar> Scaler<Scalar>::mapped(const char* where, const Matrix<Scalar>& x, bool inverse) const {
    detail::require_rows(where, "X", x.rows(), features(), "the scaler was fitted on");
    detail::require_finite(where, "X", x);
    Matrix<Scalar> out;
    detail::normalize(x, center_, spread_, inverse, out);
    return out;
}

template <class Scalar>
void Scaler<Scalar>::require_training_data(const char* where, const Matrix<Scalar>& x) {
    if (x.rows() < 1 || x.cols() < 1) {
        detail::throw_invalid(where, ": X is ", x.rows(), "x", x.cols(),
                              ", expected at least one feature and one example to fit on");
    }
    detail::require_finite(where, "X", x);
}

}  // namespace nndl

// nndl::compiled holds Scaler for float and double: a program that links it
// (NNDL_COMPILED) compiles none of their code.
#if defined(NNDL_COMPILED) || defined(NNDL_COMPILED_DEFINITIONS_FLOAT) || defined(NNDL_COMPILED_DEFINITIONS_DOUBLE)
#include "../detail/compiled_fingerprint.hpp"
#include "../detail/compiled_kind.hpp"  // NNDL_COMPILED_FLOAT_KIND, NNDL_COMPILED_DOUBLE_KIND
/// \cond
namespace nndl {
NNDL_COMPILED_FLOAT_KIND template class Scaler<float>;
NNDL_COMPILED_DOUBLE_KIND template class Scaler<double>;
}  // namespace nndl
/// \endcond
#undef NNDL_COMPILED_FLOAT_KIND
#undef NNDL_COMPILED_DOUBLE_KIND
#endif
