// A small residual network on Fashion-MNIST: each training image shifted by up to a pixel
// and mirrored at random (a new variant every epoch), a stem convolution, three stages of
// residual blocks (batch norm, 1x1 shortcuts where a block halves the image, identity
// ones elsewhere), global average pooling and a softmax output; mini-batches and Adam.
#include "fashion_common.hpp"
#include "small_resnet.hpp"

namespace {

template <class Scalar>
int run(const examples::Options& options) {
    const auto widths = examples::Options::parse_integer_list(options.text("widths"), "--widths", 1);
    const long blocks = options.integer("blocks", 1, 16);
    const long shift = options.integer("shift", 0, 27);
    const bool flip = !options.has("no-flips");
    if (widths.size() > 3) {
        throw examples::UsageError("--widths takes one to three numbers (one per stage), got '" +
                                   options.text("widths") + "'");
    }
    for (const long width : widths) {
        if (width > 1024) {
            throw examples::UsageError("--widths: each stage takes 1 to 1024 channels, got " + std::to_string(width));
        }
    }
    const auto seed = static_cast<std::uint32_t>(options.integer("seed", 0, examples::largest_seed));
    std::vector<nndl::Index> stage_widths(widths.begin(), widths.end());
    auto network = examples::small_resnet<Scalar>(stage_widths, blocks, shift, flip, seed);
    std::string describe = "ResNet " + std::to_string(blocks) + "x(";
    for (std::size_t k = 0; k < widths.size(); ++k) {
        describe += (k ? "," : "") + std::to_string(widths[k]);
    }
    describe += ")";
    if (shift > 0) {
        describe += " (training images shifted by up to " + std::to_string(shift) + (shift == 1 ? " pixel" : " pixels") +
                    (flip ? ", half mirrored)" : ")");
    } else if (flip) {
        describe += " (training images half mirrored)";
    }
    return examples::train_on_fashion(options, network, describe);
}

}  // namespace

int main(int argc, char** argv) {
    return examples::run_main("fashion_resnet", [&] {
        examples::Options options("fashion_resnet",
                                  "Trains a small residual network on Fashion-MNIST (Debian's\n"
                                  "dataset-fashion-mnist): one line per epoch, then the test accuracy and the\n"
                                  "confusion matrix.");
        options.value("widths", "N,N,N", "channels of each stage (each halves the image; the stem takes the first)", "32,64,128")
            .value("blocks", "N", "residual blocks per stage", "1")
            .value("shift", "N", "move each training image by up to N pixels each way (0: not at all)", "1")
            .flag("no-flips", "do not mirror half of the training images");
        examples::add_fashion_options(options, {"15", "0.002", "0.85", true});
        options.parse(argc, argv);
        return options.has("double") ? run<double>(options) : run<float>(options);
    });
}
