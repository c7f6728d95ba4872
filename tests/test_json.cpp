// JSON reader and writer for model architecture descriptions: round trips, exact
// text, number fidelity, every strictness rule, typed access errors.
#include "test_support.hpp"

#include <nndl/detail/json.hpp>

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace json = nndl::detail::json;
using json::Value;

namespace {

std::uint64_t bits_of(double x) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &x, sizeof bits);
    return bits;
}

std::string parse_error(const std::string& text) {
    return nndl_test::message_of<nndl::FileError>([&] { json::parse(text, "t"); });
}

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

Value sample() {
    Value layers = Value::array();
    layers.push_back(Value::object()).set("units", 20);
    layers.push_back(Value::object()).set("activation", "relu");
    Value doc = Value::object();
    doc.set("format", "nndl");
    doc.set("version", 1);
    doc.set("sizes", "replaced below, keeping its place");
    Value& sizes = doc.set("sizes", Value::array());
    for (int n : {12288, 20, 7, 1}) {
        sizes.push_back(n);
    }
    doc.set("layers", layers);
    doc.set("keep_prob", 0.86);
    doc.set("l2", -1e-300);
    doc.set("flags", Value::array());
    doc.set("text", std::string("quote \" backslash \\ slash / tab \t nul ") + '\0' +
                        " \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    doc.set("none", nullptr);
    doc.set("yes", true);
    doc.set("no", false);
    doc.set("empty", Value::object());
    return doc;
}

}  // namespace

TEST_CASE("json: parse(dump(v)) gives v back for nested values") {
    const Value doc = sample();
    const std::string text = json::dump(doc);
    const Value back = json::parse(text, "t");
    CHECK(back == doc);
    CHECK(json::dump(back) == text);
    CHECK(back.at("sizes", "doc").size() == 4);
    CHECK(back.at("text", "doc").as_string("text") == doc.at("text", "doc").as_string("text"));
    CHECK(json::parse(" \t\r\n[ ]\n", "t") == Value::array());
    CHECK(json::parse("{ \"a\" : [ 1 , { } ] }", "t").size() == 1);
    CHECK(json::parse(nested_arrays(64), "t").is_array());  // 64 levels are allowed
}

TEST_CASE("json: dump writes compact text in insertion order") {
    Value v = Value::object();
    Value& a = v.set("a", Value::array());
    a.push_back(1);
    a.push_back(2.5);
    a.push_back("x");
    v.set("b", Value());
    CHECK(json::dump(v) == R"({"a":[1,2.5,"x"],"b":null})");

    Value w = Value::object();
    w.set("z", 1);
    w.set("a", 2);
    w.set("z", true);  // replaced where it is
    CHECK(json::dump(w) == R"({"z":true,"a":2})");
    CHECK(json::dump(Value(std::string("a\x01\n\"\\/\x7F\xC3\xA9"))) == "\"a\\u0001\\u000a\\\"\\\\/\x7F\xC3\xA9\"");
    CHECK(json::dump(Value(false)) == "false");
    CHECK(json::dump(Value::array()) == "[]");
    CHECK(json::dump(Value::object()) == "{}");
    CHECK(json::dump(Value(-42)) == "-42");
}

TEST_CASE("json: integers stay integers, other numbers become reals") {
    const Value big = json::parse("9007199254740993", "t");
    REQUIRE(big.is_integer());
    CHECK(big.as_integer("n") == 9007199254740993LL);
    CHECK(json::dump(big) == "9007199254740993");
    CHECK(json::parse("9223372036854775807", "t").as_integer("n") == std::numeric_limits<long long>::max());
    CHECK(json::parse("-9223372036854775808", "t").as_integer("n") == std::numeric_limits<long long>::min());
    const Value past = json::parse("9223372036854775808", "t");
    CHECK(past.is_real());
    CHECK(past.as_number("n") == 9223372036854775808.0);
    CHECK(json::parse("-0", "t").is_integer());
    CHECK(json::parse("1.0", "t").is_real());
    CHECK(json::parse("1E+2", "t").as_number("n") == 100.0);
    CHECK(json::parse("1e2", "t").is_real());
    CHECK(Value(42u).is_integer());
    CHECK(Value(std::size_t{7}).as_integer("n") == 7);
    CHECK(Value(1.5f).is_real());
    CHECK(nndl_test::message_of<nndl::InvalidArgument>([] { Value(std::numeric_limits<std::size_t>::max()); }) ==
          "json::Value: integer 18446744073709551615 does not fit in long long");
}

