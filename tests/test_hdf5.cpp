// The course's original .h5 files give the same matrices as the image folders.
#include "test_support.hpp"

#include <nndl/data/hdf5.hpp>
#include <nndl/data/image.hpp>

TEST_CASE("hdf5: train and test sets equal the image folders") {
    for (const char* split : {"train", "test"}) {
        const std::string file = std::string("data/catvnoncat/") + split + "_catvnoncat.h5";
        const auto h5 = nndl::load_h5_image_set<double>(file, std::string(split) + "_set_x",
                                                        std::string(split) + "_set_y");
        nndl::ImageFolderOptions options;
        options.classes = {"non-cat", "cat"};
        options.order = nndl::FolderOrder::by_file_name;
        const auto folder = nndl::load_image_folder<double>(std::string("data/catvnoncat/") + split, options);
        INFO(split);
        CHECK(h5.height == 64);
        CHECK(h5.width == 64);
        CHECK(h5.x == folder.x);
        CHECK(h5.y == folder.y);
    }
}

TEST_CASE("hdf5: missing files and datasets give clear errors") {
    CHECK(nndl_test::message_of<nndl::FileError>([] { nndl::read_h5_array<unsigned char>("data/none.h5", "x"); })
              .find("read_h5_array: 'data/none.h5' does not exist") == 0);
    CHECK(nndl_test::message_of<nndl::FileError>([] { nndl::read_h5_array<unsigned char>("data/README.md", "x"); }) ==
          "read_h5_array: 'data/README.md' is not an HDF5 file");
    CHECK(nndl_test::message_of<nndl::FileError>([] {
              nndl::read_h5_array<unsigned char>("data/catvnoncat/test_catvnoncat.h5", "nope");
          }) == "read_h5_array: 'data/catvnoncat/test_catvnoncat.h5' has no dataset 'nope'");
}
