#include "sidecar/parse/json_parser.hpp"

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

}  // namespace logferry
