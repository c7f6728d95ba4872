// The nndl::compiled library: nndl's templates instantiated once for float and double
// (the list is include/nndl/compiled.hpp). Programs linking it compile only their own code.
#define NNDL_COMPILED_DEFINITIONS
#include <nndl/compiled.hpp>
