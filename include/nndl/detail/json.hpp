#pragma once
// A small JSON reader and writer for the architecture description in model files.
// The reader is strict because those files are untrusted: it takes exactly RFC 8259
// in valid UTF-8, rejects duplicate keys, and bounds the input (16 MiB) and the
// nesting (64), so a file it accepts has one meaning and cannot exhaust the stack.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "../errors.hpp"

namespace nndl::detail::json {

inline constexpr std::size_t max_input_bytes = std::size_t{16} << 20;
inline constexpr int max_depth = 64;

/// A JSON value. Objects keep their members in insertion order.
///
/// Typed access to a value of another type throws FileError without a location:
///   "\"<what>\" is a string, expected an array"    (as_*, items, at)
///   "\"<what>\" has no \"<key>\""                   (at)
/// so a file reader catches FileError and prefixes its own "<where>: ".
/// Building mistakes (set on a non-object, ...) throw InvalidArgument.
class Value {
public:
    enum class Type { null, boolean, integer, real, string, array, object };
    using Array = std::vector<Value>;
    using Object = std::vector<std::pair<std::string, Value>>;

    Value() = default;
    Value(std::nullptr_t) {}
    Value(bool b) : type_(Type::boolean), boolean_(b) {}
    template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                                            !std::is_same_v<T, char>, int> = 0>
    Value(T n) : type_(Type::integer), integer_(to_long_long(n)) {}
    Value(double x) : type_(Type::real), real_(x) {}
    Value(std::string s) : type_(Type::string), text_(std::move(s)) {}
    Value(const char* s) : type_(Type::string), text_(s) {}
    static Value array() { return Value(Array()); }
    static Value object() { return Value(Object()); }

    Type type() const { return type_; }
    bool is_null() const { return type() == Type::null; }
    bool is_bool() const { return type() == Type::boolean; }
    bool is_integer() const { return type() == Type::integer; }
    bool is_real() const { return type() == Type::real; }
    bool is_number() const { return is_integer() || is_real(); }
    bool is_string() const { return type() == Type::string; }
    bool is_array() const { return type() == Type::array; }
    bool is_object() const { return type() == Type::object; }

    bool as_bool(const std::string& what) const { return require(Type::boolean, what, "a boolean").boolean_; }
    long long as_integer(const std::string& what) const { return require(Type::integer, what, "an integer").integer_; }
    /// An integer or a real, as a double.
    double as_number(const std::string& what) const {
        return is_integer() ? static_cast<double>(integer_) : require(Type::real, what, "a number").real_;
    }
    const std::string& as_string(const std::string& what) const { return require(Type::string, what, "a string").text_; }
    const Array& as_array(const std::string& what) const { return require(Type::array, what, "an array").array_; }
    const Object& items(const std::string& what) const { return require(Type::object, what, "an object").object_; }

    /// The member named `key`, or nullptr when there is none or this is not an object.
    const Value* find(const std::string& key) const { return is_object() ? find_in(object_, key) : nullptr; }
    const Value& at(const std::string& key, const std::string& what) const {
        if (const Value* v = find_in(items(what), key)) {
            return *v;
        }
        throw FileError(concat("\"", what, "\" has no \"", key, "\""));
    }

    /// Replaces the member `key` where it is, or appends it. Returns the stored value,
    /// valid until the next change to this object.
    Value& set(const std::string& key, Value v) {
        if (!is_object()) {
            throw_invalid("json::Value::set: value is ", describe(type()), ", not an object");
        }
        if (auto* existing = const_cast<Value*>(find_in(object_, key))) {
            return *existing = std::move(v);
        }
        return object_.emplace_back(key, std::move(v)).second;
    }
    Value& push_back(Value v) {
        if (!is_array()) {
            throw_invalid("json::Value::push_back: value is ", describe(type()), ", not an array");
        }
        return array_.emplace_back(std::move(v));
    }

    /// Elements of an array or members of an object; 0 for any other value.
    std::size_t size() const { return is_array() ? array_.size() : is_object() ? object_.size() : 0; }

