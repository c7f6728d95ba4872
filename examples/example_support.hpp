#pragma once
// What nndl's example programs share: command-line parsing, the output contract
// (cost lines, accuracy lines, classification lines), progress on stderr, and
// charts through gnuplot. Not part of the library.

#include <nndl/nndl.hpp>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <new>
#include <sstream>
#include <stdexcept>
#include <charconv>
#include <string>
#include <vector>

#include <unistd.h>

namespace examples {

/// A user mistake on the command line: reported as one line, exit code 2.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// A small option parser: --name VALUE, --name=VALUE, flags, positional arguments.
class Options {
public:
    Options(std::string program, std::string summary) : program_(std::move(program)), summary_(std::move(summary)) {}

    Options& value(const std::string& name, const std::string& metavar, const std::string& help,
                   const std::string& fallback = "") {
        specs_.push_back({name, metavar, help, fallback, true, false});
        return *this;
    }
    /// An option whose value may be left out (then `implicit` is used).
    Options& optional_value(const std::string& name, const std::string& metavar, const std::string& help,
                            const std::string& implicit) {
        specs_.push_back({name, "[" + metavar + "]", help + " (alone: " + implicit + ")", "", true, false, implicit});
        return *this;
    }
    Options& list(const std::string& name, const std::string& metavar, const std::string& help) {
        specs_.push_back({name, metavar, help, "", true, true});
        return *this;
    }
    Options& flag(const std::string& name, const std::string& help) {
        specs_.push_back({name, "", help, "", false, false});
        return *this;
    }
    Options& positional(const std::string& metavar, const std::string& help) {
        positional_name_ = metavar;
        positional_help_ = help;
        return *this;
    }

    /// Parses argv; prints the help and exits 0 on --help; throws UsageError on mistakes.
    void parse(int argc, char** argv) {
        for (int i = 1; i < argc; ++i) {
            std::string arg = argv[i];
            if (arg == "--help" || arg == "-h") {
                std::cout << help();
                std::exit(0);
            }
            if (arg.rfind("--", 0) != 0 || arg == "--") {
                if (positional_name_.empty()) {
                    throw UsageError("unexpected argument '" + arg + "'");
                }
                positionals_.push_back(arg);
                continue;
            }
            std::string name = arg.substr(2);
            std::string inline_value;
            bool has_inline = false;
            if (const auto eq = name.find('='); eq != std::string::npos) {
                inline_value = name.substr(eq + 1);
                name = name.substr(0, eq);
                has_inline = true;
            }
            const Spec* spec = find(name);
            if (spec == nullptr) {
                throw UsageError("unknown option '--" + name + "'");
            }
            if (!spec->takes_value) {
                if (has_inline) {
                    throw UsageError("option '--" + name + "' takes no value");
                }
                values_[name].push_back("1");
                continue;
            }
            if (has_inline) {
                values_[name].push_back(inline_value);
            } else if (i + 1 < argc && (std::string(argv[i + 1]).rfind("--", 0) != 0)) {
                values_[name].push_back(argv[++i]);
                // A list option takes every following plain argument.
                while (spec->is_list && i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
                    values_[name].push_back(argv[++i]);
                }
            } else if (!spec->implicit.empty()) {
                values_[name].push_back(spec->implicit);
            } else {
                throw UsageError("option '--" + name + "' needs a value (" + spec->metavar + ")");
            }
        }
    }

    bool has(const std::string& name) const { return values_.count(name) != 0; }

    std::string text(const std::string& name) const {
        const auto it = values_.find(name);
        if (it != values_.end()) {
            return it->second.back();
        }
        return spec(name).fallback;
    }

    std::vector<std::string> all(const std::string& name) const {
        const auto it = values_.find(name);
        return it == values_.end() ? std::vector<std::string>{} : it->second;
    }

    const std::vector<std::string>& positionals() const { return positionals_; }

    long integer(const std::string& name, long minimum) const {
        return parse_integer(text(name), "--" + name, minimum);
    }

    double number(const std::string& name, bool must_be_positive = true) const {
        return parse_number(text(name), "--" + name, must_be_positive);
    }

