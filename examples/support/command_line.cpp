// examples/command_line.hpp's Options, run_main and data_path, compiled once for every
// example program (CLI11 is read here only).
#include "../command_line.hpp"

#include <nndl/detail/file_util.hpp>
#include <nndl/errors.hpp>
#include <nndl/layers/registry.hpp>
#include <nndl/version.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <new>
#include <sstream>

namespace examples {

namespace {

bool looks_like_number(const std::string& text) {
    return text.size() > 1 && (std::isdigit(static_cast<unsigned char>(text[1])) != 0 || text[1] == '.');
}

/// A value is not empty and not an option's name (a forgotten value would swallow the
/// next option: "--plot --logistic"); a name that starts with a dash can be given as ./-name.
CLI::Validator plain_value() {
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

}  // namespace

struct Options::Parser {
    Parser(std::string program_name, std::string summary)
        : program(std::move(program_name)), app(std::move(summary), program) {}

    CLI::Option* add(const std::string& name, const std::string& help, const std::string& fallback_value) {
        CLI::Option* o = app.add_option("--" + name, help);
        options[name] = o;
        if (!fallback_value.empty()) {
            fallback[name] = fallback_value;
        }
        return o;
    }
    CLI::Option* option(const std::string& name) const {
        const auto it = options.find(name);
        if (it == options.end()) {
            throw std::logic_error("undeclared option " + name);
        }
        return it->second;
    }

    std::string program;
    CLI::App app;
    std::map<std::string, CLI::Option*> options;
    std::map<std::string, std::string> fallback;
    std::map<std::string, std::string> implicit;
    std::vector<std::string> flags;
    std::vector<std::string> once;  // options that may be given once (values and flags; lists may repeat)
    std::vector<std::string> positionals;
};

Options::Options(std::string program, std::string summary)
    : parser_(std::make_unique<Parser>(std::move(program), std::move(summary))) {
    parser_->app.set_help_flag("-h,--help", "show this help and exit");
    parser_->app.set_version_flag("--version", std::string("nndl ") + nndl::version_string,
                                  "show nndl's version and exit");
    parser_->app.get_formatter()->column_width(34);
}

Options::~Options() = default;

Options& Options::value(const std::string& name, const std::string& metavar, const std::string& help,
                        const std::string& fallback) {
    parser_->add(name, help + (fallback.empty() ? "" : " (default: " + fallback + ")"), fallback)
        ->type_name(metavar)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)  // given twice: refused after parsing
        ->check(plain_value());
    parser_->once.push_back(name);
    return *this;
}

Options& Options::repeatable_value(const std::string& name, const std::string& metavar, const std::string& help) {
    parser_->add(name, help, "")->type_name(metavar)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)->check(
        plain_value());
    return *this;
}

Options& Options::optional_value(const std::string& name, const std::string& metavar, const std::string& help,
                                 const std::string& implicit) {
    parser_->add(name, help + " (alone: " + implicit + ")", "")
        ->type_name("[" + metavar + "]")
        ->expected(0, 1)
        ->check(plain_value());
    parser_->implicit[name] = implicit;
    return *this;
}

Options& Options::list(const std::string& name, const std::string& metavar, const std::string& help) {
    // CLI11 adds the "..." of a list itself.
    const std::string one = metavar.size() > 3 && metavar.compare(metavar.size() - 3, 3, "...") == 0
                                ? metavar.substr(0, metavar.size() - 3)
                                : metavar;
    parser_->add(name, help, "")->type_name(one)->expected(1, CLI::detail::expected_max_vector_size)->check(plain_value());
    return *this;
}

Options& Options::flag(const std::string& name, const std::string& help) {
    parser_->options[name] = parser_->app.add_flag("--" + name, help);
    parser_->flags.push_back("--" + name);
    parser_->once.push_back(name);
    return *this;
}

Options& Options::positional(const std::string& metavar, const std::string& help) {
    parser_->app.add_option(metavar, parser_->positionals, help)->type_name("");
    return *this;
}

Options& Options::excludes(const std::string& a, const std::string& b) {
    parser_->option(a)->excludes(parser_->option(b));
    return *this;
}

void Options::parse(int argc, char** argv) {
    Parser& p = *parser_;
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
                 std::find(p.flags.begin(), p.flags.end(), arg.substr(0, equals)) != p.flags.end())) {
                throw UsageError("option '" + arg.substr(0, equals) + "' takes no value, got '" + arg + "'");
            }
        }
        rest.push_back(argv[i]);
    }
    try {
        p.app.parse(static_cast<int>(rest.size()), rest.data());
    } catch (const CLI::CallForHelp&) {
        std::cout << p.app.help() << std::flush;
        if (!std::cout) {  // a help that could not be written is a failure too
            std::cerr << p.program << ": cannot write the help to standard output\n";
            std::exit(1);
        }
        std::exit(0);
    } catch (const CLI::ExtrasError&) {
        const std::string first = p.app.remaining().empty() ? std::string("?") : p.app.remaining().front();
        throw UsageError((first.rfind("-", 0) == 0 ? "unknown option '" : "unexpected argument '") + first + "'");
    } catch (const CLI::ParseError& e) {
        throw UsageError(e.what());
    }
    // The same option twice is a mistake to point out, not a silent "the last one wins".
    for (const std::string& name : p.once) {
        if (p.option(name)->count() > 1) {
            throw UsageError("--" + name + " was given " + std::to_string(p.option(name)->count()) +
                             " times; give it once");
        }
    }
    if (version) {  // the rest of the line is right: print the version
        std::cout << p.program << " (nndl " << nndl::version_string << ")\n" << std::flush;
        std::exit(std::cout ? 0 : 1);
    }
}

bool Options::has(const std::string& name) const { return parser_->option(name)->count() > 0; }

std::string Options::text(const std::string& name) const {
    const CLI::Option* o = parser_->option(name);
    if (o->count() == 0) {
        return parser_->fallback.count(name) != 0 ? parser_->fallback.at(name) : std::string();
    }
    const auto& given = o->results();
    if (given.empty() || given.back().empty()) {
        const auto implicit = parser_->implicit.find(name);
        if (implicit != parser_->implicit.end()) {
            return implicit->second;
        }
    }
    return given.empty() ? std::string() : given.back();
}

std::vector<std::string> Options::all(const std::string& name) const { return parser_->option(name)->results(); }

const std::vector<std::string>& Options::positionals() const { return parser_->positionals; }

long Options::integer(const std::string& name, long minimum, long maximum) const {
    return parse_integer(text(name), "--" + name, minimum, maximum);
}

double Options::number(const std::string& name, bool must_be_positive) const {
    return parse_number(text(name), "--" + name, must_be_positive);
}

std::string Options::help() const { return parser_->app.help(); }

long Options::parse_integer(const std::string& text, const std::string& what, long minimum, long maximum) {
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

double Options::parse_number(const std::string& text, const std::string& what, bool must_be_positive) {
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

std::string Options::format_number(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
}

std::vector<std::string> Options::split_list(const std::string& text, const std::string& what,
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

std::vector<long> Options::parse_integer_list(const std::string& text, const std::string& what, long minimum) {
    std::vector<long> values;
    for (const std::string& item : split_list(text, what, "a comma-separated list of whole numbers")) {
        values.push_back(parse_integer(item, what + " entry", minimum));
    }
    return values;
}

std::vector<long> Options::parse_layer_sizes(const std::string& text, const std::string& what, long inputs,
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

int run_main(const char* program, const std::function<int()>& body) {
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

std::string data_path(const std::string& relative) {
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
