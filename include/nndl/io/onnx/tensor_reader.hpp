#pragma once
// Optional part: needs ONNX (link nndl::onnx). Part of nndl/io/onnx.hpp: what the importer reads
// constants and attributes with (TensorReader: raw and external data; find_attribute, describe).

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "../../errors.hpp"
#include "common.hpp"

namespace nndl {

namespace detail::onnx_format {

/// The graph's tensors that are constants: initializers and Constant nodes' values.
using Constants = std::map<std::string, const TensorProto*>;

inline std::string describe(const NodeProto& node, int index) {
    return concat("node ", index, " ('", printable(node.name()), "', ", printable(node.op_type()), ")");
}

/// Reads the values of one constant tensor as doubles, in row-major order.
class TensorReader {
public:
    /// `largest`: the largest magnitude the network's scalar holds (a weight beyond it, a
    /// float64 1e300 read into float, would turn into infinity).
    TensorReader(std::filesystem::path folder, std::string file, double largest)
        : folder_(std::move(folder)), file_(printable(file)), largest_(largest) {}

    std::vector<std::int64_t> dims(const TensorProto& t, const std::string& what) const {
        std::vector<std::int64_t> d;
        long long count = 1;
        for (int i = 0; i < t.dims_size(); ++i) {
            const std::int64_t n = t.dims(i);
            if (n < 0 || (n > 0 && count > max_onnx_tensor_values / n)) {
                fail(what, concat("has dimension ", n, "; expected 0..", max_onnx_tensor_values, " values in all"));
            }
            count *= n;
            d.push_back(n);
        }
        return d;
    }

    enum class Kind { real, integer, boolean };

    /// The values of a tensor of reals (float or double: weights), whole numbers (int64:
    /// shapes and pads) or booleans. Weights must be finite.
    std::vector<double> values(const TensorProto& t, const std::string& what, Kind kind = Kind::real) const {
        const int type = t.data_type();
        const bool allowed = kind == Kind::real      ? type == TensorProto::FLOAT || type == TensorProto::DOUBLE
                             : kind == Kind::integer ? type == TensorProto::INT64
                                                     : type == TensorProto::BOOL;
        if (!allowed) {
            fail(what, concat("has element type ", type, "; expected ",
                              kind == Kind::real ? "float or double" : kind == Kind::integer ? "int64" : "bool"));
        }
        std::vector<double> result = any_values(t, what);
        if (kind == Kind::real) {
            for (const double v : result) {
                if (!std::isfinite(v)) {
                    fail(what, "holds a NaN or infinite value");
                }
                if (std::abs(v) > largest_) {
                    fail(what, concat("holds ", v, ", beyond the largest value the network's scalar type holds (",
                                      largest_, ")"));
                }
            }
        }
        return result;
    }

    std::vector<double> any_values(const TensorProto& t, const std::string& what) const {
        const std::vector<std::int64_t> d = dims(t, what);
        std::size_t count = 1;
        for (const auto n : d) {
            count *= static_cast<std::size_t>(n);
        }
        const int type = t.data_type();
        const std::size_t width = type == TensorProto::BOOL ? 1 : type == TensorProto::FLOAT ? 4 : 8;
        // Sizes are checked against the data present before anything of that size is allocated.
        if (t.data_location() == TensorProto::EXTERNAL || t.has_raw_data()) {
            if (t.data_location() != TensorProto::EXTERNAL && t.raw_data().size() != count * width) {
                fail(what, concat("holds ", t.raw_data().size(), " bytes; its shape needs ", count * width));
            }
            const std::string external_bytes =
                t.data_location() == TensorProto::EXTERNAL ? external(t, what, count * width) : std::string();
            const std::string& bytes = t.data_location() == TensorProto::EXTERNAL ? external_bytes : t.raw_data();
            std::vector<double> result(count);
            for (std::size_t k = 0; k < count; ++k) {
                std::uint64_t bits = 0;  // little-endian, as ONNX stores raw data
                for (std::size_t byte = 0; byte < width; ++byte) {
                    bits |= std::uint64_t(static_cast<unsigned char>(bytes[k * width + byte])) << (8 * byte);
                }
                result[k] = decode(type, bits);
            }
            return result;
        }
        const std::size_t stored = type == TensorProto::FLOAT    ? static_cast<std::size_t>(t.float_data_size())
                                   : type == TensorProto::DOUBLE ? static_cast<std::size_t>(t.double_data_size())
                                   : type == TensorProto::BOOL   ? static_cast<std::size_t>(t.int32_data_size())
                                                                 : static_cast<std::size_t>(t.int64_data_size());
        if (stored != count) {
            fail(what, concat("holds ", stored, " values; its shape needs ", count));
        }
        std::vector<double> result(count);
        for (std::size_t k = 0; k < count; ++k) {
            const int i = static_cast<int>(k);
            result[k] = type == TensorProto::FLOAT    ? static_cast<double>(t.float_data(i))
                        : type == TensorProto::DOUBLE ? t.double_data(i)
                        : type == TensorProto::BOOL   ? static_cast<double>(t.int32_data(i) != 0)
                                                      : static_cast<double>(t.int64_data(i));
        }
        return result;
    }

