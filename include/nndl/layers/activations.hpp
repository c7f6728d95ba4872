#pragma once
// Activation functions as stateless policies. Each policy has
//   kind                      -- its Activation tag (for run-time lookup and save files)
//   elementwise, value(z)     -- whether f acts per entry, and then f of one entry
//                                (lets Dense add the bias and apply f in one pass)
//   forward(Z, A)             -- A = f(Z), elementwise or per column
//   forward_in_place(Z)       -- Z = f(Z), the same values (Dense's and Conv2D's inference)
//   backward(Z, A, dA, dZ)    -- dZ = dA * f'(Z), given the cached Z and A
// Dense<Scalar, Policy> inlines them, so there is no virtual call per element.
// Scalar functions go through std:: so double results match NumPy's to the last bits.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>

#include "../activation_tag.hpp"
#include "../errors.hpp"
#include "../types.hpp"

namespace nndl {

namespace detail {

/// out[i] = g[i] where z[i] > 0, else +0, for i < n: g's bits kept under a comparison mask,
/// eight values at a time where the compiler has vector types (Eigen's select takes one
/// value at a time with a branch each: about 20 times slower where signs are mixed).
template <class Scalar>
void keep_where_positive(const Scalar* z, const Scalar* g, Scalar* out, Index n) {
    Index i = 0;
#if defined(__GNUC__) || defined(__clang__)
    constexpr Index lanes = 8;
    typedef Scalar Values __attribute__((vector_size(lanes * sizeof(Scalar))));
    using Mask = decltype(Values{} > Values{});  // integers of Scalar's size: all ones where true
    for (; i + lanes <= n; i += lanes) {
        Values zv;
        Mask bits;
        std::memcpy(&zv, z + i, sizeof(Values));
        std::memcpy(&bits, g + i, sizeof(Values));
        bits &= zv > Values{};  // false for NaN, as z > 0 is
        std::memcpy(out + i, &bits, sizeof(Values));
    }
#endif
    for (; i < n; ++i) {
        out[i] = z[i] > Scalar(0) ? g[i] : Scalar(0);
    }
}

}  // namespace detail

/// f(z) = z: no activation (a linear output, as for regression).
struct Identity {
    static constexpr Activation kind = Activation::identity;  ///< this policy's Activation tag
    static constexpr bool elementwise = true;  ///< f acts on each entry alone (value() exists)
    /// f of one entry: z.
    template <class Scalar>
    static Scalar value(Scalar z) {
        return z;
    }
    /// a = z.
    template <class Scalar>
    static void forward(const Matrix<Scalar>& z, Matrix<Scalar>& a) {
        a = z;
    }
    /// z = f(z): nothing to do.
    template <class Derived>
    static void forward_in_place(Eigen::MatrixBase<Derived>&) {}
    /// dz = da (f' = 1; z and a are unused).
    template <class Scalar>
    static void backward(const Matrix<Scalar>&, const Matrix<Scalar>&, const Matrix<Scalar>& da,
                         Matrix<Scalar>& dz) {
        dz = da;
    }
};

/// f(z) = 1 / (1 + exp(-z)), in (0, 1): the output for binary classification.
struct Sigmoid {
    static constexpr Activation kind = Activation::sigmoid;  ///< this policy's Activation tag
    static constexpr bool elementwise = true;  ///< f acts on each entry alone (value() exists)
    /// f of one entry: 1 / (1 + exp(-z)).
    template <class Scalar>
    static Scalar value(Scalar z) {
        return Scalar(1) / (Scalar(1) + std::exp(-z));
    }
    /// a = f(z), entry by entry.
    template <class Scalar>
    static void forward(const Matrix<Scalar>& z, Matrix<Scalar>& a) {
        a = z.unaryExpr([](Scalar v) { return value(v); });
    }
    /// z = f(z), entry by entry, as forward computes it.
    template <class Derived>
    static void forward_in_place(Eigen::MatrixBase<Derived>& z) {
        using Scalar = typename Derived::Scalar;
        z = z.unaryExpr([](Scalar v) { return value(v); });
    }
    /// dz = da * a * (1 - a), from the cached output a (z is unused).
    template <class Scalar>
    static void backward(const Matrix<Scalar>&, const Matrix<Scalar>& a, const Matrix<Scalar>& da,
                         Matrix<Scalar>& dz) {
        dz = (da.array() * a.array() * (Scalar(1) - a.array())).matrix();
    }
};

/// f(z) = tanh(z), in (-1, 1).
struct Tanh {
    static constexpr Activation kind = Activation::tanh;  ///< this policy's Activation tag
    static constexpr bool elementwise = true;  ///< f acts on each entry alone (value() exists)
    /// f of one entry: std::tanh(z).
    template <class Scalar>
    static Scalar value(Scalar z) {
        return std::tanh(z);
    }
    /// a = tanh(z), entry by entry.
    template <class Scalar>
    static void forward(const Matrix<Scalar>& z, Matrix<Scalar>& a) {
        a = z.unaryExpr([](Scalar v) { return std::tanh(v); });
    }
    /// z = tanh(z), entry by entry, as forward computes it.
    template <class Derived>
    static void forward_in_place(Eigen::MatrixBase<Derived>& z) {
        using Scalar = typename Derived::Scalar;
        z = z.unaryExpr([](Scalar v) { return std::tanh(v); });
    }
    /// dz = da * (1 - a^2), from the cached output a (z is unused).
    template <class Scalar>
    static void backward(const Matrix<Scalar>&, const Matrix<Scalar>& a, const Matrix<Scalar>& da,
                         Matrix<Scalar>& dz) {
        dz = (da.array() * (Scalar(1) - a.array().square())).matrix();
    }
};

/// f(z) = max(z, 0).
struct ReLU {
    static constexpr Activation kind = Activation::relu;  ///< this policy's Activation tag
    static constexpr bool elementwise = true;  ///< f acts on each entry alone (value() exists)
    /// f of one entry: z if z > 0, else 0.
    template <class Scalar>
    static Scalar value(Scalar z) {
        return z > Scalar(0) ? z : Scalar(0);
    }
    /// a = max(z, 0), entry by entry.
    template <class Scalar>
    static void forward(const Matrix<Scalar>& z, Matrix<Scalar>& a) {
        a = z.cwiseMax(Scalar(0));
    }
    /// z = max(z, 0), entry by entry, as forward computes it.
    template <class Derived>
    static void forward_in_place(Eigen::MatrixBase<Derived>& z) {
        z = z.cwiseMax(typename Derived::Scalar(0));
    }
    /// dz = da where z > 0, else 0 (f'(0) is taken as 0; a is unused).
    template <class Scalar>
    static void backward(const Matrix<Scalar>& z, const Matrix<Scalar>&, const Matrix<Scalar>& da,
                         Matrix<Scalar>& dz) {
        dz.resize(z.rows(), z.cols());
        detail::keep_where_positive(z.data(), da.data(), dz.data(), z.size());
    }
};

/// f(z) = z for z > 0, else slope * z: a ReLU whose negative side keeps a small gradient.
struct LeakyReLU {
    static constexpr Activation kind = Activation::leaky_relu;  ///< this policy's Activation tag
    static constexpr double slope = leaky_relu_slope;  ///< f(z) = slope * z for z <= 0
    static constexpr bool elementwise = true;  ///< f acts on each entry alone (value() exists)
    /// f of one entry: z if z > 0, else slope * z.
    template <class Scalar>
    static Scalar value(Scalar z) {
        return z > Scalar(0) ? z : Scalar(slope) * z;
    }
    /// a = f(z), entry by entry.
    template <class Scalar>
    static void forward(const Matrix<Scalar>& z, Matrix<Scalar>& a) {
        a = (z.array() > Scalar(0)).select(z, Scalar(slope) * z);
    }
    /// z = f(z), entry by entry, as forward computes it.
    template <class Derived>
    static void forward_in_place(Eigen::MatrixBase<Derived>& z) {
        using Scalar = typename Derived::Scalar;
        z = (z.array() > Scalar(0)).select(z, Scalar(slope) * z);
    }
    /// dz = da where z > 0, else slope * da (a is unused).
    template <class Scalar>
    static void backward(const Matrix<Scalar>& z, const Matrix<Scalar>&, const Matrix<Scalar>& da,
                         Matrix<Scalar>& dz) {
        dz = (z.array() > Scalar(0)).select(da, Scalar(slope) * da);
    }
};

/// Softmax over each column (one example per column). The column maximum is
/// subtracted first, so large logits cannot overflow exp.
struct Softmax {
    static constexpr Activation kind = Activation::softmax;  ///< this policy's Activation tag
    static constexpr bool elementwise = false;  ///< f acts on whole columns (no value())
    /// a = softmax of each column of z; a is resized to z's shape.
    template <class Scalar>
    static void forward(const Matrix<Scalar>& z, Matrix<Scalar>& a) {
        a.resize(z.rows(), z.cols());
        for (Index j = 0; j < z.cols(); ++j) {
            const Scalar top = z.col(j).maxCoeff();
            a.col(j) = (z.col(j).array() - top).unaryExpr([](Scalar v) { return std::exp(v); }).matrix();
            a.col(j) /= a.col(j).sum();
        }
    }
    /// The softmax of each column of z, in place, as forward computes it.
    template <class Derived>
    static void forward_in_place(Eigen::MatrixBase<Derived>& z) {
        using Scalar = typename Derived::Scalar;
        for (Index j = 0; j < z.cols(); ++j) {
            const Scalar top = z.col(j).maxCoeff();
            z.col(j) = (z.col(j).array() - top).unaryExpr([](Scalar v) { return std::exp(v); }).matrix();
            z.col(j) /= z.col(j).sum();
        }
    }
    /// dz_i = a_i (da_i - sum_k da_k a_k), per column (z is unused).
    template <class Scalar>
    static void backward(const Matrix<Scalar>&, const Matrix<Scalar>& a, const Matrix<Scalar>& da,
                         Matrix<Scalar>& dz) {
        const auto weighted = (da.array() * a.array()).colwise().sum().eval();
        dz = (a.array() * (da.array().rowwise() - weighted)).matrix();
    }
};

/// Calls f(Policy{}) with the policy that matches a run-time Activation tag and returns
/// its result (f must return the same type for every policy). Throws InvalidArgument for
/// a value outside the enumeration.
template <class F>
decltype(auto) with_activation(Activation a, F&& f) {
    switch (a) {
        case Activation::identity: return f(Identity{});
        case Activation::sigmoid: return f(Sigmoid{});
        case Activation::tanh: return f(Tanh{});
        case Activation::relu: return f(ReLU{});
        case Activation::leaky_relu: return f(LeakyReLU{});
        case Activation::softmax: return f(Softmax{});
    }
    detail::throw_invalid("with_activation: unknown activation tag ", static_cast<int>(a));
}

}  // namespace nndl
