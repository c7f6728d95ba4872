#pragma once
// A random stream that is bit-for-bit NumPy's legacy global generator
// (np.random.seed / rand / randn), so C++ code can replay the course's NumPy
// experiments exactly: same weights, same data, same costs.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "errors.hpp"
#include "types.hpp"

namespace nndl {

namespace detail {
/// a * b rounded on its own, as NumPy's C code rounds it before adding: a compiler
/// allowed to fuse a multiply and an add (GCC for FMA targets, e.g. -march=native)
/// would otherwise skip that rounding and change the last bit of randn.
inline double rounded_product(double a, double b) {
    volatile double product = a * b;
    return product;
}
}  // namespace detail

/// NumPy's legacy random stream (MT19937 plus its conversions), draw for draw: the same
/// seed gives the same numbers as np.random in the same order of calls.
class NumpyRandom {
public:
    /// Same state as np.random.seed(seed).
    explicit NumpyRandom(std::uint32_t seed = 0) { this->seed(seed); }

    /// Re-seeds like np.random.seed(seed); also forgets the cached Gaussian.
    void seed(std::uint32_t seed) {
        engine_.seed(seed);
        cached_gaussian_.reset();
    }

    /// np.random.rand(): a double in [0, 1) with 53 random bits (two raw 32-bit words).
    double uniform() {
        const auto high = static_cast<std::uint32_t>(engine_()) >> 5;
        const auto low = static_cast<std::uint32_t>(engine_()) >> 6;
        return (high * 67108864.0 + low) / 9007199254740992.0;
    }

    /// Skips `count` uniform() draws (two raw words each) without computing them. Throws
    /// InvalidArgument when `count` is negative.
    void skip_uniform(Index count) {
        if (count < 0) {
            detail::throw_invalid("NumpyRandom::skip_uniform: count ", count, ", expected at least 0");
        }
        engine_.discard(2 * static_cast<unsigned long long>(count));
    }

    /// np.random.randn(): polar Box-Muller, which yields two values per accepted
    /// pair; the second is cached and returned by the next call.
    double normal() {
        if (cached_gaussian_) {
            const double value = *cached_gaussian_;
            cached_gaussian_.reset();
            return value;
        }
        double x1 = 0.0;
        double x2 = 0.0;
        double r2 = 0.0;
        do {
            x1 = 2.0 * uniform() - 1.0;
            x2 = 2.0 * uniform() - 1.0;
            r2 = detail::rounded_product(x1, x1) + detail::rounded_product(x2, x2);
        } while (r2 >= 1.0 || r2 == 0.0);
        const double factor = std::sqrt(-2.0 * std::log(r2) / r2);
        cached_gaussian_ = factor * x1;
        return factor * x2;
    }

    /// np.random.randint(0, bound) (legacy masked rejection sampling): a value in
    /// [0, bound). Throws InvalidArgument when `bound` is 0.
    std::uint32_t below(std::uint32_t bound) {
        if (bound == 0) {
            detail::throw_invalid("NumpyRandom::below: bound is 0, expected at least 1");
        }
        const std::uint32_t max = bound - 1;
        std::uint32_t mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        std::uint32_t value = 0;
        do {
            value = static_cast<std::uint32_t>(engine_()) & mask;
        } while (value > max);
        return value;
    }

    /// np.random.randn(rows, cols): drawn in row-major (C) order, as NumPy fills arrays,
    /// then converted to Scalar. Throws InvalidArgument for a negative size.
    template <class Scalar = double>
    Matrix<Scalar> randn(Index rows, Index cols) {
        require_size("NumpyRandom::randn", rows, cols);
        Matrix<Scalar> m(rows, cols);
        for (Index i = 0; i < rows; ++i) {
            for (Index j = 0; j < cols; ++j) {
                m(i, j) = static_cast<Scalar>(normal());
            }
        }
        return m;
    }

    /// np.random.randn(features, examples, steps), the course's (n_x, m, T_x) sequence
    /// arrays, drawn in NumPy's order and stored in nndl's sequence layout (Shape::sequence):
    /// entry [f][i][t] at row t * features + f of column i. Throws InvalidArgument for a
    /// negative size.
    template <class Scalar = double>
    Matrix<Scalar> randn_sequence(Index features, Index examples, Index steps) {
        require_size("NumpyRandom::randn_sequence", features, examples);
        require_size("NumpyRandom::randn_sequence", steps, 0);
        if (features > 0 && steps > (Index(1) << 40) / features) {
            detail::throw_invalid("NumpyRandom::randn_sequence: ", steps, " steps of ", features,
                                  " features, expected at most 2^40 rows");
        }
        Matrix<Scalar> x(steps * features, examples);
        for (Index f = 0; f < features; ++f) {
            for (Index i = 0; i < examples; ++i) {
                for (Index t = 0; t < steps; ++t) {
                    x(t * features + f, i) = static_cast<Scalar>(normal());
                }
            }
        }
        return x;
    }

    /// np.random.rand(rows, cols), row-major draw order, converted to Scalar. Throws
    /// InvalidArgument for a negative size.
    template <class Scalar = double>
    Matrix<Scalar> rand(Index rows, Index cols) {
        require_size("NumpyRandom::rand", rows, cols);
        Matrix<Scalar> m(rows, cols);
        for (Index i = 0; i < rows; ++i) {
            for (Index j = 0; j < cols; ++j) {
                m(i, j) = static_cast<Scalar>(uniform());
            }
        }
        return m;
    }

