#pragma once
// nndl: small neural networks on Eigen. This header brings in the common case, which
// needs only Eigen: dense networks (layers, losses, optimizers, training, metrics),
// model files (.npz), CSV tables, scalers and splits. Other parts have headers of their
// own, so a program compiles only what it uses:
//   nndl/cnn.hpp             convolution, pooling, batch normalization, augmentation
//   nndl/gradient_check.hpp  the numerical gradient checker
//   nndl/basics.hpp          the course's first-assignment helpers
//   nndl/data/planar.hpp     the course's planar point sets
//   nndl/all.hpp             all of the above
// and those that need a library besides Eigen have their own CMake targets too:
//   nndl/data/image.hpp (stb, nndl::image)   nndl/data/hdf5.hpp (HDF5, nndl::hdf5)
//   nndl/data/idx.hpp (zlib, nndl::idx)      nndl/io/onnx.hpp (ONNX, nndl::onnx)
//
// Reading path: layer.hpp (the contract), network.hpp, training.hpp, losses.hpp,
// initializers.hpp, random.hpp, metrics.hpp, errors.hpp, types.hpp; then layers/,
// optim/, io/, data/ (detail/ is internal).

#include "activation_tag.hpp"
#include "data/csv.hpp"
#include "data/scalers.hpp"
#include "data/split.hpp"
#include "errors.hpp"
#include "initializers.hpp"
#include "io/model.hpp"
#include "io/npz.hpp"
#include "layer.hpp"
#include "layers/activation_layer.hpp"
#include "layers/activations.hpp"
#include "layers/dense.hpp"
#include "layers/dropout.hpp"
#include "layers/normalization.hpp"
#include "layers/registry.hpp"
#include "loss_registry.hpp"
#include "losses.hpp"
#include "metrics.hpp"
#include "named_factories.hpp"
#include "network.hpp"
#include "optim/optimizer.hpp"
#include "optim/optimizers.hpp"
#include "optim/registry.hpp"
#include "optim/schedules.hpp"
#include "random.hpp"
#include "settings.hpp"
#include "shape.hpp"
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
