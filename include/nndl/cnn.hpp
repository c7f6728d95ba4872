#pragma once
// Convolutional networks: Conv2D, Pool2D (max and average), GlobalAvgPool, BatchNorm,
// their windows, strides and paddings, and image augmentation. Including this header
// also lets load_network read models that have these layers.

#include "data/augment.hpp"
#include "layers/batch_norm.hpp"
#include "layers/conv2d.hpp"
#include "layers/pooling.hpp"
#include "layers/random_shift_flip.hpp"
#include "layers/window.hpp"
#include "nndl.hpp"

#ifdef NNDL_COMPILED  // defined by the CMake target nndl::compiled: use its instantiations
#include "compiled_cnn.hpp"
#endif
