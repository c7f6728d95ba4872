#pragma once
// Two-dimensional point sets: the course's "flower" generated from the NumPy
// random stream, and CSV point files (features..., label).

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../errors.hpp"
#include "../random.hpp"
#include "../types.hpp"

namespace nndl {

template <class Scalar>
struct PointSet {
    Matrix<Scalar> x;  ///< features x m
    Matrix<Scalar> y;  ///< 1 x m labels
};

/// np.linspace(start, stop, num) computed as NumPy does: i * step + start, last = stop.
inline std::vector<double> numpy_linspace(double start, double stop, Index num) {
    std::vector<double> values(static_cast<std::size_t>(num));
    const double step = (stop - start) / static_cast<double>(num - 1);
    for (Index i = 0; i < num; ++i) {
        values[static_cast<std::size_t>(i)] = static_cast<double>(i) * step + start;
    }
    if (num > 1) {
        values.back() = stop;
    }
    return values;
}

/// The course's load_planar_dataset(): seed(1), 2 petals x `per_class` points.
template <class Scalar>
PointSet<Scalar> make_flower(Index per_class = 200, double petals = 4.0) {
    if (per_class < 2) {
        detail::throw_invalid("make_flower: ", per_class, " points per class, expected at least 2");
    }
    NumpyRandom random(1);
    PointSet<Scalar> set;
    set.x.resize(2, 2 * per_class);
    set.y.resize(1, 2 * per_class);
    for (Index j = 0; j < 2; ++j) {
        auto t = numpy_linspace(static_cast<double>(j) * 3.12, static_cast<double>(j + 1) * 3.12, per_class);
        for (auto& v : t) {
            v = v + random.normal() * 0.2;
        }
        std::vector<double> r(t.size());
        for (std::size_t i = 0; i < t.size(); ++i) {
            r[i] = petals * std::sin(4.0 * t[i]);
        }
        for (auto& v : r) {
            v = v + random.normal() * 0.2;
        }
        for (Index i = 0; i < per_class; ++i) {
            const auto k = static_cast<std::size_t>(i);
            set.x(0, j * per_class + i) = static_cast<Scalar>(r[k] * std::sin(t[k]));
            set.x(1, j * per_class + i) = static_cast<Scalar>(r[k] * std::cos(t[k]));
            set.y(0, j * per_class + i) = static_cast<Scalar>(j);
        }
    }
    return set;
}

/// Reads CSV text with a header line; every column but the last is a feature,
/// the last is the label. Errors name the file, the line and what was wrong.
template <class Scalar>
PointSet<Scalar> parse_csv_points(std::istream& in, const std::filesystem::path& path) {
    std::string line;
    if (!std::getline(in, line)) {
        throw FileError(detail::concat("load_csv_points: '", path.string(), "' is empty, expected a header line"));
    }
    const auto split = [](const std::string& text) {
        std::vector<std::string> cells;
        std::stringstream stream(text);
        std::string cell;
        while (std::getline(stream, cell, ',')) {
            cells.push_back(cell);
        }
        if (!text.empty() && text.back() == ',') {
            cells.emplace_back();
        }
        return cells;
    };
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    const std::size_t columns = split(line).size();
    if (columns < 2) {
        throw FileError(detail::concat("load_csv_points: ", path.string(), ":1: header has ", columns,
                                       " column(s), expected at least 2 (features..., label)"));
    }
    std::vector<std::vector<double>> rows;
    long line_number = 1;
    while (std::getline(in, line)) {
        ++line_number;
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.empty()) {
            continue;
        }
        const auto cells = split(line);
        if (cells.size() != columns) {
            throw FileError(detail::concat("load_csv_points: ", path.string(), ":", line_number, ": ", cells.size(),
                                           " values, expected ", columns));
        }
        std::vector<double> row;
        for (std::size_t c = 0; c < cells.size(); ++c) {
            std::size_t used = 0;
            double value = 0.0;
            try {
                value = std::stod(cells[c], &used);
            } catch (const std::exception&) {
                used = 0;
            }
            while (used < cells[c].size() && std::isspace(static_cast<unsigned char>(cells[c][used]))) {
                ++used;
            }
            if (used == 0 || used != cells[c].size() || !std::isfinite(value)) {
                throw FileError(detail::concat("load_csv_points: ", path.string(), ":", line_number, ": column ",
                                               c + 1, " is '", cells[c], "', expected a finite number"));
            }
            row.push_back(value);
        }
        rows.push_back(std::move(row));
    }
    if (rows.empty()) {
        throw FileError(detail::concat("load_csv_points: '", path.string(), "' has no data lines after the header"));
    }
    PointSet<Scalar> set;
    const auto m = static_cast<Index>(rows.size());
    const auto features = static_cast<Index>(columns - 1);
    set.x.resize(features, m);
    set.y.resize(1, m);
    for (Index j = 0; j < m; ++j) {
        for (Index i = 0; i < features; ++i) {
            set.x(i, j) = static_cast<Scalar>(rows[static_cast<std::size_t>(j)][static_cast<std::size_t>(i)]);
        }
        set.y(0, j) = static_cast<Scalar>(rows[static_cast<std::size_t>(j)].back());
    }
    return set;
}

template <class Scalar>
PointSet<Scalar> load_csv_points(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::error_code ec;
    if (!in || std::filesystem::is_directory(path, ec)) {
        throw FileError(detail::concat("load_csv_points: cannot open '", path.string(), "'"));
    }
    return parse_csv_points<Scalar>(in, path);
}

}  // namespace nndl
