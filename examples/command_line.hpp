#pragma once
// The example programs' command lines: Options (values read and range-checked before any
// work), UsageError and run_main (a mistake is one line on stderr and exit code 2), and
// data_path (the bundled data, from the build or the source tree). CLI11 parses the
// command line inside examples/support/command_line.cpp, compiled once for all programs.
#include "terminal_text.hpp"

#include <functional>
#include <limits>
#include <memory>
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
    Options(std::string program, std::string summary);
    ~Options();
    Options(const Options&) = delete;
    Options& operator=(const Options&) = delete;

    /// An option with one value, given at most once; `fallback` is its default.
    Options& value(const std::string& name, const std::string& metavar, const std::string& help,
                   const std::string& fallback = "");
    /// A value that may be given several times; all() reads every one.
    Options& repeatable_value(const std::string& name, const std::string& metavar, const std::string& help);
    /// An option whose value may be left out (then `implicit` is used).
    Options& optional_value(const std::string& name, const std::string& metavar, const std::string& help,
                            const std::string& implicit);
    /// An option taking one or more values.
    Options& list(const std::string& name, const std::string& metavar, const std::string& help);
    Options& flag(const std::string& name, const std::string& help);
    Options& positional(const std::string& metavar, const std::string& help);
    /// `a` and `b` may not be given together.
    Options& excludes(const std::string& a, const std::string& b);

    /// Parses argv; prints the help and exits 0 on --help; throws UsageError on mistakes.
    /// --version prints the version and exits 0 once the rest of the line parses.
    void parse(int argc, char** argv);

    bool has(const std::string& name) const;
    /// The option's value as given (the last one), else its default or implicit value.
    std::string text(const std::string& name) const;
    std::vector<std::string> all(const std::string& name) const;
    const std::vector<std::string>& positionals() const;
    long integer(const std::string& name, long minimum, long maximum = std::numeric_limits<long>::max()) const;
    double number(const std::string& name, bool must_be_positive = true) const;
    std::string help() const;

    static long parse_integer(const std::string& text, const std::string& what, long minimum,
                              long maximum = std::numeric_limits<long>::max());
    static double parse_number(const std::string& text, const std::string& what, bool must_be_positive);
    /// A number in the stream's default format, six significant digits (0.001, not 0.001000).
    static std::string format_number(double value);
    /// "a,b,c" -> {"a", "b", "c"}; an empty entry (",," or a trailing comma) is a mistake.
    static std::vector<std::string> split_list(const std::string& text, const std::string& what,
                                               const std::string& expected);
    /// "20,7,5" -> {20, 7, 5}; every entry at least `minimum`.
    static std::vector<long> parse_integer_list(const std::string& text, const std::string& what, long minimum);
    /// Hidden layer sizes ("20,7,5") between `inputs` and `outputs` values: each layer at
    /// most the weights a model file holds, so a typo is refused before memory is taken.
    static std::vector<long> parse_layer_sizes(const std::string& text, const std::string& what, long inputs,
                                               long outputs);

private:
    struct Parser;  // CLI11's parser and what was declared, in command_line.cpp
    std::unique_ptr<Parser> parser_;
};

/// Runs an example's body: usage mistakes and rejected input become one line on
/// stderr and exit code 2; anything else unexpected, exit code 1. Every message goes
/// through terminal_safe.
int run_main(const char* program, const std::function<int()>& body);

/// A folder under the project's data/: relative to the working directory when it
/// exists there, else in the source tree the examples were built from.
std::string data_path(const std::string& relative);

}  // namespace examples
