#pragma once
// The matrix products of nndl's layers, run under nndl's thread policy (parallel.hpp).
//
// General shapes go to Eigen's GEMM kernel, called single-threaded on panels of the
// result that the policy hands out, so Eigen's own OpenMP threading (where a program
// enables it) never runs under or beside nndl's threads.
//
// Layers with few units and a long input (the course's cat model: 20 units, 12288
// inputs, 209 examples) have kernels of their own: Eigen's general product first copies
// ("packs") both operands into blocks, and when one is the large input X and the other a
// thin matrix, that copy costs as much as the arithmetic. These kernels read X in place
// along its contiguous columns and keep a small block of results in registers. They are
// compiled for the instruction set the compiler targets (SSE2 without -march flags). With
// NNDL_KERNEL_DISPATCH defined (nndl::compiled is built so) they are compiled for AVX-512,
// AVX2 with FMA and SSE2 alike (GCC/Clang vector types and target attributes) and the best
// one the processor has is picked at run time: a portable build that is fast where it runs,
// at the price of compiling the kernels three times in each program that multiplies.

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include <Eigen/Core>

#include "parallel.hpp"
#include "../types.hpp"

namespace nndl::detail {

// ---- operands and Eigen's single-threaded GEMM ----------------------------------------

/// A column-major matrix M or its transpose, by address: op(M) is rows x cols, M's
/// leading dimension is `stride`.
template <class Scalar>
struct Operand {
    const Scalar* data = nullptr;  ///< M's first element
    Index rows = 0;                ///< rows of op(M)
    Index cols = 0;                ///< columns of op(M)
    Index stride = 0;              ///< M's leading dimension
    bool transposed = false;       ///< op(M) = M^T

    /// Rows [first, first + count) of op(M).
    Operand row_block(Index first, Index count) const {
        return {transposed ? data + first * stride : data + first, count, cols, stride, transposed};
    }
    /// Columns [first, first + count) of op(M).
    Operand col_block(Index first, Index count) const {
        return {transposed ? data + first : data + first * stride, rows, count, stride, transposed};
    }
};

/// M itself (column-major, contiguous columns).
template <class Derived>
Operand<typename Derived::Scalar> plain(const Eigen::MatrixBase<Derived>& m) {
    static_assert(!(Derived::Flags & Eigen::RowMajorBit), "nndl products take column-major operands");
    return {m.derived().data(), m.rows(), m.cols(), m.derived().outerStride(), false};
}

/// M^T, read from M (column-major, contiguous columns).
template <class Derived>
Operand<typename Derived::Scalar> transposed(const Eigen::MatrixBase<Derived>& m) {
    static_assert(!(Derived::Flags & Eigen::RowMajorBit), "nndl products take column-major operands");
    return {m.derived().data(), m.cols(), m.rows(), m.derived().outerStride(), true};
}

/// Products below this many multiply-adds go to Eigen's coefficient-based paths, which
/// Eigen never splits between threads either.
constexpr Index small_product = 50'000;

static_assert(EIGEN_VERSION_AT_LEAST(3, 4, 0), "nndl calls Eigen 3.4's GEMM kernel");

template <class Scalar, int LhsOrder, int RhsOrder>
void eigen_gemm_kernel(const Operand<Scalar>& a, const Operand<Scalar>& b, Scalar* c, Index ldc) {
    using Blocking = Eigen::internal::gemm_blocking_space<Eigen::ColMajor, Scalar, Scalar, Eigen::Dynamic,
                                                          Eigen::Dynamic, Eigen::Dynamic>;
    Blocking blocking(a.rows, b.cols, a.cols, 1, true);
    Eigen::internal::general_matrix_matrix_product<Index, Scalar, LhsOrder, false, Scalar, RhsOrder, false,
                                                   Eigen::ColMajor, 1>::run(a.rows, b.cols, a.cols, a.data, a.stride,
                                                                            b.data, b.stride, c, 1, ldc, Scalar(1),
                                                                            blocking, nullptr);
}

/// C = op(A) op(B) on the calling thread (C: a.rows x b.cols, leading dimension ldc).
/// `always_gemm` takes Eigen's GEMM kernel even for a small product (the panels of a
/// large one): its sums run in the same order on every panel, whatever the panel's size.
template <class Scalar>
void sequential_product(const Operand<Scalar>& a, const Operand<Scalar>& b, Scalar* c, Index ldc,
                        bool always_gemm = false) {
    using Strided = Eigen::Map<Matrix<Scalar>, 0, Eigen::OuterStride<>>;
    using ConstStrided = Eigen::Map<const Matrix<Scalar>, 0, Eigen::OuterStride<>>;
    Strided result(c, a.rows, b.cols, Eigen::OuterStride<>(ldc));
    if (a.rows == 0 || b.cols == 0) {
        return;
    }
    if (!always_gemm && (a.rows * b.cols * a.cols < small_product || a.rows == 1 || b.cols == 1)) {
        const auto operand = [](const Operand<Scalar>& o) {
            return ConstStrided(o.data, o.transposed ? o.cols : o.rows, o.transposed ? o.rows : o.cols,
                                Eigen::OuterStride<>(o.stride));
        };
        const ConstStrided ma = operand(a);
        const ConstStrided mb = operand(b);
        if (a.transposed && b.transposed) {
            result.noalias() = ma.transpose() * mb.transpose();
        } else if (a.transposed) {
            result.noalias() = ma.transpose() * mb;
        } else if (b.transposed) {
            result.noalias() = ma * mb.transpose();
        } else {
            result.noalias() = ma * mb;
        }
        return;
    }
    result.setZero();
    if (a.transposed && b.transposed) {
        eigen_gemm_kernel<Scalar, Eigen::RowMajor, Eigen::RowMajor>(a, b, c, ldc);
    } else if (a.transposed) {
        eigen_gemm_kernel<Scalar, Eigen::RowMajor, Eigen::ColMajor>(a, b, c, ldc);
    } else if (b.transposed) {
        eigen_gemm_kernel<Scalar, Eigen::ColMajor, Eigen::RowMajor>(a, b, c, ldc);
    } else {
        eigen_gemm_kernel<Scalar, Eigen::ColMajor, Eigen::ColMajor>(a, b, c, ldc);
    }
}

/// The narrowest panel of a product's result worth a thread: Eigen packs the other
/// operand again for every panel, which costs little against 64 columns (or rows) of work.
constexpr Index min_panel = 64;

/// C = op(A) op(B) under the thread policy: the longer side of C is cut into two panels
/// per thread (so that a thread held up elsewhere leaves one to the others), each one a
/// single-threaded GEMM. Eigen's kernel sums every entry in the same order whatever the
/// panel as long as panels start on its register blocks (its depth blocking follows the
/// depth alone; a row's path through the micro-kernel follows its place in a block of
/// mr rows), so the result is the same on any number of threads.
template <class Scalar>
void product(const Operand<Scalar>& a, const Operand<Scalar>& b, Scalar* c, Index ldc) {
    const Index rows = a.rows;
    const Index cols = b.cols;
    const bool by_columns = cols >= rows;
    const Index length = by_columns ? cols : rows;
    const Index grains = static_cast<Index>(std::min(
        1e9, static_cast<double>(rows) * static_cast<double>(cols) * static_cast<double>(a.cols) / grain_operations));
    const int thread_count = threads_for(length / min_panel, grains);
    if (thread_count <= 1 || rows == 1 || cols == 1 || rows * cols * a.cols < small_product) {
        sequential_product(a, b, c, ldc);
        return;
    }
    // Panel edges on multiples of Eigen's register blocks: mr rows, or 16 columns (nr
    // divides 16).
    const Index block = by_columns ? Index{16} : Index{Eigen::internal::gebp_traits<Scalar, Scalar>::mr};
    const Index units = (length + block - 1) / block;
    const Index panels = std::min<Index>({length / min_panel, 2 * thread_count, units});
    if (panels <= 1) {
        sequential_product(a, b, c, ldc);
        return;
    }
    run_chunks(panels, thread_count, [&](Index panel) {
        const Index first = units * panel / panels * block;
        const Index last = panel + 1 == panels ? length : std::min(length, units * (panel + 1) / panels * block);
        if (by_columns) {
            sequential_product(a, b.col_block(first, last - first), c + first * ldc, ldc, true);
        } else {
            sequential_product(a.row_block(first, last - first), b, c + first, ldc, true);
        }
    });
}

// ---- thin-layer kernels, compiled for several instruction sets -------------------------

/// The instruction sets nndl's own kernels are compiled for.
enum class KernelIsa { generic, sse2, avx2, avx512 };

/// The processor's best instruction set among those the kernels have.
inline KernelIsa detected_kernel_isa() {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) {
        return KernelIsa::avx512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        return KernelIsa::avx2;
    }
    return KernelIsa::sse2;
#else
    return KernelIsa::generic;
#endif
}

