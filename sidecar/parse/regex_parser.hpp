#pragma once
// `regex`: LOGFERRY_REGEX (RE2 syntax, unanchored unless written with ^ $) with
// named groups; each group that matched becomes a string attribute, except
// well-known names (msg, time, level, ...) mapped by the FieldEnricher. No
// message group: the whole line is the body. A line that does not match is a
// parse error.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <re2/re2.h>

#include "sidecar/parse/field_enricher.hpp"
#include "sidecar/parse/parser.hpp"

namespace logferry {

class RegexParser final : public Parser {
 public:
  // `pattern` was validated at start-up (see check_regex).
  RegexParser(std::shared_ptr<const re2::RE2> pattern, const FieldNames& names);
  ParseResult parse(std::string_view line, v1::Entry& entry) override;
  std::string_view name() const override { return "regex"; }

 private:
  std::shared_ptr<const re2::RE2> pattern_;
  FieldEnricher enricher_;
  std::vector<std::pair<int, std::string>> groups_;  // (index, name)
  std::vector<re2::StringPiece> matches_;
};

// Compiles an RE2 pattern quietly; on failure returns null and sets `error`.
std::shared_ptr<const re2::RE2> compile_regex(std::string_view pattern, std::string& error);

}  // namespace logferry
