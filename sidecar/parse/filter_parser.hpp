#pragma once
// The outermost stage: drops lines matching LOGFERRY_DROP (before parsing) and
// entries with a known severity below LOGFERRY_MIN_SEVERITY (after parsing;
// entries without a severity are kept). A dropped record returns `dropped`,
// or `pending` when the inner chain emitted it while holding the current line.
#include <memory>

#include <re2/re2.h>

#include "sidecar/parse/parser.hpp"

namespace logferry {

class FilterParser final : public Parser {
 public:
  // `drop` may be null; `min_severity` 0 keeps every severity.
  FilterParser(std::unique_ptr<Parser> inner, std::shared_ptr<const re2::RE2> drop, int32_t min_severity);
  ParseResult parse(std::string_view line, v1::Entry& entry) override;
  ParseResult flush(v1::Entry& entry) override;
  std::string_view name() const override { return inner_->name(); }

 private:
  bool below(const v1::Entry& entry) const;

  std::unique_ptr<Parser> inner_;
  std::shared_ptr<const re2::RE2> drop_;
  int32_t min_severity_;
};

}  // namespace logferry