/// The lowest instruction set of any processor this program runs on: the one the compiler
/// targets (-march). The kernels below it are never picked, so they are not compiled.
/// (The same conditions as the kernels' own blocks below: the two never disagree.)
constexpr KernelIsa compiled_kernel_isa() {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#if defined(__AVX512F__) && defined(__AVX512VL__) && defined(__AVX2__) && defined(__FMA__)
    return KernelIsa::avx512;
#elif defined(__AVX2__) && defined(__FMA__)
    return KernelIsa::avx2;
#else
    return KernelIsa::sse2;
#endif
#else
    return KernelIsa::generic;
#endif
}

/// The highest instruction set the kernels are compiled for: AVX-512 with
/// NNDL_KERNEL_DISPATCH, else the one the compiler targets (compiled_kernel_isa).
constexpr KernelIsa highest_kernel_isa() {
#if defined(NNDL_KERNEL_DISPATCH) && (defined(__GNUC__) || defined(__clang__)) && \
    (defined(__x86_64__) || defined(__i386__))
    return KernelIsa::avx512;
#else
    return compiled_kernel_isa();
#endif
}

/// Whether this program has the kernels of `isa`: those from the one the compiler targets
/// up to highest_kernel_isa.
constexpr bool has_kernels_for(KernelIsa isa) {
    return isa >= compiled_kernel_isa() && isa <= highest_kernel_isa();
}

/// The instruction set the kernels use: the processor's best that this program has,
/// found once; tests set others to check each.
inline KernelIsa& kernel_isa() {
    static KernelIsa isa = std::min(detected_kernel_isa(), highest_kernel_isa());
    return isa;
}

/// The name of an instruction set, for the benchmark's report.
inline const char* to_string(KernelIsa isa) {
    switch (isa) {
        case KernelIsa::avx512: return "AVX-512";
        case KernelIsa::avx2: return "AVX2+FMA";
        case KernelIsa::sse2: return "SSE2";
        default: return "generic";
    }
}

/// The instruction sets this program's kernels can use here: those it has (has_kernels_for)
/// that the processor runs.
inline std::vector<KernelIsa> runnable_kernel_isas() {
    std::vector<KernelIsa> isas;
    for (KernelIsa isa : {KernelIsa::generic, KernelIsa::sse2, KernelIsa::avx2, KernelIsa::avx512}) {
        if (isa <= detected_kernel_isa() && has_kernels_for(isa) &&
            (isa != KernelIsa::generic || detected_kernel_isa() == KernelIsa::generic)) {
            isas.push_back(isa);
        }
    }
    return isas;
}

/// Vector width in bytes of an instruction set (`half`: half of it, where that exists).
inline int vector_bytes(KernelIsa isa, bool half) {
    const int full = isa == KernelIsa::avx512 ? 64 : isa == KernelIsa::avx2 ? 32 : 16;
    return half && full > 16 ? full / 2 : full;
}

/// Rows of B in one chunk of thin_columns for A taller than one tile: a tile's columns of the
/// chunk stay in the first-level cache while every column of B passes, and the chunk of B in
/// the second-level cache while every tile passes.
constexpr Index tall_depth = 256;

/// What a thin product does to each value of C as it stores it, row i of C being a filter:
/// v = (0 + the sum) + bias[i], then max(v, 0) with `relu`, then v * scale[i] + shift[i]
/// where `scale` is set, then max(v, 0) with `relu_after` (a NaN stays NaN, -0 stays -0, as
/// std::max(v, 0)). A convolution's bias, activation and folded batch normalization at
/// prediction, applied while the values are in registers instead of in a pass after.
template <class Scalar>
struct StoreEpilogue {
    const Scalar* bias;
    bool relu;
    const Scalar* scale;  ///< null: no scale and shift
    const Scalar* shift;
    bool relu_after;

    /// The epilogue of one value of row `row` (the vector form in broadcast_tile does the same
    /// operations; either may fuse the scale's multiply and add, so they agree to rounding).
    Scalar operator()(Index row, Scalar v) const {
        v += bias[row];
        if (relu) {
            v = v < Scalar(0) ? Scalar(0) : v;
        }
        if (scale != nullptr) {
            v = v * scale[row] + shift[row];
        }
        if (relu_after) {
            v = v < Scalar(0) ? Scalar(0) : v;
        }
        return v;
    }
};

/// Arguments of one thin-kernel call, passed by address (no vector type crosses a call).
template <class Scalar>
struct ThinArgs {
    const Scalar* a;  ///< thin_product: A (m x k); outer_product_sum, window_gradient: D (m x n)
    Index lda;
    const Scalar* b;  ///< thin_product: B (k x n); outer_product_sum: X (k x n); window_gradient: windows
    Index ldb;
    Scalar* c;        ///< thin_product: C (m x n); outer_product_sum, window_gradient: C (m x k)
    Index ldc;
    Index m, n, k;
    const StoreEpilogue<Scalar>* epilogue = nullptr;  ///< thin_columns: applied to C's values (null: none)
};

#if defined(__GNUC__) || defined(__clang__)

template <class Scalar, int Bytes>
struct VectorType {
    typedef Scalar type __attribute__((vector_size(Bytes)));
};

