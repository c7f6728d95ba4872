// Converts models between nndl's .npz and ONNX, by the files' extensions:
//   nndl_convert model.npz model.onnx   (for ONNX Runtime, OpenCV's DNN module, ...)
//   nndl_convert model.onnx model.npz   (a PyTorch export, to train on or load in nndl)
#include "model_files.hpp"

int main(int argc, char** argv) {
    return examples::run_main("nndl_convert", [&] {
        examples::Options options("nndl_convert",
                                  "Converts a model between nndl's .npz and ONNX (.onnx), by the file extensions:\n"
                                  "  nndl_convert model.npz model.onnx    nndl_convert model.onnx model.npz");
        options.value("precision", "float|double", "element type of an ONNX file written (float is what "
                                                   "serving engines run)", "float")
            .positional("IN OUT", "the model to read and the file to write");
        options.parse(argc, argv);
        if (options.positionals().size() != 2) {
            throw examples::UsageError("expected two files, IN and OUT, got " +
                                       std::to_string(options.positionals().size()));
        }
        const std::filesystem::path in = options.positionals()[0];
        const std::filesystem::path out = options.positionals()[1];
        const std::string precision = options.text("precision");
        if (precision != "float" && precision != "double") {
            throw examples::UsageError("--precision must be float or double, got '" + precision + "'");
        }
        for (const auto& file : {in, out}) {
            const std::string extension = examples::lower_extension(file);
            if (extension != ".onnx" && extension != ".npz") {
                throw examples::UsageError("expected .npz or .onnx files, got " + file.string());
            }
        }
        if (examples::is_onnx_path(in) == examples::is_onnx_path(out)) {
            throw examples::UsageError("expected one .onnx file and one .npz file, got " + in.string() + " and " +
                                       out.string());
        }
        if (options.has("precision") && !examples::is_onnx_path(out)) {
            throw examples::UsageError("--precision applies when writing .onnx");
        }
        examples::require_onnx_support(in, "IN");
        examples::check_model_output(out, "OUT");
        examples::Files().reads(examples::model_inputs(in)).writes("OUT", out).check();
        auto network = examples::load_model<double>(in);
        examples::write_model(network, out, /*onnx_float64=*/precision == "double");
        // An ONNX file leaves out the layers that pass through at inference (dropout, augmentation).
        std::size_t left_out = 0;
        for (std::size_t i = 0; i < network.depth(); ++i) {
            left_out += examples::is_onnx_path(out) && network.layer(i).passes_through_at_inference() ? 1 : 0;
        }
        std::cerr << "wrote " << examples::terminal_safe(out.string()) << ": " << network.depth() - left_out << " layers"
                  << (left_out > 0 ? " (" + std::to_string(left_out) + " that pass through at inference left out)" : "")
                  << ", input " << network.input_shape().to_string() << ", " << network.output_size() << " outputs\n";
        return 0;
    });
}