    /// Deep equality. Member order does not matter; an integer never equals a real.
    bool operator==(const Value& other) const {
        if (type_ != other.type_) {
            return false;
        }
        switch (type_) {
            case Type::null: return true;
            case Type::boolean: return boolean_ == other.boolean_;
            case Type::integer: return integer_ == other.integer_;
            case Type::real: return real_ == other.real_;
            case Type::string: return text_ == other.text_;
            case Type::array: return array_ == other.array_;
            case Type::object: break;
        }
        return object_.size() == other.object_.size() &&
               std::all_of(object_.begin(), object_.end(), [&](const auto& member) {
                   const Value* theirs = other.find(member.first);
                   return theirs != nullptr && member.second == *theirs;
               });
    }
    bool operator!=(const Value& other) const { return !(*this == other); }

    static const char* describe(Type t) {
        constexpr const char* names[] = {"null",     "a boolean", "an integer", "a real number",
                                         "a string", "an array",  "an object"};
        return names[static_cast<int>(t)];
    }

private:
    explicit Value(Array elements) : type_(Type::array), array_(std::move(elements)) {}
    explicit Value(Object members) : type_(Type::object), object_(std::move(members)) {}
    friend class Parser;

    template <class T>
    static long long to_long_long(T n) {
        if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(long long)) {
            if (n > static_cast<unsigned long long>(std::numeric_limits<long long>::max())) {
                throw_invalid("json::Value: integer ", n, " does not fit in long long");
            }
        }
        return static_cast<long long>(n);
    }

    static const Value* find_in(const Object& members, const std::string& key) {
        const auto it = std::find_if(members.begin(), members.end(),
                                     [&](const auto& member) { return member.first == key; });
        return it == members.end() ? nullptr : &it->second;
    }

    const Value& require(Type t, const std::string& what, const char* expected) const {
        if (type_ != t) {
            throw FileError(concat("\"", what, "\" is ", describe(type()), ", expected ", expected));
        }
        return *this;
    }

    // A tagged record rather than std::variant: GCC 12 reports false "maybe uninitialized"
    // warnings for a recursive variant at -O2. Only the member of type_ is meaningful.
    Type type_ = Type::null;
    bool boolean_ = false;
    long long integer_ = 0;
    double real_ = 0.0;
    std::string text_;
    Array array_;
    Object object_;
};

/// `digits` lowercase hex digits of `value`.
inline std::string hex(unsigned value, int digits) {
    std::string out(static_cast<std::size_t>(digits), '0');
    for (auto i = out.size(); i-- > 0; value >>= 4) {
        out[i] = "0123456789abcdef"[value & 0xF];
    }
    return out;
}

/// Length of the well-formed UTF-8 sequence of 2-4 bytes at s[at], or 0 when there is
/// none (overlong forms, surrogates and code points above U+10FFFF are not well-formed).
inline std::size_t utf8_length(std::string_view s, std::size_t at) {
    const auto lead = static_cast<unsigned char>(s[at]);
    const std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
    if (length == 0 || lead > 0xF4 || s.size() - at < length) {
        return 0;
    }
    std::uint32_t code = lead & (0x7Fu >> length);
    for (std::size_t i = 1; i < length; ++i) {
        const auto next = static_cast<unsigned char>(s[at + i]);
        if ((next & 0xC0u) != 0x80u) {
            return 0;
        }
        code = (code << 6) | (next & 0x3Fu);
    }
    const bool overlong = (length == 3 && code < 0x800) || (length == 4 && code < 0x10000);
    return overlong || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF ? 0 : length;
}

/// Appends `s` quoted and escaped; throws InvalidArgument on invalid UTF-8.
inline void append_quoted(std::string& out, std::string_view s) {
    out += '"';
    for (std::size_t i = 0, length = 1; i < s.size(); i += length) {
        const auto c = static_cast<unsigned char>(s[i]);
        length = c < 0x80 ? 1 : utf8_length(s, i);
        if (length == 0) {
            throw_invalid("json::dump: string has invalid UTF-8 at byte ", i);
        }
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c < 0x20 ? "\\u00" + hex(c, 2) : std::string(s.substr(i, length));
    }
    out += '"';
}

