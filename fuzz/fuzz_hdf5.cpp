// libFuzzer harness: arbitrary bytes as an .h5 file into nndl's HDF5 reader (see fuzz_hdf5_target.hpp).
#include "fuzz_hdf5_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    nndl_fuzz::hdf5_file(data, size);
    return 0;
}
