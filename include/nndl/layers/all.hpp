#pragma once
// Every layer nndl has, each registered under its type name by its own header: what a
// program that loads any model file needs (io/onnx/reader.hpp and nndl::compiled include
// this). A program that builds its own networks compiles faster with only the layers' own
// headers. A new layer is its header, its test and one line here.

#include "activation_layer.hpp"
#include "batch_norm.hpp"
#include "conv2d.hpp"
#include "dense.hpp"
#include "dropout.hpp"
#include "embedding.hpp"
#include "gru.hpp"
#include "lstm.hpp"
#include "merge.hpp"
#include "normalization.hpp"
#include "pooling.hpp"
#include "random_shift_flip.hpp"
#include "sequence_dense.hpp"
#include "simple_rnn.hpp"
#include "upsample.hpp"
