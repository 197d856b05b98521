#pragma once
// `logfmt`: key=value pairs. Unquoted values are typed (int64, double,
// true/false, else string); quoted values stay strings; a bare key is `true`.
// Well-known fields are mapped by the FieldEnricher; no message field: no body.
// Duplicate keys: the last one wins.
#include "sidecar/parse/field_enricher.hpp"
#include "sidecar/parse/parser.hpp"

namespace logferry {

class LogfmtParser final : public Parser {
 public:
  explicit LogfmtParser(const FieldNames& names) : enricher_(names) {}
  ParseResult parse(std::string_view line, v1::Entry& entry) override;
  std::string_view name() const override { return "logfmt"; }

 private:
  FieldEnricher enricher_;
};

// Whether a bare key (no '=') is accepted (as `true`) or is a syntax error.
enum class BareKeys { allowed, rejected };

// Adds the logfmt pairs of `text` to `entry`; returns "" or the syntax error
// (the entry is then partly filled: callers undo with an EntryMark).
std::string_view add_logfmt_fields(std::string_view text, const FieldEnricher& enricher, v1::Entry& entry,
                                   BareKeys bare = BareKeys::allowed);

// True when `line` looks like logfmt: at least two pairs, every token a key=value.
bool looks_like_logfmt(std::string_view line);

}  // namespace logferry
