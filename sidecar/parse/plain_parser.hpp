#pragma once
// `plain`: the whole line is the body, as a string (invalid UTF-8 bytes
// replaced by U+FFFD).
#include "sidecar/parse/parser.hpp"

namespace logferry {

class PlainParser final : public Parser {
 public:
  ParseResult parse(std::string_view line, v1::Entry& entry) override;
  bool encode(std::string_view line, WireBuffer& out) override;
  std::string_view name() const override { return "plain"; }

 private:
  std::string repaired_;  // a line with invalid UTF-8, repaired (reused)
};

}  // namespace logferry
