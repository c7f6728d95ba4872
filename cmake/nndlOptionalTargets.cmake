# Defines the optional nndl targets whose dependencies are found on this machine:
#   nndl::image  nndl/data/image.hpp, with Debian's libstb (stb_image, stb_image_resize, stb_image_write)
#   nndl::hdf5   nndl/data/hdf5.hpp, with the HDF5 C library (found through pkg-config)
#   nndl::idx    nndl/data/idx.hpp, with zlib
#   nndl::onnx   nndl/io/onnx.hpp, with the ONNX project's protobuf schema (libonnx-dev, libprotobuf-dev)
# Used both by nndl's own build and by the installed nndlConfig.cmake.

if(NOT TARGET nndl::image)
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(NNDL_STB QUIET IMPORTED_TARGET stb)
  endif()
  if(NNDL_STB_FOUND)
    add_library(nndl_image INTERFACE IMPORTED GLOBAL)
    target_link_libraries(nndl_image INTERFACE nndl::nndl PkgConfig::NNDL_STB)
    add_library(nndl::image ALIAS nndl_image)
  endif()
endif()

if(NOT TARGET nndl::hdf5)
  # Through pkg-config: CMake's FindHDF5 needs the C language enabled, which C++-only
  # projects do not have.
  if(PkgConfig_FOUND)
    pkg_check_modules(NNDL_HDF5 QUIET IMPORTED_TARGET hdf5)
  endif()
  if(NNDL_HDF5_FOUND)
    add_library(nndl_hdf5 INTERFACE IMPORTED GLOBAL)
    target_link_libraries(nndl_hdf5 INTERFACE nndl::nndl PkgConfig::NNDL_HDF5)
    add_library(nndl::hdf5 ALIAS nndl_hdf5)
  endif()
endif()

if(NOT TARGET nndl::idx)
  find_package(ZLIB QUIET)
  if(ZLIB_FOUND)
    add_library(nndl_idx INTERFACE IMPORTED GLOBAL)
    target_link_libraries(nndl_idx INTERFACE nndl::nndl ZLIB::ZLIB)
    add_library(nndl::idx ALIAS nndl_idx)
  endif()
endif()

if(NOT TARGET nndl::onnx)
  # nndl/io/onnx.hpp on the ONNX project's own protobuf schema (Debian's libonnx-dev);
  # onnx_proto needs the protobuf::libprotobuf target, so Protobuf is found first.
  find_package(Protobuf QUIET)
  if(Protobuf_FOUND)
    find_package(ONNX QUIET CONFIG)
  endif()
  if(TARGET onnx_proto)
    add_library(nndl_onnx INTERFACE IMPORTED GLOBAL)
    target_link_libraries(nndl_onnx INTERFACE nndl::nndl onnx_proto)
    add_library(nndl::onnx ALIAS nndl_onnx)
  endif()
endif()
