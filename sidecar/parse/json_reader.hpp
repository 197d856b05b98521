#pragma once
// A reusable simdjson DOM reader for one JSON document per line (the DOM
// parser is dispatched at run time to the CPU's best SIMD kernel), and the
// conversion of JSON values to typed AnyValues. Uses simdjson's error codes
// only (never throws). One instance per parser; not thread-safe.
#include <string>
#include <string_view>

#include <simdjson.h>

#include "logferry/v1/logferry.pb.h"
#include "sidecar/core/wire_buffer.hpp"

namespace logferry {

class JsonReader {
 public:
  // Parses `line` (copied into a padded buffer reused across lines) and
  // returns its top-level object; valid until the next call. Numbers beyond
  // uint64/double are kept as strings with their exact text.
  simdjson::error_code parse_object(std::string_view line, simdjson::dom::object& object);

 private:
  simdjson::error_code parse_padded(std::string_view line, simdjson::dom::object& object);

  simdjson::dom::parser parser_;
  std::string buffer_;
};

// Nesting below this depth is kept as minified JSON text (a string).
inline constexpr int kMaxJsonDepth = 32;

// Converts a JSON value: objects -> kvlist, arrays -> array, integers that fit
// int64 -> int_value, larger integers (up to 2^64-1) -> string_value with the
// exact digits, other numbers -> double_value, strings, bools; null leaves
// `out` unset.
void json_to_any(simdjson::dom::element value, v1::AnyValue& out, int depth = 0);

// The same conversion written as wire format: the fields of the AnyValue
// json_to_any() would fill (the caller opens and closes the message).
void write_json_value(WireBuffer& out, simdjson::dom::element value, int depth);

// Writes field `field` as a KeyValue {key, value converted at `depth`}.
void write_json_key_value(WireBuffer& out, uint32_t field, std::string_view key, simdjson::dom::element value,
                          int depth);

// Short reason text for a simdjson error, for log.parse_error.
std::string json_error_reason(simdjson::error_code error);

}  // namespace logferry
