// libFuzzer harness: arbitrary bytes into nndl's image reader (see fuzz_targets.hpp).
#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    nndl_fuzz::image_file(data, size);
    return 0;
}