    [[noreturn]] void fail(const std::string& what, const std::string& problem) const {
        throw_invalid("load_onnx: '", file_, "': ", what, " ", problem);
    }

private:
    static double decode(int type, std::uint64_t bits) {
        if (type == TensorProto::BOOL) {
            return bits != 0 ? 1.0 : 0.0;
        }
        if (type == TensorProto::FLOAT) {
            const auto narrow = static_cast<std::uint32_t>(bits);
            float f;
            std::memcpy(&f, &narrow, sizeof f);
            return static_cast<double>(f);
        }
        if (type == TensorProto::DOUBLE) {
            double v;
            std::memcpy(&v, &bits, sizeof v);
            return v;
        }
        std::int64_t i;
        std::memcpy(&i, &bits, sizeof i);
        return static_cast<double>(i);
    }

    /// The bytes of a tensor stored beside the model (ONNX's external data).
    std::string external(const TensorProto& t, const std::string& what, std::size_t expected) const {
        std::string location;
        std::uintmax_t offset = 0;
        std::optional<std::uintmax_t> length;
        for (const auto& entry : t.external_data()) {
            const auto number = [&](const std::string& text) {
                if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) {
                    fail(what, concat("has external ", printable(entry.key()), " '", printable(text), "'; expected a whole number"));
                }
                return static_cast<std::uintmax_t>(std::stoull(text));
            };
            if (entry.key() == "location") {
                location = entry.value();
            } else if (entry.key() == "offset") {
                offset = number(entry.value());
            } else if (entry.key() == "length") {
                length = number(entry.value());
            }
        }
        const std::filesystem::path relative(location);
        bool inside = !location.empty() && relative.is_relative() && location.find('\0') == std::string::npos;
        for (const auto& part : relative) {
            inside = inside && part != "..";
        }
        if (!inside) {
            fail(what, concat("is stored in '", printable(location),
                              "'; expected a file name relative to the model's folder"));
        }
        if (folder_.empty()) {
            fail(what, "is stored in another file, and this model was not read from a file");
        }
        if (length && *length != expected) {
            fail(what, concat("has external length ", *length, "; its shape needs ", expected));
        }
        const std::filesystem::path path = folder_ / relative;
        std::error_code ec;
        // Links are resolved first: a link inside the folder may not lead out of it.
        const std::filesystem::path real_folder = std::filesystem::weakly_canonical(folder_, ec);
        const std::filesystem::path real_path = std::filesystem::weakly_canonical(path, ec);
        const auto mismatch = std::mismatch(real_folder.begin(), real_folder.end(), real_path.begin(), real_path.end());
        if (ec || mismatch.first != real_folder.end()) {
            fail(what, concat("is stored in '", printable(location), "', which leads outside the model's folder"));
        }
        const auto status = std::filesystem::status(path, ec);
        if (!std::filesystem::is_regular_file(status)) {
            fail(what, concat("is stored in '", printable(path.string()), "', which is not a readable file"));
        }
        const std::uintmax_t size = std::filesystem::file_size(path, ec);
        if (ec || offset > size || size - offset < expected) {
            fail(what, concat("needs ", expected, " bytes at offset ", offset, " of '", printable(path.string()),
                              "', which has ",
                              ec ? 0 : size));
        }
        std::ifstream in(path, std::ios::binary);
        std::string bytes(expected, '\0');
        in.seekg(static_cast<std::streamoff>(offset));
        in.read(bytes.data(), static_cast<std::streamsize>(expected));
        if (!in || static_cast<std::size_t>(in.gcount()) != expected) {
            fail(what, concat("could not be read from '", printable(path.string()), "'"));
        }
        return bytes;
    }

    std::filesystem::path folder_;
    std::string file_;  // escaped (printable), for messages
    double largest_;
};

/// The double a float attribute was most likely written from: the shortest decimal that
/// rounds to it (1e-05 for the float nearest 1e-5), so settings survive a round trip.
inline double shortest_decimal(float value) {
    char text[64];
    const auto written = std::to_chars(text, text + sizeof text, value);
    double result = static_cast<double>(value);
    std::from_chars(text, written.ptr, result);
    return result;
}

inline const AttributeProto* find_attribute(const NodeProto& node, const char* name) {
    for (const auto& a : node.attribute()) {
        if (a.name() == name) {
            return &a;
        }
    }
    return nullptr;
}

}  // namespace detail::onnx_format

}  // namespace nndl
