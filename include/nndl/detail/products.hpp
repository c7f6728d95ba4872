#pragma once
// The two products of a dense layer's training step, Z = W X and dW = dZ X^T, with
// kernels for layers with few units and a long input (the course's cat model: 20
// units, 12288 inputs, 209 examples). Eigen's general product first copies ("packs")
// both operands into blocks; when one of them is the large input X and the other a
// thin matrix, that copy of X costs as much as the arithmetic. The kernels here read
// X in place along its contiguous columns, once per product, and keep a small block
// of results in registers. Other shapes go to Eigen.

#include <algorithm>
#include <type_traits>

#include <Eigen/Core>

#include "parallel.hpp"
#include "../types.hpp"

// Eigen's packet types are vector types; GCC notes that their alignment attributes do
// not carry into template arguments, which these kernels do not rely on (unaligned loads).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wignored-attributes"
#endif

namespace nndl::detail {

template <class Scalar>
using FullPacket = typename Eigen::internal::packet_traits<Scalar>::type;

template <class P>
constexpr Index lanes_of = Eigen::internal::unpacket_traits<P>::size;

/// The full-width packet of Scalar, or the half-width one (on AVX-512: 8 doubles or 4).
template <class Scalar, bool Half>
struct PacketChoice {
    using type = std::conditional_t<Half, typename Eigen::internal::unpacket_traits<FullPacket<Scalar>>::half,
                                    FullPacket<Scalar>>;
};

template <class Scalar, bool Half>
constexpr Index packet_lanes = lanes_of<typename PacketChoice<Scalar, Half>::type>;

template <class Scalar>
void prefetch_to_l2(const Scalar* address) {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(address, 0, 2);
#else
    Eigen::internal::prefetch(address);
#endif
}

// ---- C += A B, A thin (M x K, M small), B long (K x N): rows of C in packets ---------

/// C(0:valid, 0:RN) += A(0:NP*lanes, 0:k) B(0:k, 0:RN). Loads NP full packets of each
/// column of A, so may read rows past `valid` (the caller keeps them inside A's
/// storage); those lanes are never stored.
template <class Scalar, class P, int NP, int RN>
void broadcast_tile(const Scalar* a, Index lda, const Scalar* b, Index ldb, Index k, Scalar* c, Index ldc,
                    Index valid) {
    constexpr Index lanes = lanes_of<P>;
    P acc[NP][RN];
    for (int p = 0; p < NP; ++p) {
        for (int s = 0; s < RN; ++s) {
            acc[p][s] = Eigen::internal::pset1<P>(Scalar(0));
        }
    }
    for (Index t = 0; t < k; ++t) {
        P column[NP];
        for (int p = 0; p < NP; ++p) {
            column[p] = Eigen::internal::ploadu<P>(a + t * lda + p * lanes);
        }
        for (int s = 0; s < RN; ++s) {
            const P factor = Eigen::internal::pset1<P>(b[t + s * ldb]);
            for (int p = 0; p < NP; ++p) {
                acc[p][s] = Eigen::internal::pmadd(column[p], factor, acc[p][s]);
            }
        }
    }
    alignas(64) Scalar result[NP * lanes];
    for (int s = 0; s < RN; ++s) {
        for (int p = 0; p < NP; ++p) {
            Eigen::internal::pstoreu(result + p * lanes, acc[p][s]);
        }
        Scalar* out = c + s * ldc;
        for (Index i = 0; i < valid; ++i) {
            out[i] += result[i];
        }
    }
}

template <class Scalar, class P, int NP>
void broadcast_tiles(const Scalar* a, Index lda, const Scalar* b, Index ldb, Index k, Scalar* c, Index ldc,
                     Index valid, Index n) {
    constexpr int columns = 8;
    Index s = 0;
    for (; s + columns <= n; s += columns) {
        broadcast_tile<Scalar, P, NP, columns>(a, lda, b + s * ldb, ldb, k, c + s * ldc, ldc, valid);
    }
    for (; s < n; ++s) {
        broadcast_tile<Scalar, P, NP, 1>(a, lda, b + s * ldb, ldb, k, c + s * ldc, ldc, valid);
    }
}

/// Tiles of up to three packets of rows: the unit of thin_product's work.
template <class P>
constexpr Index tile_rows = 3 * lanes_of<P>;

template <class P>
Index tile_count(Index m) {
    return (m + tile_rows<P> - 1) / tile_rows<P>;
}

/// C = A B (A: M x K thin, B: K x N, C: M x N; column-major with leading dimensions),
/// in packets of full or half width.
template <class Scalar, bool Half>
void thin_product(const Scalar* a, Index lda, const Scalar* b, Index ldb, Scalar* c, Index ldc, Index m, Index n,
                  Index k) {
    using P = typename PacketChoice<Scalar, Half>::type;
    constexpr Index lanes = lanes_of<P>;
    // Columns of A in chunks that stay in the second-level cache for every column of B.
    constexpr Index chunk = 4096;
    parallel_ranges(n, 16, 1, [&](Index begin, Index end) {
        for (Index j = begin; j < end; ++j) {
            std::fill(c + j * ldc, c + j * ldc + m, Scalar(0));
        }
        for (Index r = 0; r < m; r += tile_rows<P>) {
            const Index valid = std::min(tile_rows<P>, m - r);
            const Index packets = (valid + lanes - 1) / lanes;
            // Packets read up to `over` rows past the tile; the last columns of A where
            // that would leave A's storage are added one by one below.
            const Index over = r + packets * lanes - m;
            const Index safe = over > 0 ? std::max<Index>(0, k - (over + lda - 1) / lda) : k;
            for (Index k0 = 0; k0 < safe; k0 += chunk) {
                const Index kc = std::min(chunk, safe - k0);
                const Scalar* ap = a + r + k0 * lda;
                const Scalar* bp = b + k0 + begin * ldb;
                Scalar* cp = c + r + begin * ldc;
                if (packets == 3) {
                    broadcast_tiles<Scalar, P, 3>(ap, lda, bp, ldb, kc, cp, ldc, valid, end - begin);
                } else if (packets == 2) {
                    broadcast_tiles<Scalar, P, 2>(ap, lda, bp, ldb, kc, cp, ldc, valid, end - begin);
                } else {
                    broadcast_tiles<Scalar, P, 1>(ap, lda, bp, ldb, kc, cp, ldc, valid, end - begin);
                }
            }
            for (Index j = begin; j < end; ++j) {
                for (Index t = safe; t < k; ++t) {
                    const Scalar factor = b[t + j * ldb];
                    for (Index i = r; i < r + valid; ++i) {
                        c[i + j * ldc] += a[i + t * lda] * factor;
                    }
                }
            }
        }
    });
}

// ---- C = D X^T, D thin (M x N), X long (K x N): C is M x K ---------------------------

/// Distance, in blocks of rows of X, at which outer_tile asks for X's rows ahead.
constexpr Index outer_prefetch_blocks = 3;

/// C(0:RI, 0:RK*lanes) = D(0:RI, 0:n) X(0:RK*lanes, 0:n)^T. With Prefetch, asks the
/// cache for the same columns' rows outer_prefetch_blocks blocks further on: each column
/// is a separate stream, more than the hardware prefetcher follows.
template <class Scalar, int RI, int RK, bool Prefetch>
void outer_tile(const Scalar* d, Index ldd, const Scalar* x, Index ldx, Index n, Scalar* c, Index ldc) {
    using P = FullPacket<Scalar>;
    constexpr Index lanes = lanes_of<P>;
    P acc[RK][RI];
    for (int p = 0; p < RK; ++p) {
        for (int i = 0; i < RI; ++i) {
            acc[p][i] = Eigen::internal::pset1<P>(Scalar(0));
        }
    }
    for (Index j = 0; j < n; ++j) {
        P rows[RK];
        for (int p = 0; p < RK; ++p) {
            rows[p] = Eigen::internal::ploadu<P>(x + j * ldx + p * lanes);
        }
        if constexpr (Prefetch) {
            for (int p = 0; p < RK; ++p) {
                prefetch_to_l2(x + j * ldx + (outer_prefetch_blocks * RK + p) * lanes);
            }
        }
        for (int i = 0; i < RI; ++i) {
            const P factor = Eigen::internal::pset1<P>(d[i + j * ldd]);
            for (int p = 0; p < RK; ++p) {
                acc[p][i] = Eigen::internal::pmadd(rows[p], factor, acc[p][i]);
            }
        }
    }
    alignas(64) Scalar result[lanes];
    for (int p = 0; p < RK; ++p) {
        for (int i = 0; i < RI; ++i) {
            Eigen::internal::pstoreu(result, acc[p][i]);
            for (Index l = 0; l < lanes; ++l) {
                c[i + (p * lanes + l) * ldc] = result[l];
            }
        }
    }
}

/// All M rows of C for one block of X's rows, five rows of D at a time; the first
/// tile prefetches when `prefetch` (X has the rows ahead).
template <class Scalar, int RK>
void outer_tiles(const Scalar* d, Index ldd, const Scalar* x, Index ldx, Index n, Scalar* c, Index ldc, Index m,
                 bool prefetch) {
    constexpr int rows = 5;
    Index i = 0;
    if (prefetch && m >= rows) {
        outer_tile<Scalar, rows, RK, true>(d, ldd, x, ldx, n, c, ldc);
        i = rows;
    }
    for (; i + rows <= m; i += rows) {
        outer_tile<Scalar, rows, RK, false>(d + i, ldd, x, ldx, n, c + i, ldc);
    }
    switch (m - i) {
        case 4: outer_tile<Scalar, 4, RK, false>(d + i, ldd, x, ldx, n, c + i, ldc); break;
        case 3: outer_tile<Scalar, 3, RK, false>(d + i, ldd, x, ldx, n, c + i, ldc); break;
        case 2: outer_tile<Scalar, 2, RK, false>(d + i, ldd, x, ldx, n, c + i, ldc); break;
        case 1: outer_tile<Scalar, 1, RK, false>(d + i, ldd, x, ldx, n, c + i, ldc); break;
        default: break;
    }
}

/// C = D X^T (D: M x N, X: K x N, C: M x K; column-major with leading dimensions).
template <class Scalar>
void outer_product_sum(const Scalar* d, Index ldd, const Scalar* x, Index ldx, Scalar* c, Index ldc, Index m,
                       Index n, Index k) {
    constexpr Index lanes = lanes_of<FullPacket<Scalar>>;
    constexpr int packets = 4;
    constexpr Index block = packets * lanes;
    parallel_ranges(k, 8 * block, block, [&](Index begin, Index end) {
        Index r = begin;
        for (; r + block <= end; r += block) {
            const bool ahead = r + (outer_prefetch_blocks + 1) * block <= k;
            outer_tiles<Scalar, packets>(d, ldd, x + r, ldx, n, c + r * ldc, ldc, m, ahead);
        }
        for (; r + lanes <= end; r += lanes) {
            outer_tiles<Scalar, 1>(d, ldd, x + r, ldx, n, c + r * ldc, ldc, m, false);
        }
        for (; r < end; ++r) {
            for (Index i = 0; i < m; ++i) {
                Scalar sum(0);
                for (Index j = 0; j < n; ++j) {
                    sum += d[i + j * ldd] * x[r + j * ldx];
                }
                c[i + r * ldc] = sum;
            }
        }
    });
}

// ---- dispatch ------------------------------------------------------------------------

/// Whether a product with `rows` thin rows over a K x N input goes to the kernels
/// above: few rows (one tile of packets) and enough work to matter.
template <class Scalar>
bool use_thin_kernels(Index rows, Index k, Index n) {
    return rows <= tile_rows<FullPacket<Scalar>> && k >= 256 && k * n >= (Index{1} << 16);
}

/// Z = W X. Z must already have W.rows() x X.cols().
template <class Scalar>
void multiply(const Matrix<Scalar>& w, const Matrix<Scalar>& x, Matrix<Scalar>& z) {
    const Index m = w.rows();
    if (!use_thin_kernels<Scalar>(m, x.rows(), x.cols())) {
        z.noalias() = w * x;
        return;
    }
    // Packets of the width that wastes the fewest lanes on M rows without adding a tile.
    using Full = typename PacketChoice<Scalar, false>::type;
    using Half = typename PacketChoice<Scalar, true>::type;
    const auto padded = [m](Index lanes) { return (m + lanes - 1) / lanes * lanes; };
    if (tile_count<Half>(m) == tile_count<Full>(m) && padded(lanes_of<Half>) < padded(lanes_of<Full>)) {
        thin_product<Scalar, true>(w.data(), m, x.data(), x.rows(), z.data(), m, m, x.cols(), x.rows());
    } else {
        thin_product<Scalar, false>(w.data(), m, x.data(), x.rows(), z.data(), m, m, x.cols(), x.rows());
    }
}

/// dW = dZ X^T. dW must already have dZ.rows() x X.rows().
template <class Scalar>
void multiply_transposed(const Matrix<Scalar>& dz, const Matrix<Scalar>& x, Matrix<Scalar>& dw) {
    if (!use_thin_kernels<Scalar>(dz.rows(), x.rows(), x.cols())) {
        dw.noalias() = dz * x.transpose();
        return;
    }
    outer_product_sum(dz.data(), dz.rows(), x.data(), x.rows(), dw.data(), dw.rows(), dz.rows(), x.cols(),
                      x.rows());
}

}  // namespace nndl::detail

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
