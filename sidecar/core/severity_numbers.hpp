#pragma once
// OpenTelemetry severity numbers (0 = unknown): what the parsers produce and
// LOGFERRY_MIN_SEVERITY compares against.
#include <cstdint>

namespace logferry {

inline constexpr int32_t kSeverityTrace = 1;
inline constexpr int32_t kSeverityDebug = 5;
inline constexpr int32_t kSeverityInfo = 9;
inline constexpr int32_t kSeverityWarn = 13;
inline constexpr int32_t kSeverityError = 17;
inline constexpr int32_t kSeverityFatal = 21;

}  // namespace logferry
