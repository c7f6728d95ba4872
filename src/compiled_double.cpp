// The nndl::compiled library, its double half: nndl's templates instantiated once for
// double (the lists are include/nndl/compiled.hpp and compiled_cnn.hpp). Programs linking
// the library compile only their own code.
#define NNDL_COMPILED_DEFINITIONS_DOUBLE
#include <nndl/compiled.hpp>
#include <nndl/compiled_cnn.hpp>
