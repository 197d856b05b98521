#include "sidecar/parse/time_parse.hpp"

#include <charconv>

namespace logferry {
namespace {

constexpr uint64_t kNanosPerSecond = 1'000'000'000ULL;

// Reads exactly `n` digits at text[pos].
bool digits(std::string_view text, size_t pos, size_t n, unsigned& out) {
  if (pos + n > text.size()) return false;
  unsigned v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  out = v;
  return true;
}

// Reads ".123456789..." at text[pos]; returns nanoseconds and advances pos.
uint64_t fraction(std::string_view text, size_t& pos) {
  if (pos >= text.size() || (text[pos] != '.' && text[pos] != ',')) return 0;
  ++pos;
  uint64_t ns = 0;
  int used = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    if (used < 9) ns = ns * 10 + static_cast<uint64_t>(text[pos] - '0'), ++used;
    ++pos;
  }
  for (; used < 9; ++used) ns *= 10;
  return ns;
}

std::optional<uint64_t> to_unix_nano(int64_t year, unsigned mon, unsigned day, unsigned h, unsigned m, unsigned s,
                                     uint64_t frac_ns, int64_t offset_seconds) {
  static constexpr unsigned kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mon < 1 || mon > 12 || day < 1 || day > kDays[mon - 1] || h > 23 || m > 59 || s > 60) return std::nullopt;
  const int64_t secs = days_from_civil(year, mon, day) * 86400 + h * 3600 + m * 60 + s - offset_seconds;
  if (secs < 0 || secs > 9'000'000'000) return std::nullopt;  // before 1970 or past 2255
  return static_cast<uint64_t>(secs) * kNanosPerSecond + frac_ns;
}

int month_from_name(std::string_view name) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i)
    if (name == kMonths[i]) return i + 1;
  return 0;
}

int64_t year_of(uint64_t now_ns) {
  // Civil-from-days, reduced to the year.
  int64_t z = static_cast<int64_t>(now_ns / kNanosPerSecond / 86400) + 719468;
  const int64_t era = z / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  return yoe + era * 400 + (month <= 2 ? 1 : 0);
}

// A time without a year: this year, or last year when that is > 1 day ahead.
std::optional<uint64_t> without_year(unsigned mon, unsigned day, unsigned h, unsigned m, unsigned s, uint64_t frac,
                                     uint64_t now_ns) {
  const int64_t year = year_of(now_ns);
  auto t = to_unix_nano(year, mon, day, h, m, s, frac, 0);
  if (!t || *t > now_ns + 86400 * kNanosPerSecond) t = to_unix_nano(year - 1, mon, day, h, m, s, frac, 0);
  return t;
}

}  // namespace

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

