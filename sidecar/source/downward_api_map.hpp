#pragma once
// The kubelet's format for a map (metadata.labels, metadata.annotations) in a
// downwardAPI volume: one `key="value"` line per entry, keys sorted, the value
// quoted like Go's %q (strconv.Quote: \" \\ \n \t ..., \xHH, \uHHHH,
// \UHHHHHHHH), no newline after the last line.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "sidecar/core/labels.hpp"

namespace logferry {

struct DownwardApiMap {
  Labels pairs;           // in file order; keys and values valid UTF-8 (invalid bytes become U+FFFD)
  size_t bad_lines = 0;   // lines that are not key="value" (skipped, not fatal)
};

// Parses a whole file. Empty lines are ignored; a malformed line is counted
// in bad_lines and skipped.
DownwardApiMap parse_downward_api_map(std::string_view text);

// Unquotes a Go double-quoted string literal, quotes included; nullopt when it
// is not one (missing quotes, unknown escape, raw newline or quote inside).
std::optional<std::string> unquote_go_string(std::string_view quoted);

}  // namespace logferry
