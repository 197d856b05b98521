#include "sidecar/parse/json_parser.hpp"

#include <algorithm>

#include "sidecar/core/wire_writer.hpp"
#include "sidecar/parse/entry_writer.hpp"

namespace logferry {

ParseResult JsonParser::parse(std::string_view line, v1::Entry& entry) {
  const EntryMark mark(entry);
  simdjson::dom::object object;
  if (auto err = reader_.parse_object(line, object)) {
    set_parse_error(entry, mark, line, json_error_reason(err));
    return ParseResult::parse_error;
  }
  const int first = entry.attributes_size();
  for (const simdjson::dom::key_value_pair field : object) {
    const FieldRole role = enricher_.classify(field.key);
    if (role == FieldRole::message && !entry.has_body()) {
      json_to_any(field.value, *entry.mutable_body(), 1);  // the first message field is the body
      continue;
    }
    if (role != FieldRole::other) {
      // Time, level and trace fields are read from a reused value, so the
      // entry gets an attribute only when the value does not fit the role.
      if (!(scratch_.has_string_value() && field.value.is_string())) scratch_.clear_value();  // strings keep their buffer
      json_to_any(field.value, scratch_, 1);
      if (enricher_.absorb(role, scratch_, entry)) continue;
    }
    v1::KeyValue* kv = entry.add_attributes();
    kv->mutable_key()->assign(field.key.data(), field.key.size());
    if (role == FieldRole::other) json_to_any(field.value, *kv->mutable_value(), 1);
    else kv->mutable_value()->CopyFrom(scratch_);
  }
  keep_last_of_duplicates(entry, first);
  return ParseResult::parsed;
}

namespace {

// True when two of `keys` are equal. Keys that differ in length or in their
// first or last byte cannot be equal: a 64-bit set of those traits proves most
// lines duplicate-free without comparing any pair.
bool has_duplicates(std::vector<std::string_view>& keys) {
  uint64_t seen = 0;
  bool clash = false;
  for (const std::string_view key : keys) {
    const size_t trait = key.empty() ? 0 : key.size() * 7 + static_cast<unsigned char>(key.front()) * 3 +
                                               static_cast<unsigned char>(key.back());
    const uint64_t bit = uint64_t{1} << (trait % 64);
    clash = clash || (seen & bit) != 0;
    seen |= bit;
  }
  if (!clash) return false;
  std::sort(keys.begin(), keys.end());
  return std::adjacent_find(keys.begin(), keys.end()) != keys.end();
}

}  // namespace

bool JsonParser::encode(std::string_view line, std::string& out) {
  simdjson::dom::object object;
  if (reader_.parse_object(line, object)) return false;  // parse() writes the parse error
  const size_t start = out.size();
  WireWriter w(out);
  roles_.Clear();
  keys_.clear();
  bool has_body = false;
  // Field numbers of v1::Entry: 5 body, 6 attributes.
  for (const simdjson::dom::key_value_pair field : object) {
    keys_.push_back(field.key);
    const FieldRole role = enricher_.classify(field.key);
    if (role == FieldRole::message && !has_body) {
      has_body = true;  // the first message field is the body
      const size_t body = w.open(5);
      write_json_value(w, field.value, 1);
      w.close(body);
      continue;
    }
    if (role != FieldRole::other && role != FieldRole::message) {
      if (!(scratch_.has_string_value() && field.value.is_string())) scratch_.clear_value();
      json_to_any(field.value, scratch_, 1);
      if (enricher_.absorb(role, scratch_, roles_)) continue;
    }
    write_json_key_value(w, 6, field.key, field.value, 1);
  }
  if (has_duplicates(keys_)) {
    out.resize(start);  // parse() keeps the last of each key
    return false;
  }
  // Time, severity and trace context, as v1::Entry serializes them (a proto3 zero is not written).
  if (roles_.time_unix_nano() != 0) w.fixed64(1, roles_.time_unix_nano());
  if (roles_.severity_number() != 0) w.varint(2, static_cast<uint64_t>(int64_t{roles_.severity_number()}));
  if (!roles_.severity_text().empty()) w.bytes(3, roles_.severity_text());
  if (roles_.flags() != 0) w.fixed32(8, roles_.flags());
  if (!roles_.trace_id().empty()) w.bytes(9, roles_.trace_id());
  if (!roles_.span_id().empty()) w.bytes(10, roles_.span_id());
  return true;
}

}  // namespace logferry
