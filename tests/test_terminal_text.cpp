// The example programs' terminal_safe: what they print about files cannot drive the terminal.
#include "test_support.hpp"

#include "../examples/terminal_text.hpp"

TEST_CASE("terminal_safe escapes control characters and broken UTF-8, keeps readable text") {
    using examples::terminal_safe;
    CHECK(terminal_safe("plain/name.png") == "plain/name.png");
    CHECK(terminal_safe("a\x1b[2Jb\n\t\x7f") == "a\\x1b[2Jb\\x0a\\x09\\x7f");
    CHECK(terminal_safe("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") == "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    CHECK(terminal_safe("csi\xc2\x9b" "2J") == "csi\\xc2\\x9b2J");       // U+009B, a C1 control
    CHECK(terminal_safe("lone\x9b" "2J") == "lone\\x9b2J");               // not UTF-8
    CHECK(terminal_safe("cut\xe2\x82") == "cut\\xe2\\x82");               // a sequence cut short
    CHECK(terminal_safe("over\xe0\x80\x9b") == "over\\xe0\\x80\\x9b");    // an overlong form of U+001B
    CHECK(terminal_safe("surrogate\xed\xa0\x80") == "surrogate\\xed\\xa0\\x80");
    CHECK(terminal_safe("back\\slash") == "back\\slash");  // the library's escapes stay as written
}