    std::string help() const {
        std::ostringstream out;
        out << "Usage: " << program_ << " [options]" << (positional_name_.empty() ? "" : " " + positional_name_ + "...")
            << "\n\n"
            << summary_ << "\n\nOptions:\n";
        for (const auto& s : specs_) {
            std::string left = "  --" + s.name + (s.metavar.empty() ? "" : " " + s.metavar);
            out << std::left << std::setw(34) << left << s.help;
            if (!s.fallback.empty()) {
                out << " (default: " << s.fallback << ")";
            }
            out << '\n';
        }
        out << std::left << std::setw(34) << "  --help" << "show this help and exit\n";
        if (!positional_name_.empty()) {
            out << std::left << std::setw(34) << ("  " + positional_name_ + "...") << positional_help_ << '\n';
        }
        return out.str();
    }

    static long parse_integer(const std::string& text, const std::string& what, long minimum) {
        std::size_t used = 0;
        long value = 0;
        try {
            value = std::stol(text, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != text.size()) {
            throw UsageError(what + " must be a whole number, got '" + text + "'");
        }
        if (value < minimum) {
            throw UsageError(what + " must be at least " + std::to_string(minimum) + ", got " + text);
        }
        return value;
    }

    static double parse_number(const std::string& text, const std::string& what, bool must_be_positive) {
        std::size_t used = 0;
        double value = 0;
        try {
            value = std::stod(text, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != text.size() || !std::isfinite(value)) {
            throw UsageError(what + " must be a number, got '" + text + "'");
        }
        if (must_be_positive && !(value > 0)) {
            throw UsageError(what + " must be greater than 0, got " + text);
        }
        return value;
    }

    /// A number in the stream's default format, six significant digits (0.001, not 0.001000).
    static std::string format_number(double value) {
        std::ostringstream out;
        out << value;
        return out.str();
    }

    /// "20,7,5" -> {20, 7, 5}; every entry at least `minimum`.
    static std::vector<long> parse_integer_list(const std::string& text, const std::string& what, long minimum) {
        std::vector<long> values;
        std::stringstream stream(text);
        std::string item;
        while (std::getline(stream, item, ',')) {
            values.push_back(parse_integer(item, what + " entry", minimum));
        }
        if (values.empty() || (!text.empty() && text.back() == ',')) {
            throw UsageError(what + " must be a comma-separated list of whole numbers, got '" + text + "'");
        }
        return values;
    }

private:
    struct Spec {
        std::string name, metavar, help, fallback;
        bool takes_value;
        bool is_list;
        std::string implicit = "";
    };
    const Spec* find(const std::string& name) const {
        for (const auto& s : specs_) {
            if (s.name == name) {
                return &s;
            }
        }
        return nullptr;
    }
    const Spec& spec(const std::string& name) const {
        const Spec* s = find(name);
        if (s == nullptr) {
            throw std::logic_error("undeclared option " + name);
        }
        return *s;
    }

    std::string program_, summary_, positional_name_, positional_help_;
    std::vector<Spec> specs_;
    std::map<std::string, std::vector<std::string>> values_;
    std::vector<std::string> positionals_;
};

/// Runs an example's body: usage mistakes and rejected input become one line on
/// stderr and exit code 2; anything else unexpected, exit code 1.
inline int run_main(const char* program, const std::function<int()>& body) {
    nndl::remove_temporary_files_on_signals();  // Ctrl-C during a save leaves no temporary file
    try {
        const int status = body();
        // Results that could not be written (stdout closed, a full disk) are a failure, not a success.
        std::cout.flush();
        if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
            const int error = errno;
            std::cerr << program << ": cannot write the results to standard output"
                      << (error != 0 ? std::string(": ") + std::strerror(error) : std::string()) << '\n';
            return 1;
        }
        return status;
    } catch (const UsageError& e) {
        std::cerr << program << ": " << e.what() << " (see --help)\n";
        return 2;
    } catch (const std::invalid_argument& e) {
        std::cerr << program << ": " << e.what() << '\n';
        return 2;
    } catch (const nndl::FileError& e) {
        std::cerr << program << ": " << e.what() << '\n';
        return 2;
    } catch (const nndl::DivergenceError& e) {
        std::cerr << program << ": " << e.what() << '\n';
        return 2;
    } catch (const std::bad_alloc&) {
        std::cerr << program << ": out of memory: the input or the model needs more memory than this machine has\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << program << ": error: " << e.what() << '\n';
        return 1;
    }
}

/// A folder under the project's data/: relative to the working directory when it
/// exists there, else in the source tree the example was built from.
inline std::string data_path(const std::string& relative) {
    if (std::filesystem::exists(relative)) {
        return relative;
    }
#ifdef NNDL_SOURCE_DIR
    const auto in_source = std::filesystem::path(NNDL_SOURCE_DIR) / relative;
    if (std::filesystem::exists(in_source)) {
        return in_source.string();
    }
#endif
    return relative;
}

/// A double as Python's str() writes it, the course's print format: the shortest digits
/// that read back to the same value, fixed notation for exponents -4 to 15, else
/// scientific with at least two exponent digits; "1.0" rather than "1"; inf and nan.
inline std::string python_float(double value) {
    if (std::isnan(value)) {
        return "nan";
    }
    if (std::isinf(value)) {
        return value > 0 ? "inf" : "-inf";
    }
    char buffer[64];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific).ptr;
    const std::string text(buffer, end);  // [-]d[.ddd]e[+-]xx
    const std::size_t e = text.find('e');
    const bool negative = text[0] == '-';
    std::string digits;
    for (std::size_t i = negative ? 1 : 0; i < e; ++i) {
        if (text[i] != '.') {
            digits += text[i];
        }
    }
    const int exponent = std::stoi(text.substr(e + 1));
    std::string out = negative ? "-" : "";
    if (exponent >= -4 && exponent < 16) {
        if (exponent < 0) {
            out += "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
        } else if (digits.size() <= static_cast<std::size_t>(exponent) + 1) {
            out += digits + std::string(static_cast<std::size_t>(exponent) + 1 - digits.size(), '0') + ".0";
        } else {
            out += digits.substr(0, static_cast<std::size_t>(exponent) + 1) + "." +
                   digits.substr(static_cast<std::size_t>(exponent) + 1);
        }
        return out;
    }
    out += digits.substr(0, 1);
    if (digits.size() > 1) {
        out += "." + digits.substr(1);
    }
    const int magnitude = exponent < 0 ? -exponent : exponent;
    out += std::string("e") + (exponent < 0 ? "-" : "+") + (magnitude < 10 ? "0" : "") + std::to_string(magnitude);
    return out;
}

inline void print_cost(long iteration, double cost, const char* unit = "iteration") {
    std::cout << "Cost after " << unit << " " << iteration << ": " << python_float(cost) << '\n';
}

/// "Train accuracy: F", or "Accuracy: F" for an empty label.
inline void print_accuracy(const std::string& label, double fraction) {
    std::cout << (label.empty() ? "Accuracy" : label + " accuracy") << ": " << python_float(fraction) << '\n';
}

inline void print_classification(const std::string& path, const std::string& label, double probability) {
    std::cout << path << ": " << label << " (p=" << std::fixed << std::setprecision(4)
              << probability << ")\n"
              << std::defaultfloat;
}

/// A progress line on stderr, drawn only when stderr is a terminal.
class Progress {
public:
    explicit Progress(std::string label) : label_(std::move(label)), enabled_(::isatty(2) != 0) {}
    void update(long done, long total, double cost) {
        if (!enabled_ || total <= 0) {
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        if (done < total && now - last_ < std::chrono::milliseconds(100)) {
            return;
        }
        last_ = now;
        const int width = 30;
        const int filled = static_cast<int>(width * done / total);
        std::cerr << '\r' << label_ << " [" << std::string(static_cast<std::size_t>(filled), '#')
                  << std::string(static_cast<std::size_t>(width - filled), '.') << "] " << done << "/" << total
                  << " cost " << std::setprecision(6) << cost << std::flush;
        if (done >= total) {
            std::cerr << '\n';
        }
    }

private:
    std::string label_;
    bool enabled_;
    std::chrono::steady_clock::time_point last_{};
};

/// Options for Network::fit that keep and print the cost every 100 iterations (and at
/// the last) and drive a progress line.
/// `unit` names a pass in the cost lines: "iteration" (full batch, the course's word) or "epoch".
inline nndl::TrainOptions course_fit_options(Progress& progress, bool print = true, const char* unit = "iteration") {
    nndl::TrainOptions options;
    options.record_every = 100;
    options.on_epoch_end = [&progress, print, unit](const nndl::Progress& p) {
        if (p.recorded && print) {
            print_cost(p.epoch, p.loss, unit);
        }
        progress.update(p.epoch + 1, p.epochs, p.loss);
        return true;
    };
    return options;
}

/// One line on a chart: a title and (x, y) points.
struct Series {
    std::string title;
    std::vector<std::pair<double, double>> points;
};

inline std::vector<std::pair<double, double>> cost_points(const nndl::TrainHistory& history) {
    std::vector<std::pair<double, double>> points;
    for (const auto& r : history.epochs) {
        points.emplace_back(static_cast<double>(r.epoch), r.loss);
    }
    return points;
}

inline bool gnuplot_available() {
    return std::system("command -v gnuplot >/dev/null 2>&1") == 0;
}

/// Runs gnuplot on `script` (kept in a temporary file of nndl's own naming) and returns
/// what it wrote to its standard output.
inline std::vector<unsigned char> run_gnuplot(const std::string& script) {
    char script_path[] = "/tmp/nndl_plot_XXXXXX";
    const int fd = ::mkstemp(script_path);
    if (fd < 0) {
        throw nndl::FileError(std::string("plot_lines: cannot create a temporary file in /tmp: ") + std::strerror(errno));
    }
    struct RemoveOnExit {
        const char* path;
        ~RemoveOnExit() { ::unlink(path); }
    } remove_script{script_path};
    const nndl::detail::PendingTemporaryScope removed_on_signal(script_path);  // Ctrl-C removes it too
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

/// Writes the series as CSV next to `png` (same name, .csv) and, when gnuplot is
/// installed, draws them into `png`. Says on stderr what it wrote.
inline void plot_lines(const std::filesystem::path& png, const std::string& title, const std::string& xlabel,
                       const std::string& ylabel, const std::vector<Series>& series) {
    auto csv = png;
    csv.replace_extension(".csv");
    nndl::write_file_atomically(csv, "plot_lines", [&](std::ofstream& out) {
        out << "series,x,y\n" << std::setprecision(17);
        for (const auto& s : series) {
            for (const auto& [x, y] : s.points) {
                out << '"' << s.title << "\"," << x << ',' << y << '\n';
            }
        }
    });
    if (!gnuplot_available()) {
        std::cerr << "gnuplot is not installed (apt-get install gnuplot-nox): wrote the data to " << csv.string()
                  << " but no chart\n";
        return;
    }
    // gnuplot writes the PNG to its standard output and nndl writes the file, so no file
    // name ever enters gnuplot's script (a name with quotes cannot run commands).
    std::ostringstream script;
    script << "set terminal pngcairo size 900,600 font 'sans,11'\n"
           << "set title \"" << title << "\"\nset xlabel \"" << xlabel << "\"\nset ylabel \"" << ylabel << "\"\n"
           << "set grid\nset key outside right top\nset datafile separator ','\n"
           << "plot ";
    for (std::size_t i = 0; i < series.size(); ++i) {
        script << (i ? ", " : "") << "'-' using 1:2 with lines linewidth 2 title \"" << series[i].title << "\"";
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
    std::cerr << "wrote " << png.string() << " (data: " << csv.string() << ")\n";
}

/// Refuses to write an output over a file the program reads.
inline void refuse_overwriting_input(const std::filesystem::path& output, const std::vector<std::filesystem::path>& inputs) {
    std::error_code ec;
    for (const auto& in : inputs) {
        if (std::filesystem::exists(output, ec) && std::filesystem::equivalent(output, in, ec)) {
            throw UsageError("output " + output.string() + " is also an input; choose another file name");
        }
    }
}

/// Refuses an output file inside `folder` (a data set this run reads).
inline void refuse_writing_inside(const std::filesystem::path& output, const std::filesystem::path& folder) {
    std::error_code ec;
    const auto inside = std::filesystem::weakly_canonical(folder, ec);
    if (ec) {
        return;
    }
    auto at = std::filesystem::weakly_canonical(std::filesystem::absolute(output, ec), ec).parent_path();
    for (; !ec && !at.empty(); at = at.parent_path()) {
        if (at == inside) {
            throw UsageError("output " + output.string() + " is inside the data folder " + folder.string() +
                             "; choose another place");
        }
        if (at == at.root_path()) {
            break;
        }
    }
}

}  // namespace examples