std::optional<uint64_t> parse_rfc3339(std::string_view t) {
  unsigned year = 0, mon = 0, day = 0, h = 0, m = 0, s = 0;
  if (!digits(t, 0, 4, year) || t.size() < 19 || t[4] != '-' || !digits(t, 5, 2, mon) || t[7] != '-' ||
      !digits(t, 8, 2, day) || (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || !digits(t, 11, 2, h) ||
      t[13] != ':' || !digits(t, 14, 2, m) || t[16] != ':' || !digits(t, 17, 2, s)) {
    return std::nullopt;
  }
  size_t pos = 19;
  const uint64_t frac = fraction(t, pos);
  int64_t offset = 0;
  if (pos < t.size()) {
    if (t[pos] == 'Z' || t[pos] == 'z') {
      ++pos;
    } else if (t[pos] == '+' || t[pos] == '-') {
      const int sign = t[pos] == '-' ? -1 : 1;
      unsigned oh = 0, om = 0;
      if (!digits(t, pos + 1, 2, oh)) return std::nullopt;
      pos += 3;
      if (pos < t.size() && t[pos] == ':') ++pos;
      if (!digits(t, pos, 2, om)) return std::nullopt;
      pos += 2;
      if (oh > 23 || om > 59) return std::nullopt;
      offset = sign * static_cast<int64_t>(oh * 3600 + om * 60);
    } else {
      return std::nullopt;
    }
  }
  if (pos != t.size()) return std::nullopt;
  return to_unix_nano(year, mon, day, h, m, s, frac, offset);
}

std::optional<uint64_t> epoch_to_unix_nano(int64_t v) {
  if (v < 0) return std::nullopt;
  const auto u = static_cast<uint64_t>(v);
  if (u < 100'000'000'000ULL) return u * kNanosPerSecond;
  if (u < 100'000'000'000'000ULL) return u * 1'000'000ULL;
  if (u < 100'000'000'000'000'000ULL) return u * 1'000ULL;
  return u;
}

std::optional<uint64_t> epoch_to_unix_nano(double v) {
  if (!(v >= 0) || v > 1.8e19) return std::nullopt;  // also rejects NaN
  double ns = v;
  if (v < 1e11) ns = v * 1e9;
  else if (v < 1e14) ns = v * 1e6;
  else if (v < 1e17) ns = v * 1e3;
  if (ns >= 1.8e19) return std::nullopt;
  return static_cast<uint64_t>(ns);
}

std::optional<uint64_t> parse_timestamp_text(std::string_view text) {
  if (text.size() >= 19 && text[4] == '-') return parse_rfc3339(text);
  if (text.empty() || text.size() > 30) return std::nullopt;
  const size_t dot = text.find('.');
  int64_t whole = 0;
  const std::string_view int_part = text.substr(0, dot);
  const auto [end, ec] = std::from_chars(int_part.data(), int_part.data() + int_part.size(), whole);
  if (ec != std::errc() || end != int_part.data() + int_part.size() || int_part.empty()) return std::nullopt;
  if (dot == std::string_view::npos) return epoch_to_unix_nano(whole);
  double d = 0;
  const auto [end2, ec2] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (ec2 != std::errc() || end2 != text.data() + text.size()) return std::nullopt;
  return epoch_to_unix_nano(d);
}

std::optional<uint64_t> parse_syslog_time(std::string_view t, uint64_t now_ns) {
  if (t.size() != 15 || t[3] != ' ' || t[6] != ' ' || t[9] != ':' || t[12] != ':') return std::nullopt;
  const int mon = month_from_name(t.substr(0, 3));
  unsigned day = 0, h = 0, m = 0, s = 0;
  if (t[4] == ' ') {
    if (!digits(t, 5, 1, day)) return std::nullopt;
  } else if (!digits(t, 4, 2, day)) {
    return std::nullopt;
  }
  if (mon == 0 || !digits(t, 7, 2, h) || !digits(t, 10, 2, m) || !digits(t, 13, 2, s)) return std::nullopt;
  return without_year(static_cast<unsigned>(mon), day, h, m, s, 0, now_ns);
}

std::optional<uint64_t> parse_klog_time(std::string_view t, uint64_t now_ns) {
  unsigned mon = 0, day = 0, h = 0, m = 0, s = 0;
  if (t.size() < 13 || !digits(t, 0, 2, mon) || !digits(t, 2, 2, day) || t[4] != ' ' || !digits(t, 5, 2, h) ||
      t[7] != ':' || !digits(t, 8, 2, m) || t[10] != ':' || !digits(t, 11, 2, s)) {
    return std::nullopt;
  }
  size_t pos = 13;
  const uint64_t frac = fraction(t, pos);
  if (pos != t.size()) return std::nullopt;
  return without_year(mon, day, h, m, s, frac, now_ns);
}

std::optional<uint64_t> parse_clf_time(std::string_view t) {
  // 02/Jan/2006:15:04:05 -0700
  unsigned day = 0, year = 0, h = 0, m = 0, s = 0, oh = 0, om = 0;
  if (t.size() != 26 || t[2] != '/' || t[6] != '/' || t[11] != ':' || t[14] != ':' || t[17] != ':' ||
      t[20] != ' ' || (t[21] != '+' && t[21] != '-')) {
    return std::nullopt;
  }
  const int mon = month_from_name(t.substr(3, 3));
  if (mon == 0 || !digits(t, 0, 2, day) || !digits(t, 7, 4, year) || !digits(t, 12, 2, h) ||
      !digits(t, 15, 2, m) || !digits(t, 18, 2, s) || !digits(t, 22, 2, oh) || !digits(t, 24, 2, om)) {
    return std::nullopt;
  }
  const int64_t offset = (t[21] == '-' ? -1 : 1) * static_cast<int64_t>(oh * 3600 + om * 60);
  return to_unix_nano(year, static_cast<unsigned>(mon), day, h, m, s, 0, offset);
}

}  // namespace logferry