    /// np.random.permutation(n): the legacy Fisher-Yates shuffle of 0..n-1. Throws
    /// InvalidArgument when `n` is negative.
    std::vector<Index> permutation(Index n) {
        if (n < 0) {
            detail::throw_invalid("NumpyRandom::permutation: n is ", n, ", expected >= 0");
        }
        std::vector<Index> order(static_cast<std::size_t>(n));
        for (Index i = 0; i < n; ++i) {
            order[static_cast<std::size_t>(i)] = i;
        }
        for (Index i = n - 1; i > 0; --i) {
            const auto j = static_cast<Index>(below(static_cast<std::uint32_t>(i + 1)));
            std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
        }
        return order;
    }

    /// np.random.choice(len(p), p=p) (legacy): an index drawn with the probabilities `p`
    /// (a vector). As NumPy: p must sum to 1 within the square root of its scalar type's
    /// epsilon (a compensated sum); the cumulative sum, in order, is divided by its last
    /// entry; one uniform() draw; the index is the number of cumulative entries <= the draw.
    /// Throws InvalidArgument when p is empty or not a vector, has a negative or non-finite
    /// entry, or does not sum to 1.
    template <class Derived>
    Index choice(const Eigen::DenseBase<Derived>& p) {
        using PScalar = typename Derived::Scalar;
        if (p.size() == 0 || (p.rows() != 1 && p.cols() != 1)) {
            detail::throw_invalid("NumpyRandom::choice: p is ", p.rows(), " x ", p.cols(),
                                  ", expected a vector of at least one probability");
        }
        double sum = 0.0;
        double compensation = 0.0;  // Kahan's, as NumPy's check
        for (Index i = 0; i < p.size(); ++i) {
            const auto value = static_cast<double>(p.derived().coeff(i));
            if (!(value >= 0.0) || !std::isfinite(value)) {
                detail::throw_invalid("NumpyRandom::choice: p(", i, ") is ", value,
                                      ", expected a finite probability >= 0");
            }
            const double y = value - compensation;
            const double t = sum + y;
            compensation = (t - sum) - y;
            sum = t;
        }
        const double tolerance = std::sqrt(static_cast<double>(std::numeric_limits<PScalar>::epsilon()));
        if (std::abs(sum - 1.0) > std::max(tolerance, std::sqrt(std::numeric_limits<double>::epsilon()))) {
            detail::throw_invalid("NumpyRandom::choice: the probabilities sum to ", sum, ", expected 1");
        }
        cumulative_.resize(static_cast<std::size_t>(p.size()));
        double running = 0.0;
        for (Index i = 0; i < p.size(); ++i) {
            running += static_cast<double>(p.derived().coeff(i));
            cumulative_[static_cast<std::size_t>(i)] = running;
        }
        for (double& c : cumulative_) {
            c /= running;
        }
        const double draw = uniform();
        return static_cast<Index>(std::upper_bound(cumulative_.begin(), cumulative_.end(), draw) -
                                  cumulative_.begin());
    }

private:
    static void require_size(const char* where, Index rows, Index cols) {
        if (rows < 0 || cols < 0) {
            detail::throw_invalid(where, ": shape ", rows, " x ", cols, ", expected sizes >= 0");
        }
    }

    std::mt19937 engine_;
    std::optional<double> cached_gaussian_;
    std::vector<double> cumulative_;  // choice's cumulative sum, kept so a draw need not allocate
};

/// The probabilities `p` sharpened (temperature < 1) or flattened (> 1): each becomes
/// p^(1/temperature), then all are divided by their sum; temperature 1 gives p back (up to
/// rounding), and a probability of 0 stays 0. Computed from logarithms, so a small
/// temperature does not underflow to all zeros. Throws InvalidArgument unless temperature is
/// a finite number > 0 and p a non-empty vector of finite probabilities >= 0, not all 0.
template <class Scalar>
Vector<Scalar> with_temperature(const Vector<Scalar>& p, double temperature) {
    if (!(temperature > 0.0) || !std::isfinite(temperature)) {
        detail::throw_invalid("with_temperature: temperature is ", temperature, ", expected a finite number > 0");
    }
    if (p.size() == 0) {
        detail::throw_invalid("with_temperature: p is empty, expected at least one probability");
    }
    double largest = -std::numeric_limits<double>::infinity();  // the largest log(p)
    for (Index i = 0; i < p.size(); ++i) {
        const auto value = static_cast<double>(p(i));
        if (!(value >= 0.0) || !std::isfinite(value)) {
            detail::throw_invalid("with_temperature: p(", i, ") is ", value, ", expected a finite probability >= 0");
        }
        if (value > 0.0) {
            largest = std::max(largest, std::log(value));
        }
    }
    if (largest == -std::numeric_limits<double>::infinity()) {
        detail::throw_invalid("with_temperature: every probability is 0, expected at least one above 0");
    }
    std::vector<double> weights(static_cast<std::size_t>(p.size()));
    double sum = 0.0;
    for (Index i = 0; i < p.size(); ++i) {
        const auto value = static_cast<double>(p(i));
        // (log p - largest) <= 0, so dividing by a tiny temperature gives -inf, not a NaN.
        const double w = value > 0.0 ? std::exp((std::log(value) - largest) / temperature) : 0.0;
        weights[static_cast<std::size_t>(i)] = w;
        sum += w;
    }
    Vector<Scalar> result(p.size());
    for (Index i = 0; i < p.size(); ++i) {
        result(i) = static_cast<Scalar>(weights[static_cast<std::size_t>(i)] / sum);
    }
    return result;
}

}  // namespace nndl
