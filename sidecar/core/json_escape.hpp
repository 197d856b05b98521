#pragma once
// Appends a string as a JSON string literal (RFC 8259), quotes included.
// Bytes that are not valid UTF-8 are replaced by U+FFFD so the output is
// always valid JSON.
#include <string>
#include <string_view>

namespace logferry {

void append_json_string(std::string& out, std::string_view s);

// Returns true when `s` is valid UTF-8 (no overlongs, no surrogates).
bool is_valid_utf8(std::string_view s);

}  // namespace logferry
