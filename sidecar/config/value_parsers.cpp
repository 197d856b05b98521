#include "sidecar/config/value_parsers.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "sidecar/core/severity_numbers.hpp"

namespace logferry {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Parses the leading decimal digits of s into value; returns the rest.
std::optional<std::string_view> leading_number(std::string_view s, uint64_t& value) {
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, value);
  if (ec != std::errc{} || ptr == s.data()) return std::nullopt;
  return std::string_view(ptr, static_cast<size_t>(end - ptr));
}

}  // namespace

std::optional<uint64_t> parse_size(std::string_view text) {
  text = trim(text);
  uint64_t n = 0;
  auto rest = leading_number(text, n);
  if (!rest) return std::nullopt;
  const std::string unit = lower(trim(*rest));
  uint64_t mult = 0;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "kib" || unit == "ki" || unit == "k") mult = 1ull << 10;
  else if (unit == "mib" || unit == "mi" || unit == "m") mult = 1ull << 20;
  else if (unit == "gib" || unit == "gi" || unit == "g") mult = 1ull << 30;
  else if (unit == "kb") mult = 1000;
  else if (unit == "mb") mult = 1000 * 1000;
  else if (unit == "gb") mult = 1000ull * 1000 * 1000;
  else return std::nullopt;
  if (n > UINT64_MAX / mult) return std::nullopt;
  return n * mult;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  uint64_t bare = 0;
  if (auto rest = leading_number(text, bare); rest && rest->empty()) {
    return std::chrono::milliseconds(bare * 1000);
  }
  std::chrono::milliseconds total{0};
  while (!text.empty()) {
    uint64_t n = 0;
    auto rest = leading_number(text, n);
    if (!rest || rest->empty()) return std::nullopt;
    size_t unit_len = 0;
    while (unit_len < rest->size() && std::isalpha(static_cast<unsigned char>((*rest)[unit_len]))) ++unit_len;
    const std::string unit = lower(rest->substr(0, unit_len));
    if (n > 1'000'000'000ull) return std::nullopt;
    if (unit == "ms") total += std::chrono::milliseconds(n);
    else if (unit == "s") total += std::chrono::seconds(n);
    else if (unit == "m") total += std::chrono::minutes(n);
    else if (unit == "h") total += std::chrono::hours(n);
    else return std::nullopt;
    text = rest->substr(unit_len);
  }
  return total;
}

std::optional<bool> parse_bool(std::string_view text) {
  const std::string v = lower(trim(text));
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  return std::nullopt;
}

std::optional<uint64_t> parse_uint(std::string_view text, uint64_t min, uint64_t max) {
  text = trim(text);
  uint64_t n = 0;
  auto rest = leading_number(text, n);
  if (!rest || !rest->empty() || n < min || n > max) return std::nullopt;
  return n;
}

std::vector<std::string> split_list(std::string_view text, char sep) {
  std::vector<std::string> out;
  while (true) {
    const size_t pos = text.find(sep);
    const std::string_view item = trim(text.substr(0, pos));
    if (!item.empty()) out.emplace_back(item);
    if (pos == std::string_view::npos) break;
    text.remove_prefix(pos + 1);
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_labels(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& item : split_list(text, ',')) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) return std::nullopt;
    out.emplace_back(std::string(trim(std::string_view(item).substr(0, eq))),
                     std::string(trim(std::string_view(item).substr(eq + 1))));
  }
  return out;
}

std::optional<std::pair<std::string, uint16_t>> parse_host_port(std::string_view text) {
  text = trim(text);
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return std::nullopt;
  }
  if (host.empty()) return std::nullopt;
  const auto p = parse_uint(port, 0, 65535);
  if (!p) return std::nullopt;
  return std::make_pair(std::string(host), static_cast<uint16_t>(*p));
}

std::string redact_urls(std::string_view text) {
  std::string out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    std::string_view url = text.substr(start, comma - start);
    const size_t scheme = url.find("://");
    const size_t host = scheme == std::string_view::npos ? 0 : scheme + 3;
    const size_t authority_end = std::min(url.find_first_of("/?#", host), url.size());
    const size_t at = url.substr(0, authority_end).rfind('@');
    if (at != std::string_view::npos && at >= host) {
      out.append(url.substr(0, host));
      out.append("***");
      url.remove_prefix(at);
    }
    const size_t query = url.find('?');
    out.append(url.substr(0, query));
    if (query != std::string_view::npos) out.append("?***");
    if (comma == text.size()) break;
    out.push_back(',');
    start = comma + 1;
  }
  return out;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t subst = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, subst});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string format_size(uint64_t bytes) {
  if (bytes != 0 && bytes % (1ull << 30) == 0) return fmt::format("{}GiB", bytes >> 30);
  if (bytes != 0 && bytes % (1ull << 20) == 0) return fmt::format("{}MiB", bytes >> 20);
  if (bytes != 0 && bytes % (1ull << 10) == 0) return fmt::format("{}KiB", bytes >> 10);
  return fmt::format("{}", bytes);
}

std::string format_duration(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms != 0 && ms % 3'600'000 == 0) return fmt::format("{}h", ms / 3'600'000);
  if (ms != 0 && ms % 60'000 == 0) return fmt::format("{}m", ms / 60'000);
  if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
  return fmt::format("{}ms", ms);
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