/// The recursive-descent reader behind parse(); the depth limit bounds its recursion.
class Parser {
public:
    Parser(std::string_view text, const std::string& where) : text_(text), where_(where) {}

    Value document() {
        if (text_.size() > max_input_bytes) {
            fail(max_input_bytes, "input is ", text_.size(), " bytes, more than the 16 MiB limit");
        }
        Value v = value(0);
        skip_whitespace();
        if (pos_ != text_.size()) {
            fail(pos_, "unexpected ", here(), " after the value");
        }
        return v;
    }

private:
    template <class... Parts>
    [[noreturn]] void fail(std::size_t at, Parts&&... parts) const {
        throw FileError(concat(where_, ": invalid JSON at byte ", at, ": ", std::forward<Parts>(parts)...));
    }

    int peek() const { return pos_ < text_.size() ? static_cast<unsigned char>(text_[pos_]) : -1; }
    static bool is_digit(int c) { return c >= '0' && c <= '9'; }

    /// The byte at pos_, for messages: 'x', byte 0x0a or end of input.
    std::string here() const {
        const int c = peek();
        return c < 0 ? "end of input"
               : c > 0x20 && c < 0x7F ? concat("'", static_cast<char>(c), "'")
                                       : "byte 0x" + hex(static_cast<unsigned>(c), 2);
    }

    void skip_whitespace() {
        for (int c = peek(); c == ' ' || c == '\t' || c == '\n' || c == '\r'; c = peek()) {
            ++pos_;
        }
    }

    Value value(int depth) {
        skip_whitespace();
        const int c = peek();
        if (c == '{' || c == '[') {
            if (depth >= max_depth) {
                fail(pos_, "nesting deeper than ", max_depth, " levels");
            }
            return c == '{' ? object(depth + 1) : array(depth + 1);
        }
        if (c == '"') {
            return Value(string());
        }
        if (c == '-' || is_digit(c)) {
            return number();
        }
        for (const std::string_view word : {"true", "false", "null"}) {
            if (c == word[0]) {
                if (text_.substr(pos_, word.size()) != word) {
                    fail(pos_, "invalid literal, expected ", word);
                }
                pos_ += word.size();
                return c == 'n' ? Value() : Value(c == 't');
            }
        }
        if (c == '+') {
            fail(pos_, "a number cannot start with '+'");
        }
        fail(pos_, "unexpected ", here(), ", expected a value");
    }

    // After an element: true at ',' (consumed), false at `close` (consumed).
    bool next(char close, const char* container) {
        skip_whitespace();
        if (peek() == ',') {
            ++pos_;
            skip_whitespace();
            if (peek() == close) {
                fail(pos_, "trailing comma in ", container);
            }
            return true;
        }
        if (peek() != close) {
            fail(pos_, "unexpected ", here(), ", expected ',' or '", close, "' in ", container);
        }
        ++pos_;
        return false;
    }

    // Whether the container opened at pos_ is empty; consumes the opening (and closing) bracket.
    bool empty(char close) {
        ++pos_;
        skip_whitespace();
        return peek() == close ? (++pos_, true) : false;
    }

    Value array(int depth) {
        Value::Array elements;
        if (!empty(']')) {
            do {
                elements.push_back(value(depth));
            } while (next(']', "array"));
        }
        return Value(std::move(elements));
    }

