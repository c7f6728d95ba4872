#pragma once
// Every part of nndl that needs only Eigen: nndl.hpp (dense networks, model files, data
// tools), cnn.hpp (convolutional networks), every layer (layers/all.hpp: the
// recurrent ones, merges, upsampling too), graphs, the gradient checker, the course's helpers
// and its planar point sets. Simplest to start with; a program that includes only what
// it uses compiles faster (README: compile times).

#include "basics.hpp"
#include "cnn.hpp"
#include "data/image_array.hpp"
#include "data/planar.hpp"
#include "gradient_check.hpp"
#include "graph.hpp"
#include "layers/all.hpp"
#include "nndl.hpp"
#include "numpy_sum.hpp"
