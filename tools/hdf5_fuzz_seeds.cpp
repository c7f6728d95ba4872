// Writes the seed corpus of fuzz_hdf5 (fuzz/corpus/hdf5/): small .h5 files shaped like
// the course's cat data set (uint8 images m x h x w x c, int64 labels), in the layouts
// HDF5 offers (contiguous, chunked, compressed, never written).
// Build and run: g++ -std=c++17 tools/hdf5_fuzz_seeds.cpp $(pkg-config --cflags --libs hdf5) -o /tmp/seeds && /tmp/seeds fuzz/corpus/hdf5
#include <hdf5.h>

#include <cstdio>
#include <string>
#include <vector>

namespace {

void write_set(const std::string& path, bool chunked, bool compressed, bool write_data) {
    const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t image_dims[4] = {3, 4, 4, 3};
    const hsize_t label_dims[1] = {3};
    const hid_t image_space = H5Screate_simple(4, image_dims, nullptr);
    const hid_t label_space = H5Screate_simple(1, label_dims, nullptr);
    const hid_t properties = H5Pcreate(H5P_DATASET_CREATE);
    if (chunked) {
        const hsize_t chunk[4] = {1, 4, 4, 3};
        H5Pset_chunk(properties, 4, chunk);
        if (compressed) {
            H5Pset_deflate(properties, 6);
        }
    }
    const hid_t images = H5Dcreate2(file, "train_set_x", H5T_STD_U8LE, image_space, H5P_DEFAULT, properties,
                                    H5P_DEFAULT);
    const hid_t labels = H5Dcreate2(file, "train_set_y", H5T_STD_I64LE, label_space, H5P_DEFAULT, H5P_DEFAULT,
                                    H5P_DEFAULT);
    if (write_data) {
        std::vector<unsigned char> pixels(3 * 4 * 4 * 3);
        for (std::size_t i = 0; i < pixels.size(); ++i) {
            pixels[i] = static_cast<unsigned char>(i * 7);
        }
        const long long classes[3] = {0, 1, 1};
        H5Dwrite(images, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, pixels.data());
        H5Dwrite(labels, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, classes);
    }
    H5Dclose(images);
    H5Dclose(labels);
    H5Pclose(properties);
    H5Sclose(image_space);
    H5Sclose(label_space);
    H5Fclose(file);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: hdf5_fuzz_seeds FOLDER\n");
        return 2;
    }
    const std::string folder = argv[1];
    write_set(folder + "/cat_contiguous.h5", false, false, true);
    write_set(folder + "/cat_chunked.h5", true, false, true);
    write_set(folder + "/cat_deflate.h5", true, true, true);
    write_set(folder + "/cat_unwritten.h5", true, false, false);
    return 0;
}
