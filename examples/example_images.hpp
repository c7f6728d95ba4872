#pragma once
// Pictures made of pixels for the examples: decision boundaries and image grids,
// written as PNG with stb_image_write.

#include "example_support.hpp"

#include <nndl/data/image.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>

namespace examples {

/// Colours the plane by the model's prediction and draws the points on top.
/// `predict` maps a 2 x n matrix of points to 1 x n probabilities of class 1; the plane
/// shown reaches `pad` beyond the points on every side (the course's plots: 1).
template <class Scalar>
nndl::ImageArray<unsigned char> decision_boundary(const nndl::Matrix<Scalar>& x, const nndl::Matrix<Scalar>& y,
                                                  const std::function<nndl::Matrix<Scalar>(const nndl::Matrix<Scalar>&)>& predict,
                                                  int size = 480, double pad = 1.0) {
    if (x.rows() != 2 || y.rows() < 1 || y.cols() != x.cols() || x.cols() == 0) {
        throw nndl::ShapeError("decision_boundary: expected 2 x n points with 1 x n labels (n >= 1), got " +
                               std::to_string(x.rows()) + " x " + std::to_string(x.cols()) + " points and " +
                               std::to_string(y.rows()) + " x " + std::to_string(y.cols()) + " labels");
    }
    const double x0 = static_cast<double>(x.row(0).minCoeff()) - pad;
    const double x1 = static_cast<double>(x.row(0).maxCoeff()) + pad;
    const double y0 = static_cast<double>(x.row(1).minCoeff()) - pad;
    const double y1 = static_cast<double>(x.row(1).maxCoeff()) + pad;
    nndl::Matrix<Scalar> grid(2, static_cast<nndl::Index>(size) * size);
    for (int r = 0; r < size; ++r) {
        for (int c = 0; c < size; ++c) {
            grid(0, r * size + c) = static_cast<Scalar>(x0 + (x1 - x0) * (c + 0.5) / size);
            grid(1, r * size + c) = static_cast<Scalar>(y1 - (y1 - y0) * (r + 0.5) / size);  // up is up
        }
    }
    const nndl::Matrix<Scalar> p = predict(grid);
    nndl::ImageArray<unsigned char> image(size, size, 3);
    const unsigned char region[2][3] = {{250, 200, 190}, {190, 215, 245}};  // light red: 0, light blue: 1
    const unsigned char point[2][3] = {{200, 30, 30}, {30, 70, 200}};
    for (int r = 0; r < size; ++r) {
        for (int c = 0; c < size; ++c) {
            const int label = p(0, r * size + c) > Scalar(0.5) ? 1 : 0;
            for (int k = 0; k < 3; ++k) {
                image(r, c, k) = region[label][k];
            }
        }
    }
    for (nndl::Index j = 0; j < x.cols(); ++j) {
        const int label = y(0, j) > Scalar(0.5) ? 1 : 0;
        const double pc = (static_cast<double>(x(0, j)) - x0) / (x1 - x0) * size;
        const double pr = (y1 - static_cast<double>(x(1, j))) / (y1 - y0) * size;
        for (int dr = -4; dr <= 4; ++dr) {
            for (int dc = -4; dc <= 4; ++dc) {
                const int rr = static_cast<int>(pr) + dr;
                const int cc = static_cast<int>(pc) + dc;
                const int d2 = dr * dr + dc * dc;
                if (rr < 0 || cc < 0 || rr >= size || cc >= size || d2 > 16) {
                    continue;
                }
                for (int k = 0; k < 3; ++k) {
                    image(rr, cc, k) = d2 > 9 ? 255 : point[label][k];  // white rim
                }
            }
        }
    }
    return image;
}

/// Places equally sized images in a grid (scaled up by `zoom`) with a coloured frame each.
inline nndl::ImageArray<unsigned char> image_grid(const std::vector<nndl::ImageArray<unsigned char>>& images,
                                                  const std::vector<std::array<unsigned char, 3>>& frames, int columns,
                                                  int zoom = 2) {
    if (images.empty()) {
        throw std::invalid_argument("image_grid: no images to show");
    }
    const int border = 4;
    const int h = static_cast<int>(images[0].height) * zoom;
    const int w = static_cast<int>(images[0].width) * zoom;
    const int count = static_cast<int>(images.size());
    columns = std::min(columns, count);
    const int rows = (count + columns - 1) / columns;
    const int cell_h = h + 2 * border;
    const int cell_w = w + 2 * border;
    nndl::ImageArray<unsigned char> grid(rows * cell_h, columns * cell_w, 3);
    std::fill(grid.values.begin(), grid.values.end(), static_cast<unsigned char>(255));
    for (int i = 0; i < count; ++i) {
        const int top = (i / columns) * cell_h;
        const int left = (i % columns) * cell_w;
        for (int r = 0; r < cell_h; ++r) {
            for (int c = 0; c < cell_w; ++c) {
                const bool inside = r >= border && c >= border && r < border + h && c < border + w;
                for (int k = 0; k < 3; ++k) {
                    grid(top + r, left + c, k) =
                        inside ? images[static_cast<std::size_t>(i)]((r - border) / zoom, (c - border) / zoom, k)
                               : frames[static_cast<std::size_t>(i)][static_cast<std::size_t>(k)];
                }
            }
        }
    }
    return grid;
}

}  // namespace examples

