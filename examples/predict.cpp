// Classifies images with a model saved by cat_classifier --save.
#include "example_images.hpp"

int main(int argc, char** argv) {
    return examples::run_main("predict", [&] {
        examples::Options options("predict", "Classifies images with a saved model: one line per image, PATH: cat (p=...).");
        options.value("model", "FILE.npz", "model saved by cat_classifier --save (or any nndl .npz model)")
            .positional("IMAGE", "image files to classify");
        options.parse(argc, argv);
        if (!options.has("model")) {
            throw examples::UsageError("--model FILE.npz is required");
        }
        if (options.positionals().empty()) {
            throw examples::UsageError("no images given; expected one or more IMAGE files");
        }
        const auto network = nndl::load_network<double>(options.text("model"));
        if (network.output_size() != 1) {
            throw std::invalid_argument("predict: the model has " + std::to_string(network.output_size()) +
                                        " outputs, expected 1 (p(cat))");
        }
        examples::classify_images(network, options.positionals());
        return 0;
    });
}
