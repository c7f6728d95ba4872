// Writes a small PNG and reads it back through nndl's image loaders (nndl::compiled_image
// where the installed nndl has it): the pixels come back as they were written.
#ifndef NNDL_COMPILED_IMAGE
#error "consumer_image must link nndl::compiled_image (which defines NNDL_COMPILED_IMAGE)"
#endif
#include <nndl/nndl.hpp>
#include <nndl/data/image.hpp>

#include <filesystem>
#include <iostream>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: consumer_image FOLDER (created, then removed)\n";
        return 2;
    }
    nndl::ImageArray<unsigned char> image(2, 3, 3);
    for (std::size_t i = 0; i < image.values.size(); ++i) {
        image.values[i] = static_cast<unsigned char>(20 * i);
    }
    const std::filesystem::path folder = argv[1];
    std::filesystem::create_directories(folder / "class_a");
    nndl::write_png(folder / "class_a" / "one.png", image);
    const auto data = nndl::load_image_folder<float>(folder, {2, 3, {}, nndl::FolderOrder::by_class});
    std::filesystem::remove_all(folder);
    bool same = data.x.rows() == 18 && data.x.cols() == 1;
    for (nndl::Index i = 0; same && i < 18; ++i) {
        same = data.x(i, 0) == static_cast<float>(image.values[static_cast<std::size_t>(i)]) / 255.0f;
    }
    std::cout << "image folder round trip: " << (same ? "same pixels" : "DIFFERENT pixels") << '\n';
    return same ? 0 : 1;
}
