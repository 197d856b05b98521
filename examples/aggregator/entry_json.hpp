#pragma once
// Renders entries as ndjson lines. A line starts with its idempotency key
// ({"source_id":"...","offset":N,) so a store can rebuild its dedupe state by
// reading only each line's prefix. Values follow OTLP/JSON where it is
// natural: ids as lowercase hex, bytes as base64, attributes as an object.
#include <cstdint>
#include <string>
#include <string_view>

#include <google/protobuf/repeated_field.h>

#include "logferry/v1/logferry.pb.h"

namespace logferry::aggregator {

// Appends bytes as lowercase hex.
void append_hex(std::string& out, std::string_view bytes);
// Appends bytes as standard base64 with padding.
void append_base64(std::string& out, std::string_view bytes);
// Appends a decimal number.
void append_uint(std::string& out, uint64_t n);
void append_int(std::string& out, int64_t n);

// Appends an AnyValue as JSON: string, number, bool, array, object, base64
// string for bytes, null when unset. Non-finite doubles become strings.
void append_any_value_json(std::string& out, const v1::AnyValue& value);
// Appends key/value pairs as a JSON object (later duplicates are kept as written).
void append_key_values_json(std::string& out, const google::protobuf::RepeatedPtrField<v1::KeyValue>& kvs);

// The parts of a line shared by all entries of one source in one batch,
// already rendered as JSON (strings with their quotes). Lines are written from
// the wire bytes: append_entry_line in entry_wire.hpp.
struct LineContext {
  std::string_view source_id_json;    // e.g. "\"file:1:2:abc\""
  std::string_view source_path_json;  // e.g. "\"/var/log/app.log\""
  std::string_view resource_json;     // e.g. {"k8s.pod.name":"web-0"}
};

// The idempotency key read back from the start of a line.
struct LineKey {
  std::string_view source_id_json;  // the JSON string literal, quotes included
  uint64_t offset = 0;
};

// Parses the key at the start of a rendered line; false when the line does not
// start the way append_entry_line (entry_wire.hpp) writes it.
bool parse_line_key(std::string_view line, LineKey& key);

}  // namespace logferry::aggregator
