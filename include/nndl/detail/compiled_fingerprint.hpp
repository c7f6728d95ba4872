#pragma once
// nndl::compiled's fingerprint: the library and a program must agree on Eigen's vector
// alignment (set by -march flags), on OpenMP and on NNDL_KERNEL_DISPATCH (which kernels
// the product functions call). The library defines one symbol named after the three; every
// program using it refers to the symbol of its own flags, so a program built otherwise fails
// to link on nndl::detail::compiled_for_align<N>_openmp<0|1>_dispatch<0|1> instead of
// running mismatched code. Included by compiled.hpp and by the headers whose
// instantiations the libraries hold (layers, data/csv.hpp, scalers.hpp, split.hpp, image.hpp).

#include <Eigen/Core>

#ifdef _OPENMP
#define NNDL_COMPILED_OPENMP 1
#else
#define NNDL_COMPILED_OPENMP 0
#endif
#ifdef NNDL_KERNEL_DISPATCH
#define NNDL_COMPILED_DISPATCH 1
#else
#define NNDL_COMPILED_DISPATCH 0
#endif
#define NNDL_COMPILED_ABI_NAME_(align, openmp, dispatch) compiled_for_align##align##_openmp##openmp##_dispatch##dispatch
#define NNDL_COMPILED_ABI_NAME(align, openmp, dispatch) NNDL_COMPILED_ABI_NAME_(align, openmp, dispatch)

// The build's fingerprint (see above).
/// \cond
namespace nndl::detail {
extern const int NNDL_COMPILED_ABI_NAME(EIGEN_MAX_ALIGN_BYTES, NNDL_COMPILED_OPENMP, NNDL_COMPILED_DISPATCH);
#if defined(NNDL_COMPILED_DEFINITIONS_DOUBLE)
const int NNDL_COMPILED_ABI_NAME(EIGEN_MAX_ALIGN_BYTES, NNDL_COMPILED_OPENMP, NNDL_COMPILED_DISPATCH) = 1;
#elif !defined(NNDL_COMPILED_DEFINITIONS_FLOAT)
// Every program using the library refers to the fingerprint of its own flags.
inline const int compiled_library_matches = NNDL_COMPILED_ABI_NAME(EIGEN_MAX_ALIGN_BYTES, NNDL_COMPILED_OPENMP, NNDL_COMPILED_DISPATCH);
#endif
}  // namespace nndl::detail
/// \endcond

#undef NNDL_COMPILED_ABI_NAME
#undef NNDL_COMPILED_ABI_NAME_
#undef NNDL_COMPILED_OPENMP
#undef NNDL_COMPILED_DISPATCH