// The kernels are templates inlined into one entry point per instruction set; the
// vector types then compile to that set's registers and multiply-adds.
#define NNDL_DETAIL_INLINE inline __attribute__((always_inline))

/// Every vector of a block of accumulators set to zero.
template <class V, int Outer, int Inner>
NNDL_DETAIL_INLINE void zero_vectors(V (&acc)[Outer][Inner]) {
    #pragma GCC unroll 16
    for (int p = 0; p < Outer; ++p) {
        #pragma GCC unroll 16
        for (int s = 0; s < Inner; ++s) {
            acc[p][s] = V{};
        }
    }
}

/// N vectors one after another from `from` (no alignment needed): a tile's column.
template <class V, int N, class Scalar>
NNDL_DETAIL_INLINE void load_vectors(const Scalar* from, V (&to)[N]) {
    constexpr int lanes = static_cast<int>(sizeof(V) / sizeof(Scalar));
    #pragma GCC unroll 8
    for (int p = 0; p < N; ++p) {
        std::memcpy(&to[p], from + p * lanes, sizeof(V));
    }
}

/// B's rows one after another: a plain matrix.
struct ContiguousRows {
    Index first = 0;  ///< the row read as row 0
    Index operator()(Index t) const { return first + t; }
    ContiguousRows from(Index k0) const { return {first + k0}; }
};

/// B's row t at offsets[t] from the start of its column: windows of an image read in place
/// (column s of B starts at b + s * ldb).
struct GatheredRows {
    const Index* offsets;  ///< one per row of B
    Index operator()(Index t) const { return offsets[t]; }
    GatheredRows from(Index k0) const { return {offsets + k0}; }
};

/// C(0:valid, 0:RN) = C + acc, or 0 + acc where `first`, then the epilogue where given (C's
/// row 0 being row `row` of its vectors): how broadcast_tile and unit_window_strip store
/// their sums.
template <class Scalar, int Bytes, int NP, int RN>
NNDL_DETAIL_INLINE void store_tile(const typename VectorType<Scalar, Bytes>::type (&acc)[NP][RN], Scalar* c,
                                   Index ldc, Index valid, bool first, const StoreEpilogue<Scalar>* epilogue,
                                   Index row) {
    using V = typename VectorType<Scalar, Bytes>::type;
    constexpr Index lanes = Bytes / static_cast<int>(sizeof(Scalar));
    Scalar result[NP * lanes];
    #pragma GCC unroll 8
    for (int s = 0; s < RN; ++s) {
        #pragma GCC unroll 8
        for (int p = 0; p < NP; ++p) {
            const V value = acc[p][s];
            std::memcpy(result + p * lanes, &value, sizeof(V));
        }
        Scalar* out = c + s * ldc;
        if (valid == NP * lanes) {  // a whole tile: vector loads and stores, the same sums
            #pragma GCC unroll 8
            for (int p = 0; p < NP; ++p) {
                V current{};
                if (!first) {
                    std::memcpy(&current, out + p * lanes, sizeof(V));
                }
                current += acc[p][s];
                if (epilogue != nullptr) {  // as StoreEpilogue::operator() does for each value
                    const V zero{};
                    V load;
                    std::memcpy(&load, epilogue->bias + row + p * lanes, sizeof(V));
                    current += load;
                    if (epilogue->relu) {
                        current = current < zero ? zero : current;
                    }
                    if (epilogue->scale != nullptr) {
                        V shift;
                        std::memcpy(&load, epilogue->scale + row + p * lanes, sizeof(V));
                        std::memcpy(&shift, epilogue->shift + row + p * lanes, sizeof(V));
                        current = current * load + shift;
                    }
                    if (epilogue->relu_after) {
                        current = current < zero ? zero : current;
                    }
                }
                std::memcpy(out + p * lanes, &current, sizeof(V));
            }
            continue;
        }
        for (Index i = 0; i < valid; ++i) {
            out[i] = (first ? Scalar(0) : out[i]) + result[i];
            if (epilogue != nullptr) {
                out[i] = (*epilogue)(row + i, out[i]);
            }
        }
    }
}

/// C(0:valid, 0:RN) += A(0:NP*lanes, 0:k) B(0:k, 0:RN), or with `first`, C = 0 + A B (the
/// same values as adding to zeros, without writing them first). Loads NP full vectors of
/// each column of A, so may read rows past `valid` (the caller keeps them inside A's
/// storage); those lanes are never stored. With `epilogue`, each stored value then gets it
/// (C's row 0 here being row `row` of the epilogue's vectors).
template <class Scalar, int Bytes, int NP, int RN, class Rows>
NNDL_DETAIL_INLINE void broadcast_tile(const Scalar* a, Index lda, const Scalar* b, Rows rows, Index ldb, Index k,
                                       Scalar* c, Index ldc, Index valid, bool first,
                                       const StoreEpilogue<Scalar>* epilogue = nullptr, Index row = 0) {
    using V = typename VectorType<Scalar, Bytes>::type;
    V acc[NP][RN];
    zero_vectors(acc);
    for (Index t = 0; t < k; ++t) {
        V column[NP];
        load_vectors(a + t * lda, column);
        #pragma GCC unroll 8
        for (int s = 0; s < RN; ++s) {
            const V factor = b[rows(t) + s * ldb] - V{};  // s - 0 is s for every s (s + 0 is not, for -0), so it folds to a broadcast
            #pragma GCC unroll 8
            for (int p = 0; p < NP; ++p) {
                acc[p][s] += column[p] * factor;
            }
        }
    }
    store_tile<Scalar, Bytes, NP, RN>(acc, c, ldc, valid, first, epilogue, row);
}

/// C(r:r+valid, j:j+columns) += A(r:r+valid, t0:t1) B(t0:t1, j:j+columns) one value at a
/// time, after writing zeros there when `zero`: thin_group's last columns of A.
template <class Scalar, class Rows>
NNDL_DETAIL_INLINE void thin_tail_values(const ThinArgs<Scalar>& p, Rows rows, Index j, Index columns, Index r,
                                         Index valid, Index t0, Index t1, bool zero) {
    for (Index s = j; s < j + columns; ++s) {
        Scalar* out = p.c + r + s * p.ldc;
        if (zero) {
            std::fill(out, out + valid, Scalar(0));
        }
        for (Index t = t0; t < t1; ++t) {
            const Scalar factor = p.b[rows(t) + s * p.ldb];
            for (Index i = 0; i < valid; ++i) {
                out[i] += p.a[r + i + t * p.lda] * factor;
            }
        }
    }
}

