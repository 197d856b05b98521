#pragma once
// logferry's own diagnostics: one line per event on stderr, as JSON (default)
// or text. Never written into the files logferry tails. Errors that repeat are
// rate-limited per message: at most kBurst per window, then one summary line.
#include <initializer_list>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace logferry {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };
enum class LogFormat { json, text };

struct LogField {
  std::string_view key;
  std::string value;
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  template <class T>
  LogField(std::string_view k, const T& v) : key(k), value(fmt::format("{}", v)) {}
};

// Sets the process-wide threshold, format and component name ("logferry", ...).
void configure_logging(LogLevel level, LogFormat format, std::string_view component);

// Writes one event when `level` passes the threshold.
void log_event(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});

// Like log_event, but the same message is written at most a few times per
// window; suppressed repeats are counted and reported with the next one.
void log_limited(LogLevel level, std::string_view message, std::initializer_list<LogField> fields = {});

inline void log_debug(std::string_view m, std::initializer_list<LogField> f = {}) { log_event(LogLevel::debug, m, f); }
inline void log_info(std::string_view m, std::initializer_list<LogField> f = {}) { log_event(LogLevel::info, m, f); }
inline void log_warn(std::string_view m, std::initializer_list<LogField> f = {}) { log_event(LogLevel::warn, m, f); }
inline void log_error(std::string_view m, std::initializer_list<LogField> f = {}) { log_event(LogLevel::error, m, f); }

// Renders one event as it would be written (for tests).
std::string format_log_line(LogFormat format, std::string_view component, LogLevel level,
                            std::string_view message, std::initializer_list<LogField> fields,
                            std::string_view timestamp);

}  // namespace logferry
