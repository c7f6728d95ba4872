#pragma once
// The one place the version is written; CMakeLists.txt reads it from here.

namespace nndl {

/// The major version number.
inline constexpr int version_major = 0;
/// The minor version number.
inline constexpr int version_minor = 6;
/// The patch version number.
inline constexpr int version_patch = 0;
/// The version as text, `major.minor.patch`; CMakeLists.txt takes the project version from it.
inline constexpr const char* version_string = "0.6.0";

}  // namespace nndl