namespace examples {

/// The course's cat data set from an image-folder tree DIR/{train,test}/{cat,non-cat}:
/// labels 1 = cat, 0 = non-cat, columns in the order of the original .h5 files.
template <class Scalar>
struct CatData {
    nndl::ImageDataset<Scalar> train;
    nndl::ImageDataset<Scalar> test;
};

template <class Scalar>
CatData<Scalar> load_cat_data(const std::string& dir) {
    nndl::ImageFolderOptions options;
    options.classes = {"non-cat", "cat"};
    options.order = nndl::FolderOrder::by_file_name;
    const std::filesystem::path root(dir);
    CatData<Scalar> data;
    data.train = nndl::load_image_folder<Scalar>(root / "train", options);
    data.test = nndl::load_image_folder<Scalar>(root / "test", options);
    std::cerr << "loaded " << data.train.x.cols() << " training and " << data.test.x.cols() << " test images from "
              << terminal_safe(dir) << '\n';
    return data;
}

/// The image a network takes: its input shape when that is an image (1 to 4 channels),
/// else a square RGB (n = 3 s^2) or gray (n = s^2) image for a flat input of n values
/// (dense models).
inline nndl::Shape image_input_shape(const nndl::Shape& input) {
    if (!input.is_flat()) {
        if (input.channels > 4) {
            throw std::invalid_argument("image_input_shape: the model takes " + input.to_string() +
                                        " inputs, expected 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA) channels");
        }
        return input;
    }
    const nndl::Index n = input.size();
    for (const nndl::Index channels : {3, 1}) {
        const auto side = static_cast<nndl::Index>(std::lround(std::sqrt(static_cast<double>(n) / channels)));
        if (side > 0 && side * side * channels == n) {
            return nndl::Shape::image(side, side, channels);
        }
    }
    throw std::invalid_argument("image_input_shape: the model takes " + std::to_string(n) +
                                " flat inputs, expected s x s x 3 (RGB) or s x s (gray) values of a square image");
}

/// Class names for a network's outputs: `given` (one per class; two for one sigmoid
/// output), else non-cat/cat for one output and "class K" for several.
inline std::vector<std::string> class_names(nndl::Index outputs, const std::vector<std::string>& given) {
    const auto classes = static_cast<std::size_t>(outputs == 1 ? 2 : outputs);
    if (!given.empty()) {
        for (std::size_t k = 0; k < given.size(); ++k) {
            for (std::size_t other = 0; other < k; ++other) {
                if (given[k] == given[other]) {
                    throw UsageError("--classes names '" + nndl::printable(given[k]) + "' twice");
                }
            }
        }
        if (given.size() != classes) {
            throw UsageError("--classes names " + std::to_string(given.size()) + " classes, the model has " +
                             std::to_string(classes) + (outputs == 1 ? " (one sigmoid output)" : ""));
        }
        return given;
    }
    if (outputs == 1) {
        return {"non-cat", "cat"};
    }
    std::vector<std::string> names;
    for (std::size_t k = 0; k < classes; ++k) {
        names.push_back("class " + std::to_string(k));
    }
    return names;
}

/// The image files as the network's input columns.
template <class Scalar>
nndl::Matrix<Scalar> load_image_inputs(const nndl::Network<Scalar>& network, const std::vector<std::string>& paths,
                                       std::size_t first = 0, std::size_t count = std::size_t(-1)) {
    const nndl::Shape shape = image_input_shape(network.input_shape());
    const std::size_t end = first + std::min(count, paths.size() - std::min(first, paths.size()));
    nndl::Matrix<Scalar> x(shape.size(), static_cast<nndl::Index>(end - first));
    for (std::size_t i = first; i < end; ++i) {
        x.col(static_cast<nndl::Index>(i - first)) = nndl::load_image_column<Scalar>(paths[i], shape);
    }
    return x;
}

/// Classifies image files with a trained network, one line per file: "PATH: NAME (p=P)",
/// P the probability of class 1 for one sigmoid output, else of the predicted class.
template <class Scalar>
void classify_images(const nndl::Network<Scalar>& network, const std::vector<std::string>& paths,
                     const std::vector<std::string>& names = {}) {
    const auto labels = class_names(network.output_size(), names);
    const nndl::Activation output = nndl::output_activation(network.layer(network.depth() - 1));
    // Scores of several classes (a PyTorch classifier ends with its Linear layer) become
    // probabilities through a softmax, as the model's own loss would make them.
    const bool scores = output == nndl::Activation::identity && network.output_size() > 1;
    if (output != nndl::Activation::sigmoid && output != nndl::Activation::softmax && !scores) {
        throw std::invalid_argument("classify_images: the model's output is " + std::string(nndl::to_string(output)) +
                                    ", expected sigmoid or softmax probabilities, or scores of several classes");
    }
    if (scores && !paths.empty()) {
        std::cerr << "the model outputs scores without a softmax: p is their softmax\n";
    }
    if (paths.empty()) {
        return;
    }
    // A few images at a time: memory stays that of one batch however many files are given,
    // and a batch holds at most what the model bound allows one example (max_model_values).
    long long per_example = network.input_size();
    for (std::size_t l = 0; l < network.depth(); ++l) {
        per_example += network.layer(l).output_size() + network.layer(l).working_values();
    }
    const auto batch = static_cast<std::size_t>(std::clamp(nndl::max_model_values() / per_example, 1LL, 32LL));
    for (std::size_t first = 0; first < paths.size(); first += batch) {
        nndl::Matrix<Scalar> probabilities = network.predict_proba(load_image_inputs(network, paths, first, batch));
        if (scores) {
            for (nndl::Index j = 0; j < probabilities.cols(); ++j) {
                auto column = probabilities.col(j).array();
                column = (column - column.maxCoeff()).exp();
                column /= column.sum();
            }
        }
        for (nndl::Index j = 0; j < probabilities.cols(); ++j) {
            const std::string& path = paths[first + static_cast<std::size_t>(j)];
            if (probabilities.rows() == 1) {
                const double p = static_cast<double>(probabilities(0, j));
                print_classification(path, labels[p > 0.5 ? 1 : 0], p);
            } else {
                nndl::Index best = 0;
                const double p = static_cast<double>(probabilities.col(j).maxCoeff(&best));
                print_classification(path, labels[static_cast<std::size_t>(best)], p);
            }
        }
    }
}

/// The photos in data/images, sorted.
inline std::vector<std::string> bundled_photos() {
    std::vector<std::string> photos;
    const std::string dir = data_path("data/images");
    std::error_code ec;
    if (std::filesystem::is_directory(dir, ec)) {
        for (const auto& entry : std::filesystem::directory_iterator(dir)) {
            if (nndl::has_image_extension(entry.path())) {
                photos.push_back(entry.path().string());
            }
        }
    }
    std::sort(photos.begin(), photos.end());
    return photos;
}

}  // namespace examples
