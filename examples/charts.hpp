#pragma once
// Line charts: the numbers as CSV beside the picture, drawn by gnuplot where it is
// installed. Text (titles, a CSV's column names) reaches gnuplot only as quoted literals.
// Compiled once for every example program in examples/support/charts.cpp.
#include <nndl/training.hpp>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace examples {

/// One line (or cloud of points) on a chart: a title and (x, y) points.
struct Series {
    std::string title;
    std::vector<std::pair<double, double>> points;
    bool dots = false;  ///< draw each point as a dot instead of joining them by a line
};

/// The (epoch, loss) points of a training history.
std::vector<std::pair<double, double>> cost_points(const nndl::TrainHistory& history);

/// Whether gnuplot is installed.
bool gnuplot_available();

/// The data file a chart's numbers go to: the chart's name with .csv.
std::filesystem::path chart_data_path(const std::filesystem::path& png);

/// `text` as a gnuplot string literal that stays text: single-quoted (gnuplot expands
/// neither backquoted commands nor @macros inside single quotes, and a quote inside is
/// doubled), with control characters, which would end the script's line, as spaces.
std::string gnuplot_string(const std::string& text);

/// `text` as one CSV field: quoted, with a quote inside doubled (RFC 4180). Text starting
/// with = + - @ or a tab or carriage return gets an apostrophe in front: a spreadsheet
/// would otherwise run it as a formula (quoting does not stop that).
std::string csv_field(const std::string& text);

/// Writes the series as CSV next to `png` (same name, .csv) and, when gnuplot is
/// installed, draws them into `png`. Says on stderr what it wrote.
void plot_lines(const std::filesystem::path& png, const std::string& title, const std::string& xlabel,
                const std::string& ylabel, const std::vector<Series>& series);

}  // namespace examples
