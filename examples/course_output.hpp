#pragma once
// The course's print format: numbers as Python's str() writes them, the cost, accuracy
// and classification lines the tests compare, and a progress line on stderr. Compiled
// once for every example program in examples/support/course_output.cpp.
#include <nndl/training.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace examples {

/// A double as Python's str() writes it, the course's print format: the shortest digits
/// that read back to the same value, fixed notation for exponents -4 to 15, else
/// scientific with at least two exponent digits; "1.0" rather than "1"; inf and nan.
std::string python_float(double value);

/// A value inside a NumPy array as NumPy prints it: up to 8 decimals, trailing zeros
/// dropped ("0.5", "1.", "-0.18887155").
std::string numpy_array_value(double value);

/// Values as NumPy prints a 1-D array, one space apart: "[0.5 -1.25]".
std::string numpy_array(const std::vector<double>& values);

/// A float64 scalar as the course's NumPy printed it: 12 significant digits.
std::string numpy_scalar(double value);

void print_cost(long iteration, double cost, const char* unit = "iteration");

/// "Train accuracy: F", or "Accuracy: F" for an empty label.
void print_accuracy(const std::string& label, double fraction);

/// "PATH: LABEL (p=0.8062)"; a file name with control characters is escaped, so it cannot
/// forge another line or drive the terminal.
void print_classification(const std::string& path, const std::string& label, double probability);

/// A progress line on stderr, drawn only when stderr is a terminal.
class Progress {
public:
    explicit Progress(std::string label);
    /// Redraws the line (at most every 100 ms, and at the end).
    void update(long done, long total, double cost);

private:
    std::string label_;
    bool enabled_;
    std::chrono::steady_clock::time_point last_{};
};

nndl::TrainOptions course_fit_options(Progress& progress, bool print = true, const char* unit = "iteration");

}  // namespace examples