// thin_tail_values in calls of their own, so that none of its values take registers from the
// vector loop: one compiled with fused multiply-adds for the AVX2 and AVX-512 kernels (which
// contract a * b + c as their vector parts do), one for the baseline kernel.
template <class Scalar, class Rows>
__attribute__((noinline)) void thin_tail_baseline(const ThinArgs<Scalar>& p, Rows rows, Index j, Index columns,
                                                  Index r, Index valid, Index t0, Index t1, bool zero) {
    thin_tail_values(p, rows, j, columns, r, valid, t0, t1, zero);
}
#if defined(__x86_64__) || defined(__i386__)
template <class Scalar, class Rows>
__attribute__((noinline, target("avx2,fma"))) void thin_tail_fma(const ThinArgs<Scalar>& p, Rows rows, Index j,
                                                                Index columns, Index r, Index valid, Index t0,
                                                                Index t1, bool zero) {
    thin_tail_values(p, rows, j, columns, r, valid, t0, t1, zero);
}
#endif

/// thin_tail_values for the kernel of `Bytes` wide vectors (32 or 64: AVX2 or AVX-512).
template <class Scalar, int Bytes, class Rows>
NNDL_DETAIL_INLINE void thin_tail(const ThinArgs<Scalar>& p, Rows rows, Index j, Index columns, Index r, Index valid,
                                  Index t0, Index t1, bool zero) {
#if defined(__x86_64__) || defined(__i386__)
    if constexpr (Bytes >= 32) {
        thin_tail_fma(p, rows, j, columns, r, valid, t0, t1, zero);
        return;
    }
#endif
    thin_tail_baseline(p, rows, j, columns, r, valid, t0, t1, zero);
}

/// p.epilogue over C's rows [r, r + valid) of columns [j, j + columns), value by value.
template <class Scalar>
NNDL_DETAIL_INLINE void apply_epilogue(const ThinArgs<Scalar>& p, Index j, Index columns, Index r, Index valid) {
    for (Index s = j; s < j + columns; ++s) {
        Scalar* out = p.c + s * p.ldc;
        for (Index i = r; i < r + valid; ++i) {
            out[i] = (*p.epilogue)(i, out[i]);
        }
    }
}

/// Columns [j, j + RN) of C = A B, A's rows [r, r + valid) (one tile), over B's rows
/// [k0, k0 + kc): added to C, or written where k0 is 0. Vectors read up to a vector's rows
/// from r; A's last columns, where that would leave A's storage, go to thin_tail.
template <class Scalar, int Bytes, int RN, class Rows>
NNDL_DETAIL_INLINE void thin_group(const ThinArgs<Scalar>& p, Rows rows, Index j, Index k0, Index kc, Index r,
                                   Index valid) {
    constexpr Index lanes = Bytes / static_cast<int>(sizeof(Scalar));
    const bool first = k0 == 0;
    const Index packets = (valid + lanes - 1) / lanes;
    const Index over = r + packets * lanes - p.m;
    const Index safe = over > 0 ? std::max<Index>(0, p.k - (over + p.lda - 1) / p.lda) : p.k;
    const Index vector_end = std::clamp(safe, k0, k0 + kc);
    const bool last = k0 + kc == p.k;
    // The epilogue as the tile is stored, where that store writes C's final values (see
    // epilogue_in_registers).
    const StoreEpilogue<Scalar>* in_tile = first && last && vector_end == p.k ? p.epilogue : nullptr;
    if (vector_end > k0) {
        const Scalar* ap = p.a + r + k0 * p.lda;
        const Scalar* bp = p.b + j * p.ldb;
        const Rows from = rows.from(k0);
        Scalar* cp = p.c + r + j * p.ldc;
        const Index k = vector_end - k0;
        if (packets == 3) {
            broadcast_tile<Scalar, Bytes, 3, RN>(ap, p.lda, bp, from, p.ldb, k, cp, p.ldc, valid, first, in_tile, r);
        } else if (packets == 2) {
            broadcast_tile<Scalar, Bytes, 2, RN>(ap, p.lda, bp, from, p.ldb, k, cp, p.ldc, valid, first, in_tile, r);
        } else {
            broadcast_tile<Scalar, Bytes, 1, RN>(ap, p.lda, bp, from, p.ldb, k, cp, p.ldc, valid, first, in_tile, r);
        }
    }
    if (vector_end < k0 + kc) {
        thin_tail<Scalar, Bytes>(p, rows, j, RN, r, valid, vector_end, k0 + kc, first && vector_end == k0);
    }
    if (p.epilogue != nullptr && last && in_tile == nullptr) {  // C's values were summed in parts: now
        apply_epilogue(p, j, RN, r, valid);
    }
}

/// The row length of a 3 x 3 window of one channel whose nine values lie at `offsets` (row
/// by row, each row's three side by side), or 0 where the k offsets are not such a window.
inline Index unit_window_row(const Index* offsets, Index k) {
    if (k != 9) {
        return 0;
    }
    const Index row = offsets[3] - offsets[0];
    for (Index t = 0; t < 9; ++t) {
        if (offsets[t] != offsets[0] + t / 3 * row + t % 3) {
            return 0;
        }
    }
    return row;
}

/// C(0:NP*lanes, 0:R) = 0 + A B (then the epilogue) for R side-by-side windows 3 x 3 of one
/// channel (a convolution's first layer, stride 1): B's column s is the window whose top-left
/// value is b[s], its rows `row` values apart; A (NP vectors of rows, 9 columns) is `w`.
/// Each image value is broadcast once and multiplied into the (up to three) windows of the
/// strip that hold it, where thin_columns would broadcast it once per window. Each sum
/// still takes A's columns in order, from 0, as broadcast_tile's: the same values.
template <class Scalar, int Bytes, int NP, int R>
NNDL_DETAIL_INLINE void unit_window_strip(const typename VectorType<Scalar, Bytes>::type (&w)[9][NP],
                                          const Scalar* b, Index row, Scalar* c, Index ldc,
                                          const StoreEpilogue<Scalar>* epilogue) {
    using V = typename VectorType<Scalar, Bytes>::type;
    constexpr Index lanes = Bytes / static_cast<int>(sizeof(Scalar));
    V acc[NP][R];
    zero_vectors(acc);
    #pragma GCC unroll 3
    for (int kh = 0; kh < 3; ++kh) {
        const Scalar* in = b + kh * row;
        #pragma GCC unroll 18
        for (int q = 0; q < R + 2; ++q) {
            const V value = in[q] - V{};  // a broadcast, as broadcast_tile's factor
            #pragma GCC unroll 3
            for (int d = 0; d < 3; ++d) {  // value q is column d of window q - d
                if (q - d >= 0 && q - d < R) {
                    #pragma GCC unroll 2
                    for (int p = 0; p < NP; ++p) {
                        acc[p][q - d] += w[3 * kh + d][p] * value;
                    }
                }
            }
        }
    }
    store_tile<Scalar, Bytes, NP, R>(acc, c, ldc, NP * lanes, true, epilogue, 0);
}

