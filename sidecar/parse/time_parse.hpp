#pragma once
// Timestamps found in log lines, to nanoseconds since the Unix epoch. Every
// function returns std::nullopt when the text is not of its kind. Formats
// without a year (syslog, klog) take the year of `now_ns`, or the year before
// when that would put the time more than a day in the future.
#include <cstdint>
#include <optional>
#include <string_view>

namespace logferry {

// RFC 3339 / ISO 8601: 2006-01-02T15:04:05[.fraction](Z|+07:00|+0700); ' '
// allowed instead of 'T', no zone means UTC; any number of fraction digits.
std::optional<uint64_t> parse_rfc3339(std::string_view text);

// An epoch number, unit guessed by magnitude: seconds (< 1e11), milliseconds
// (< 1e14), microseconds (< 1e17), else nanoseconds. Negative: nullopt.
std::optional<uint64_t> epoch_to_unix_nano(int64_t value);
std::optional<uint64_t> epoch_to_unix_nano(double value);

// RFC 3339, or an epoch written as digits with an optional fraction.
std::optional<uint64_t> parse_timestamp_text(std::string_view text);

// Syslog (RFC 3164): "Jan  2 15:04:05" (exactly 15 characters).
std::optional<uint64_t> parse_syslog_time(std::string_view text, uint64_t now_ns);

// klog: "0102 15:04:05.123456" (MMDD, then a time with an optional fraction).
std::optional<uint64_t> parse_klog_time(std::string_view text, uint64_t now_ns);

// Common log format: "02/Jan/2006:15:04:05 -0700".
std::optional<uint64_t> parse_clf_time(std::string_view text);

// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);

}  // namespace logferry
