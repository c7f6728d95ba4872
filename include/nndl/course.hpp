#pragma once
// The course layer in one place: what nndl holds so that its programs print the numbers
// of the "Deep Learning" specialization's NumPy notebooks to the last digit, apart from
// the library itself. A newcomer tells the contract (layer.hpp) from it: none of this is
// needed to build, train or save a network, and nothing of the library depends on it.
//
//   basics.hpp              the first assignment's helpers (sigmoid, image2vector, ...)
//   numpy_sum.hpp           NumPy's summation order (numpy_sum, numpy_mean, pairwise_sum)
//   data/planar.hpp         the course's planar point sets and scikit-learn's generators
//   random.hpp              NumpyRandom: NumPy's legacy random stream (seed, rand, randn,
//                           permutation, choice), which the course's initializations draw
//
// and, inside the library, switches that only the course's outputs need:
//   CourseBinaryCrossEntropy (losses.hpp)   the course's cost, NumPy's order and no clamp
//   Conv2D::set_numpy_order (layers/conv2d.hpp)
//                                           the step-by-step convolution's sums in NumPy's
//                                           order (the course's convolution_step_by_step)
//   restart_dropout_every_pass (network.hpp), Dropout::restart_every_pass
//                                           the course's masks, drawn as after np.random.seed
//   Init::zeros, scaled_normal, inv_sqrt_fan_in (initializers.hpp)
//                                           the course's initializations

#include "basics.hpp"
#include "data/planar.hpp"
#include "numpy_sum.hpp"
#include "random.hpp"