/// Columns [begin, end) of C = A B where A has NP vectors of rows and B's rows are 3 x 3
/// windows of one channel, `row` values apart, side by side (p.ldb 1): unit_window_strip
/// over strips of as many windows as the registers hold beside A's 9 NP vectors (16 or 4
/// with 32 registers, 4 with 16), then 4, then 1.
template <class Scalar, int Bytes, int NP>
NNDL_DETAIL_INLINE void unit_window_columns(const ThinArgs<Scalar>& p, const Scalar* b, Index row, Index begin,
                                            Index end) {
    using V = typename VectorType<Scalar, Bytes>::type;
    V w[9][NP];
    #pragma GCC unroll 9
    for (int t = 0; t < 9; ++t) {
        load_vectors(p.a + t * p.lda, w[t]);
    }
    constexpr int wide = Bytes == 64 && NP == 1 ? 16 : 4;
    Index j = begin;
    for (; j + wide <= end; j += wide) {
        unit_window_strip<Scalar, Bytes, NP, wide>(w, b + j, row, p.c + j * p.ldc, p.ldc, p.epilogue);
    }
    for (; j + 4 <= end; j += 4) {
        unit_window_strip<Scalar, Bytes, NP, 4>(w, b + j, row, p.c + j * p.ldc, p.ldc, p.epilogue);
    }
    for (; j < end; ++j) {
        unit_window_strip<Scalar, Bytes, NP, 1>(w, b + j, row, p.c + j * p.ldc, p.ldc, p.epilogue);
    }
}

/// Columns [begin, end) of C = A B, in tiles of up to three vectors of rows; B's rows as
/// `rows` places them (ContiguousRows: a plain matrix). Neither operand is copied. B's rows
/// in chunks: of 4096 for an A of one tile (the chunk of A stays in the second-level cache
/// while all of B's columns pass), of tall_depth for a taller A (a dense layer's weights).
/// Every entry of C is summed in the same order whatever [begin, end), so threads that split
/// the columns give the same result.
template <class Scalar, int Bytes, class Rows = ContiguousRows>
NNDL_DETAIL_INLINE void thin_columns(const ThinArgs<Scalar>& p, Index begin, Index end, Rows rows = {}) {
    constexpr Index lanes = Bytes / static_cast<int>(sizeof(Scalar));
    constexpr Index tile = 3 * lanes;
    const Index depth = p.m > tile ? tall_depth : 4096;
    if constexpr (std::is_same_v<Rows, GatheredRows>) {  // a first layer's 3 x 3 windows of one channel
        const Index row = unit_window_row(rows.offsets, p.k);
        if (row > 0 && p.m == lanes && p.ldb == 1) {
            unit_window_columns<Scalar, Bytes, 1>(p, p.b + rows.offsets[0], row, begin, end);
            return;
        }
        // Two vectors of filters: their 18 weight vectors in registers only with AVX-512's 32.
        if constexpr (Bytes == 64) {
            if (row > 0 && p.m == 2 * lanes && p.ldb == 1) {
                unit_window_columns<Scalar, Bytes, 2>(p, p.b + rows.offsets[0], row, begin, end);
                return;
            }
        }
    }
    if (p.k == 0) {
        for (Index j = begin; j < end; ++j) {
            std::fill(p.c + j * p.ldc, p.c + j * p.ldc + p.m, Scalar(0));
        }
        if (p.epilogue != nullptr) {
            apply_epilogue(p, begin, end - begin, 0, p.m);
        }
    }
    for (Index k0 = 0; k0 < p.k; k0 += depth) {
        const Index kc = std::min(depth, p.k - k0);
        for (Index r = 0; r < p.m; r += tile) {
            const Index valid = std::min(tile, p.m - r);
            Index j = begin;
            for (; j + 8 <= end; j += 8) {
                thin_group<Scalar, Bytes, 8>(p, rows, j, k0, kc, r, valid);
            }
            for (; j + 4 <= end; j += 4) {  // the rest of an image row, say
                thin_group<Scalar, Bytes, 4>(p, rows, j, k0, kc, r, valid);
            }
            for (; j < end; ++j) {
                thin_group<Scalar, Bytes, 1>(p, rows, j, k0, kc, r, valid);
            }
        }
    }
}

/// Distance, in blocks of rows of X, at which outer_tile asks for X's rows ahead.
constexpr Index outer_prefetch_blocks = 3;

/// C(0:RI, 0:RK*lanes) = D(0:RI, 0:n) X(0:RK*lanes, 0:n)^T. With Prefetch, asks the
/// cache for the same columns' rows outer_prefetch_blocks blocks further on: each column
/// is a separate stream, more than the hardware prefetcher follows.
template <class Scalar, int Bytes, int RI, int RK, bool Prefetch>
NNDL_DETAIL_INLINE void outer_tile(const Scalar* d, Index ldd, const Scalar* x, Index ldx, Index n, Scalar* c,
                                   Index ldc) {
    using V = typename VectorType<Scalar, Bytes>::type;
    constexpr Index lanes = Bytes / static_cast<int>(sizeof(Scalar));
    V acc[RK][RI];
    zero_vectors(acc);
    for (Index j = 0; j < n; ++j) {
        V rows[RK];
        load_vectors(x + j * ldx, rows);
        if constexpr (Prefetch) {
            #pragma GCC unroll 8
            for (int p = 0; p < RK; ++p) {
                __builtin_prefetch(x + j * ldx + (outer_prefetch_blocks * RK + p) * lanes, 0, 2);
            }
        }
        #pragma GCC unroll 8
        for (int i = 0; i < RI; ++i) {
            const V factor = d[i + j * ldd] - V{};  // s - 0 is s for every s (s + 0 is not, for -0), so it folds to a broadcast
            #pragma GCC unroll 8
            for (int p = 0; p < RK; ++p) {
                acc[p][i] += rows[p] * factor;
            }
        }
    }
    Scalar result[lanes];
    #pragma GCC unroll 8
    for (int p = 0; p < RK; ++p) {
        #pragma GCC unroll 8
        for (int i = 0; i < RI; ++i) {
            const V value = acc[p][i];
            std::memcpy(result, &value, sizeof(V));
            for (Index l = 0; l < lanes; ++l) {
                c[i + (p * lanes + l) * ldc] = result[l];
            }
        }
    }
}

/// All M rows of C for one block of X's rows, five rows of D at a time; the first
/// tile prefetches when `prefetch` (X has the rows ahead).
template <class Scalar, int Bytes, int RK>
NNDL_DETAIL_INLINE void outer_tiles(const Scalar* d, Index ldd, const Scalar* x, Index ldx, Index n, Scalar* c,
                                    Index ldc, Index m, bool prefetch) {
    constexpr int rows = 5;
    Index i = 0;
    if (prefetch && m >= rows) {
        outer_tile<Scalar, Bytes, rows, RK, true>(d, ldd, x, ldx, n, c, ldc);
        i = rows;
    }
    for (; i + rows <= m; i += rows) {
        outer_tile<Scalar, Bytes, rows, RK, false>(d + i, ldd, x, ldx, n, c + i, ldc);
    }
    switch (m - i) {
        case 4: outer_tile<Scalar, Bytes, 4, RK, false>(d + i, ldd, x, ldx, n, c + i, ldc); break;
        case 3: outer_tile<Scalar, Bytes, 3, RK, false>(d + i, ldd, x, ldx, n, c + i, ldc); break;
        case 2: outer_tile<Scalar, Bytes, 2, RK, false>(d + i, ldd, x, ldx, n, c + i, ldc); break;
        case 1: outer_tile<Scalar, Bytes, 1, RK, false>(d + i, ldd, x, ldx, n, c + i, ldc); break;
        default: break;
    }
}

