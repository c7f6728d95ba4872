#pragma once
// Tables of numbers from CSV files: any delimiter, a header line or none (or detected),
// any columns as targets (several for several outputs), and an optional column that
// selects rows (a "split" column holding train/test). Examples become columns: X is
// features x m, Y is targets x m. Errors name the file, the line and what was wrong.
// Cells are plain decimal numbers: quoted cells and hexadecimal numbers are not read
// (a header's names may be quoted; a delimiter inside quotes is not supported);
// lines end in LF or CRLF, and blank lines are skipped.

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <istream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../detail/file_util.hpp"
#include "../errors.hpp"
#include "../types.hpp"

namespace nndl {

/// Whether a CSV file's first line names the columns.
enum class CsvHeader {
    automatic,  ///< a header unless every cell of the first line is a number
    present,    ///< the first line is a header; a first line of numbers is refused (it would lose an example)
    absent,     ///< every line is data; columns are named "column 1", "column 2", ...
};

/// How read_csv reads a file.
struct CsvOptions {
    char delimiter = ',';                    ///< the cell separator (',' ';' '\\t' ...), not a quote or line break
    CsvHeader header = CsvHeader::automatic;  ///< whether the first line names the columns
    /// The target columns by 0-based position; a negative position counts from the end
    /// (-1 is the last column). Empty, with no target_names: no targets (Y is 0 x m).
    std::vector<long> target_columns{-1};
    /// The target columns by header name, in the order given; when not empty it is used
    /// instead of target_columns. Needs a header.
    std::vector<std::string> target_names;
    /// With a header: the name of a column of words that selects rows; only rows whose
    /// cell there equals select_value are read, and the column is neither feature nor target.
    std::string select_column;
    std::string select_value;  ///< the word select_column must hold for a row to be read
};

/// A table read by read_csv: every column not a target (nor the select column) is a feature.
template <class Scalar>
struct CsvTable {
    Matrix<Scalar> x;                       ///< features x m, in the file's column order
    Matrix<Scalar> y;                       ///< targets x m, in the order the targets were named
    std::vector<std::string> feature_names;  ///< one per row of x
    std::vector<std::string> target_names;   ///< one per row of y
};

namespace detail {

/// A CSV cell as a finite decimal number (surrounding spaces allowed; subnormals such as
/// 1e-320 kept), or nothing when it is not one (hexadecimal "0x10" included).
inline std::optional<double> csv_number(const std::string& cell) {
    if (cell.find_first_of("xX") != std::string::npos) {  // strtod would read hexadecimal
        return std::nullopt;
    }
    const char* begin = cell.c_str();
    char* end = nullptr;
    const double value = std::strtod(begin, &end);  // sets ERANGE for subnormals: they are still numbers
    if (end == begin) {
        return std::nullopt;
    }
    while (*end != '\0' && std::isspace(static_cast<unsigned char>(*end))) {
        ++end;
    }
    if (end != begin + cell.size() || !std::isfinite(value)) {
        return std::nullopt;
    }
    return value;
}

/// At most 40 characters of a cell or line, escaped (printable), for a message that
/// stays one readable line.
inline std::string shortened(const std::string& text) { return printable(text, 40); }

/// The cells of one line split at `delimiter`; a trailing delimiter ends with an empty cell.
inline std::vector<std::string> csv_cells(const std::string& text, char delimiter) {
    std::vector<std::string> cells;
    std::size_t start = 0;
    while (true) {
        const std::size_t end = text.find(delimiter, start);
        cells.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos) {
            return cells;
        }
        start = end + 1;
    }
}

/// True when every cell reads as a number (nan and inf included) or is blank: such a
/// line is data, not column names.
inline bool csv_all_numbers(const std::vector<std::string>& cells) {
    return std::all_of(cells.begin(), cells.end(), [](const std::string& cell) {
        if (cell.find_first_not_of(" \t") == std::string::npos) {
            return true;  // an empty cell is no column name
        }
        char* end = nullptr;
        std::strtod(cell.c_str(), &end);
        return end != cell.c_str() &&
               cell.find_first_not_of(" \t", static_cast<std::size_t>(end - cell.c_str())) == std::string::npos;
    });
}

/// Reads one line without its line break (and a Windows '\\r'); false at the end.
inline bool csv_line(std::istream& in, std::string& line) {
    if (!std::getline(in, line)) {
        return false;
    }
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    return true;
}

/// An istream over bytes already read, parsed in place instead of copied again.
class BytesBuffer : public std::streambuf {
public:
    explicit BytesBuffer(std::vector<unsigned char>& bytes) {
        char* begin = reinterpret_cast<char*>(bytes.data());
        setg(begin, begin, begin + bytes.size());
    }
};

}  // namespace detail

