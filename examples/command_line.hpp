#pragma once
// The example programs' command lines: Options (CLI11, values read and range-checked
// before any work), UsageError and run_main (a mistake is one line on stderr and exit
// code 2), and data_path (the bundled data, from the build or the source tree).
#include "terminal_text.hpp"

#include <nndl/nndl.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
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
#include <limits>
#include <map>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

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
        app_.set_version_flag("--version", std::string("nndl ") + nndl::version_string, "show nndl's version and exit");
        app_.get_formatter()->column_width(34);
    }

    Options& value(const std::string& name, const std::string& metavar, const std::string& help,
                   const std::string& fallback = "") {
        add(name, help + (fallback.empty() ? "" : " (default: " + fallback + ")"), fallback)
            ->type_name(metavar)
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)  // given twice: refused after parsing
            ->check(plain_value());
        once_.push_back(name);
        return *this;
    }
    /// A value that may be given several times; all() reads every one.
    Options& repeatable_value(const std::string& name, const std::string& metavar, const std::string& help) {
        add(name, help, "")->type_name(metavar)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)->check(plain_value());
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
        once_.push_back(name);
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
    /// --version prints the version and exits 0 once the rest of the line parses.
    void parse(int argc, char** argv) {
        std::vector<char*> rest{argv[0]};
        bool version = false;
        bool operands_only = false;  // after "--"
        for (int i = 1; i < argc; ++i) {
            const std::string arg = argv[i];
            if (!operands_only) {
                if (arg == "--version") {
                    version = true;
                    continue;
                }
                if (arg == "--") {
                    operands_only = true;
                }
                // CLI11 would read "-hidden" as -h -i -d ... and show the help; a flag's "=value" would set it.
                if (arg.size() > 2 && arg[0] == '-' && arg[1] != '-' && !looks_like_number(arg)) {
                    throw UsageError("unknown option '" + arg + "' (options start with --)");
                }
                const std::size_t equals = arg.find('=');
                if (arg.rfind("--", 0) == 0 && equals != std::string::npos &&
                    (arg.substr(0, equals) == "--help" || arg.substr(0, equals) == "--version" ||
                     std::find(flags_.begin(), flags_.end(), arg.substr(0, equals)) != flags_.end())) {
                    throw UsageError("option '" + arg.substr(0, equals) + "' takes no value, got '" + arg + "'");
                }
            }
            rest.push_back(argv[i]);
        }
        try {
            app_.parse(static_cast<int>(rest.size()), rest.data());
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
        // The same option twice is a mistake to point out, not a silent "the last one wins".
        for (const std::string& name : once_) {
            if (option(name)->count() > 1) {
                throw UsageError("--" + name + " was given " + std::to_string(option(name)->count()) +
                                 " times; give it once");
            }
        }
        if (version) {  // the rest of the line is right: print the version
            std::cout << program_ << " (nndl " << nndl::version_string << ")\n" << std::flush;
            std::exit(std::cout ? 0 : 1);
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
    std::vector<std::string> once_;  // options that may be given once (values and flags; lists may repeat)
    std::vector<std::string> positionals_;
};

/// Runs an example's body: usage mistakes and rejected input become one line on
/// stderr and exit code 2; anything else unexpected, exit code 1. Every message goes
/// through terminal_safe.
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
        std::cerr << program << ": " << terminal_safe(e.what()) << " (see --help)\n";
        return 2;
    } catch (const std::invalid_argument& e) {
        std::cerr << program << ": " << terminal_safe(e.what()) << '\n';
        return 2;
    } catch (const nndl::FileError& e) {
        std::cerr << program << ": " << terminal_safe(e.what()) << '\n';
        return 2;
    } catch (const nndl::DivergenceError& e) {
        std::cerr << program << ": " << terminal_safe(e.what()) << '\n';
        return 2;
    } catch (const std::bad_alloc&) {
        std::cerr << program << ": out of memory: the input or the model needs more memory than this machine has\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << program << ": error: " << terminal_safe(e.what()) << '\n';
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

}  // namespace examples