/// Rows [begin, end) of X, that is columns [begin, end) of C = D X^T.
template <class Scalar, int Bytes>
NNDL_DETAIL_INLINE void outer_rows(const ThinArgs<Scalar>& p, Index begin, Index end) {
    constexpr Index lanes = Bytes / static_cast<int>(sizeof(Scalar));
    constexpr int packets = 4;
    constexpr Index block = packets * lanes;
    Index r = begin;
    for (; r + block <= end; r += block) {
        const bool ahead = r + (outer_prefetch_blocks + 1) * block <= p.k;
        outer_tiles<Scalar, Bytes, packets>(p.a, p.lda, p.b + r, p.ldb, p.n, p.c + r * p.ldc, p.ldc, p.m, ahead);
    }
    for (; r + lanes <= end; r += lanes) {
        outer_tiles<Scalar, Bytes, 1>(p.a, p.lda, p.b + r, p.ldb, p.n, p.c + r * p.ldc, p.ldc, p.m, false);
    }
    for (; r < end; ++r) {
        for (Index i = 0; i < p.m; ++i) {
            Scalar sum(0);
            for (Index j = 0; j < p.n; ++j) {
                sum += p.a[i + j * p.lda] * p.b[r + j * p.ldb];
            }
            p.c[i + r * p.ldc] = sum;
        }
    }
}

/// C(0:NP*lanes, s) += sum over j < n of D(0:NP*lanes, j) * b[j * ldb + offsets[s]], s < RS:
/// a convolution's weight gradient over a run of windows read in place (window j starts at
/// b + j * ldb, its entry s at offsets[s] from there). Sums each entry over the run first.
template <class Scalar, int Bytes, int NP, int RS>
NNDL_DETAIL_INLINE void window_outer_tile(const Scalar* d, Index ldd, const Scalar* b, Index ldb, const Index* offsets,
                                          Index n, Scalar* c, Index ldc) {
    using V = typename VectorType<Scalar, Bytes>::type;
    constexpr Index lanes = Bytes / static_cast<int>(sizeof(Scalar));
    V acc[NP][RS];
    zero_vectors(acc);
    Index at[RS];
    #pragma GCC unroll 8
    for (int s = 0; s < RS; ++s) {
        at[s] = offsets[s];
    }
    for (Index j = 0; j < n; ++j) {
        V column[NP];
        load_vectors(d + j * ldd, column);
        const Scalar* window = b + j * ldb;
        #pragma GCC unroll 8
        for (int s = 0; s < RS; ++s) {
            const V factor = window[at[s]] - V{};  // folds to a broadcast, as in broadcast_tile
            #pragma GCC unroll 8
            for (int p = 0; p < NP; ++p) {
                acc[p][s] += column[p] * factor;
            }
        }
    }
    #pragma GCC unroll 8
    for (int s = 0; s < RS; ++s) {
        #pragma GCC unroll 8
        for (int p = 0; p < NP; ++p) {
            V current;
            std::memcpy(&current, c + s * ldc + p * lanes, sizeof(V));
            current += acc[p][s];
            std::memcpy(c + s * ldc + p * lanes, &current, sizeof(V));
        }
    }
}

/// Every window entry (p.k of them) for rows [r, r + NP * lanes) of C.
template <class Scalar, int Bytes, int NP>
NNDL_DETAIL_INLINE void window_outer_entries(const ThinArgs<Scalar>& p, const Index* offsets, Index r) {
    constexpr int group = Bytes == 64 ? 8 : 4;  // accumulators the registers hold beside NP columns
    Index s = 0;
    for (; s + group <= p.k; s += group) {
        window_outer_tile<Scalar, Bytes, NP, group>(p.a + r, p.lda, p.b, p.ldb, offsets + s, p.n,
                                                    p.c + r + s * p.ldc, p.ldc);
    }
    for (; s < p.k; ++s) {
        window_outer_tile<Scalar, Bytes, NP, 1>(p.a + r, p.lda, p.b, p.ldb, offsets + s, p.n, p.c + r + s * p.ldc,
                                                p.ldc);
    }
}

/// C += D B^T for rows [first, p.m) of C, where D is p.a (p.m x p.n), C is p.c (p.m x p.k)
/// and B's column j, entry s is p.b[j * p.ldb + offsets[s]]: the weight gradient of a run of
/// windows read in place. Rows of C in whole vectors, up to three at a time; the rest in
/// vectors of half and a quarter the width, then one by one (nothing is read past D's rows).
template <class Scalar, int Bytes>
NNDL_DETAIL_INLINE void window_gradient(const ThinArgs<Scalar>& p, const Index* offsets, Index first = 0) {
    constexpr Index lanes = Bytes / static_cast<int>(sizeof(Scalar));
    const Index whole = first + (p.m - first) / lanes * lanes;
    Index r = first;
    for (; r + 3 * lanes <= whole; r += 3 * lanes) {
        window_outer_entries<Scalar, Bytes, 3>(p, offsets, r);
    }
    if (r + 2 * lanes <= whole) {
        window_outer_entries<Scalar, Bytes, 2>(p, offsets, r);
    } else if (r + lanes <= whole) {
        window_outer_entries<Scalar, Bytes, 1>(p, offsets, r);
    }
    if constexpr (Bytes > 16) {  // 8 float filters with AVX-512, say: narrower vectors, not scalars
        window_gradient<Scalar, Bytes / 2>(p, offsets, whole);
        return;
    }
    for (Index s = 0; s < p.k; ++s) {
        for (Index i = whole; i < p.m; ++i) {
            Scalar sum(0);
            for (Index j = 0; j < p.n; ++j) {
                sum += p.a[i + j * p.lda] * p.b[j * p.ldb + offsets[s]];
            }
            p.c[i + s * p.ldc] += sum;
        }
    }
}

