#pragma once
// What the ONNX fuzzer feeds with arbitrary bytes: nndl's ONNX importer (the rules:
// fuzz_rules.hpp). Apart from the other targets because it needs the
// ONNX schema library; tests/test_onnx.cpp replays its corpus and past crashes.

#include <nndl/io/onnx.hpp>

#include <cstdint>
#include <stdexcept>

#include "fuzz_rules.hpp"

namespace nndl_fuzz {

inline void onnx_model(const std::uint8_t* data, std::size_t size) {
    expect_clean_rejection([&] {
        const auto network = nndl::network_from_onnx_bytes<double>(data, size, "fuzz.onnx");
        if (network.depth() == 0) {
            throw std::logic_error("network_from_onnx_bytes returned a network without layers");
        }
        // Run it where every layer's output is small enough to build cheaply.
        bool small = network.input_size() <= (1 << 16);
        for (std::size_t i = 0; i < network.depth(); ++i) {
            small = small && network.layer(i).output_size() <= (1 << 16);
        }
        if (small) {
            const nndl::Matrix<double> x = nndl::Matrix<double>::Constant(network.input_size(), 2, 0.5);
            const auto p = network.predict_proba(x);
            if (p.rows() != network.output_size() || p.cols() != 2) {
                throw std::logic_error("predict_proba returned the wrong shape");
            }
        }
    });
}

}  // namespace nndl_fuzz
