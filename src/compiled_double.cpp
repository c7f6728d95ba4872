// The nndl::compiled library, its double half: nndl's templates instantiated once for
// double (the lists are include/nndl/compiled.hpp, compiled_cnn.hpp and the sequence layers' headers). Programs linking
// the library compile only their own code.
#define NNDL_COMPILED_DEFINITIONS_DOUBLE
#include <nndl/compiled.hpp>
#include <nndl/compiled_cnn.hpp>
#include <nndl/layers/embedding.hpp>
#include <nndl/layers/gru.hpp>
#include <nndl/layers/lstm.hpp>
#include <nndl/layers/sequence_dense.hpp>
#include <nndl/layers/simple_rnn.hpp>
