#pragma once
// Basic types shared by every nndl header.

#include <type_traits>

#include <Eigen/Core>

namespace nndl {

/// Dense column-major matrix. One example per column: a batch of m inputs with n
/// features is an n x m matrix, so every layer's work is a matrix-matrix product.
template <class Scalar>
using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

/// Column vector (a bias, or one example).
template <class Scalar>
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

/// Sizes and indices of matrices (Eigen's signed index type, std::ptrdiff_t by default).
using Index = Eigen::Index;

/// Whether a forward pass trains or infers. Training enables what only training needs
/// (caches for backward, dropout masks).
enum class Mode {
    training,   ///< a training step: dropout drops units, batch norm uses the batch's statistics
    evaluation  ///< inference: dropout passes its input through, batch norm uses its running averages
};

namespace detail {

/// Stops a call that hands a network a matrix of another scalar type with one readable
/// message (instead of a static assertion deep inside Eigen).
template <class Expected, class Given>
constexpr void require_same_scalar() {
    static_assert(std::is_same_v<Expected, Given>,
                  "nndl: a network, its matrices and its optimizer must have one scalar type (a Network<float> "
                  "was given a Matrix<double> or an Optimizer<double>, or the reverse); convert the matrix with "
                  ".cast<float>() or .cast<double>(), or build the network with the matrix's scalar type");
}

/// True when the types are not all Scalar: selects the overloads that report a mix.
template <class Scalar, class... Others>
inline constexpr bool mixes_scalars = !(std::is_same_v<Scalar, Others> && ...);

}  // namespace detail

}  // namespace nndl
