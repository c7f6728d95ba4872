// examples/charts.hpp's line charts, compiled once for every example program.
#include "../charts.hpp"
#include "../terminal_text.hpp"

#include <nndl/detail/file_util.hpp>
#include <nndl/errors.hpp>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <unistd.h>

namespace examples {

namespace {

/// Runs gnuplot on `script` (kept in a temporary file of nndl's own naming) and returns
/// what it wrote to its standard output.
std::vector<unsigned char> run_gnuplot(const std::string& script) {
    char script_path[] = "/tmp/nndl_plot_XXXXXX";
    const int fd = ::mkstemp(script_path);
    if (fd < 0) {
        throw nndl::FileError(std::string("plot_lines: cannot create a temporary file in /tmp: ") + std::strerror(errno));
    }
    struct RemoveOnExit {
        const char* path;
        ~RemoveOnExit() { ::unlink(path); }
    } remove_script{script_path};
    const nndl::TemporaryFileScope removed_on_signal(script_path);  // Ctrl-C removes it too
    std::size_t written = 0;
    while (written < script.size()) {
        const ssize_t n = ::write(fd, script.data() + written, script.size() - written);
        if (n <= 0) {
            ::close(fd);
            throw nndl::FileError("plot_lines: cannot write the chart's script to /tmp (disk full?)");
        }
        written += static_cast<std::size_t>(n);
    }
    ::close(fd);
    FILE* pipe = ::popen((std::string("gnuplot ") + script_path + " 2>/dev/null").c_str(), "r");
    if (pipe == nullptr) {
        throw nndl::FileError("plot_lines: cannot start gnuplot");
    }
    std::vector<unsigned char> output;
    unsigned char buffer[1 << 16];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
        output.insert(output.end(), buffer, buffer + n);
    }
    if (::pclose(pipe) != 0) {
        output.clear();
    }
    return output;
}

}  // namespace


std::vector<std::pair<double, double>> cost_points(const nndl::TrainHistory& history) {
    std::vector<std::pair<double, double>> points;
    for (const auto& r : history.epochs) {
        points.emplace_back(static_cast<double>(r.epoch), r.loss);
    }
    return points;
}

bool gnuplot_available() {
    return std::system("command -v gnuplot >/dev/null 2>&1") == 0;
}

/// The data file a chart's numbers go to: the chart's name with .csv.
std::filesystem::path chart_data_path(const std::filesystem::path& png) {
    auto csv = png;
    csv.replace_extension(".csv");
    return csv;
}

/// `text` as a gnuplot string literal that stays text: single-quoted (gnuplot expands
/// neither backquoted commands nor @macros inside single quotes, and a quote inside is
/// doubled), with control characters, which would end the script's line, as spaces.
std::string gnuplot_string(const std::string& text) {
    std::string quoted = "'";
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\'') {
            quoted += "''";
        } else if (byte < 0x20 || byte == 0x7f) {
            quoted += ' ';
        } else {
            quoted += c;
        }
    }
    return quoted + "'";
}

/// `text` as one CSV field: quoted, with a quote inside doubled (RFC 4180). Text starting
/// with = + - @ or a tab or carriage return gets an apostrophe in front: a spreadsheet
/// would otherwise run it as a formula (quoting does not stop that).
std::string csv_field(const std::string& text) {
    std::string quoted = "\"";
    if (!text.empty() && std::string("=+-@\t\r").find(text.front()) != std::string::npos) {
        quoted += '\'';
    }
    for (const char c : text) {
        quoted += c;
        if (c == '"') {
            quoted += '"';
        }
    }
    return quoted + "\"";
}

/// Writes the series as CSV next to `png` (same name, .csv) and, when gnuplot is
/// installed, draws them into `png`. Says on stderr what it wrote.
void plot_lines(const std::filesystem::path& png, const std::string& title, const std::string& xlabel,
                       const std::string& ylabel, const std::vector<Series>& series) {
    const auto csv = chart_data_path(png);
    nndl::write_file_atomically(csv, "plot_lines", [&](std::ofstream& out) {
        out << "series,x,y\n" << std::setprecision(17);
        for (const auto& s : series) {
            for (const auto& [x, y] : s.points) {
                out << csv_field(s.title) << ',' << x << ',' << y << '\n';
            }
        }
    });
    if (!gnuplot_available()) {
        std::cerr << "gnuplot is not installed (apt-get install gnuplot-nox): wrote the data to " << terminal_safe(csv.string())
                  << " but no chart\n";
        return;
    }
    // gnuplot writes the PNG to its standard output and nndl writes the file, so no file
    // name ever enters gnuplot's script; titles (a CSV's column names among them) enter
    // only as gnuplot_string literals, so text from a file never becomes a command.
    std::ostringstream script;
    script << "set terminal pngcairo noenhanced size 900,600 font 'sans,11'\n"
           << "set title " << gnuplot_string(title) << "\nset xlabel " << gnuplot_string(xlabel)
           << "\nset ylabel " << gnuplot_string(ylabel) << '\n'
           << "set grid\nset key outside right top\nset datafile separator ','\n"
           << "plot ";
    for (std::size_t i = 0; i < series.size(); ++i) {
        script << (i ? ", " : "") << "'-' using 1:2 with "
               << (series[i].dots ? "points pointtype 7 pointsize 0.8" : "lines linewidth 2") << " title "
               << gnuplot_string(series[i].title);
    }
    script << '\n' << std::setprecision(17);
    for (const auto& s : series) {
        for (const auto& [x, y] : s.points) {
            script << x << ',' << y << '\n';
        }
        script << "e\n";
    }
    const std::vector<unsigned char> image = run_gnuplot(script.str());
    if (image.size() < 8 || std::memcmp(image.data(), "\x89PNG\r\n\x1a\n", 8) != 0) {
        throw nndl::FileError("plot_lines: gnuplot could not draw " + png.string());
    }
    nndl::write_bytes_atomically(png, "plot_lines", image);
    std::cerr << "wrote " << terminal_safe(png.string()) << " (data: " << terminal_safe(csv.string()) << ")\n";
}

}  // namespace examples
