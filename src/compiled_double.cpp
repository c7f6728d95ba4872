// The nndl::compiled library, its double half: nndl's templates instantiated once for
// double (the layers' own headers declare theirs at their ends; include/nndl/compiled.hpp lists the rest). Programs linking
// the library compile only their own code.
#define NNDL_COMPILED_DEFINITIONS_DOUBLE
#include <nndl/compiled.hpp>
#include <nndl/compiled_cnn.hpp>
#include <nndl/layers/all.hpp>  // every layer header declares its own instantiations
