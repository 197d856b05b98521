#pragma once
// Parsers for the kinds of values environment variables hold. Each returns the
// value, or std::nullopt when the text is not of that kind; the env table adds
// the variable's name and what is allowed to the error.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace logferry {

// "1048576", "64KiB", "4MiB", "1GiB", "10MB", "512kB" (case-insensitive units).
std::optional<uint64_t> parse_size(std::string_view text);
// "250ms", "5s", "2m", "1h", "1m30s"; a bare number is seconds.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
// true/false/1/0/yes/no/on/off.
std::optional<bool> parse_bool(std::string_view text);
// A decimal unsigned integer within [min, max].
std::optional<uint64_t> parse_uint(std::string_view text, uint64_t min, uint64_t max);
// "k=v,k2=v2": keys are non-empty; empty text gives an empty list.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_labels(std::string_view text);
// Comma-separated list; items are trimmed and empty items dropped.
std::vector<std::string> split_list(std::string_view text, char sep = ',');
// "host:port" or "[v6]:port"; the port is 0..65535.
std::optional<std::pair<std::string, uint16_t>> parse_host_port(std::string_view text);

// For LOGFERRY_MIN_SEVERITY: a level name (trace, debug, info, warn, error,
// fatal, any case) or a number 1..24, as an OpenTelemetry severity number; 0 when invalid.
int32_t parse_min_severity(std::string_view text);

// Comma-separated URLs as they may be shown: the user information before '@'
// and everything after '?' replaced by "***", e.g.
// loki+https://user:pass@host/x?token=y -> loki+https://***@host/x?***.
std::string redact_urls(std::string_view text);

// Damerau-free Levenshtein distance, for "did you mean" hints.
size_t edit_distance(std::string_view a, std::string_view b);

// Renders a size or duration back the way a person would write it.
std::string format_size(uint64_t bytes);
std::string format_duration(std::chrono::milliseconds d);

}  // namespace logferry
