#pragma once
// The programs' model files, by extension: FILE.onnx through nndl/io/onnx.hpp (where the
// programs were built with nndl::onnx), anything else as nndl's own .npz.

#include <cctype>
#include <filesystem>
#include <iostream>
#include <string>

#include "example_support.hpp"

// predict and nndl_convert read any model: convolutional and recurrent ones too.
#include <nndl/cnn.hpp>
#include <nndl/layers/embedding.hpp>
#include <nndl/layers/gru.hpp>
#include <nndl/layers/lstm.hpp>
#include <nndl/layers/simple_rnn.hpp>

#ifdef NNDL_EXAMPLES_ONNX
#include <nndl/io/onnx.hpp>
#endif

namespace examples {

/// The extension in lower case (".onnx" for model.ONNX).
inline std::string lower_extension(const std::filesystem::path& path) {
    std::string extension = path.extension().string();
    for (char& c : extension) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return extension;
}

inline bool is_onnx_path(const std::filesystem::path& path) { return lower_extension(path) == ".onnx"; }

/// Refuses .onnx in a build without ONNX, before any work is done.
inline void require_onnx_support(const std::filesystem::path& path, const char* option) {
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

/// Checks a --save path before any work: a format this build writes, in a folder that exists.
inline void check_model_output(const std::filesystem::path& path, const char* option) {
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

/// Saves as ONNX (float32 tensors, what serving engines run) or as nndl's .npz.
template <class Scalar>
void save_model(nndl::Network<Scalar>& network, const std::filesystem::path& path) {
    require_onnx_support(path, "--save");
#ifdef NNDL_EXAMPLES_ONNX
    if (is_onnx_path(path)) {
        nndl::save_onnx(network, path);
        std::cerr << "saved the model to " << terminal_safe(path.string()) << " (ONNX, float32)\n";
        return;
    }
#endif
    nndl::save_network(network, path);
    std::cerr << "saved the model to " << terminal_safe(path.string()) << '\n';
}

/// Runs `train`; when it fails by diverging after train() put back an earlier epoch's
/// parameters, saves those to `save_path` (when given) before passing the failure on.
template <class Scalar, class Train>
auto train_saving_on_failure(nndl::Network<Scalar>& network, const std::string& save_path, Train&& train) {
    try {
        return train();
    } catch (const nndl::DivergenceError& failure) {
        if (!save_path.empty() && failure.kept_epoch() >= 0) {
            save_model(network, save_path);
            std::cerr << "training failed; saved the parameters of epoch " << failure.kept_epoch() + 1 << " to "
                      << terminal_safe(save_path) << '\n';
        } else if (!save_path.empty()) {
            std::cerr << "training failed before any epoch's parameters were kept; nothing saved to " << terminal_safe(save_path)
                      << '\n';
        }
        throw;
    }
}

/// What loading `path` reads: the file, and for ONNX the files its weights are stored in
/// (external data), so no output of the program replaces them.
inline std::vector<std::filesystem::path> model_inputs(const std::filesystem::path& path) {
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

}  // namespace examples
