#pragma once
// Exceptions thrown by nndl and the helpers that build their messages.
// Every message starts with the function that rejected the input, then says
// what it expected and what it got, e.g.
//   "Layer::forward ('dense'): input has 100 rows, the layer expects 12288 (input shape 12288)".

#include <cmath>
#include <ios>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <Eigen/Core>

namespace nndl {

/// The base of everything nndl throws: `catch (const nndl::Error& e)` catches them all.
/// It is not a std::exception itself, so that each exception below has one
/// std::exception base and `catch (const std::exception&)` keeps working.
class Error {
public:
    /// Destroys the exception.
    virtual ~Error() = default;
    /// The message: the function that rejected the input, what it expected and what it got.
    virtual const char* what() const noexcept = 0;

protected:
    /// Only the exceptions below make an Error.
    Error() = default;
    /// Copies the (empty) base; the message lives in the std::exception base.
    Error(const Error&) = default;
    /// Copy-assigns the (empty) base.
    Error& operator=(const Error&) = default;
};

/// A caller passed a value nndl cannot work with (bad option, bad label, ...).
class InvalidArgument : public std::invalid_argument, public Error {
public:
    /// An exception carrying `message`.
    explicit InvalidArgument(const std::string& message) : std::invalid_argument(message) {}
    /// The message given to the constructor.
    const char* what() const noexcept override { return std::invalid_argument::what(); }
};

/// Matrix sizes that do not fit together.
class ShapeError : public InvalidArgument {
public:
    /// An exception carrying `message` (InvalidArgument's constructor).
    using InvalidArgument::InvalidArgument;
};

/// A file could not be read or written, or its contents are not what the reader expects.
class FileError : public std::runtime_error, public Error {
public:
    /// An exception carrying `message`.
    explicit FileError(const std::string& message) : std::runtime_error(message) {}
    /// The message given to the constructor.
    const char* what() const noexcept override { return std::runtime_error::what(); }
};

/// Training produced a non-finite cost. train() puts back the parameters of an earlier
/// epoch where it kept them: kept_epoch() names it (0-based), or is -1 when the network
/// holds the parameters of the failing step.
class DivergenceError : public std::runtime_error, public Error {
public:
    /// An exception carrying `message`; `kept_epoch` is the epoch whose parameters the
    /// network holds now (0-based), or -1 for those of the failing step.
    explicit DivergenceError(const std::string& message, long kept_epoch = -1)
        : std::runtime_error(message), kept_epoch_(kept_epoch) {}
    /// The message given to the constructor.
    const char* what() const noexcept override { return std::runtime_error::what(); }
    /// The 0-based epoch whose parameters train() put back, or -1 when the network holds
    /// the parameters of the failing step.
    long kept_epoch() const noexcept { return kept_epoch_; }

private:
    long kept_epoch_;
};

/// Text from a file or a user as it may appear in a message or an output line: control
/// characters and bytes above 126 as \\xNN and a backslash as two (so an escape is never
/// ambiguous), at most `limit` characters then "...", so the line stays one readable line
/// that cannot drive the terminal. nndl's own messages pass
/// file text through it; programs use it for names they print (CSV columns, file names).
inline std::string printable(const std::string& text, std::size_t limit = 200) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (i == limit) {
            return out + "...";
        }
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte < 0x20 || byte > 0x7e) {
            out += "\\x";
            out += digits[byte >> 4];
            out += digits[byte & 15];
        } else if (byte == '\\') {
            out += "\\\\";
        } else {
            out += text[i];
        }
    }
    return out;
}

