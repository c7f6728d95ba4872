#pragma once
// Optional part: the convolution family's share of nndl::compiled (see compiled.hpp),
// included by nndl/cnn.hpp when NNDL_COMPILED is defined.

#include "compiled.hpp"
#include "layers/batch_norm.hpp"
#include "layers/conv2d.hpp"
#include "layers/pooling.hpp"

#include "detail/compiled_kind.hpp"  // NNDL_COMPILED_FLOAT_KIND, NNDL_COMPILED_DOUBLE_KIND

// Explicit instantiations: nothing new for the API reference.
/// \cond
namespace nndl {
NNDL_COMPILED_FLOAT_KIND template class Conv2D<float>;
NNDL_COMPILED_DOUBLE_KIND template class Conv2D<double>;
NNDL_COMPILED_FLOAT_KIND template class Pool2D<float>;
NNDL_COMPILED_DOUBLE_KIND template class Pool2D<double>;
NNDL_COMPILED_FLOAT_KIND template class GlobalAvgPool<float>;
NNDL_COMPILED_DOUBLE_KIND template class GlobalAvgPool<double>;
NNDL_COMPILED_FLOAT_KIND template class BatchNorm<float>;
NNDL_COMPILED_DOUBLE_KIND template class BatchNorm<double>;
}  // namespace nndl
/// \endcond

#undef NNDL_COMPILED_FLOAT_KIND
#undef NNDL_COMPILED_DOUBLE_KIND
