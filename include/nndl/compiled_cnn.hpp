#pragma once
// Optional part: the convolution family's share of nndl::compiled (see compiled.hpp),
// included by nndl/cnn.hpp when NNDL_COMPILED is defined. Each layer's header declares its
// own explicit instantiations at its end; this header brings them together.

#include "compiled.hpp"
#include "layers/batch_norm.hpp"
#include "layers/conv2d.hpp"
#include "layers/pooling.hpp"
#include "layers/random_shift_flip.hpp"
