#include "sidecar/parse/logfmt_parser.hpp"

#include "sidecar/parse/entry_writer.hpp"
#include "sidecar/parse/logfmt_scanner.hpp"

namespace logferry {

std::string_view add_logfmt_fields(std::string_view text, const FieldEnricher& enricher, v1::Entry& entry,
                                   BareKeys bare) {
  const int first = entry.attributes_size();
  LogfmtScanner scanner(text);
  LogfmtPair pair;
  while (scanner.next(pair)) {
    if (!pair.has_value) {
      if (bare == BareKeys::rejected) return "a key without a value";
      add_bool_attribute(entry, pair.key, true);
      continue;
    }
    const auto infer = pair.quoted ? FieldEnricher::Infer::no : FieldEnricher::Infer::yes;
    enricher.add_text_field(pair.key, pair.value, infer, entry);
  }
  if (!scanner.error().empty()) return scanner.error();
  keep_last_of_duplicates(entry, first);
  return {};
}

bool looks_like_logfmt(std::string_view line) {
  LogfmtScanner scanner(line);
  LogfmtPair pair;
  int pairs = 0;
  while (scanner.next(pair)) {
    if (!pair.has_value) return false;
    ++pairs;
  }
  return scanner.error().empty() && pairs >= 2;
}

ParseResult LogfmtParser::parse(std::string_view line, v1::Entry& entry) {
  const EntryMark mark(entry);
  const std::string_view error = add_logfmt_fields(line, enricher_, entry);
  if (error.empty() && entry.attributes_size() == mark.attributes() && !entry.has_body()) {
    set_string(*entry.mutable_body(), line);  // nothing but spaces: kept as written
  }
  if (!error.empty()) {
    set_parse_error(entry, mark, line, std::string("invalid logfmt: ") + std::string(error));
    return ParseResult::parse_error;
  }
  return ParseResult::parsed;
}

}  // namespace logferry
