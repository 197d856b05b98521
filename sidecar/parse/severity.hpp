#pragma once
// Levels as written in logs, mapped to OpenTelemetry severity numbers
// (TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21; 0 = unknown).
#include <cstdint>
#include <string_view>

namespace logferry {

inline constexpr int32_t kSeverityTrace = 1;
inline constexpr int32_t kSeverityDebug = 5;
inline constexpr int32_t kSeverityInfo = 9;
inline constexpr int32_t kSeverityWarn = 13;
inline constexpr int32_t kSeverityError = 17;
inline constexpr int32_t kSeverityFatal = 21;

// "info", "WARN", "Warning", "err", "E", "crit", "panic", ...; 0 when unknown.
int32_t severity_from_text(std::string_view text);

// Numeric levels of pino/bunyan (10 trace ... 60 fatal); 0 for other numbers.
int32_t severity_from_number(int64_t level);

// Syslog severity 0 (emerg) .. 7 (debug): emerg/alert/crit FATAL, err ERROR,
// warning WARN, notice INFO2 (10), info INFO, debug DEBUG.
int32_t severity_from_syslog(int syslog_severity);

// For LOGFERRY_MIN_SEVERITY: a level name (trace, debug, info, warn, error,
// fatal) or a number 1..24; 0 when invalid.
int32_t parse_min_severity(std::string_view text);

}  // namespace logferry
