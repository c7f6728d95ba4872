// examples/model_files.hpp's model files by extension, compiled once for float and double.
#include "../model_files.hpp"

#include <cctype>

// The programs read any model: every layer's header, each registering its type for
// load_network, and graphs.
#include <nndl/cnn.hpp>
#include <nndl/graph.hpp>
#include <nndl/io/model.hpp>
#include <nndl/layers/all.hpp>

#ifdef NNDL_EXAMPLES_ONNX
#include <nndl/io/onnx.hpp>
#endif

namespace examples {

std::string lower_extension(const std::filesystem::path& path) {
    std::string extension = path.extension().string();
    for (char& c : extension) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return extension;
}

bool is_onnx_path(const std::filesystem::path& path) { return lower_extension(path) == ".onnx"; }

void require_onnx_support(const std::filesystem::path& path, const char* option) {
#ifndef NNDL_EXAMPLES_ONNX
    if (is_onnx_path(path)) {
        throw UsageError(std::string(option) + " " + path.string() +
                         ": this build has no ONNX support (install libonnx-dev and libprotobuf-dev, then rebuild)");
    }
#else
    (void)path;
    (void)option;
#endif
}

void check_model_output(const std::filesystem::path& path, const char* option) {
    const std::string extension = lower_extension(path);
    if (extension != ".npz" && extension != ".onnx") {  // the name says what the file holds
        throw UsageError(std::string(option) + " " + path.string() +
                         ": expected a file name ending in .npz (nndl's model file) or .onnx");
    }
    require_onnx_support(path, option);
    const std::filesystem::path folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    std::error_code ec;
    if (!std::filesystem::is_directory(folder, ec)) {
        throw UsageError(std::string(option) + " " + path.string() + ": the folder " + folder.string() +
                         " does not exist");
    }
}

template <class Scalar>
void write_model(nndl::Network<Scalar>& network, const std::filesystem::path& path, bool onnx_float64) {
    require_onnx_support(path, "--save");
#ifdef NNDL_EXAMPLES_ONNX
    if (is_onnx_path(path)) {
        nndl::OnnxExportOptions options;
        options.precision = onnx_float64 ? nndl::OnnxPrecision::float64 : nndl::OnnxPrecision::float32;
        nndl::save_onnx(network, path, options);
        return;
    }
#else
    (void)onnx_float64;
#endif
    nndl::save_network(network, path);
}

template <class Scalar>
void save_model(nndl::Network<Scalar>& network, const std::filesystem::path& path) {
    write_model(network, path);
    std::cerr << "saved the model to " << terminal_safe(path.string()) << (is_onnx_path(path) ? " (ONNX, float32)\n" : "\n");
}

std::vector<std::filesystem::path> model_inputs(const std::filesystem::path& path) {
    std::vector<std::filesystem::path> files{path};
#ifdef NNDL_EXAMPLES_ONNX
    std::error_code ec;
    if (is_onnx_path(path) && std::filesystem::is_regular_file(path, ec)) {
        for (const auto& file : nndl::onnx_external_files(path)) {
            if (std::filesystem::exists(file, ec)) {  // a missing one is load_onnx's to name
                files.push_back(file);
            }
        }
    }
#endif
    return files;
}

template <class Scalar>
nndl::Network<Scalar> load_model(const std::filesystem::path& path) {
    require_onnx_support(path, "--model");
#ifdef NNDL_EXAMPLES_ONNX
    if (is_onnx_path(path)) {
        return nndl::load_onnx<Scalar>(path);
    }
#endif
    return nndl::load_network<Scalar>(path);
}

template void write_model<float>(nndl::Network<float>&, const std::filesystem::path&, bool);
template void write_model<double>(nndl::Network<double>&, const std::filesystem::path&, bool);
template void save_model<float>(nndl::Network<float>&, const std::filesystem::path&);
template void save_model<double>(nndl::Network<double>&, const std::filesystem::path&);
template nndl::Network<float> load_model<float>(const std::filesystem::path&);
template nndl::Network<double> load_model<double>(const std::filesystem::path&);

}  // namespace examples
