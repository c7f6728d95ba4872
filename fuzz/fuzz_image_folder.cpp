// libFuzzer harness: arbitrary bytes as a folder of images into load_image_folder (see fuzz_file_targets.hpp).
#include "fuzz_file_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    nndl_fuzz::image_folder(data, size);
    return 0;
}