    Value object(int depth) {
        Value::Object members;
        std::unordered_set<std::string> seen;
        if (!empty('}')) {
            do {
                skip_whitespace();
                const std::size_t key_at = pos_;
                if (peek() != '"') {
                    fail(pos_, "unexpected ", here(), ", expected a string key in object");
                }
                std::string key = string();
                if (!seen.insert(key).second) {
                    std::string quoted;
                    append_quoted(quoted, key);
                    fail(key_at, "duplicate key ", quoted);
                }
                skip_whitespace();
                if (peek() != ':') {
                    fail(pos_, "unexpected ", here(), ", expected ':' after the key");
                }
                ++pos_;
                members.emplace_back(std::move(key), value(depth));
            } while (next('}', "object"));
        }
        return Value(std::move(members));
    }

    std::string string() {
        const std::size_t start = pos_++;
        std::string out;
        for (int c = peek(); c != '"'; c = peek()) {
            if (c < 0) {
                fail(start, "unterminated string");
            } else if (c < 0x20) {
                fail(pos_, "raw control character 0x", hex(static_cast<unsigned>(c), 2), " in string");
            } else if (c == '\\') {
                escape(out);
            } else {
                const std::size_t length = c < 0x80 ? 1 : utf8_length(text_, pos_);
                if (length == 0) {
                    fail(pos_, "invalid UTF-8 in string");
                }
                out.append(text_.substr(pos_, length));
                pos_ += length;
            }
        }
        ++pos_;
        return out;
    }

    void escape(std::string& out) {
        static constexpr std::string_view from = "\"\\/bfnrt", to = "\"\\/\b\f\n\r\t";
        const std::size_t at = pos_++;
        const int c = peek();
        if (c < 0) {
            return;  // the caller reports the unterminated string
        }
        if (c != 'u') {
            const std::size_t i = from.find(static_cast<char>(c));
            if (i == from.npos) {
                fail(at, "invalid escape, unexpected ", here(), " after '\\'");
            }
            out += to[i];
            ++pos_;
            return;
        }
        std::uint32_t code = hex4(at);
        if (code >= 0xD800 && code <= 0xDBFF && text_.substr(pos_, 2) == "\\u") {
            const std::size_t low_at = pos_++;
            const std::uint32_t low = hex4(low_at);
            if (low >= 0xDC00 && low <= 0xDFFF) {
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
            }
        }
        if (code >= 0xD800 && code <= 0xDFFF) {
            fail(at, "lone surrogate \\u", hex(code, 4));
        }
        // UTF-8: a lead byte marking n continuation bytes (0xC0, 0xE0, 0xF0), then 6 bits per byte.
        const auto byte = [&](std::uint32_t b) { out += static_cast<char>(static_cast<unsigned char>(b)); };
        const int n = code < 0x80 ? 0 : code < 0x800 ? 1 : code < 0x10000 ? 2 : 3;
        byte(n == 0 ? code : ((0xFF00u >> (n + 1)) & 0xFFu) | (code >> (6 * n)));
        for (int shift = 6 * (n - 1); shift >= 0; shift -= 6) {
            byte(0x80 | ((code >> shift) & 0x3F));
        }
    }

    // Reads the 4 hex digits after the 'u' at pos_ of the escape at `at`.
    std::uint32_t hex4(std::size_t at) {
        std::uint32_t code = 0;
        for (int i = 0; i < 4; ++i) {
            const int c = (++pos_, peek());
            const int lower = c | 0x20;  // 'A' -> 'a'
            const int digit = is_digit(c) ? c - '0' : lower >= 'a' && lower <= 'f' ? lower - 'a' + 10 : -1;
            if (digit < 0) {
                fail(at, "\\u must be followed by 4 hex digits");
            }
            code = code * 16 + static_cast<std::uint32_t>(digit);
        }
        ++pos_;
        return code;
    }

    void digits(const char* after) {
        if (!is_digit(peek())) {
            fail(pos_, "expected a digit after ", after);
        }
        while (is_digit(peek())) {
            ++pos_;
        }
    }

