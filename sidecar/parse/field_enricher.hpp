#pragma once
// Maps the well-known fields of structured lines (JSON, logfmt, regex groups,
// klog pairs) onto the entry: message -> body, time -> time_unix_nano, level
// -> severity, trace_id/span_id/traceparent/trace_flags -> trace context.
// A field whose value cannot be used that way stays an ordinary attribute.
#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "logferry/v1/logferry.pb.h"

namespace logferry {

// Which field names play which role (LOGFERRY_MESSAGE_FIELDS, ...).
struct FieldNames {
  std::vector<std::string> message{"msg", "message", "log"};
  std::vector<std::string> time{"time", "ts", "timestamp", "@timestamp"};
  std::vector<std::string> level{"level", "severity", "lvl", "loglevel"};
};

enum class FieldRole : uint8_t { other, message, time, level, trace_id, span_id, traceparent, trace_flags };

// A value as the time, level and trace decoders see it (a view: no copy).
struct ScalarValue {
  enum class Kind : uint8_t { other, string, integer, real };
  Kind kind = Kind::other;
  std::string_view text;  // Kind::string
  int64_t integer = 0;    // Kind::integer
  double real = 0;        // Kind::real

  // The view of an AnyValue (arrays, lists, bools and bytes are `other`).
  static ScalarValue of(const v1::AnyValue& value);
};

class FieldEnricher {
 public:
  explicit FieldEnricher(const FieldNames& names);

  // The role of a top-level key.
  FieldRole classify(std::string_view key) const;

  // Applies `value` to `entry` for `role`; returns false when the value does
  // not fit the role (then the caller keeps it as an attribute). May move
  // out of `value` when it returns true.
  bool absorb(FieldRole role, v1::AnyValue& value, v1::Entry& entry) const;
  // The same for every role but `message`, from a view.
  bool absorb_scalar(FieldRole role, const ScalarValue& value, v1::Entry& entry) const;

  // Adds a top-level field: absorbed when possible, else an attribute
  // (typed by `set_inferred` when `infer` is set, else a string).
  enum class Infer { no, yes };
  void add_text_field(std::string_view key, std::string_view value, Infer infer, v1::Entry& entry) const;

 private:
  struct Known {
    std::string name;
    FieldRole role;
  };
  std::vector<Known> known_;
  std::vector<std::vector<size_t>> by_length_;  // name length -> indexes into known_
  size_t max_key_ = 0;
  std::bitset<256> first_chars_;  // quick rejection of most keys
};

// Hex text of `bytes` bytes into `out`; false when not hex, of another
// length, or all zero (an invalid W3C id). `out` is unspecified on false.
bool hex_to_id(std::string_view hex, size_t bytes, std::string& out);

// W3C traceparent "00-<32 hex>-<16 hex>-<2 hex>" into entry; false if invalid.
bool apply_traceparent(std::string_view text, v1::Entry& entry);

}  // namespace logferry
