#pragma once
// The one place the version is written; CMakeLists.txt reads it from here.

namespace nndl {

inline constexpr int version_major = 0;
inline constexpr int version_minor = 2;
inline constexpr int version_patch = 0;
inline constexpr const char* version_string = "0.3.0";

}  // namespace nndl
