#pragma once
// Sums in NumPy's order, so results match the course's NumPy code to the last bit.

#include "detail/pairwise_sum.hpp"
#include "types.hpp"

namespace nndl {

/// pairwise_sum(a, n): see detail/pairwise_sum.hpp (moved there; still reachable as
/// nndl::pairwise_sum).
using detail::pairwise_sum;

/// np.sum of a whole matrix, in memory order (for an (H*W*C) x m batch that is the
/// row-major order of NumPy's (m, H, W, C) array).
template <class Scalar>
Scalar numpy_sum(const Matrix<Scalar>& m) {
    return Scalar(0) + pairwise_sum(m.data(), m.size());
}

/// np.mean of a whole matrix: numpy_sum divided by the count.
template <class Scalar>
Scalar numpy_mean(const Matrix<Scalar>& m) {
    return numpy_sum(m) / static_cast<Scalar>(m.size());
}

}  // namespace nndl
