#pragma once
// Optional part: needs ONNX's protobuf schema (libonnx-dev, libprotobuf-dev); link nndl::onnx.
// Part of nndl/io/onnx.hpp: the export options and load limits, and what writing and reading
// share (the ONNX message types).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

// Debian's ONNX schema is the ONNX_ML one; the CMake targets nndl::onnx and onnx_proto
// define ONNX_ML (and ONNX_NAMESPACE=onnx) for their users.
#ifndef ONNX_ML
#error "nndl/io/onnx.hpp needs ONNX_ML defined: link the CMake target nndl::onnx (or onnx_proto)"
#endif
#include <onnx/onnx_pb.h>

#include "../../layer.hpp"
#include "../../layer_onnx.hpp"  // channel_major_positions, onnx_gate_blocks

namespace nndl {

/// The element type of the tensors save_onnx writes. float32 is what serving engines
/// (ONNX Runtime, OpenCV's DNN module, TensorRT) run; float64 keeps a double network exact.
enum class OnnxPrecision {
    float32,  ///< 32-bit floats (ONNX's FLOAT): weights are rounded
    float64   ///< 64-bit floats (ONNX's DOUBLE)
};

/// How save_onnx and to_onnx_model write a network.
struct OnnxExportOptions {
    OnnxPrecision precision = OnnxPrecision::float32;  ///< the element type of the model's input, output and weights
};

/// The largest model file load_onnx reads, in bytes (protobuf's 2 GiB limit).
inline constexpr std::uintmax_t max_onnx_file_bytes = (std::uintmax_t(1) << 31) - 1;
/// The most values load_onnx accepts in one tensor, in the input and in any layer's output
/// per example (the registry's largest dense layer, 2^26 weights).
inline constexpr long long max_onnx_tensor_values = 1LL << 26;
/// The most weights load_onnx builds in all (1 GiB in double), so a small file that uses
/// one large initializer many times cannot ask for unbounded memory.
inline constexpr long long max_onnx_weights = 1LL << 27;

namespace detail::onnx_format {

using ::onnx::AttributeProto;
using ::onnx::GraphProto;
using ::onnx::ModelProto;
using ::onnx::NodeProto;
using ::onnx::TensorProto;

}  // namespace detail::onnx_format

}  // namespace nndl
