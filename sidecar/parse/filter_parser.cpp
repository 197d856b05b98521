#include "sidecar/parse/filter_parser.hpp"

namespace logferry {

FilterParser::FilterParser(std::unique_ptr<Parser> inner, std::shared_ptr<const re2::RE2> drop,
                           int32_t min_severity)
    : inner_(std::move(inner)), drop_(std::move(drop)), min_severity_(min_severity) {}

bool FilterParser::below(const v1::Entry& entry) const {
  return min_severity_ > 0 && entry.severity_number() > 0 && entry.severity_number() < min_severity_;
}

ParseResult FilterParser::parse(std::string_view line, v1::Entry& entry) {
  if (drop_ && re2::RE2::PartialMatch(re2::StringPiece(line.data(), line.size()), *drop_))
    return ParseResult::dropped;
  const ParseResult r = inner_->parse(line, entry);
  if (r == ParseResult::pending || r == ParseResult::dropped || !below(entry)) return r;
  if (r == ParseResult::parsed || r == ParseResult::parse_error) return ParseResult::dropped;
  if (r == ParseResult::parsed_holding_line) return ParseResult::pending;
  return r;
}

ParseResult FilterParser::flush(v1::Entry& entry) {
  // Each flush empties some held state, so this ends; the bound is a safeguard.
  for (int i = 0; i < 8; ++i) {
    const ParseResult r = inner_->flush(entry);
    if (r == ParseResult::pending || !below(entry)) return r;
    entry.Clear();
  }
  return ParseResult::pending;
}

}  // namespace logferry
