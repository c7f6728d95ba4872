#pragma once
// nndl: small dense neural networks on Eigen. This header brings in the core,
// which needs only Eigen. Optional parts have their own headers:
//   nndl/image.hpp   (stb_image)   nndl/hdf5.hpp (HDF5)   nndl/idx.hpp (zlib)

#include "activations.hpp"
#include "basics.hpp"
#include "dense.hpp"
#include "dropout.hpp"
#include "errors.hpp"
#include "gradient_check.hpp"
#include "image_array.hpp"
#include "initializers.hpp"
#include "layer.hpp"
#include "losses.hpp"
#include "metrics.hpp"
#include "network.hpp"
#include "optimizer.hpp"
#include "optimizers.hpp"
#include "planar.hpp"
#include "npz.hpp"
#include "random.hpp"
#include "serialization.hpp"
#include "training.hpp"
#include "types.hpp"
#include "version.hpp"
