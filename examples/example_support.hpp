#pragma once
// What nndl's example programs share: command-line parsing, the output contract
// (cost lines, accuracy lines, classification lines), progress on stderr, and
// charts through gnuplot. Not part of the library.

#include <nndl/nndl.hpp>

#include <CLI/CLI.hpp>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <algorithm>
#include <cctype>
#include <iomanip>
#include <iostream>
#include <limits>
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

/// NumPy's seeds (and nndl's) are 32-bit.
inline constexpr long largest_seed = 4294967295L;

/// The programs' command lines, parsed by CLI11: --name VALUE, --name=VALUE, flags,
/// lists, positional arguments, conflicts and the help text are CLI11's. Values stay
/// text until read, and are read (and range-checked) before any work starts, so a
/// mistake is one line and exit code 2.
class Options {
public:
    Options(std::string program, std::string summary) : program_(std::move(program)), app_(std::move(summary), program_) {
        app_.set_help_flag("-h,--help", "show this help and exit");
        app_.get_formatter()->column_width(34);
    }

    Options& value(const std::string& name, const std::string& metavar, const std::string& help,
                   const std::string& fallback = "") {
        add(name, help + (fallback.empty() ? "" : " (default: " + fallback + ")"), fallback)
            ->type_name(metavar)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)  // the last one given counts
            ->check(plain_value());
        return *this;
    }
    /// An option whose value may be left out (then `implicit` is used).
    Options& optional_value(const std::string& name, const std::string& metavar, const std::string& help,
                            const std::string& implicit) {
        add(name, help + " (alone: " + implicit + ")", "")
            ->type_name("[" + metavar + "]")
            ->expected(0, 1)
            ->check(plain_value());
        implicit_[name] = implicit;
        return *this;
    }
    Options& list(const std::string& name, const std::string& metavar, const std::string& help) {
        // CLI11 adds the "..." of a list itself.
        const std::string one = metavar.size() > 3 && metavar.compare(metavar.size() - 3, 3, "...") == 0
                                    ? metavar.substr(0, metavar.size() - 3)
                                    : metavar;
        add(name, help, "")->type_name(one)->expected(1, CLI::detail::expected_max_vector_size)->check(plain_value());
        return *this;
    }
    Options& flag(const std::string& name, const std::string& help) {
        options_[name] = app_.add_flag("--" + name, help);
        flags_.push_back("--" + name);
        return *this;
    }
    Options& positional(const std::string& metavar, const std::string& help) {
        app_.add_option(metavar, positionals_, help)->type_name("");
        return *this;
    }
    /// `a` and `b` may not be given together.
    Options& excludes(const std::string& a, const std::string& b) {
        option(a)->excludes(option(b));
        return *this;
    }

    /// Parses argv; prints the help and exits 0 on --help; throws UsageError on mistakes.
    void parse(int argc, char** argv) {
        for (int i = 1; i < argc; ++i) {
            const std::string arg = argv[i];
            if (arg == "--") {
                break;
            }
            // CLI11 would read "-hidden" as -h -i -d ... and show the help; a flag's "=value" would set it.
            if (arg.size() > 2 && arg[0] == '-' && arg[1] != '-' && !looks_like_number(arg)) {
                throw UsageError("unknown option '" + arg + "' (options start with --)");
            }
            const std::size_t equals = arg.find('=');
            if (arg.rfind("--", 0) == 0 && equals != std::string::npos &&
                (arg.substr(0, equals) == "--help" ||
                 std::find(flags_.begin(), flags_.end(), arg.substr(0, equals)) != flags_.end())) {
                throw UsageError("option '" + arg.substr(0, equals) + "' takes no value, got '" + arg + "'");
            }
        }
        try {
            app_.parse(argc, argv);
        } catch (const CLI::CallForHelp&) {
            std::cout << app_.help() << std::flush;
            if (!std::cout) {  // a help that could not be written is a failure too
                std::cerr << program_ << ": cannot write the help to standard output\n";
                std::exit(1);
            }
            std::exit(0);
        } catch (const CLI::ExtrasError&) {
            const std::string first = app_.remaining().empty() ? std::string("?") : app_.remaining().front();
            throw UsageError((first.rfind("-", 0) == 0 ? "unknown option '" : "unexpected argument '") + first + "'");
        } catch (const CLI::ParseError& e) {
            throw UsageError(e.what());
        }
    }

    bool has(const std::string& name) const { return option(name)->count() > 0; }

    std::string text(const std::string& name) const {
        const CLI::Option* o = option(name);
        if (o->count() == 0) {
            return fallback_.count(name) != 0 ? fallback_.at(name) : std::string();
        }
        const auto& given = o->results();
        if (given.empty() || given.back().empty()) {
            const auto implicit = implicit_.find(name);
            if (implicit != implicit_.end()) {
                return implicit->second;
            }
        }
        return given.empty() ? std::string() : given.back();
    }

    std::vector<std::string> all(const std::string& name) const { return option(name)->results(); }

    const std::vector<std::string>& positionals() const { return positionals_; }

    long integer(const std::string& name, long minimum, long maximum = std::numeric_limits<long>::max()) const {
        return parse_integer(text(name), "--" + name, minimum, maximum);
    }

    double number(const std::string& name, bool must_be_positive = true) const {
        return parse_number(text(name), "--" + name, must_be_positive);
    }

    std::string help() const { return app_.help(); }

    static long parse_integer(const std::string& text, const std::string& what, long minimum,
                              long maximum = std::numeric_limits<long>::max()) {
        long value = 0;
        // "+5", as for numbers (but not "+-5")
        const bool plus = text.size() > 1 && text[0] == '+' && std::isdigit(static_cast<unsigned char>(text[1])) != 0;
        const char* begin = text.data() + (plus ? 1 : 0);
        const char* end = text.data() + text.size();
        const auto [stop, error] = std::from_chars(begin, end, value);
        if (begin == end || stop != end || error == std::errc::invalid_argument) {
            throw UsageError(what + " must be a whole number, got '" + text + "'");
        }
        if (error == std::errc::result_out_of_range) {
            throw UsageError(what + " is out of range, got " + text);
        }
        if (value < minimum || value > maximum) {
            throw UsageError(what + (maximum == std::numeric_limits<long>::max()
                                         ? " must be at least " + std::to_string(minimum)
                                         : " must be from " + std::to_string(minimum) + " to " + std::to_string(maximum)) +
                             ", got " + text);
        }
        return value;
    }

    static double parse_number(const std::string& text, const std::string& what, bool must_be_positive) {
        double value = 0;
        const char* begin = text.data() + (text.rfind('+', 0) == 0 ? 1 : 0);
        const char* end = text.data() + text.size();
        auto [stop, error] = std::from_chars(begin, end, value);
        if (error == std::errc::result_out_of_range && stop == end) {
            // A subnormal (1e-320) is a number, which from_chars calls out of range; 1e999 is not.
            value = std::strtod(std::string(begin, end).c_str(), nullptr);
            error = std::isfinite(value) ? std::errc() : error;
        }
        if (begin == end || stop != end || error != std::errc() || !std::isfinite(value)) {
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

    /// "a,b,c" -> {"a", "b", "c"}; an empty entry (",," or a trailing comma) is a mistake.
    static std::vector<std::string> split_list(const std::string& text, const std::string& what,
                                               const std::string& expected) {
        std::vector<std::string> items;
        std::size_t start = 0;
        for (;;) {
            const std::size_t comma = text.find(',', start);
            items.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
            if (items.back().empty()) {
                throw UsageError(what + " must be " + expected + ", got '" + text + "'");
            }
            if (comma == std::string::npos) {
                return items;
            }
            start = comma + 1;
        }
    }

    /// "20,7,5" -> {20, 7, 5}; every entry at least `minimum`.
    static std::vector<long> parse_integer_list(const std::string& text, const std::string& what, long minimum) {
        std::vector<long> values;
        for (const std::string& item : split_list(text, what, "a comma-separated list of whole numbers")) {
            values.push_back(parse_integer(item, what + " entry", minimum));
        }
        return values;
    }

    /// Hidden layer sizes ("20,7,5") between `inputs` and `outputs` values: each layer at
    /// most the weights a model file holds, so a typo is refused before memory is taken.
    static std::vector<long> parse_layer_sizes(const std::string& text, const std::string& what, long inputs,
                                               long outputs) {
        const std::vector<long> hidden = parse_integer_list(text, what, 1);
        constexpr long long most = nndl::LayerRegistry<double>::max_dense_weights;
        long before = inputs;
        for (std::size_t i = 0; i <= hidden.size(); ++i) {
            const long units = i < hidden.size() ? hidden[i] : outputs;
            if (units > most / before) {
                throw UsageError(what + " " + text + ": a layer of " + std::to_string(before) + " x " +
                                 std::to_string(units) + " weights, expected at most " + std::to_string(most) +
                                 " per layer (what a model file holds)");
            }
            before = units;
        }
        return hidden;
    }

private:
    static bool looks_like_number(const std::string& text) {
        return text.size() > 1 && (std::isdigit(static_cast<unsigned char>(text[1])) != 0 || text[1] == '.');
    }
    /// A value is not empty and not an option's name (a forgotten value would swallow the
    /// next option: "--plot --logistic"); a name that starts with a dash can be given as ./-name.
    static CLI::Validator plain_value() {
        return CLI::Validator(
            [](std::string& value) -> std::string {
                if (value.empty()) {
                    return "needs a value, got an empty one";
                }
                if (value[0] == '-' && !looks_like_number(value)) {
                    return "needs a value, got the option '" + value + "' (a file named so: ./" + value + ")";
                }
                return "";
            },
            "");
    }

    CLI::Option* add(const std::string& name, const std::string& help, const std::string& fallback) {
        CLI::Option* o = app_.add_option("--" + name, help);
        options_[name] = o;
        if (!fallback.empty()) {
            fallback_[name] = fallback;
        }
        return o;
    }
    CLI::Option* option(const std::string& name) const {
        const auto it = options_.find(name);
        if (it == options_.end()) {
            throw std::logic_error("undeclared option " + name);
        }
        return it->second;
    }

    std::string program_;
    CLI::App app_;
    std::map<std::string, CLI::Option*> options_;
    std::map<std::string, std::string> fallback_;
    std::map<std::string, std::string> implicit_;
    std::vector<std::string> flags_;
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

/// One line (or cloud of points) on a chart: a title and (x, y) points.
struct Series {
    std::string title;
    std::vector<std::pair<double, double>> points;
    bool dots = false;  ///< draw each point as a dot instead of joining them by a line
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

/// The data file a chart's numbers go to: the chart's name with .csv.
inline std::filesystem::path chart_data_path(const std::filesystem::path& png) {
    auto csv = png;
    csv.replace_extension(".csv");
    return csv;
}

/// Writes the series as CSV next to `png` (same name, .csv) and, when gnuplot is
/// installed, draws them into `png`. Says on stderr what it wrote.
inline void plot_lines(const std::filesystem::path& png, const std::string& title, const std::string& xlabel,
                       const std::string& ylabel, const std::vector<Series>& series) {
    const auto csv = chart_data_path(png);
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
        script << (i ? ", " : "") << "'-' using 1:2 with "
               << (series[i].dots ? "points pointtype 7 pointsize 0.8" : "lines linewidth 2") << " title \""
               << series[i].title << "\"";
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

/// What a program reads and writes, checked before any work starts: no output replaces
/// a file the program reads, lands inside a folder it reads, or is written twice (a
/// chart's .csv included). Paths are compared after resolving links, so another name
/// for the same file is the same file.
class Files {
public:
    Files& reads(const std::filesystem::path& file) {
        files_.push_back(file);
        return *this;
    }
    Files& reads(const std::vector<std::string>& files) {
        files_.insert(files_.end(), files.begin(), files.end());
        return *this;
    }
    Files& reads_folder(const std::filesystem::path& folder) {
        folders_.push_back(folder);
        return *this;
    }
    /// An output named by `option` ("--save", "OUT"); nothing when `path` is empty.
    Files& writes(const std::string& option, const std::filesystem::path& path) {
        if (!path.empty()) {
            outputs_.push_back({option, path});
        }
        return *this;
    }
    /// A PNG picture: its name must end in .png.
    Files& writes_png(const std::string& option, const std::filesystem::path& png) {
        if (!png.empty()) {
            std::string extension = png.extension().string();
            std::transform(extension.begin(), extension.end(), extension.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            if (extension != ".png") {
                throw UsageError(option + " " + png.string() + ": expected a file name ending in .png (a PNG is written)");
            }
            writes(option, png);
        }
        return *this;
    }
    /// A chart: the picture and its data file.
    Files& writes_chart(const std::string& option, const std::filesystem::path& png) {
        if (!png.empty()) {
            writes_png(option, png);
            writes(option + "'s data file", chart_data_path(png));
        }
        return *this;
    }

    /// Throws UsageError (exit code 2) naming the option and the file. Also: every file
    /// read exists, and every output's folder exists, so nothing fails after training.
    void check() const {
        for (const auto& in : files_) {
            std::error_code ec;
            const auto status = std::filesystem::status(in, ec);
            if (!std::filesystem::exists(status)) {
                throw UsageError("cannot read " + in.string() + ": no such file");
            }
            if (std::filesystem::is_directory(status)) {
                throw UsageError("cannot read " + in.string() + ": it is a folder, expected a file");
            }
        }
        for (std::size_t i = 0; i < outputs_.size(); ++i) {
            const auto& [option, path] = outputs_[i];
            const auto resolved = resolve(path);  // through links, a dangling one too: the file written
            const auto folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
            std::error_code ec;
            if (!std::filesystem::is_directory(folder, ec)) {
                throw UsageError(option + " " + path.string() + ": the folder " + folder.string() + " does not exist");
            }
            if (std::filesystem::is_symlink(std::filesystem::symlink_status(resolved, ec))) {
                throw UsageError(option + " " + path.string() + " is a link that leads nowhere (a loop of links)");
            }
            const auto status = std::filesystem::status(resolved, ec);
            if (path.filename().empty() || std::filesystem::is_directory(status)) {
                throw UsageError(option + " " + path.string() + " is a folder; expected a file name");
            }
            if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
                throw UsageError(option + " " + path.string() + " is not a regular file (a device or a pipe)");
            }
            if (resolved.filename().string().size() > 255) {
                throw UsageError(option + " " + path.string().substr(0, 60) + "...: the file name is longer than 255 "
                                 "bytes");
            }
            if (::access(resolved.parent_path().c_str(), W_OK) != 0) {
                throw UsageError(option + " " + path.string() + ": cannot write in the folder " +
                                 resolved.parent_path().string() + ": " + std::strerror(errno));
            }
            for (const auto& in : files_) {
                std::error_code ec;
                if (resolved == resolve(in) || std::filesystem::equivalent(path, in, ec)) {
                    throw UsageError(option + " " + path.string() + " is a file this program reads; choose another "
                                     "name");
                }
            }
            for (const auto& folder : folders_) {
                const auto inside = resolve(folder);
                for (auto at = resolved.parent_path(); !at.empty(); at = at.parent_path()) {
                    if (at == inside) {
                        throw UsageError(option + " " + path.string() + " is inside the data folder " +
                                         folder.string() + " this program reads; choose another place");
                    }
                    if (at == at.root_path()) {
                        break;
                    }
                }
            }
            for (std::size_t j = 0; j < i; ++j) {
                if (resolve(outputs_[j].second) == resolved) {
                    throw UsageError(option + " " + path.string() + " is also " + outputs_[j].first + "; each output "
                                     "needs its own file");
                }
            }
        }
    }

private:
    static std::filesystem::path resolve(const std::filesystem::path& path) {
        std::error_code ec;
        auto target = std::filesystem::absolute(path, ec);
        // Follow links one at a time: weakly_canonical leaves a link to a file not made yet
        // unresolved, and the save would follow it.
        for (int hops = 0; hops < 40 && std::filesystem::is_symlink(std::filesystem::symlink_status(target, ec)); ++hops) {
            const auto next = std::filesystem::read_symlink(target, ec);
            if (ec) {
                break;
            }
            target = next.is_absolute() ? next : target.parent_path() / next;
        }
        auto resolved = std::filesystem::weakly_canonical(target, ec);
        return ec ? target.lexically_normal() : resolved;
    }

    std::vector<std::filesystem::path> files_;
    std::vector<std::filesystem::path> folders_;
    std::vector<std::pair<std::string, std::filesystem::path>> outputs_;
};

}  // namespace examples
