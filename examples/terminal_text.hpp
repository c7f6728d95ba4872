#pragma once
// Text for the terminal: what the programs print about files (their names, messages that
// quote them) goes through terminal_safe, so a name cannot move the cursor, retitle the
// window or clear the screen.

#include <string>

namespace examples {

/// `text` with every control character written as \xNN: the C0 controls and DEL, the C1
/// controls (U+0080 to U+009F, which some terminals obey like ESC [), and any byte that is
/// not part of well-formed UTF-8. Other UTF-8 (a name like "café") stays readable, and
/// backslashes stay as they are: the library's messages have escaped what they quote
/// already (nndl::printable).
inline std::string terminal_safe(const std::string& text) {
    const auto escape = [](unsigned char byte) {
        const char digits[] = "0123456789abcdef";
        return std::string("\\x") + digits[byte >> 4] + digits[byte & 15];
    };
    std::string safe;
    std::size_t i = 0;
    while (i < text.size()) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte < 0x80) {
            safe += byte < 0x20 || byte == 0x7f ? escape(byte) : std::string(1, text[i]);
            ++i;
            continue;
        }
        // The length of a well-formed UTF-8 sequence starting here (0: not one).
        std::size_t length = byte >= 0xc2 && byte <= 0xdf ? 2 : byte >= 0xe0 && byte <= 0xef ? 3 : byte >= 0xf0 && byte <= 0xf4 ? 4 : 0;
        unsigned long code = length == 2 ? byte & 0x1f : length == 3 ? byte & 0x0f : byte & 0x07;
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0;
            if ((next & 0xc0) != 0x80) {
                length = 0;
                break;
            }
            code = (code << 6) | (next & 0x3f);
        }
        const bool overlong = (length == 3 && code < 0x800) || (length == 4 && code < 0x10000);
        const bool invalid = code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff);
        if (length == 0 || overlong || invalid || code <= 0x9f) {  // code <= 0x9f: a C1 control
            const std::size_t bytes = length == 0 || overlong || invalid ? 1 : length;
            for (std::size_t k = 0; k < bytes; ++k) {
                safe += escape(static_cast<unsigned char>(text[i + k]));
            }
            i += bytes;
            continue;
        }
        safe.append(text, i, length);
        i += length;
    }
    return safe;
}

}  // namespace examples