namespace detail {

// A message is built by appending each part as `std::ostream <<` writes it, through a few
// non-template functions (text, integers, floating point; anything else is streamed): each
// call site's message is then a row of calls, not a stream of its own (a program's
// messages would otherwise be a hundred stream functions for the compiler to optimize).
inline void append_text(std::string& out, std::string_view text) {
    out += text;
}

inline void append_signed(std::string& out, long long value) {
    out += std::to_string(value);
}

inline void append_unsigned(std::string& out, unsigned long long value) {
    out += std::to_string(value);
}

// float widens to double, as ostream's operator<< does; long double stays itself.
inline void append_floating(std::string& out, long double value, bool is_long_double) {
    std::ostringstream stream;
    if (is_long_double) {
        stream << value;
    } else {
        stream << static_cast<double>(value);
    }
    out += stream.str();
}

/// Appends one part: text as it is (a null pointer as nothing), a character as itself, a
/// number as a stream writes it, anything else through its `operator<<`.
template <class T>
void append_part(std::string& out, const T& value) {
    static_assert(!std::is_invocable_v<T, std::ios_base&>,
                  "concat: a stream manipulator would not reach the parts after it");
    if constexpr (std::is_same_v<T, const char*> || std::is_same_v<T, char*>) {
        if (value != nullptr) {
            append_text(out, value);
        }
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
        append_text(out, value);
    } else if constexpr (std::is_same_v<T, char> || std::is_same_v<T, signed char> || std::is_same_v<T, unsigned char>) {
        out += static_cast<char>(value);
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
        append_signed(out, value);
    } else if constexpr (std::is_integral_v<T>) {
        append_unsigned(out, value);
    } else if constexpr (std::is_floating_point_v<T>) {
        append_floating(out, value, sizeof(T) > sizeof(double));
    } else {
        std::ostringstream stream;
        stream << value;
        out += stream.str();
    }
}

/// The parts as one string, each written as `std::ostream <<` would write it.
template <class... Parts>
std::string concat(const Parts&... parts) {
    std::string out;
    (append_part(out, parts), ...);
    return out;
}

[[noreturn]] inline void throw_invalid_message(const std::string& message) {
    throw InvalidArgument(message);
}

[[noreturn]] inline void throw_shape_message(const std::string& message) {
    throw ShapeError(message);
}

template <class... Parts>
[[noreturn]] void throw_invalid(const Parts&... parts) {
    throw_invalid_message(concat(parts...));
}

template <class... Parts>
[[noreturn]] void throw_shape(const Parts&... parts) {
    throw_shape_message(concat(parts...));
}

inline void require_rows(const char* where, const char* what, Eigen::Index rows, Eigen::Index expected,
                         const char* expecter = "expected") {
    if (rows != expected) {
        throw_shape(where, ": ", what, " has ", rows, " rows, ", expecter, " ", expected);
    }
}

inline void require_cols(const char* where, const char* what, Eigen::Index cols, Eigen::Index expected,
                         const char* expecter = "expected") {
    if (cols != expected) {
        throw_shape(where, ": ", what, " has ", cols, " columns, ", expecter, " ", expected);
    }
}

template <class A, class B>
void require_same_shape(const char* where, const char* what_a, const A& a, const char* what_b, const B& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) {
        throw_shape(where, ": ", what_a, " is ", a.rows(), "x", a.cols(), " but ", what_b, " is ", b.rows(),
                    "x", b.cols());
    }
}

inline void require_examples(const char* where, Eigen::Index cols) {
    if (cols == 0) {
        throw_shape(where, ": input has 0 columns (examples), expected at least 1");
    }
}

/// Whether every value of `m` is finite, in one vectorized pass: x * 0 is 0 for a finite x
/// and NaN for an infinite or NaN one, so their sum is 0 exactly when all are finite (Eigen's
/// allFinite and hasNaN test value by value with a branch: a tenth of a prediction's time).
template <class M>
bool all_finite(const M& m) {
    using Value = typename M::Scalar;
    return (m.array() * Value(0)).sum() == Value(0);
}

template <class M>
void require_finite(const char* where, const char* what, const M& m) {
    if (all_finite(m)) {  // the loop below only finds where
        return;
    }
    for (Eigen::Index j = 0; j < m.cols(); ++j) {
        for (Eigen::Index i = 0; i < m.rows(); ++i) {
            if (!std::isfinite(static_cast<double>(m(i, j)))) {
                throw_invalid(where, ": ", what, " has a non-finite value (", m(i, j), ") at row ", i,
                              ", column ", j, "; expected finite numbers");
            }
        }
    }
}

}  // namespace detail
}  // namespace nndl
