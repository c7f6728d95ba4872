// The nndl::compiled library, its float half: nndl's templates instantiated once for
// float (the layers' own headers declare theirs at their ends; include/nndl/compiled.hpp lists the rest). Programs linking
// the library compile only their own code.
#define NNDL_COMPILED_DEFINITIONS_FLOAT
#include <nndl/compiled.hpp>
#include <nndl/compiled_cnn.hpp>
#include <nndl/layers/all.hpp>  // every layer header declares its own instantiations
