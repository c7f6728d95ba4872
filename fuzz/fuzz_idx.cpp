// libFuzzer harness: arbitrary bytes into nndl's idx reader (see fuzz_targets.hpp).
#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    nndl_fuzz::idx_file(data, size);
    return 0;
}
