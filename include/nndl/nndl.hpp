#pragma once
// nndl: small neural networks on Eigen. This header brings in the core, which needs
// only Eigen. Optional parts have their own headers and CMake targets:
//   nndl/data/image.hpp (stb, nndl::image)   nndl/data/hdf5.hpp (HDF5, nndl::hdf5)
//   nndl/data/idx.hpp (zlib, nndl::idx)
//
// Reading path: layer.hpp (the contract), network.hpp, training.hpp, losses.hpp,
// initializers.hpp, random.hpp, gradient_check.hpp, metrics.hpp, errors.hpp, types.hpp;
// then layers/, optim/, io/, data/ (detail/ is internal).

#include "basics.hpp"
#include "data/augment.hpp"
#include "data/csv.hpp"
#include "data/image_array.hpp"
#include "data/planar.hpp"
#include "data/scalers.hpp"
#include "data/split.hpp"
#include "errors.hpp"
#include "gradient_check.hpp"
#include "initializers.hpp"
#include "io/model.hpp"
#include "io/npz.hpp"
#include "layer.hpp"
#include "layers/activation_layer.hpp"
#include "layers/activations.hpp"
#include "layers/batch_norm.hpp"
#include "layers/conv2d.hpp"
#include "layers/dense.hpp"
#include "layers/dropout.hpp"
#include "layers/normalization.hpp"
#include "layers/pooling.hpp"
#include "layers/registry.hpp"
#include "layers/window.hpp"
#include "losses.hpp"
#include "metrics.hpp"
#include "network.hpp"
#include "optim/optimizer.hpp"
#include "optim/optimizers.hpp"
#include "optim/schedules.hpp"
#include "random.hpp"
#include "threads.hpp"
#include "training.hpp"
#include "types.hpp"
#include "version.hpp"

#ifdef NNDL_COMPILED  // defined by the CMake target nndl::compiled: use its instantiations
#include "compiled.hpp"
#endif

/// nndl: small neural networks on Eigen, assembled at run time. Every matrix holds one
/// example per column; the scalar type (float or double) is each template's parameter.
namespace nndl {}