TEST_CASE("json: reals round-trip bit for bit") {
    for (double x : {0.1, 1e-300, 5e-324, -0.0, 0.0, 1.0, 1.0 / 3.0, 1e21, 123456.0, 12345678901234568.0,
                     1.7976931348623157e308, 2.2250738585072014e-308, -2.5}) {
        const std::string text = json::dump(Value(x));
        INFO(text);
        const Value back = json::parse(text, "t");
        REQUIRE(back.is_real());
        CHECK(bits_of(back.as_number("x")) == bits_of(x));
    }
    CHECK(json::dump(Value(1.0)) == "1.0");
    CHECK(json::dump(Value(-0.0)) == "-0.0");
    CHECK(json::dump(Value(0.1)) == "0.1");
    CHECK(json::dump(Value(1e100)) == "1e+100");
    // Too small for a double rounds to zero, keeping the sign; only too large is an error.
    CHECK(bits_of(json::parse("1e-400", "t").as_number("x")) == bits_of(0.0));
    CHECK(bits_of(json::parse("-0.00001e-330", "t").as_number("x")) == bits_of(-0.0));
    CHECK(json::parse("0.00001e313", "t").as_number("x") == 1e308);
}

TEST_CASE("json: strings, escapes and UTF-8") {
    CHECK(json::parse(R"("\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC\ud83d\ude00")", "t").as_string("s") ==
          "\"\\/\b\f\n\r\tA\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
    CHECK(json::parse(R"("\u0000")", "t").as_string("s") == std::string(1, '\0'));
    CHECK(json::parse("\"\xF4\x8F\xBF\xBF \x7F\"", "t").as_string("s") == "\xF4\x8F\xBF\xBF \x7F");
}

TEST_CASE("json: malformed input is rejected with where, byte and reason") {
    struct Bad {
        std::string text;
        std::size_t byte;
        std::string reason;
    };
    const std::vector<Bad> bad = {
        {"", 0, "unexpected end of input, expected a value"},
        {"  \n", 3, "unexpected end of input, expected a value"},
        {"[1,2,]", 5, "trailing comma in array"},
        {"{\"a\":1,}", 7, "trailing comma in object"},
        {"[1,,2]", 3, "unexpected ',', expected a value"},
        {"[1 2]", 3, "unexpected '2', expected ',' or ']' in array"},
        {"[1", 2, "unexpected end of input, expected ',' or ']' in array"},
        {"{\"a\":1 \"b\":2}", 7, "unexpected '\"', expected ',' or '}' in object"},
        {"{1:2}", 1, "unexpected '1', expected a string key in object"},
        {"{\"a\" 1}", 5, "unexpected '1', expected ':' after the key"},
        {"{\"a\":}", 5, "unexpected '}', expected a value"},
        {"{\"a\":1,\"b\":2,\"a\":3}", 13, "duplicate key \"a\""},
        {"01", 0, "leading zeros are not allowed"},
        {"[-012]", 1, "leading zeros are not allowed"},
        {"+1", 0, "a number cannot start with '+'"},
        {"-", 1, "expected a digit after '-'"},
        {"-Infinity", 1, "expected a digit after '-'"},
        {"NaN", 0, "unexpected 'N', expected a value"},
        {"Infinity", 0, "unexpected 'I', expected a value"},
        {"nan", 0, "invalid literal, expected null"},
        {"tru", 0, "invalid literal, expected true"},
        {"[fals]", 1, "invalid literal, expected false"},
        {"0x10", 1, "unexpected 'x' after the value"},
        {".5", 0, "unexpected '.', expected a value"},
        {"1.", 2, "expected a digit after '.'"},
        {"1.e5", 2, "expected a digit after '.'"},
        {"1e", 2, "expected a digit after the exponent mark"},
        {"1e+", 3, "expected a digit after the exponent mark"},
        {"1e400", 0, "number is out of range for a double"},
        {"[-1.5e99999999999999999999]", 1, "number is out of range for a double"},
        {"123456789e301", 0, "number is out of range for a double"},
        {"\"\\ud800\"", 1, "lone surrogate \\ud800"},
        {"[\"\\udc00\"]", 2, "lone surrogate \\udc00"},
        {"\"\\ud800\\u0041\"", 1, "lone surrogate \\ud800"},
        {"\"\\ud800\\ud800\"", 1, "lone surrogate \\ud800"},
        {"\"\\u12\"", 1, "\\u must be followed by 4 hex digits"},
        {"\"\\ud800\\u12\"", 7, "\\u must be followed by 4 hex digits"},
        {"\"\\x\"", 1, "invalid escape, unexpected 'x' after '\\'"},
        {"\"a\nb\"", 2, "raw control character 0x0a in string"},
        {"\"tab\there\"", 4, "raw control character 0x09 in string"},
        {"\"abc", 0, "unterminated string"},
        {"[\"abc\\", 1, "unterminated string"},
        {"[\"abc\\u", 5, "\\u must be followed by 4 hex digits"},
        {"\"\xC0\xAF\"", 1, "invalid UTF-8 in string"},          // overlong '/'
        {"\"\xED\xA0\x80\"", 1, "invalid UTF-8 in string"},      // encoded surrogate
        {"\"\xF4\x90\x80\x80\"", 1, "invalid UTF-8 in string"},  // above U+10FFFF
        {"\"\xE2\x82\"", 1, "invalid UTF-8 in string"},          // truncated
        {"\"\xFF\"", 1, "invalid UTF-8 in string"},
        {"\xEF\xBB\xBF{}", 0, "unexpected byte 0xef, expected a value"},  // a BOM
        {"\v1", 0, "unexpected byte 0x0b, expected a value"},
        {"1\f", 1, "unexpected byte 0x0c after the value"},
        {std::string("1\0", 2), 1, "unexpected byte 0x00 after the value"},
        {"[1] x", 4, "unexpected 'x' after the value"},
        {"1 2", 2, "unexpected '2' after the value"},
        {"'a'", 0, "unexpected ''', expected a value"},
        {nested_arrays(65), 64, "nesting deeper than 64 levels"},
        {"{\"a\":" + nested_arrays(64) + "}", 68, "nesting deeper than 64 levels"},
    };
    for (const auto& [text, byte, reason] : bad) {
        INFO(text);
        CHECK(parse_error(text) == "t: invalid JSON at byte " + std::to_string(byte) + ": " + reason);
    }
}

TEST_CASE("json: input over 16 MiB is rejected, 16 MiB is read") {
    std::string text(json::max_input_bytes, ' ');
    text[0] = '0';
    CHECK(json::parse(text, "t").as_integer("n") == 0);
    text += ' ';
    CHECK(parse_error(text) == "t: invalid JSON at byte 16777216: input is 16777217 bytes, more than the 16 MiB limit");
}

TEST_CASE("json: typed access names the value, its type and the expected type") {
    const Value doc = json::parse(R"({"sizes":"12","n":3,"x":1.5,"flag":true,"list":[1],"obj":{},"none":null})", "t");
    using nndl_test::message_of;
    using nndl::FileError;
    CHECK(message_of<FileError>([&] { doc.at("sizes", "doc").as_array("sizes"); }) ==
          "\"sizes\" is a string, expected an array");
    CHECK(message_of<FileError>([&] { doc.at("x", "doc").as_integer("x"); }) ==
          "\"x\" is a real number, expected an integer");
    CHECK(message_of<FileError>([&] { doc.at("sizes", "doc").as_number("sizes"); }) ==
          "\"sizes\" is a string, expected a number");
    CHECK(message_of<FileError>([&] { doc.at("none", "doc").as_bool("none"); }) ==
          "\"none\" is null, expected a boolean");
    CHECK(message_of<FileError>([&] { doc.at("n", "doc").as_string("n"); }) ==
          "\"n\" is an integer, expected a string");
    CHECK(message_of<FileError>([&] { doc.at("flag", "doc").items("flag"); }) ==
          "\"flag\" is a boolean, expected an object");
    CHECK(message_of<FileError>([&] { doc.at("units", "layer"); }) == "\"layer\" has no \"units\"");
    CHECK(message_of<FileError>([&] { doc.at("list", "doc").at("units", "list"); }) ==
          "\"list\" is an array, expected an object");
    CHECK(doc.at("n", "doc").as_number("n") == 3.0);
    CHECK(doc.at("x", "doc").as_number("x") == 1.5);
    CHECK(doc.at("flag", "doc").as_bool("flag"));
    CHECK(doc.at("list", "doc").as_array("list").at(0).as_integer("list[0]") == 1);
    CHECK(doc.items("doc").size() == 7);
    CHECK(doc.items("doc")[2].first == "x");
    CHECK(doc.find("missing") == nullptr);
    CHECK(doc.at("list", "doc").find("0") == nullptr);
    CHECK(doc.find("obj") != nullptr);
    CHECK(doc.at("sizes", "doc").size() == 0);
    CHECK(doc.at("none", "doc").is_null());
    CHECK(doc.at("none", "doc").type() == Value::Type::null);
}

TEST_CASE("json: building mistakes and unwritable values throw InvalidArgument") {
    using nndl_test::message_of;
    using nndl::InvalidArgument;
    CHECK(message_of<InvalidArgument>([] { Value::array().set("a", 1); }) ==
          "json::Value::set: value is an array, not an object");
    CHECK(message_of<InvalidArgument>([] { Value(3).push_back(1); }) ==
          "json::Value::push_back: value is an integer, not an array");
    CHECK(message_of<InvalidArgument>([] { json::dump(Value(std::numeric_limits<double>::quiet_NaN())); }) ==
          "json::dump: nan is not finite, JSON has no NaN/Infinity");
    Value nested = Value::object();
    nested.set("list", Value::array()).push_back(-std::numeric_limits<double>::infinity());
    CHECK(message_of<InvalidArgument>([&] { json::dump(nested); }) ==
          "json::dump: -inf is not finite, JSON has no NaN/Infinity");
    CHECK(message_of<InvalidArgument>([] { json::dump(Value("a\xFF")); }) ==
          "json::dump: string has invalid UTF-8 at byte 1");
    Value deep = Value::array();
    for (int i = 1; i < 64; ++i) {
        Value outer = Value::array();
        outer.push_back(std::move(deep));
        deep = std::move(outer);
    }
    CHECK(json::dump(deep) == nested_arrays(64));
    Value deeper = Value::array();
    deeper.push_back(deep);
    CHECK(message_of<InvalidArgument>([&] { json::dump(deeper); }) ==
          "json::dump: nesting deeper than 64 levels, which parse rejects");
}

TEST_CASE("json: equality is deep, ignores member order, keeps types apart") {
    CHECK(json::parse(R"({"a":1,"b":[true,null]})", "t") == json::parse(R"({"b":[true,null],"a":1})", "t"));
    CHECK(json::parse(R"({"a":1})", "t") != json::parse(R"({"a":1.0})", "t"));
    CHECK(json::parse(R"({"a":1})", "t") != json::parse(R"({"a":1,"b":2})", "t"));
    CHECK(json::parse(R"({"a":1,"c":2})", "t") != json::parse(R"({"a":1,"b":2})", "t"));
    CHECK(json::parse("[1,2]", "t") != json::parse("[2,1]", "t"));
    CHECK(Value("x") == Value(std::string("x")));
    CHECK(Value() == Value(nullptr));
    CHECK(Value(0.0) == Value(-0.0));
    CHECK(Value(true) != Value(1));
}

TEST_CASE("json: mutated documents either parse and round-trip or throw FileError") {
    const std::string seed = "[" + json::dump(sample()) + R"(, [0.5e-3,-0,"\u00e9\ud83d\ude00",{"k":[[]]}]])";
    const std::string alphabet = "{}[]\",:\\/-+.0123456789eEtfnrlsuabxN \t\n\x01\x7F\xC3\xA9\xED\xF0";
    std::mt19937 random(12345);
    int parsed = 0;
    for (int i = 0; i < 4000; ++i) {
        std::string text = seed.substr(static_cast<std::size_t>(i) % 7 == 0 ? seed.size() / 2 : 0);
        for (int edit = 0; edit < 1 + i % 4; ++edit) {
            const std::size_t at = random() % (text.size() + 1);
            const char c = alphabet[random() % alphabet.size()];
            switch (random() % 3) {
                case 0: text.insert(at, 1, c); break;
                case 1: text.erase(at, 1); break;
                default: text.replace(at, 1, 1, c); break;
            }
        }
        try {
            const Value v = json::parse(text, "t");
            ++parsed;
            CHECK(json::parse(json::dump(v), "t") == v);
        } catch (const nndl::FileError& e) {
            CHECK(std::string(e.what()).rfind("t: invalid JSON at byte ", 0) == 0);
        }
    }
    CHECK(parsed > 100);  // 641 with this seed
}
