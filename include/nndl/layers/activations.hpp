#pragma once
// Activation functions as stateless policies. Each policy has
//   kind                      -- its Activation tag (for run-time lookup and save files)
//   elementwise, value(z)     -- whether f acts per entry, and then f of one entry
//                                (lets Dense add the bias and apply f in one pass)
//   forward(Z, A)             -- A = f(Z), elementwise or per column
//   backward(Z, A, dA, dZ)    -- dZ = dA * f'(Z), given the cached Z and A
// Dense<Scalar, Policy> inlines them, so there is no virtual call per element.
// Scalar functions go through std:: so double results match NumPy's to the last bits.

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>

#include "../errors.hpp"
#include "../types.hpp"

namespace nndl {

enum class Activation { identity, sigmoid, tanh, relu, leaky_relu, softmax };

inline std::string_view to_string(Activation a) {
    switch (a) {
        case Activation::identity: return "identity";
        case Activation::sigmoid: return "sigmoid";
        case Activation::tanh: return "tanh";
        case Activation::relu: return "relu";
        case Activation::leaky_relu: return "leaky_relu";
        case Activation::softmax: return "softmax";
    }
    return "unknown";
}

inline Activation activation_from_string(std::string_view name) {
    for (Activation a : {Activation::identity, Activation::sigmoid, Activation::tanh, Activation::relu,
                         Activation::leaky_relu, Activation::softmax}) {
        if (to_string(a) == name) {
            return a;
        }
    }
    detail::throw_invalid("activation_from_string: unknown activation '", name,
                          "', expected identity, sigmoid, tanh, relu, leaky_relu or softmax");
}

struct Identity {
    static constexpr Activation kind = Activation::identity;
    static constexpr bool elementwise = true;
    template <class Scalar>
    static Scalar value(Scalar z) {
        return z;
    }
    template <class Scalar>
    static void forward(const Matrix<Scalar>& z, Matrix<Scalar>& a) {
        a = z;
    }
    template <class Scalar>
    static void backward(const Matrix<Scalar>&, const Matrix<Scalar>&, const Matrix<Scalar>& da,
                         Matrix<Scalar>& dz) {
        dz = da;
    }
};

struct Sigmoid {
    static constexpr Activation kind = Activation::sigmoid;
    static constexpr bool elementwise = true;
    template <class Scalar>
    static Scalar value(Scalar z) {
        return Scalar(1) / (Scalar(1) + std::exp(-z));
    }
    template <class Scalar>
    static void forward(const Matrix<Scalar>& z, Matrix<Scalar>& a) {
        a = z.unaryExpr([](Scalar v) { return value(v); });
    }
    template <class Scalar>
    static void backward(const Matrix<Scalar>&, const Matrix<Scalar>& a, const Matrix<Scalar>& da,
                         Matrix<Scalar>& dz) {
        dz = (da.array() * a.array() * (Scalar(1) - a.array())).matrix();
    }
};

struct Tanh {
    static constexpr Activation kind = Activation::tanh;
    static constexpr bool elementwise = true;
    template <class Scalar>
    static Scalar value(Scalar z) {
        return std::tanh(z);
    }
    template <class Scalar>
    static void forward(const Matrix<Scalar>& z, Matrix<Scalar>& a) {
        a = z.unaryExpr([](Scalar v) { return std::tanh(v); });
    }
    template <class Scalar>
    static void backward(const Matrix<Scalar>&, const Matrix<Scalar>& a, const Matrix<Scalar>& da,
                         Matrix<Scalar>& dz) {
        dz = (da.array() * (Scalar(1) - a.array().square())).matrix();
    }
};

struct ReLU {
    static constexpr Activation kind = Activation::relu;
    static constexpr bool elementwise = true;
    template <class Scalar>
    static Scalar value(Scalar z) {
        return z > Scalar(0) ? z : Scalar(0);
    }
    template <class Scalar>
    static void forward(const Matrix<Scalar>& z, Matrix<Scalar>& a) {
        a = z.cwiseMax(Scalar(0));
    }
    template <class Scalar>
    static void backward(const Matrix<Scalar>& z, const Matrix<Scalar>&, const Matrix<Scalar>& da,
                         Matrix<Scalar>& dz) {
        dz = (z.array() > Scalar(0)).select(da, Scalar(0));
    }
};

struct LeakyReLU {
    static constexpr Activation kind = Activation::leaky_relu;
    static constexpr double slope = 0.01;  ///< f(z) = slope * z for z <= 0
    static constexpr bool elementwise = true;
    template <class Scalar>
    static Scalar value(Scalar z) {
        return z > Scalar(0) ? z : Scalar(slope) * z;
    }
    template <class Scalar>
    static void forward(const Matrix<Scalar>& z, Matrix<Scalar>& a) {
        a = (z.array() > Scalar(0)).select(z, Scalar(slope) * z);
    }
    template <class Scalar>
    static void backward(const Matrix<Scalar>& z, const Matrix<Scalar>&, const Matrix<Scalar>& da,
                         Matrix<Scalar>& dz) {
        dz = (z.array() > Scalar(0)).select(da, Scalar(slope) * da);
    }
};

/// Softmax over each column (one example per column). The column maximum is
/// subtracted first, so large logits cannot overflow exp.
struct Softmax {
    static constexpr Activation kind = Activation::softmax;
    static constexpr bool elementwise = false;
    template <class Scalar>
    static void forward(const Matrix<Scalar>& z, Matrix<Scalar>& a) {
        a.resize(z.rows(), z.cols());
        for (Index j = 0; j < z.cols(); ++j) {
            const Scalar top = z.col(j).maxCoeff();
            a.col(j) = (z.col(j).array() - top).unaryExpr([](Scalar v) { return std::exp(v); }).matrix();
            a.col(j) /= a.col(j).sum();
        }
    }
    template <class Scalar>
    static void backward(const Matrix<Scalar>&, const Matrix<Scalar>& a, const Matrix<Scalar>& da,
                         Matrix<Scalar>& dz) {
        // dz_i = a_i (da_i - sum_k da_k a_k), per column.
        const auto weighted = (da.array() * a.array()).colwise().sum().eval();
        dz = (a.array() * (da.array().rowwise() - weighted)).matrix();
    }
};

/// Calls f(Policy{}) with the policy that matches a run-time Activation tag.
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
