#pragma once
// The programs' model files, by extension: FILE.onnx through nndl/io/onnx.hpp (where the
// programs were built with nndl::onnx), anything else as nndl's own .npz. Compiled once, for
// float and double, in the nndl_example_models library (examples/support/model_files.cpp), so
// a program that saves or loads a model does not compile the ONNX reader and writer itself.

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "example_support.hpp"

namespace examples {

/// The extension in lower case (".onnx" for model.ONNX).
std::string lower_extension(const std::filesystem::path& path);

bool is_onnx_path(const std::filesystem::path& path);

/// Refuses .onnx in a build without ONNX, before any work is done.
void require_onnx_support(const std::filesystem::path& path, const char* option);

/// Checks a --save path before any work: a format this build writes, in a folder that exists.
void check_model_output(const std::filesystem::path& path, const char* option);

/// Writes `network` as ONNX (float32 tensors, what serving engines run, unless
/// `onnx_float64`) or as nndl's .npz, by the extension.
template <class Scalar>
void write_model(nndl::Network<Scalar>& network, const std::filesystem::path& path, bool onnx_float64 = false);

/// write_model, then says on stderr what it wrote.
template <class Scalar>
void save_model(nndl::Network<Scalar>& network, const std::filesystem::path& path);

/// Reads a model of any built-in layers (convolutional and recurrent ones too) from .onnx or .npz.
template <class Scalar>
nndl::Network<Scalar> load_model(const std::filesystem::path& path);

extern template void write_model<float>(nndl::Network<float>&, const std::filesystem::path&, bool);
extern template void write_model<double>(nndl::Network<double>&, const std::filesystem::path&, bool);
extern template void save_model<float>(nndl::Network<float>&, const std::filesystem::path&);
extern template void save_model<double>(nndl::Network<double>&, const std::filesystem::path&);
extern template nndl::Network<float> load_model<float>(const std::filesystem::path&);
extern template nndl::Network<double> load_model<double>(const std::filesystem::path&);

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
std::vector<std::filesystem::path> model_inputs(const std::filesystem::path& path);

}  // namespace examples
