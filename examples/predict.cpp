// Classifies images with a model saved by cat_classifier --save.
#include "example_images.hpp"

int main(int argc, char** argv) {
    return examples::run_main("predict", [&] {
        examples::Options options("predict", "Classifies images with a saved model: one line per image, PATH: cat (p=...).");
        options.value("model", "FILE.npz", "model saved by cat_classifier --save (or any nndl .npz model)")
            .value("export", "FILE.npz", "also write the inputs (X) and probabilities (expected) as .npz, to check elsewhere")
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
        if (options.has("export")) {
            std::vector<std::filesystem::path> inputs{options.text("model")};
            inputs.insert(inputs.end(), options.positionals().begin(), options.positionals().end());
            examples::refuse_overwriting_input(options.text("export"), inputs);
            const auto side = static_cast<nndl::Index>(std::lround(std::sqrt(network.input_size() / 3.0)));
            nndl::Matrix<double> x(network.input_size(), static_cast<nndl::Index>(options.positionals().size()));
            for (std::size_t i = 0; i < options.positionals().size(); ++i) {
                x.col(static_cast<nndl::Index>(i)) = nndl::load_image_column<double>(options.positionals()[i], side, side);
            }
            nndl::write_npz(options.text("export"), {{"X", nndl::to_npy(x)}, {"expected", nndl::to_npy(network.predict_proba(x))}});
            std::cerr << "wrote " << options.text("export") << '\n';
        }
        return 0;
    });
}
