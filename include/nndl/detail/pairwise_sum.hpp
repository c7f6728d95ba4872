#pragma once
// NumPy's summation order for a contiguous run, which the layers that reproduce the
// course's NumPy code to the last bit (course losses, the step-by-step convolution) use.
// Users reach it through numpy_sum.hpp.

#include "../types.hpp"

namespace nndl::detail {

/// The sum of the `n` values at `a` in the order NumPy's np.sum uses for a contiguous run
/// of float64: a pairwise sum with blocks of 8 accumulators (numpy/core/src/umath/loops),
/// to which np.sum adds 0.0 (as numpy_sum does). The last digits of the course's printed
/// sums and means depend on that order.
template <class Scalar>
Scalar pairwise_sum(const Scalar* a, Index n) {
    if (n < 8) {
        Scalar r = 0;
        for (Index i = 0; i < n; ++i) {
            r += a[i];
        }
        return r;
    }
    if (n <= 128) {
        Scalar r[8];
        for (int j = 0; j < 8; ++j) {
            r[j] = a[j];
        }
        Index i = 8;
        for (; i < n - n % 8; i += 8) {
            for (int j = 0; j < 8; ++j) {
                r[j] += a[i + j];
            }
        }
        Scalar s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; ++i) {
            s += a[i];
        }
        return s;
    }
    Index half = n / 2;
    half -= half % 8;
    return pairwise_sum(a, half) + pairwise_sum(a + half, n - half);
}

}  // namespace nndl::detail
