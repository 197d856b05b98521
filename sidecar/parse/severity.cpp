#include "sidecar/parse/severity.hpp"

#include <array>
#include <cctype>
#include <utility>

namespace logferry {
namespace {

constexpr std::array<std::pair<std::string_view, int32_t>, 27> kNames{{
    {"trace", kSeverityTrace},   {"trc", kSeverityTrace},       {"t", kSeverityTrace},
    {"debug", kSeverityDebug},   {"dbg", kSeverityDebug},       {"d", kSeverityDebug},
    {"info", kSeverityInfo},     {"information", kSeverityInfo}, {"informational", kSeverityInfo},
    {"inf", kSeverityInfo},      {"i", kSeverityInfo},          {"notice", kSeverityInfo + 1},
    {"warn", kSeverityWarn},     {"warning", kSeverityWarn},    {"wrn", kSeverityWarn},
    {"w", kSeverityWarn},        {"error", kSeverityError},     {"err", kSeverityError},
    {"e", kSeverityError},       {"crit", kSeverityFatal},      {"critical", kSeverityFatal},
    {"fatal", kSeverityFatal},   {"f", kSeverityFatal},         {"panic", kSeverityFatal},
    {"alert", kSeverityFatal},   {"emerg", kSeverityFatal},     {"emergency", kSeverityFatal},
}};

}  // namespace

int32_t severity_from_text(std::string_view text) {
  if (text.empty() || text.size() > 13) return 0;
  char lower[13];
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    lower[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  const std::string_view key(lower, text.size());
  for (const auto& [name, number] : kNames)
    if (key == name) return number;
  return 0;
}

int32_t severity_from_number(int64_t level) {
  switch (level) {
    case 10: return kSeverityTrace;
    case 20: return kSeverityDebug;
    case 30: return kSeverityInfo;
    case 40: return kSeverityWarn;
    case 50: return kSeverityError;
    case 60: return kSeverityFatal;
    default: return 0;
  }
}

int32_t severity_from_syslog(int s) {
  static constexpr int32_t kMap[] = {kSeverityFatal, kSeverityFatal, kSeverityFatal, kSeverityError,
                                     kSeverityWarn,  kSeverityInfo + 1, kSeverityInfo, kSeverityDebug};
  return s >= 0 && s <= 7 ? kMap[s] : 0;
}

}  // namespace logferry
