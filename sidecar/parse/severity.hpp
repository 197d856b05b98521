#pragma once
// Levels as written in logs, mapped to OpenTelemetry severity numbers
// (TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21; 0 = unknown).
#include <cstdint>
#include <string_view>

#include "sidecar/core/severity_numbers.hpp"

namespace logferry {

// "info", "WARN", "Warning", "err", "E", "crit", "panic", ...; 0 when unknown.
int32_t severity_from_text(std::string_view text);

// Numeric levels of pino/bunyan (10 trace ... 60 fatal); 0 for other numbers.
int32_t severity_from_number(int64_t level);

// Syslog severity 0 (emerg) .. 7 (debug): emerg/alert/crit FATAL, err ERROR,
// warning WARN, notice INFO2 (10), info INFO, debug DEBUG.
int32_t severity_from_syslog(int syslog_severity);

}  // namespace logferry
