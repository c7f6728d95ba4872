#pragma once
// Basic types shared by every nndl header.

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

}  // namespace nndl
