#pragma once
// `json`: one JSON object per line. Well-known fields become the body, time,
// severity and trace context (see FieldEnricher); the other fields become
// typed attributes (nested objects/arrays as kvlist/array values). Duplicate
// keys: the last one wins. No message field: the entry has no body.
#include "sidecar/parse/field_enricher.hpp"
#include "sidecar/parse/json_reader.hpp"
#include "sidecar/parse/parser.hpp"

namespace logferry {

class JsonParser final : public Parser {
 public:
  explicit JsonParser(const FieldNames& names) : enricher_(names) {}
  ParseResult parse(std::string_view line, v1::Entry& entry) override;
  std::string_view name() const override { return "json"; }

 private:
  FieldEnricher enricher_;
  JsonReader reader_;
  v1::AnyValue scratch_;  // a time, level or trace field's value, reused across lines
};

}  // namespace logferry
