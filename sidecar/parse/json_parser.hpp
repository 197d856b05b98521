#pragma once
// `json`: one JSON object per line. Well-known fields become the body, time,
// severity and trace context (see FieldEnricher); the other fields become
// typed attributes (nested objects/arrays as kvlist/array values). Duplicate
// keys: the last one wins. No message field: the entry has no body.
#include <string>
#include <vector>

#include "sidecar/parse/field_enricher.hpp"
#include "sidecar/parse/json_reader.hpp"
#include "sidecar/parse/parser.hpp"

namespace logferry {

class JsonParser final : public Parser {
 public:
  explicit JsonParser(const FieldNames& names) : enricher_(names) {}
  ParseResult parse(std::string_view line, v1::Entry& entry) override;
  // Writes the line's fields straight from the simdjson DOM; declines (and
  // parse() takes over) on invalid JSON and on duplicate keys.
  bool encode(std::string_view line, WireBuffer& out) override;
  std::string_view name() const override { return "json"; }

 private:
  FieldEnricher enricher_;
  JsonReader reader_;
  v1::Entry roles_;       // encode(): the time, severity and trace context absorbed so far
  std::vector<std::string_view> keys_;  // encode(): the line's keys, to find duplicates
};

}  // namespace logferry
