#pragma once
// Two-dimensional point sets: the course's "flower" and scikit-learn's circles and
// moons generated from the NumPy random stream, and CSV point files (features...,
// label; optionally a first "split" column, as in data/football/football.csv).

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "../detail/file_util.hpp"
#include "csv.hpp"
#include "../errors.hpp"
#include "../random.hpp"
#include "../types.hpp"

namespace nndl {

/// Points and their labels, one example per column.
template <class Scalar>
struct PointSet {
    Matrix<Scalar> x;  ///< features x m
    Matrix<Scalar> y;  ///< 1 x m labels
};

/// np.linspace(start, stop, num) computed as NumPy does: i * step + start, last = stop.
inline std::vector<double> numpy_linspace(double start, double stop, Index num) {
    if (num < 0) {
        detail::throw_invalid("numpy_linspace: ", num, " points, expected at least 0");
    }
    std::vector<double> values(static_cast<std::size_t>(num));
    const double step = num > 1 ? (stop - start) / static_cast<double>(num - 1) : 0.0;  // one point: start
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

namespace detail {

inline constexpr double pi = 3.141592653589793;  // the double nearest pi, as NumPy's np.pi

/// scikit-learn's last steps of make_circles and make_moons: rows (x[k], y[k]), outer
/// circle first, shuffled by `random`'s permutation, then noise drawn row-major.
template <class Scalar>
PointSet<Scalar> shuffled_noisy_points(const std::vector<double>& x, const std::vector<double>& y, Index outer,
                                       double noise, NumpyRandom& random) {
    const auto n = static_cast<Index>(x.size());
    const std::vector<Index> order = random.permutation(n);
    Matrix<double> points(2, n);
    PointSet<Scalar> set;
    set.y.resize(1, n);
    for (Index k = 0; k < n; ++k) {
        const Index from = order[static_cast<std::size_t>(k)];
        points(0, k) = x[static_cast<std::size_t>(from)];
        points(1, k) = y[static_cast<std::size_t>(from)];
        set.y(0, k) = from < outer ? Scalar(0) : Scalar(1);
    }
    for (Index k = 0; k < n; ++k) {  // normal(scale=noise, size=(n, 2)) is 0.0 + noise * randn, row-major
        points(0, k) += 0.0 + noise * random.normal();
        points(1, k) += 0.0 + noise * random.normal();
    }
    set.x = points.cast<Scalar>();
    return set;
}

inline void check_point_count(const char* function, Index n, double noise) {
    if (n < 2 || n > (Index(1) << 31)) {
        throw_invalid(function, ": ", n, " points, expected 2 to 2^31");
    }
    if (!(noise >= 0.0) || !std::isfinite(noise)) {
        throw_invalid(function, ": noise ", noise, ", expected a finite standard deviation >= 0");
    }
}

}  // namespace detail

/// scikit-learn's make_circles(n, noise=noise, factor=factor) called without a
/// random_state, as the course calls it: draws from `random` like NumPy's global stream
/// (the shuffle, then the noise). Labels: 0 outer circle, 1 inner. X is 2 x n.
template <class Scalar>
PointSet<Scalar> make_circles(Index n, double noise, NumpyRandom& random, double factor = 0.8) {
    detail::check_point_count("make_circles", n, noise);
    if (!(factor >= 0.0 && factor < 1.0)) {
        detail::throw_invalid("make_circles: factor ", factor, ", expected a value in [0, 1)");
    }
    const Index outer = n / 2;
    std::vector<double> x;
    std::vector<double> y;
    // Angles k * step + 0.0 (linspace without the end point); the factor after cos and sin.
    const double outer_step = 2.0 * detail::pi / static_cast<double>(outer);
    for (Index k = 0; k < outer; ++k) {
        x.push_back(std::cos(static_cast<double>(k) * outer_step + 0.0));
        y.push_back(std::sin(static_cast<double>(k) * outer_step + 0.0));
    }
    const double inner_step = 2.0 * detail::pi / static_cast<double>(n - outer);
    for (Index k = 0; k < n - outer; ++k) {
        x.push_back(std::cos(static_cast<double>(k) * inner_step + 0.0) * factor);
        y.push_back(std::sin(static_cast<double>(k) * inner_step + 0.0) * factor);
    }
    return detail::shuffled_noisy_points<Scalar>(x, y, outer, noise, random);
}

/// scikit-learn's make_moons(n, noise=noise) without a random_state (see make_circles).
/// Labels: 0 upper moon, 1 lower moon.
template <class Scalar>
PointSet<Scalar> make_moons(Index n, double noise, NumpyRandom& random) {
    detail::check_point_count("make_moons", n, noise);
    const Index outer = n / 2;
    std::vector<double> x;
    std::vector<double> y;
    for (const double t : numpy_linspace(0.0, detail::pi, outer)) {
        x.push_back(std::cos(t));
        y.push_back(std::sin(t));
    }
    for (const double t : numpy_linspace(0.0, detail::pi, n - outer)) {
        x.push_back(1.0 - std::cos(t));
        y.push_back((1.0 - std::sin(t)) - 0.5);
    }
    return detail::shuffled_noisy_points<Scalar>(x, y, outer, noise, random);
}

/// Reads CSV text with a header line; every column but the last is a feature,
/// the last is the label. Errors name the file, the line and what was wrong.
/// With `split` (say "train"), the header must have a "split" column, and only the rows
/// whose cell there is `split` are read (files holding a training and a test set).
/// parse_csv (csv.hpp) reads other layouts: other delimiters, no header, several targets.
template <class Scalar>
PointSet<Scalar> parse_csv_points(std::istream& in, const std::filesystem::path& path, const std::string& split = "") {
    CsvOptions options;
    options.header = CsvHeader::present;
    options.select_column = split.empty() ? "" : "split";
    options.select_value = split;
    CsvTable<Scalar> table = parse_csv<Scalar>(in, path, options, "load_csv_points");
    return {std::move(table.x), std::move(table.y)};
}

/// parse_csv_points on a file; `split` as there.
template <class Scalar>
PointSet<Scalar> load_csv_points(const std::filesystem::path& path, const std::string& split = "") {
    std::vector<unsigned char> bytes = read_file_bytes(path, "load_csv_points");
    detail::BytesBuffer buffer(bytes);
    std::istream in(&buffer);
    return parse_csv_points<Scalar>(in, path, split);
}

}  // namespace nndl
