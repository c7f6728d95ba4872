// libFuzzer harness: arbitrary bytes into nndl's ONNX importer (see fuzz_onnx_target.hpp).
#include "fuzz_onnx_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    nndl_fuzz::onnx_model(data, size);
    return 0;
}
