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
    v1::KeyValue* kv = entry.add_attributes();
    kv->set_key(field.key.data(), field.key.size());
    json_to_any(field.value, *kv->mutable_value(), 1);
    const FieldRole role = enricher_.classify(field.key);
    if (role != FieldRole::other && enricher_.absorb(role, *kv->mutable_value(), entry))
      entry.mutable_attributes()->RemoveLast();
  }
  keep_last_of_duplicates(entry, first);
  return ParseResult::parsed;
}

}  // namespace logferry
