// libFuzzer harness: arbitrary bytes into nndl's csv reader (see fuzz_targets.hpp).
#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    nndl_fuzz::csv_file(data, size);
    return 0;
}
