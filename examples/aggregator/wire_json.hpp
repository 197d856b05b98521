#pragma once
// AnyValue and KeyValue straight from their protobuf wire bytes: a validator
// that accepts exactly what ParseFromArray accepts (framing, UTF-8 of string
// fields, nesting depth), and a validating renderer whose JSON is byte for byte what
// append_any_value_json / append_key_values_json write for the parsed message,
// protobuf's merge rules included (fields in any order; for a singular field
// the last occurrence wins; a message field given twice is merged, so an array
// split in two is one array).
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace logferry::aggregator {

// True when ParseFromArray would accept `bytes` as an AnyValue / KeyValue nested
// `depth` levels above protobuf's limit (see WireScanner).
bool validate_any_value(std::string_view bytes, int depth);
bool validate_key_value(std::string_view bytes, int depth);

// Appends `s` as a JSON string literal, the same bytes as append_json_string,
// then `suffix` unless it is NUL; false (nothing appended) when `s` is not valid UTF-8.
bool append_json_string_checked(std::string& out, std::string_view s, char suffix = '\0');

// Renders AnyValues and KeyValues while validating them (`depth` as for
// validate_any_value): each call returns false where ParseFromArray would
// fail, and what it appended is then to be discarded. Keeps scratch for merged
// fields between calls.
class WireJson {
 public:
  // false: invalid UTF-8 is rendered with U+FFFD instead of failing (for
  // messages protobuf built, which it does not check).
  bool check_utf8 = true;

  // Appends the AnyValue in `bytes` as JSON ("" is the unset value: null).
  bool any_value(std::string& out, std::string_view bytes, int depth);
  // Appends one KeyValue as "key":value (no braces).
  bool key_value(std::string& out, std::string_view bytes, int depth);
  // Appends the AnyValue that field `number` of `message`, given more than once
  // from byte `from` on, merges to (protobuf concatenates such fields); each
  // occurrence must have been validated on its own.
  bool merged_any_value(std::string& out, std::string_view message, size_t from, uint32_t number, int depth);

 private:
  bool string(std::string& out, std::string_view s, char suffix = '\0') {
    return append_json_string_checked(out, s, suffix) || string_fallback(out, s, suffix);
  }
  bool string_fallback(std::string& out, std::string_view s, char suffix);
  // An ArrayValue or KeyValueList: its items (field 1) by `item`, comma-separated between `open` and `close`.
  bool list(std::string& out, std::string_view bytes, int depth, char open, char close,
            bool (WireJson::*item)(std::string&, std::string_view, int));
  // The concatenated payloads of field `number` in `message` from byte `from` on;
  // valid until the render call that asked for it returns.
  std::string_view join(std::string_view message, size_t from, uint32_t number);
  std::deque<std::string> joined_;  // a stack: each render call releases what it used
  size_t used_ = 0;
};

}  // namespace logferry::aggregator
