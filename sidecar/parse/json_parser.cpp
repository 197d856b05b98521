#include "sidecar/parse/json_parser.hpp"

#include <algorithm>
#include <charconv>

#include "sidecar/parse/entry_writer.hpp"

namespace logferry {

namespace {

// True when two of `keys` are equal (most lines are proven distinct by their traits).
bool has_duplicates(std::vector<std::string_view>& keys) {
  KeyTraitSet traits;
  bool clash = false;
  for (const std::string_view key : keys) clash = traits.add(key) || clash;
  if (!clash) return false;
  std::sort(keys.begin(), keys.end());
  return std::adjacent_find(keys.begin(), keys.end()) != keys.end();
}

// A JSON value as the role decoders see it, the way json_to_any() would
// store it: integers beyond int64 as their digits (written into `digits`).
ScalarValue scalar_of(simdjson::dom::element value, char (&digits)[24]) {
  ScalarValue v;
  switch (value.type()) {
    case simdjson::dom::element_type::STRING:
      v.kind = ScalarValue::Kind::string;
      v.text = value.get_string().value_unsafe();
      break;
    case simdjson::dom::element_type::INT64:
      v.kind = ScalarValue::Kind::integer;
      v.integer = value.get_int64().value_unsafe();
      break;
    case simdjson::dom::element_type::UINT64: {
      const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value.get_uint64().value_unsafe());
      v.kind = ScalarValue::Kind::string;
      v.text = std::string_view(digits, static_cast<size_t>(end - digits));
      break;
    }
    case simdjson::dom::element_type::DOUBLE:
      v.kind = ScalarValue::Kind::real;
      v.real = value.get_double().value_unsafe();
      break;
    default:
      break;
  }
  return v;
}

}  // namespace

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
    if (role != FieldRole::other && role != FieldRole::message) {
      // Time, level and trace fields are decoded from a view of the value; the
      // entry gets an attribute only when the value does not fit the role.
      char digits[24];
      if (enricher_.absorb_scalar(role, scalar_of(field.value, digits), entry)) continue;
    }
    v1::KeyValue* kv = entry.add_attributes();
    kv->mutable_key()->assign(field.key.data(), field.key.size());
    json_to_any(field.value, *kv->mutable_value(), 1);
  }
  keep_last_of_duplicates(entry, first);
  return ParseResult::parsed;
}

bool JsonParser::encode(std::string_view line, WireBuffer& out) {
  simdjson::dom::object object;
  if (reader_.parse_object(line, object)) return false;  // parse() writes the parse error
  const size_t start = out.size();
  roles_.Clear();
  keys_.clear();
  bool has_body = false;
  // Field numbers of v1::Entry: 5 body, 6 attributes.
  for (const simdjson::dom::key_value_pair field : object) {
    keys_.push_back(field.key);
    const FieldRole role = enricher_.classify(field.key);
    if (role == FieldRole::message && !has_body) {
      has_body = true;  // the first message field is the body
      const size_t body = out.open(5);
      write_json_value(out, field.value, 1);
      out.close(body);
      continue;
    }
    if (role != FieldRole::other && role != FieldRole::message) {
      char digits[24];
      if (enricher_.absorb_scalar(role, scalar_of(field.value, digits), roles_)) continue;
    }
    write_json_key_value(out, 6, field.key, field.value, 1);
  }
  if (has_duplicates(keys_)) {
    out.truncate(start);  // parse() keeps the last of each key
    return false;
  }
  // Time, severity and trace context, as v1::Entry serializes them (a proto3 zero is not written).
  if (roles_.time_unix_nano() != 0) out.fixed64(1, roles_.time_unix_nano());
  if (roles_.severity_number() != 0) out.varint(2, static_cast<uint64_t>(int64_t{roles_.severity_number()}));
  if (!roles_.severity_text().empty()) out.bytes(3, roles_.severity_text());
  if (roles_.flags() != 0) out.fixed32(8, roles_.flags());
  if (!roles_.trace_id().empty()) out.bytes(9, roles_.trace_id());
  if (!roles_.span_id().empty()) out.bytes(10, roles_.span_id());
  return true;
}

}  // namespace logferry