// One entry point per instruction set and width (bytes): the only functions with
// target attributes; everything above is inlined into them.
#if defined(__x86_64__) || defined(__i386__)
template <class Scalar, int Bytes>
__attribute__((target("avx512f,avx512vl,avx2,fma"))) void thin_columns_avx512(const ThinArgs<Scalar>& p, Index begin, Index end) {
    thin_columns<Scalar, Bytes>(p, begin, end);
}
template <class Scalar>
__attribute__((target("avx512f,avx512vl,avx2,fma"))) void outer_rows_avx512(const ThinArgs<Scalar>& p, Index begin, Index end) {
    outer_rows<Scalar, 64>(p, begin, end);
}
template <class Scalar>
__attribute__((target("avx2,fma"))) void thin_columns_avx2(const ThinArgs<Scalar>& p, Index begin, Index end) {
    thin_columns<Scalar, 32>(p, begin, end);
}
template <class Scalar, int Bytes>
__attribute__((target("avx512f,avx512vl,avx2,fma"))) void gathered_columns_avx512(const ThinArgs<Scalar>& p,
                                                                                 const Index* offsets, Index begin,
                                                                                 Index end) {
    thin_columns<Scalar, Bytes>(p, begin, end, GatheredRows{offsets});
}
template <class Scalar>
__attribute__((target("avx2,fma"))) void gathered_columns_avx2(const ThinArgs<Scalar>& p, const Index* offsets,
                                                               Index begin, Index end) {
    thin_columns<Scalar, 32>(p, begin, end, GatheredRows{offsets});
}
template <class Scalar>
__attribute__((target("avx2,fma"))) void outer_rows_avx2(const ThinArgs<Scalar>& p, Index begin, Index end) {
    outer_rows<Scalar, 32>(p, begin, end);
}
template <class Scalar>
__attribute__((target("avx512f,avx512vl,avx2,fma"))) void window_gradient_avx512(const ThinArgs<Scalar>& p,
                                                                                const Index* offsets) {
    window_gradient<Scalar, 64>(p, offsets);
}
template <class Scalar>
__attribute__((target("avx2,fma"))) void window_gradient_avx2(const ThinArgs<Scalar>& p, const Index* offsets) {
    window_gradient<Scalar, 32>(p, offsets);
}
#endif
template <class Scalar>
void thin_columns_baseline(const ThinArgs<Scalar>& p, Index begin, Index end) {
    thin_columns<Scalar, 16>(p, begin, end);
}
template <class Scalar>
void gathered_columns_baseline(const ThinArgs<Scalar>& p, const Index* offsets, Index begin, Index end) {
    thin_columns<Scalar, 16>(p, begin, end, GatheredRows{offsets});
}
template <class Scalar>
void outer_rows_baseline(const ThinArgs<Scalar>& p, Index begin, Index end) {
    outer_rows<Scalar, 16>(p, begin, end);
}
template <class Scalar>
void window_gradient_baseline(const ThinArgs<Scalar>& p, const Index* offsets) {
    window_gradient<Scalar, 16>(p, offsets);
}

#undef NNDL_DETAIL_INLINE

/// Calls `kernel` with the instruction set (a std::integral_constant) whose kernel runs for
/// `isa`: `isa` itself, or the only set this program has. Only the sets it has are
/// instantiated (has_kernels_for).
template <class Kernel>
void with_kernel_isa(KernelIsa isa, Kernel&& kernel) {
    (void)isa;  // where the program has one set
    if constexpr (has_kernels_for(KernelIsa::avx512)) {
        if (isa == KernelIsa::avx512 || compiled_kernel_isa() == KernelIsa::avx512) {
            kernel(std::integral_constant<KernelIsa, KernelIsa::avx512>{});
            return;
        }
    }
    if constexpr (has_kernels_for(KernelIsa::avx2)) {
        if (isa == KernelIsa::avx2 || compiled_kernel_isa() == KernelIsa::avx2) {
            kernel(std::integral_constant<KernelIsa, KernelIsa::avx2>{});
            return;
        }
    }
    if constexpr (compiled_kernel_isa() <= KernelIsa::sse2) {
        kernel(std::integral_constant<KernelIsa, KernelIsa::sse2>{});
    }
}

/// Whether with_kernel_isa picked `Set`, an instruction set's std::integral_constant.
template <KernelIsa isa, class Set>
constexpr bool picked(Set) {
    return Set::value == isa;
}

// In each dispatch below, the x86 entry points exist where the compiler targets x86;
// elsewhere only the baseline is ever picked.

/// Columns [begin, end) of C = A B with the kernel of `isa`, `bytes` wide.
template <class Scalar>
void thin_columns_for(KernelIsa isa, int bytes, const ThinArgs<Scalar>& p, Index begin, Index end) {
    (void)bytes;  // the baseline has one width
    with_kernel_isa(isa, [&]([[maybe_unused]] auto set) {
#if defined(__x86_64__) || defined(__i386__)
        if constexpr (picked<KernelIsa::avx512>(set)) {
            bytes == 64 ? thin_columns_avx512<Scalar, 64>(p, begin, end)
                        : thin_columns_avx512<Scalar, 32>(p, begin, end);
        } else if constexpr (picked<KernelIsa::avx2>(set)) {
            thin_columns_avx2<Scalar>(p, begin, end);
        } else
#endif
        {
            thin_columns_baseline<Scalar>(p, begin, end);
        }
    });
}

/// Columns [begin, end) of C = A B with the kernel of `isa`, `bytes` wide, where B's row t of
/// column j is p.b[offsets[t] + j * p.ldb]: a convolution's windows read in place.
template <class Scalar>
void gathered_columns_for(KernelIsa isa, int bytes, const ThinArgs<Scalar>& p, const Index* offsets, Index begin,
                          Index end) {
    (void)bytes;  // the baseline has one width
    with_kernel_isa(isa, [&]([[maybe_unused]] auto set) {
#if defined(__x86_64__) || defined(__i386__)
        if constexpr (picked<KernelIsa::avx512>(set)) {
            bytes == 64 ? gathered_columns_avx512<Scalar, 64>(p, offsets, begin, end)
                        : gathered_columns_avx512<Scalar, 32>(p, offsets, begin, end);
        } else if constexpr (picked<KernelIsa::avx2>(set)) {
            gathered_columns_avx2<Scalar>(p, offsets, begin, end);
        } else
#endif
        {
            gathered_columns_baseline<Scalar>(p, offsets, begin, end);
        }
    });
}

/// Columns [begin, end) of C = D X^T with the kernel of `isa`.
template <class Scalar>
void outer_rows_for(KernelIsa isa, const ThinArgs<Scalar>& p, Index begin, Index end) {
    with_kernel_isa(isa, [&]([[maybe_unused]] auto set) {
#if defined(__x86_64__) || defined(__i386__)
        if constexpr (picked<KernelIsa::avx512>(set)) {
            outer_rows_avx512<Scalar>(p, begin, end);
        } else if constexpr (picked<KernelIsa::avx2>(set)) {
            outer_rows_avx2<Scalar>(p, begin, end);
        } else
#endif
        {
            outer_rows_baseline<Scalar>(p, begin, end);
        }
    });
}

/// C += D B^T with the kernel of `isa`, where B's column j, entry s is
/// p.b[j * p.ldb + offsets[s]]: a convolution's weight gradient over windows read in place.
template <class Scalar>
void window_gradient_for(KernelIsa isa, const ThinArgs<Scalar>& p, const Index* offsets) {
    with_kernel_isa(isa, [&]([[maybe_unused]] auto set) {
#if defined(__x86_64__) || defined(__i386__)
        if constexpr (picked<KernelIsa::avx512>(set)) {
            window_gradient_avx512<Scalar>(p, offsets);
        } else if constexpr (picked<KernelIsa::avx2>(set)) {
            window_gradient_avx2<Scalar>(p, offsets);
        } else
#endif
        {
            window_gradient_baseline<Scalar>(p, offsets);
        }
    });
}

