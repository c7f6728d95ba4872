#pragma once
// The plain-text tables that Network::summary and Graph::summary print: columns padded to
// their widest entry, two spaces apart.

#include <algorithm>
#include <string>
#include <vector>

namespace nndl::detail {

/// How one column of a text table lines up.
enum class Align { left, right };

/// `rows` (the header first) as lines, each column padded to its widest entry with
/// `align[c]`; `trim` drops the spaces a line ends with.
inline std::string format_table(const std::vector<std::vector<std::string>>& rows, const std::vector<Align>& align,
                                bool trim) {
    std::vector<std::size_t> widths(align.size(), 0);
    for (const auto& row : rows) {
        for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c) {
            widths[c] = std::max(widths[c], row[c].size());
        }
    }
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c) {
            const std::string pad(widths[c] - row[c].size(), ' ');
            line += (c == 0 ? "" : "  ") + (align[c] == Align::right ? pad + row[c] : row[c] + pad);
        }
        while (trim && !line.empty() && line.back() == ' ') {
            line.pop_back();
        }
        out += line + "\n";
    }
    return out;
}

}  // namespace nndl::detail
