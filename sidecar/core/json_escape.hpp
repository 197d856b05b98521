#pragma once
// Appends a string as a JSON string literal (RFC 8259), quotes included.
// Bytes that are not valid UTF-8 are replaced by U+FFFD so the output is
// always valid JSON.
#include <string>
#include <string_view>

namespace logferry {

void append_json_string(std::string& out, std::string_view s);

// Length of the valid UTF-8 sequence starting at s[i] (1 to 4), or 0 when the
// bytes there are not valid UTF-8 (overlong, surrogate, truncated, > U+10FFFF).
size_t utf8_sequence_length(std::string_view s, size_t i);

// Returns true when `s` is valid UTF-8 (no overlongs, no surrogates).
bool is_valid_utf8(std::string_view s);

// Appends `s` to `out` with every byte that is not part of a valid UTF-8
// sequence replaced by U+FFFD. The one repair: anything that crosses a
// boundary (file names, labels, ids) goes through it where it enters.
void append_utf8_repaired(std::string& out, std::string_view s);

// `s` as valid UTF-8 (a copy; invalid bytes replaced by U+FFFD).
std::string utf8_repaired(std::string_view s);

}  // namespace logferry
