// nndl::compiled_image: the image loaders (nndl/data/image.hpp) instantiated once for float
// and double, with stb. Programs linking it compile only their own code.
#define NNDL_COMPILED_IMAGE_DEFINITIONS
#include <nndl/data/image.hpp>
