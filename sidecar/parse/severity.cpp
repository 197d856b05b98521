#include "sidecar/parse/severity.hpp"

#include <array>
#include <cctype>
#include <utility>

namespace logferry {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  }
  return true;
}

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

int32_t parse_min_severity(std::string_view text) {
  static constexpr std::array<std::pair<std::string_view, int32_t>, 6> kLevels{{
      {"trace", kSeverityTrace}, {"debug", kSeverityDebug}, {"info", kSeverityInfo},
      {"warn", kSeverityWarn},   {"error", kSeverityError}, {"fatal", kSeverityFatal},
  }};
  for (const auto& [name, number] : kLevels)
    if (iequals(text, name)) return number;
  if (text.empty() || text.size() > 2) return 0;
  int32_t n = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (c - '0');
  }
  return n >= 1 && n <= 24 ? n : 0;
}

}  // namespace logferry
