// examples/course_output.hpp's print format and progress line, compiled once for every
// example program.
#include "../course_output.hpp"

#include <nndl/errors.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <iostream>

#include <unistd.h>

namespace examples {

std::string python_float(double value) {
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

std::string numpy_array_value(double value) {
    char text[64];
    std::snprintf(text, sizeof text, "%.8f", value);
    std::string s = text;
    while (s.back() == '0') {
        s.pop_back();
    }
    return s;
}

std::string numpy_array(const std::vector<double>& values) {
    std::string s = "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
        s += (i ? " " : "") + numpy_array_value(values[i]);
    }
    return s + "]";
}

std::string numpy_scalar(double value) {
    char text[64];
    std::snprintf(text, sizeof text, "%.12g", value);
    return text;
}

void print_cost(long iteration, double cost, const char* unit) {
    std::cout << "Cost after " << unit << " " << iteration << ": " << python_float(cost) << '\n';
}

void print_accuracy(const std::string& label, double fraction) {
    std::cout << (label.empty() ? "Accuracy" : label + " accuracy") << ": " << python_float(fraction) << '\n';
}

void print_classification(const std::string& path, const std::string& label, double probability) {
    std::cout << nndl::printable(path, 4096) << ": " << label << " (p=" << std::fixed << std::setprecision(4)
              << probability << ")\n"
              << std::defaultfloat;
}

Progress::Progress(std::string label) : label_(std::move(label)), enabled_(::isatty(2) != 0) {}

void Progress::update(long done, long total, double cost) {
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

nndl::TrainOptions course_fit_options(Progress& progress, bool print, const char* unit) {
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