namespace detail {

/// `text` without leading and trailing spaces and tabs.
inline std::string csv_trimmed(const std::string& text) {
    const std::size_t first = text.find_first_not_of(" \t");
    if (first == std::string::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

/// A header cell as a column name: trimmed, and a name written in double quotes (as
/// spreadsheets and pandas write headers) without them, a doubled quote inside as one.
inline std::string csv_header_name(const std::string& cell) {
    const std::string text = csv_trimmed(cell);
    if (text.size() < 2 || text.front() != '"' || text.back() != '"') {
        return text;
    }
    std::string name;
    for (std::size_t i = 1; i + 1 < text.size(); ++i) {
        name += text[i];
        if (text[i] == '"' && text[i + 1] == '"' && i + 2 < text.size()) {
            ++i;  // "" inside quotes is one quote
        }
    }
    return name;
}

/// The column named `wanted`: refuses a name the header lacks (listing the names it has)
/// or holds twice (which one would be ambiguous).
inline std::size_t csv_column_named(const char* where, const std::string& file, const std::vector<std::string>& names,
                                    const std::string& wanted) {
    const auto found = std::find(names.begin(), names.end(), wanted);
    if (found == names.end()) {
        std::string known;
        for (std::size_t c = 0; c < names.size() && c < 12; ++c) {
            known += (c == 0 ? "'" : ", '") + shortened(names[c]) + "'";
        }
        throw_invalid(where, ": ", file, " has no column named '", shortened(wanted), "'; its columns are ", known,
                      names.size() > 12 ? ", ..." : "");
    }
    if (std::find(found + 1, names.end(), wanted) != names.end()) {
        throw_invalid(where, ": ", file, " has two columns named '", shortened(wanted), "', expected one");
    }
    return static_cast<std::size_t>(found - names.begin());
}

}  // namespace detail

/// Reads CSV text from `in` (`name` is the file named in messages, `where` the function).
/// Header names and the select column's words are compared without surrounding spaces.
/// Throws FileError naming the line for a malformed table (a row with another number of
/// cells, a cell that is not a finite number of Scalar, no data rows, a missing header,
/// fewer columns than the options leave a feature in) and InvalidArgument for options
/// the table cannot satisfy (a delimiter that can be part of a number, an unknown or
/// repeated target name, a position past the last column, a target named twice).
template <class Scalar>
CsvTable<Scalar> parse_csv(std::istream& in, const std::filesystem::path& name, const CsvOptions& options = {},
                           const char* where = "read_csv") {
    const char delimiter = options.delimiter;
    if (delimiter == '"' || delimiter == '\n' || delimiter == '\r' || delimiter == '\0' ||
        std::string("0123456789.+-eE").find(delimiter) != std::string::npos) {
        detail::throw_invalid(where, ": the delimiter is character ", static_cast<int>(delimiter),
                              ", expected a separator that is not part of a number, such as ',' ';' or '\\t'");
    }
    const bool selects = !options.select_column.empty();
    if (selects && options.header == CsvHeader::absent) {
        detail::throw_invalid(where, ": select_column '", options.select_column, "' needs a header line naming it");
    }
    if (selects && detail::csv_trimmed(options.select_value).empty()) {
        detail::throw_invalid(where, ": select_column '", options.select_column,
                              "' is given with an empty select_value, expected the word of the rows to read");
    }
    if (!options.target_names.empty() && options.header == CsvHeader::absent) {
        detail::throw_invalid(where, ": target_names need a header line naming the columns");
    }
    const std::string file = printable(name.string());  // for messages
    std::string line;
    if (!detail::csv_line(in, line)) {
        throw FileError(detail::concat(where, ": '", file, "' is empty, expected ",
                                       options.header == CsvHeader::absent ? "a data line" : "a header line"));
    }
    if (line.rfind("\xef\xbb\xbf", 0) == 0) {  // a UTF-8 byte order mark
        line.erase(0, 3);
    }
    if (line.find('\r') != std::string::npos) {
        throw FileError(detail::concat(where, ": ", file, ":1: the line holds a carriage return (CR) inside it; ",
                                       "expected lines ending in LF or CRLF (a file with CR line ends only?)"));
    }
    const std::vector<std::string> first = detail::csv_cells(line, delimiter);
    const std::size_t columns = first.size();
    const bool numbers = detail::csv_all_numbers(first);
    const bool needs_header = options.header == CsvHeader::present || selects || !options.target_names.empty();
    if (needs_header && numbers) {
        throw FileError(detail::concat(where, ": ", file, ":1: '", detail::shortened(line),
                                       "' is numbers, expected a header line naming the columns"));
    }
    const bool has_header = options.header == CsvHeader::present ||
                            (options.header == CsvHeader::automatic && !numbers);
    std::vector<std::string> names(columns);
    for (std::size_t c = 0; c < columns; ++c) {
        const std::string cell = detail::csv_trimmed(first[c]);
        if (has_header && !cell.empty() && cell.front() == '"' && (cell.size() < 2 || cell.back() != '"')) {
            // "price, USD" was split at its delimiter: say so here, not as a short data line.
            throw FileError(detail::concat(where, ": ", file, ":1: the header's cell '", detail::shortened(cell),
                                           "' opens a quoted name that holds the delimiter '", options.delimiter,
                                           "'; read_csv does not split inside quotes: rename the column"));
        }
        names[c] = has_header ? detail::csv_header_name(first[c]) : detail::concat("column ", c + 1);
    }

    // Which column is what: the select column, then the targets, the rest features.
    std::vector<int> role(columns, 0);  // 0 feature, 1 target, 2 select
    std::size_t select = columns;
    if (selects) {
        if (std::find(names.begin(), names.end(), options.select_column) == names.end()) {
            throw FileError(detail::concat(where, ": ", file, ":1: the header starts with '",
                                           names.empty() ? "" : detail::shortened(names[0]), "' and has no '",
                                           options.select_column, "' column, expected one to select '",
                                           options.select_value, "' rows"));
        }
        select = detail::csv_column_named(where, file, names, options.select_column);
        role[select] = 2;
    }
    std::vector<std::size_t> targets;
    if (!options.target_names.empty()) {
        for (const std::string& target : options.target_names) {
            targets.push_back(detail::csv_column_named(where, file, names, target));
        }
    } else {
        for (const long position : options.target_columns) {
            const long count = static_cast<long>(columns);
            const long at = position < 0 ? count + position : position;
            if (at < 0 || at >= count) {
                detail::throw_invalid(where, ": target column ", position, " of ", file, ", which has ", count,
                                      " column(s); expected 0..", count - 1, " or -1..-", count);
            }
            targets.push_back(static_cast<std::size_t>(at));
        }
    }
    for (const std::size_t t : targets) {
        if (role[t] != 0) {
            detail::throw_invalid(where, ": column '", detail::shortened(names[t]), "' of ", file, " is named ",
                                  role[t] == 1 ? "twice as a target" : "both as the select column and a target");
        }
        role[t] = 1;
    }
    std::vector<std::size_t> features;
    for (std::size_t c = 0; c < columns; ++c) {
        if (role[c] == 0) {
            features.push_back(c);
        }
    }
    if (features.empty()) {
        throw FileError(detail::concat(where, ": ", file, ":1: ", has_header ? "header has " : "", columns,
                                       " column(s), expected at least ", columns + 1, " (features..., ",
                                       targets.size() == 1 ? "label" : "targets", ")",
                                       columns == 1 ? detail::concat("; is the delimiter '", delimiter == '\t' ?
                                                                     std::string("\\t") : std::string(1, delimiter),
                                                                     "' the file's?")
                                                    : std::string()));
    }

    // Rows are kept in one flat array (features then targets per row): no object per row.
    const std::size_t width = features.size() + targets.size();
    std::vector<double> values;
    std::vector<std::string> skipped;  // a few select words that were not select_value, for the message
    long line_number = 1;
    const std::string wanted = detail::csv_trimmed(options.select_value);
    std::vector<double> row(columns, 0.0);
    const auto read_row = [&](const std::string& text) {
        // Counted before splitting: a huge line of delimiters is refused without a cell each.
        const auto cells_here = static_cast<std::size_t>(std::count(text.begin(), text.end(), delimiter)) + 1;
        if (cells_here != columns) {
            throw FileError(detail::concat(where, ": ", file, ":", line_number, ": ", cells_here, " values, expected ",
                                           columns));
        }
        const std::vector<std::string> cells = detail::csv_cells(text, delimiter);
        if (selects) {
            const std::string word = detail::csv_trimmed(cells[select]);
            if (word != wanted) {
                if (skipped.size() < 5 && std::find(skipped.begin(), skipped.end(), word) == skipped.end()) {
                    skipped.push_back(word);
                }
                return;
            }
        }
        for (std::size_t c = 0; c < columns; ++c) {  // in column order: the first bad cell is named
            if (role[c] == 2) {
                continue;
            }
            const std::optional<double> value = detail::csv_number(cells[c]);
            const bool fits = value && std::isfinite(static_cast<double>(static_cast<Scalar>(*value)));
            if (!fits) {
                throw FileError(detail::concat(where, ": ", file, ":", line_number, ": column ", c + 1, " is '",
                                               detail::shortened(cells[c]), "', expected a finite number",
                                               value ? " within the range of float" : ""));
            }
            row[c] = *value;
        }
        for (const std::size_t c : features) {
            values.push_back(row[c]);
        }
        for (const std::size_t c : targets) {
            values.push_back(row[c]);
        }
    };
    if (!has_header) {
        read_row(line);
    }
    while (detail::csv_line(in, line)) {
        ++line_number;
        if (line.find_first_not_of(" \t") != std::string::npos) {  // blank lines are skipped
            read_row(line);
        }
    }
    if (values.empty()) {
        if (selects) {
            std::string seen;
            for (const auto& word : skipped) {
                seen += (seen.empty() ? "'" : ", '") + detail::shortened(word) + "'";
            }
            throw FileError(detail::concat(where, ": '", file, "' has no '", printable(options.select_value), "' rows",
                                           seen.empty() ? std::string() : "; its '" + options.select_column +
                                                                             "' column holds " + seen));
        }
        throw FileError(detail::concat(where, ": '", file, "' has no data lines", has_header ? " after the header" : ""));
    }
    CsvTable<Scalar> table;
    const auto m = static_cast<Index>(values.size() / width);
    const auto f = static_cast<Index>(features.size());
    const auto t = static_cast<Index>(targets.size());
    table.x.resize(f, m);
    table.y.resize(t, m);
    for (Index j = 0; j < m; ++j) {
        const double* at = values.data() + static_cast<std::size_t>(j) * width;
        for (Index i = 0; i < f; ++i) {
            table.x(i, j) = static_cast<Scalar>(at[i]);
        }
        for (Index i = 0; i < t; ++i) {
            table.y(i, j) = static_cast<Scalar>(at[f + i]);
        }
    }
    for (const std::size_t c : features) {
        table.feature_names.push_back(names[c]);
    }
    for (const std::size_t c : targets) {
        table.target_names.push_back(names[c]);
    }
    return table;
}

/// parse_csv on a file: whole, at most max_file_bytes, and refusing devices, pipes and
/// folders (FileError), so /dev/zero is not one endless line.
template <class Scalar>
CsvTable<Scalar> read_csv(const std::filesystem::path& path, const CsvOptions& options = {},
                          const char* where = "read_csv") {
    std::vector<unsigned char> bytes = read_file_bytes(path, where);
    detail::BytesBuffer buffer(bytes);
    std::istream in(&buffer);
    return parse_csv<Scalar>(in, path, options, where);
}

}  // namespace nndl

// nndl::compiled holds the CSV reader for float and double: a program that links it
// (NNDL_COMPILED) compiles none of their code.
#if defined(NNDL_COMPILED) || defined(NNDL_COMPILED_DEFINITIONS_FLOAT) || defined(NNDL_COMPILED_DEFINITIONS_DOUBLE)
#include "../detail/compiled_fingerprint.hpp"
#include "../detail/compiled_kind.hpp"  // NNDL_COMPILED_FLOAT_KIND, NNDL_COMPILED_DOUBLE_KIND
/// \cond
namespace nndl {
#define NNDL_DETAIL_CSV_FOR(S, KIND)                                                                            \
    KIND template CsvTable<S> parse_csv<S>(std::istream&, const std::filesystem::path&, const CsvOptions&,     \
                                           const char*);                                                       \
    KIND template CsvTable<S> read_csv<S>(const std::filesystem::path&, const CsvOptions&, const char*);
NNDL_DETAIL_CSV_FOR(float, NNDL_COMPILED_FLOAT_KIND)
NNDL_DETAIL_CSV_FOR(double, NNDL_COMPILED_DOUBLE_KIND)
#undef NNDL_DETAIL_CSV_FOR
}  // namespace nndl
/// \endcond
#undef NNDL_COMPILED_FLOAT_KIND
#undef NNDL_COMPILED_DOUBLE_KIND
#endif
