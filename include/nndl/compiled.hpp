#pragma once
// Optional part: the CMake target nndl::compiled (a static library, src/compiled_float.cpp and src/compiled_double.cpp).
// It compiles nndl's layers, losses, optimizers, network, training loop and model files
// once, for float and double; a program linking it includes <nndl/nndl.hpp> as usual (the
// target defines NNDL_COMPILED, which includes this header) and compiles only its own
// code, not those templates again. The headers are unchanged without it.
//
// Each layer's header declares its own instantiations at its end (a new layer touches
// nothing here), as do data/csv.hpp, scalers.hpp and split.hpp; the list below holds the
// rest: network, graph, losses, optimizers, training and model files. Each is written once: as explicit instantiation declarations
// ("extern template") in programs and, in the library's source files, as definitions.
//
// The library and the program must agree on Eigen's vector alignment (set by -march
// flags), on OpenMP and on NNDL_KERNEL_DISPATCH (the library's CMake target passes it
// on): each build defines one symbol named after the three, and a program built otherwise
// fails to link on nndl::detail::compiled_for_align<N>_openmp<0|1>_dispatch<0|1> instead
// of running mismatched code. Build nndl::compiled with your program's flags
// (add_subdirectory does), or build your program without -march flags.

#include "data/csv.hpp"
#include "data/scalers.hpp"
#include "data/split.hpp"
#include "graph.hpp"
#include "io/model.hpp"
#include "layers/activation_layer.hpp"
#include "layers/dense.hpp"
#include "layers/dropout.hpp"
#include "layers/normalization.hpp"
#include "layers/registry.hpp"
#include "losses.hpp"
#include "network.hpp"
#include "optim/optimizer.hpp"
#include "optim/optimizers.hpp"
#include "training.hpp"

#include "detail/compiled_fingerprint.hpp"  // a program built with other flags fails to link

#include "detail/compiled_kind.hpp"  // NNDL_COMPILED_FLOAT_KIND, NNDL_COMPILED_DOUBLE_KIND

#define NNDL_INSTANTIATE_FOR(S, NNDL_EXPLICIT_INSTANTIATION)                                                                                   \
    NNDL_EXPLICIT_INSTANTIATION template class Network<S>;                                                         \
    NNDL_EXPLICIT_INSTANTIATION template class LayerRegistry<S>;                                                   \
    NNDL_EXPLICIT_INSTANTIATION template class BinaryCrossEntropy<S>;                                              \
    NNDL_EXPLICIT_INSTANTIATION template class CourseBinaryCrossEntropy<S>;                                        \
    NNDL_EXPLICIT_INSTANTIATION template class CategoricalCrossEntropy<S>;                                         \
    NNDL_EXPLICIT_INSTANTIATION template class MeanSquaredError<S>;                                                \
    NNDL_EXPLICIT_INSTANTIATION template class GradientDescent<S>;                                                 \
    NNDL_EXPLICIT_INSTANTIATION template class Momentum<S>;                                                        \
    NNDL_EXPLICIT_INSTANTIATION template class Nesterov<S>;                                                        \
    NNDL_EXPLICIT_INSTANTIATION template class RMSProp<S>;                                                         \
    NNDL_EXPLICIT_INSTANTIATION template class Adam<S>;                                                            \
    NNDL_EXPLICIT_INSTANTIATION template class AdaGrad<S>;                                                         \
    NNDL_EXPLICIT_INSTANTIATION template class Graph<S>;                                                           \
    NNDL_EXPLICIT_INSTANTIATION template class OutputLosses<S>;                                                    \
    NNDL_EXPLICIT_INSTANTIATION template TrainHistory train<S>(Network<S>&, const Matrix<S>&, const Matrix<S>&,    \
                                                               Optimizer<S>&, const TrainOptions&,                 \
                                                               const Matrix<S>*, const Matrix<S>*);                \
    NNDL_EXPLICIT_INSTANTIATION template std::pair<double, double> evaluate<S>(const Network<S>&, const Matrix<S>&, \
                                                                               const Matrix<S>&, Index);           \
    NNDL_EXPLICIT_INSTANTIATION template void save_network<S>(Network<S>&, const std::filesystem::path&);          \
    NNDL_EXPLICIT_INSTANTIATION template Network<S> load_network<S>(const std::filesystem::path&);

// Explicit instantiations: nothing new for the API reference.
/// \cond
namespace nndl {
NNDL_INSTANTIATE_FOR(float, NNDL_COMPILED_FLOAT_KIND)
NNDL_INSTANTIATE_FOR(double, NNDL_COMPILED_DOUBLE_KIND)
}  // namespace nndl
/// \endcond

#undef NNDL_INSTANTIATE_FOR
#undef NNDL_COMPILED_FLOAT_KIND
#undef NNDL_COMPILED_DOUBLE_KIND
