// Compares a program's output with an expected file line by line, numbers to a tolerance:
// each line's text must be the same with its numbers taken out, and each number must agree
// with the expected one within atol + rtol * |expected| (NumPy's allclose, atol = rtol =
// TOLERANCE). Lines of the expected file starting with "#" are comments. For outputs whose
// last digits depend on the instruction set (float sums in another order).
// Usage: compare_numbers ACTUAL EXPECTED TOLERANCE
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

/// The line with each number replaced by "#", and the numbers in order.
std::string skeleton(const std::string& line, std::vector<double>& numbers) {
    std::string text;
    for (std::size_t i = 0; i < line.size();) {
        const bool starts = std::isdigit(static_cast<unsigned char>(line[i])) ||
                            (line[i] == '-' && i + 1 < line.size() && std::isdigit(static_cast<unsigned char>(line[i + 1])));
        if (starts) {
            std::size_t end = i + (line[i] == '-' ? 1 : 0);
            while (end < line.size() && (std::isdigit(static_cast<unsigned char>(line[end])) || line[end] == '.')) {
                ++end;
            }
            if (end < line.size() && (line[end] == 'e' || line[end] == 'E')) {  // an exponent
                std::size_t e = end + 1;
                if (e < line.size() && (line[e] == '-' || line[e] == '+')) {
                    ++e;
                }
                if (e < line.size() && std::isdigit(static_cast<unsigned char>(line[e]))) {
                    while (e < line.size() && std::isdigit(static_cast<unsigned char>(line[e]))) {
                        ++e;
                    }
                    end = e;
                }
            }
            numbers.push_back(std::strtod(line.substr(i, end - i).c_str(), nullptr));
            text += '#';
            i = end;
        } else {
            text += line[i++];
        }
    }
    return text;
}

std::vector<std::string> lines_of(const char* path, bool skip_comments) {
    std::ifstream in(path);
    if (!in) {
        std::cerr << "compare_numbers: cannot read '" << path << "'\n";
        std::exit(2);
    }
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        if (!(skip_comments && !line.empty() && line[0] == '#')) {
            lines.push_back(line);
        }
    }
    return lines;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: compare_numbers ACTUAL EXPECTED TOLERANCE\n";
        return 2;
    }
    const double tolerance = std::strtod(argv[3], nullptr);
    const auto actual = lines_of(argv[1], false);
    const auto expected = lines_of(argv[2], true);
    int mismatches = 0;
    double largest = 0.0;
    for (std::size_t k = 0; k < std::max(actual.size(), expected.size()); ++k) {
        const std::string got = k < actual.size() ? actual[k] : "<missing>";
        const std::string want = k < expected.size() ? expected[k] : "<missing>";
        std::vector<double> got_numbers, want_numbers;
        bool same = skeleton(got, got_numbers) == skeleton(want, want_numbers) && got_numbers.size() == want_numbers.size();
        for (std::size_t i = 0; same && i < got_numbers.size(); ++i) {
            const double difference = std::abs(got_numbers[i] - want_numbers[i]);
            largest = std::max(largest, difference);
            same = difference <= tolerance + tolerance * std::abs(want_numbers[i]);
        }
        if (!same) {
            std::cout << "line " << k + 1 << ":\n  expected: " << want << "\n  printed:  " << got << "\n";
            ++mismatches;
        }
    }
    std::cout << actual.size() << " lines, " << mismatches << " differ; largest difference of a number " << largest
              << " (tolerance " << tolerance << " absolute + relative)\n";
    return mismatches == 0 ? 0 : 1;
}
