#pragma once
// Optional part: needs ONNX's protobuf schema (libonnx-dev, libprotobuf-dev); link nndl::onnx.
// Part of nndl/io/onnx.hpp: the export options and load limits, and what writing and reading
// share (the ONNX message types, the channel-major image order, the recurrent gate order).

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

/// For a flat column holding an image of `shape` in nndl's order (h, w, c), the index of
/// each entry in ONNX's channel-major order (c, h, w).
inline std::vector<Index> channel_major_positions(const Shape& shape) {
    std::vector<Index> position(static_cast<std::size_t>(shape.size()));
    for (Index h = 0; h < shape.height; ++h) {
        for (Index w = 0; w < shape.width; ++w) {
            for (Index c = 0; c < shape.channels; ++c) {
                position[static_cast<std::size_t>(shape.offset(h, w, c))] = (c * shape.height + h) * shape.width + w;
            }
        }
    }
    return position;
}

/// nndl's gate blocks in ONNX's order: entry g is the nndl block that ONNX's block g holds.
/// LSTM: nndl f, i, c, o; ONNX i, o, f, c. GRU: nndl (PyTorch) r, z, n; ONNX z, r, h.
inline std::vector<Index> onnx_gate_blocks(const std::string& type) {
    if (type == "lstm") {
        return {1, 3, 0, 2};
    }
    if (type == "gru") {
        return {1, 0, 2};
    }
    return {0};
}

}  // namespace detail::onnx_format

}  // namespace nndl