    Value number() {
        const std::size_t start = pos_;
        pos_ += static_cast<std::size_t>(peek() == '-');
        if (peek() != '0') {
            digits("'-'");
        } else if (++pos_, is_digit(peek())) {
            fail(start, "leading zeros are not allowed");
        }
        const bool fraction = peek() == '.';
        if (fraction) {
            ++pos_;
            digits("'.'");
        }
        const bool exponent = peek() == 'e' || peek() == 'E';
        if (exponent) {
            ++pos_;
            pos_ += static_cast<std::size_t>(peek() == '+' || peek() == '-');
            digits("the exponent mark");
        }
        const std::string_view text = text_.substr(start, pos_ - start);
        const char* last = text.data() + text.size();
        long long n = 0;
        if (!fraction && !exponent && std::from_chars(text.data(), last, n).ec == std::errc()) {
            return Value(n);
        }
        double x = 0.0;
        if (std::from_chars(text.data(), last, x).ec == std::errc::result_out_of_range) {
            if (at_least_one(text)) {
                fail(start, "number is out of range for a double");
            }
            x = text[0] == '-' ? -0.0 : 0.0;  // underflow rounds to zero
        }
        return Value(x);
    }

    // Whether a number that from_chars found out of range overflowed rather than underflowed.
    static bool at_least_one(std::string_view text) {
        const std::size_t mark = std::min(text.find_first_of("eE"), text.size());
        const auto first = static_cast<long long>(text.substr(0, mark).find_first_of("123456789"));
        const auto point = static_cast<long long>(std::min(text.substr(0, mark).find('.'), mark));
        long long exponent = 0;
        for (std::size_t i = mark + 1; i < text.size(); ++i) {
            exponent = is_digit(text[i]) ? std::min(exponent * 10 + (text[i] - '0'), 1'000'000'000LL) : exponent;
        }
        const long long order = first < point ? point - first - 1 : point - first;  // of the leading digit
        return order + (text.find('-', mark) != text.npos ? -exponent : exponent) >= 0;
    }

    std::string_view text_;
    const std::string& where_;
    std::size_t pos_ = 0;
};

/// Parses one JSON document. Throws FileError("<where>: invalid JSON at byte N: <reason>"),
/// N counted from 0. Integer literals that fit in long long become Type::integer, other
/// numbers Type::real; a real too large for a double is an error, one too small becomes 0.
inline Value parse(std::string_view text, const std::string& where) {
    return Parser(text, where).document();
}

inline void dump_to(std::string& out, const Value& v, int depth) {
    if (v.is_real()) {
        const double x = v.as_number("");
        if (!std::isfinite(x)) {
            throw_invalid("json::dump: ", x, " is not finite, JSON has no NaN/Infinity");
        }
        char buffer[32];
        const std::size_t start = out.size();
        out.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, x).ptr);
        if (out.find_first_of(".e", start) == std::string::npos) {
            out += ".0";  // so that it reads back as a real
        }
    } else if (v.is_array() || v.is_object()) {
        if (depth >= max_depth) {
            throw_invalid("json::dump: nesting deeper than ", max_depth, " levels, which parse rejects");
        }
        out += v.is_array() ? '[' : '{';
        for (std::size_t i = 0; i < v.size(); ++i) {
            out += i > 0 ? "," : "";
            if (v.is_object()) {
                append_quoted(out, v.items("")[i].first);
                out += ':';
            }
            dump_to(out, v.is_array() ? v.as_array("")[i] : v.items("")[i].second, depth + 1);
        }
        out += v.is_array() ? ']' : '}';
    } else if (v.is_string()) {
        append_quoted(out, v.as_string(""));
    } else {
        out += v.is_integer() ? std::to_string(v.as_integer(""))
               : v.is_null()  ? "null"
               : v.as_bool("") ? "true"
                               : "false";
    }
}

/// Compact, deterministic text: members in insertion order, no spaces, reals in the
/// shortest form that reads back to the same double (always with '.' or 'e').
/// Throws InvalidArgument for NaN/Infinity, invalid UTF-8 or nesting deeper than 64.
inline std::string dump(const Value& v) {
    std::string out;
    dump_to(out, v, 0);
    return out;
}

}  // namespace nndl::detail::json
