#include "sidecar/forward/http_response.hpp"

#include <ctime>

#include <fmt/format.h>

#include "sidecar/config/value_parsers.hpp"

namespace logferry {

namespace {

constexpr size_t kMaxErrorText = 300;

std::string printable_prefix(std::string_view body) {
  std::string out;
  for (const char c : body.substr(0, kMaxErrorText)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : ' ';
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (auto seconds = parse_uint(value, 0, 1u << 31)) {
    return std::min<std::chrono::milliseconds>(std::chrono::seconds(*seconds), kMaxRetryAfter);
  }
  // IMF-fixdate, the only date format senders may generate (RFC 9110 5.6.7).
  std::tm tm{};
  const std::string text(value);
  const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  const auto at = std::chrono::system_clock::from_time_t(::timegm(&tm));
  if (at <= now) return std::chrono::milliseconds(0);
  return std::min(std::chrono::duration_cast<std::chrono::milliseconds>(at - now), kMaxRetryAfter);
}

DeliveryReport classify_http_response(uint64_t sequence, unsigned status, std::string_view retry_after,
                                      std::string_view body) {
  DeliveryReport r;
  r.sequence = sequence;
  if (status >= 200 && status < 300) {
    r.outcome = Outcome::accepted;
    return r;
  }
  r.error = fmt::format("HTTP {}", status);
  if (const std::string text = printable_prefix(body); !text.empty()) r.error += ": " + text;
  // 429 and 5xx are the receiver's temporary trouble; a redirect is a
  // misconfigured URL that an operator fixes (dropping data would be worse).
  if (status == 429 || status >= 500 || (status >= 300 && status < 400)) {
    r.outcome = Outcome::retry;
    if (!retry_after.empty()) {
      r.retry_after = parse_retry_after(retry_after, std::chrono::system_clock::now()).value_or(std::chrono::milliseconds(0));
    }
    return r;
  }
  r.outcome = Outcome::rejected;  // 400 (bad data, out of order, too old) and every other 4xx
  return r;
}

}  // namespace logferry
