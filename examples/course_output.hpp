#pragma once
// The course's print format: numbers as Python's str() writes them, the cost, accuracy
// and classification lines the tests compare, and a progress line on stderr.
#include <nndl/nndl.hpp>

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

#include <unistd.h>

namespace examples {

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

/// A value inside a NumPy array as NumPy prints it: up to 8 decimals, trailing zeros
/// dropped ("0.5", "1.", "-0.18887155").
inline std::string numpy_array_value(double value) {
    char text[64];
    std::snprintf(text, sizeof text, "%.8f", value);
    std::string s = text;
    while (s.back() == '0') {
        s.pop_back();
    }
    return s;
}

/// Values as NumPy prints a 1-D array, one space apart: "[0.5 -1.25]".
inline std::string numpy_array(const std::vector<double>& values) {
    std::string s = "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
        s += (i ? " " : "") + numpy_array_value(values[i]);
    }
    return s + "]";
}

/// A float64 scalar as the course's NumPy printed it: 12 significant digits.
inline std::string numpy_scalar(double value) {
    char text[64];
    std::snprintf(text, sizeof text, "%.12g", value);
    return text;
}

inline void print_cost(long iteration, double cost, const char* unit = "iteration") {
    std::cout << "Cost after " << unit << " " << iteration << ": " << python_float(cost) << '\n';
}

/// "Train accuracy: F", or "Accuracy: F" for an empty label.
inline void print_accuracy(const std::string& label, double fraction) {
    std::cout << (label.empty() ? "Accuracy" : label + " accuracy") << ": " << python_float(fraction) << '\n';
}

/// "PATH: LABEL (p=0.8062)"; a file name with control characters is escaped, so it cannot
/// forge another line or drive the terminal.
inline void print_classification(const std::string& path, const std::string& label, double probability) {
    std::cout << nndl::printable(path, 4096) << ": " << label << " (p=" << std::fixed << std::setprecision(4)
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

}  // namespace examples
