#pragma once
// `plain`: the whole line is the body, as a string (invalid UTF-8 bytes
// replaced by U+FFFD).
#include "sidecar/parse/parser.hpp"

namespace logferry {

class PlainParser final : public Parser {
 public:
  ParseResult parse(std::string_view line, v1::Entry& entry) override;
  std::string_view name() const override { return "plain"; }
};

}  // namespace logferry
