// Classifies image files with any saved nndl model: the cat classifiers (dense or
// CNN), the Fashion-MNIST models, a user's own, or an ONNX model (a PyTorch export). Images are resized to the model's
// input (an image shape, or a square RGB or gray image for a flat input).
#include "example_images.hpp"
#include "model_files.hpp"

int main(int argc, char** argv) {
    return examples::run_main("predict", [&] {
        examples::Options options("predict",
                                  "Classifies images with a saved model: one line per image, PATH: CLASS (p=...),\n"
                                  "p the probability of class 1 for a one-output model, else of the predicted class.");
        options.value("model", "FILE.npz|FILE.onnx", "model saved by an nndl program's --save (or nndl::save_network), "
                                                      "or an ONNX model (a PyTorch export, say)")
            .value("classes", "NAME,NAME,...", "class names (default: non-cat,cat for one output, else class 0, class 1, ...)")
            .value("export", "FILE.npz", "also write the inputs (X) and probabilities (expected) as .npz, to check elsewhere")
            .positional("IMAGE", "image files to classify");
        options.parse(argc, argv);
        if (!options.has("model")) {
            throw examples::UsageError("--model FILE.npz or FILE.onnx is required");
        }
        if (options.positionals().empty()) {
            throw examples::UsageError("no images given; expected one or more IMAGE files");
        }
        std::vector<std::string> names;
        if (options.has("classes")) {
            for (const std::string& name : examples::Options::split_list(
                     options.text("classes"), "--classes", "names separated by commas, each non-empty and printable")) {
                if (!std::all_of(name.begin(), name.end(), [](unsigned char c) { return c >= 0x20 && c != 0x7f; })) {
                    throw examples::UsageError("--classes must be names separated by commas, each non-empty and "
                                               "printable, got '" + nndl::printable(options.text("classes")) + "'");
                }
                names.push_back(name);
            }
        }
        examples::Files()
            .reads(examples::model_inputs(options.text("model")))
            .reads(options.positionals())
            .writes_as("--export", options.text("export"), ".npz", "a NumPy archive")
            .check();
        examples::require_onnx_support(options.text("model"), "--model");
        const auto network = examples::load_model<double>(options.text("model"));
        examples::classify_images(network, options.positionals(), names);
        if (options.has("export")) {
            const nndl::Matrix<double> x = examples::load_image_inputs(network, options.positionals());  // decoded again: rare
            nndl::write_npz(options.text("export"), {{"X", nndl::to_npy(x)}, {"expected", nndl::to_npy(network.predict_proba(x))}});
            std::cerr << "wrote " << examples::terminal_safe(options.text("export")) << '\n';
        }
        return 0;
    });
}
