// libFuzzer harness for nndl's readers, one program for all of them (it is built once, not
// six times): NNDL_FUZZ_READER names the reader the inputs go to (fuzz/run.sh sets it):
//   npz           the model file reader (fuzz_targets.hpp)
//   idx, csv      the IDX and CSV data readers
//   image         the image reader
//   image_folder  a folder of images (fuzz_file_targets.hpp)
//   onnx          the ONNX importer (fuzz_onnx_target.hpp)
// libhdf5's reader is fuzz_hdf5.cpp, a program of its own (it links libhdf5).
#include "fuzz_file_targets.hpp"
#include "fuzz_onnx_target.hpp"
#include "fuzz_targets.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

using Reader = void (*)(const std::uint8_t*, std::size_t);

Reader chosen_reader = nullptr;

Reader reader_named(const char* name) {
    struct Named {
        const char* name;
        Reader reader;
    };
    static const Named readers[] = {{"npz", nndl_fuzz::model_file},     {"idx", nndl_fuzz::idx_file},
                                    {"csv", nndl_fuzz::csv_file},       {"image", nndl_fuzz::image_file},
                                    {"image_folder", nndl_fuzz::image_folder}, {"onnx", nndl_fuzz::onnx_model}};
    for (const Named& named : readers) {
        if (std::strcmp(named.name, name) == 0) {
            return named.reader;
        }
    }
    return nullptr;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    const char* name = std::getenv("NNDL_FUZZ_READER");
    chosen_reader = name != nullptr ? reader_named(name) : nullptr;
    if (chosen_reader == nullptr) {
        std::fprintf(stderr, "fuzz_readers: NNDL_FUZZ_READER must be npz, idx, csv, image, image_folder or onnx, got '%s'\n",
                     name != nullptr ? name : "(not set)");
        std::exit(2);
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    chosen_reader(data, size);
    return 0;
}
