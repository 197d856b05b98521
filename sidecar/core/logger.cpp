#include "sidecar/core/logger.hpp"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <unordered_map>

#include "sidecar/core/json_escape.hpp"

namespace logferry {
namespace {

constexpr int kBurst = 5;
constexpr auto kWindow = std::chrono::seconds(30);

struct LoggerState {
  LogLevel level = LogLevel::info;
  LogFormat format = LogFormat::json;
  std::string component = "logferry";
  struct Limit {
    std::chrono::steady_clock::time_point window_start;
    int written = 0;
    uint64_t suppressed = 0;
  };
  std::unordered_map<std::string, Limit> limits;
};

LoggerState& state() {
  static LoggerState s;
  return s;
}

std::string_view level_name(LogLevel l) {
  switch (l) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
  }
  return "info";
}

std::string timestamp_now() {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

void write_all(const std::string& line) {
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n <= 0) return;  // nowhere left to report to
    done += static_cast<size_t>(n);
  }
}

}  // namespace

void configure_logging(LogLevel level, LogFormat format, std::string_view component) {
  auto& s = state();
  s.level = level;
  s.format = format;
  s.component = component;
}

std::string format_log_line(LogFormat format, std::string_view component, LogLevel level,
                            std::string_view message, std::initializer_list<LogField> fields,
                            std::string_view timestamp) {
  std::string out;
  if (format == LogFormat::json) {
    out += "{\"ts\":";
    append_json_string(out, timestamp);
    out += ",\"level\":";
    append_json_string(out, level_name(level));
    out += ",\"component\":";
    append_json_string(out, component);
    out += ",\"msg\":";
    append_json_string(out, message);
    for (const auto& f : fields) {
      out.push_back(',');
      append_json_string(out, f.key);
      out.push_back(':');
      append_json_string(out, f.value);
    }
    out += "}\n";
  } else {
    out = fmt::format("{} {:5} {}: {}", timestamp, level_name(level), component, message);
    for (const auto& f : fields) out += fmt::format(" {}={}", f.key, f.value);
    out.push_back('\n');
  }
  return out;
}

void log_event(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  auto& s = state();
  if (level < s.level) return;
  write_all(format_log_line(s.format, s.component, level, message, fields, timestamp_now()));
}

void log_limited(LogLevel level, std::string_view message, std::initializer_list<LogField> fields) {
  auto& s = state();
  if (level < s.level) return;
  auto& lim = s.limits[std::string(message)];
  const auto now = std::chrono::steady_clock::now();
  if (now - lim.window_start > kWindow) {
    lim.window_start = now;
    lim.written = 0;
  }
  if (lim.written >= kBurst) {
    ++lim.suppressed;
    return;
  }
  ++lim.written;
  if (lim.suppressed > 0) {
    std::string line = format_log_line(s.format, s.component, level, message, fields, timestamp_now());
    const uint64_t n = lim.suppressed;
    lim.suppressed = 0;
    write_all(line);
    log_event(level, "repeated messages were suppressed", {{"message", message}, {"suppressed", n}});
    return;
  }
  write_all(format_log_line(s.format, s.component, level, message, fields, timestamp_now()));
}

}  // namespace logferry