/// Whether nndl has its own thin kernels with this compiler.
constexpr bool have_thin_kernels = true;

#else

constexpr bool have_thin_kernels = false;

#endif

/// Rows in one tile of the thin kernels with vectors of `bytes` bytes.
template <class Scalar>
constexpr Index tile_rows_for(int bytes) {
    return 3 * bytes / static_cast<Index>(sizeof(Scalar));
}

/// The vector width (bytes) for a thin product with m rows: half width where that needs
/// no more tiles and wastes fewer lanes.
template <class Scalar>
int thin_width(KernelIsa isa, Index m) {
    const int full = vector_bytes(isa, false);
    const int half = vector_bytes(isa, true);
    const auto tiles = [m](int bytes) { return (m + tile_rows_for<Scalar>(bytes) - 1) / tile_rows_for<Scalar>(bytes); };
    const auto padded = [m](int bytes) {
        const Index lanes = bytes / static_cast<Index>(sizeof(Scalar));
        return (m + lanes - 1) / lanes * lanes;
    };
    return half < full && tiles(half) == tiles(full) && padded(half) < padded(full) ? half : full;
}

/// Whether thin_columns with `bytes` wide vectors applies a StoreEpilogue in its registers for
/// an A of m rows and k columns: rows in whole vectors (no scalar store, no tail of A's last
/// columns) and B's rows in one chunk. Elsewhere it applies it value by value after the sums,
/// slower than a vectorized pass.
template <class Scalar>
bool epilogue_in_registers(int bytes, Index m, Index k) {
    const Index lanes = bytes / static_cast<Index>(sizeof(Scalar));
    return m % lanes == 0 && k <= (m > 3 * lanes ? tall_depth : 4096);
}

/// C = A B (A: M x K thin, B: K x N, C: M x N; column-major with leading dimensions),
/// columns of C split between threads, with the kernel of `isa` and `bytes` wide vectors.
template <class Scalar>
void thin_product(KernelIsa isa, int bytes, const Scalar* a, Index lda, const Scalar* b, Index ldb, Scalar* c,
                  Index ldc, Index m, Index n, Index k) {
    const ThinArgs<Scalar> args{a, lda, b, ldb, c, ldc, m, n, k};
    // A thread's columns are worth a grain: m k multiply-adds each.
    const Index grain = std::max<Index>(1, grain_operations / std::max<Index>(1, m * k));
    // One part per thread: each part streams all of A through the cache once more.
    parallel_ranges(n, std::max<Index>(grain, n / usable_threads()), 1, [&](Index begin, Index end) {
#if defined(__GNUC__) || defined(__clang__)
        thin_columns_for<Scalar>(isa, bytes, args, begin, end);
#else
        (void)isa;
        (void)bytes;
        sequential_product(Operand<Scalar>{a, m, k, lda, false}, Operand<Scalar>{b + begin * ldb, k, end - begin, ldb, false},
                           c + begin * ldc, ldc);
#endif
    });
}

/// C = D X^T (D: M x N, X: K x N, C: M x K; column-major with leading dimensions), rows
/// of X split between threads, with the kernel of `isa`.
template <class Scalar>
void outer_product_sum(KernelIsa isa, const Scalar* d, Index ldd, const Scalar* x, Index ldx, Scalar* c, Index ldc,
                       Index m, Index n, Index k) {
    const ThinArgs<Scalar> args{d, ldd, x, ldx, c, ldc, m, n, k};
    // Blocks of 4 vectors of the widest set (AVX-512), so every set's blocks stay whole.
    const Index block = 4 * 64 / static_cast<Index>(sizeof(Scalar));
    const Index grain = std::max<Index>(block, grain_operations / std::max<Index>(1, m * n));
    parallel_ranges(k, grain, block, [&](Index begin, Index end) {
#if defined(__GNUC__) || defined(__clang__)
        outer_rows_for<Scalar>(isa, args, begin, end);
#else
        (void)isa;
        sequential_product(Operand<Scalar>{d, m, n, ldd, false}, Operand<Scalar>{x + begin, n, end - begin, ldx, true},
                           c + begin * ldc, ldc);
#endif
    });
}

// ---- dispatch ------------------------------------------------------------------------

/// Whether a product with `rows` thin rows over a K x N input goes to the thin kernels:
/// few rows (one tile of the widest vectors) and enough work to matter.
template <class Scalar>
bool use_thin_kernels(Index rows, Index k, Index n) {
    return have_thin_kernels && rows <= tile_rows_for<Scalar>(vector_bytes(kernel_isa(), false)) && k >= 256 &&
           k * n >= (Index{1} << 16);
}

/// Whether Z = W X goes to the thin kernels beyond use_thin_kernels: float weights of up to
/// 512 rows (a dense layer's), read in place, where Eigen's GEMM packs both operands first. Measured faster on every such shape tried (64 to 512 rows, 16 to 4096 columns of
/// W, 2 to 2048 examples): 1.1-2x. Wider W's columns lie too far apart in memory to be read
/// in place (2048 rows: 0.75x). Double keeps Eigen's GEMM, and with it the results the
/// double examples print.
template <class Scalar>
bool use_tall_kernel(Index rows, Index k, Index n) {
    return have_thin_kernels && std::is_same_v<Scalar, float> && rows * Index{sizeof(Scalar)} <= 2048 && n >= 2 &&
           rows * k * n >= small_product;
}

/// Z = W X. Z must already have W.rows() x X.cols().
template <class Scalar>
void multiply(const Matrix<Scalar>& w, const Matrix<Scalar>& x, Matrix<Scalar>& z) {
    const Index m = w.rows();
    if (!use_thin_kernels<Scalar>(m, x.rows(), x.cols()) && !use_tall_kernel<Scalar>(m, x.rows(), x.cols())) {
        product(plain(w), plain(x), z.data(), z.rows());
        return;
    }
    const KernelIsa isa = kernel_isa();
    thin_product<Scalar>(isa, thin_width<Scalar>(isa, m), w.data(), m, x.data(), x.rows(), z.data(), m, m, x.cols(),
                         x.rows());
}

/// dW = dZ X^T. dW must already have dZ.rows() x X.rows().
template <class Scalar>
void multiply_transposed(const Matrix<Scalar>& dz, const Matrix<Scalar>& x, Matrix<Scalar>& dw) {
    if (!use_thin_kernels<Scalar>(dz.rows(), x.rows(), x.cols())) {
        product(plain(dz), transposed(x), dw.data(), dw.rows());
        return;
    }
    outer_product_sum(kernel_isa(), dz.data(), dz.rows(), x.data(), x.rows(), dw.data(), dw.rows(), dz.rows(),
                      x.cols(), x.rows());
}

/// dA = W^T dZ. dA must already have W.cols() x dZ.cols().
template <class Scalar>
void multiply_transposed_left(const Matrix<Scalar>& w, const Matrix<Scalar>& dz, Matrix<Scalar>& da) {
    product(transposed(w), plain(dz), da.data(), da.rows());
}

}  // namespace nndl::detail
