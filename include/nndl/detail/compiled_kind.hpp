// Used by compiled.hpp, compiled_cnn.hpp and the headers that declare their own instantiations
// (layers, data/csv.hpp, scalers.hpp, split.hpp), each of which #undefs both macros when done,
// so this header has no #pragma once (it defines them again for the next user).
// nndl::compiled's two sources each define one scalar's explicit instantiations (so they
// build in parallel) and declare the other's; a program declares both.
#ifndef NNDL_COMPILED_FLOAT_KIND
#if defined(NNDL_COMPILED_DEFINITIONS_FLOAT)
#define NNDL_COMPILED_FLOAT_KIND
#else
#define NNDL_COMPILED_FLOAT_KIND extern
#endif
#endif
#ifndef NNDL_COMPILED_DOUBLE_KIND
#if defined(NNDL_COMPILED_DEFINITIONS_DOUBLE)
#define NNDL_COMPILED_DOUBLE_KIND
#else
#define NNDL_COMPILED_DOUBLE_KIND extern
#endif
#endif
