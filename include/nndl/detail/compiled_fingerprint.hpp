#pragma once
// nndl::compiled's fingerprint: the library and a program must agree on Eigen's vector
// alignment (set by -march flags) and on OpenMP. The library defines one symbol named
// after both; every program using it refers to the symbol of its own flags, so a program
// built otherwise fails to link on nndl::detail::compiled_for_align<N>_openmp<0|1>
// instead of crashing at run time. Included by compiled.hpp and by the headers whose
// instantiations the libraries hold (layers, data/csv.hpp, scalers.hpp, split.hpp, image.hpp).

#include <Eigen/Core>

#ifdef _OPENMP
#define NNDL_COMPILED_OPENMP 1
#else
#define NNDL_COMPILED_OPENMP 0
#endif
#define NNDL_COMPILED_ABI_NAME_(align, openmp) compiled_for_align##align##_openmp##openmp
#define NNDL_COMPILED_ABI_NAME(align, openmp) NNDL_COMPILED_ABI_NAME_(align, openmp)

// The build's fingerprint (see above).
/// \cond
namespace nndl::detail {
extern const int NNDL_COMPILED_ABI_NAME(EIGEN_MAX_ALIGN_BYTES, NNDL_COMPILED_OPENMP);
#if defined(NNDL_COMPILED_DEFINITIONS_DOUBLE)
const int NNDL_COMPILED_ABI_NAME(EIGEN_MAX_ALIGN_BYTES, NNDL_COMPILED_OPENMP) = 1;
#elif !defined(NNDL_COMPILED_DEFINITIONS_FLOAT)
// Every program using the library refers to the fingerprint of its own flags.
inline const int compiled_library_matches = NNDL_COMPILED_ABI_NAME(EIGEN_MAX_ALIGN_BYTES, NNDL_COMPILED_OPENMP);
#endif
}  // namespace nndl::detail
/// \endcond

#undef NNDL_COMPILED_ABI_NAME
#undef NNDL_COMPILED_ABI_NAME_
#undef NNDL_COMPILED_OPENMP
