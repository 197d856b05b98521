#pragma once
// Prometheus text exposition format 0.0.4: a small writer (HELP/TYPE lines,
// escaped label values) and the sidecar's renderer over Metrics. Pure
// functions, no I/O, so the exact text is unit-tested.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "sidecar/app/metrics.hpp"

namespace logferry {

// The Content-Type of the text format.
inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// Escapes a label value: backslash, double quote and line feed become \\ \" \n.
std::string escape_label_value(std::string_view value);
// Escapes HELP text: backslash and line feed become \\ and \n.
std::string escape_help(std::string_view text);

enum class MetricType { counter, gauge };

// Appends families to a text exposition. Each family is one header() followed
// by its samples; names are written as given (callers use valid names).
class PrometheusWriter {
 public:
  // Writes "# HELP name help" and "# TYPE name counter|gauge".
  void header(std::string_view name, MetricType type, std::string_view help);
  // Writes "name value".
  void sample(std::string_view name, uint64_t value);
  // Writes "name value" with three decimals (seconds, ratios).
  void sample_double(std::string_view name, double value);
  // Writes name{label="escaped value"} value.
  void sample(std::string_view name, std::string_view label, std::string_view label_value, uint64_t value);
  // header() and one unlabelled sample.
  void family(std::string_view name, MetricType type, std::string_view help, uint64_t value);
  void family_double(std::string_view name, MetricType type, std::string_view help, double value);

  const std::string& text() const { return text_; }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
};

// Renders every sidecar metric (counters end in _total), in a fixed order.
std::string render_prometheus(const Metrics& metrics);

}  // namespace logferry
