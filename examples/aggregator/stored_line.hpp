#pragma once
// Reads back the ndjson lines append_entry_line writes (entry_wire.hpp), for a
// relay that sends stored entries downstream. The store is on disk and may be
// damaged: a line that is not one append_entry_line writes is answered with
// false, never with an exception or a crash.
//
// JSON to AnyValue: string -> string_value, an integer that fits int64 ->
// int_value, other numbers -> double_value, true/false -> bool_value, array ->
// array_value, object -> kvlist_value, null -> no value set (a null body: no
// body). What the store does not keep, and so does not come back:
// - the bytes type: bytes were stored as base64 strings and come back as
//   string_value holding the base64 text;
// - non-finite doubles: stored as the strings "NaN", "Infinity", "-Infinity",
//   they stay strings;
// - integral doubles: a double of integral value below 1e16 is stored without
//   a fraction ("2") and comes back as int_value; -0.0 is stored as "-0" and
//   comes back as int_value 0 (the one value whose re-rendering differs);
// - Entry.source_index (not stored): left 0.
// A member of an unknown name is ignored (a later version may add some); a
// known member missing, twice, of the wrong type or out of range refuses the
// line. Nesting is bounded by protobuf's limit (kWireMaxDepth) as the
// aggregator counts it: an entry as inside a Batch, a resource as inside a
// Batch's Source, so whatever is read back can be sent in a Batch again.
#include <string>
#include <string_view>

#include <google/protobuf/repeated_field.h>
#include <simdjson.h>

#include "logferry/v1/logferry.pb.h"

namespace logferry::aggregator {

// One stored line read back (the inverse of append_entry_line).
struct StoredLine {
  std::string source_id;      // decoded (not JSON)
  std::string source_path;    // decoded (not JSON)
  std::string resource_json;  // the "resource" object's JSON text exactly as stored (a grouping key)
  v1::Entry entry;            // offset, times, severity, body, attributes, flags, trace_id, span_id
};

// Parses stored lines; reuses its simdjson parser and padded buffer across
// calls (both grow to the longest input). One per thread.
class StoredLineParser {
 public:
  // Parses one line (without its '\n'); false when it is not a line
  // append_entry_line writes (`out` is then unspecified).
  bool parse(std::string_view line, StoredLine& out);
  // Parses a JSON object text (like resource_json) into key/values, replacing
  // `out`; false (and `out` empty) when it is not an object of JSON values or
  // nests deeper than a Source's resource may.
  bool parse_key_values(std::string_view object_json, google::protobuf::RepeatedPtrField<v1::KeyValue>& out);

 private:
  // Copies `json` into the padded buffer and parses it.
  simdjson::error_code load(std::string_view json, simdjson::dom::element& root);
  // Reads member number `member` (see kMembers in the .cpp) whose text is `text`.
  bool read_member(int member, simdjson::dom::element value, std::string_view text, StoredLine& out);

  simdjson::dom::parser parser_;
  std::string buffer_;
  google::protobuf::RepeatedPtrField<v1::KeyValue> resource_check_;  // parse(): the resource, converted to check it
};

}  // namespace logferry::aggregator
