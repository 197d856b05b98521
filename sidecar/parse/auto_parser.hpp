#pragma once
// `auto`: chooses per line: JSON when the line starts with '{' (after spaces;
// invalid JSON is then a parse error), logfmt when every token is a key=value
// pair and there are at least two, else plain.
#include "sidecar/parse/json_parser.hpp"
#include "sidecar/parse/logfmt_parser.hpp"
#include "sidecar/parse/plain_parser.hpp"

namespace logferry {

class AutoParser final : public Parser {
 public:
  explicit AutoParser(const FieldNames& names) : json_(names), logfmt_(names) {}
  ParseResult parse(std::string_view line, v1::Entry& entry) override;
  std::string_view name() const override { return "auto"; }

 private:
  JsonParser json_;
  LogfmtParser logfmt_;
  PlainParser plain_;
};

}  // namespace logferry
