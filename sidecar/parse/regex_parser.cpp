#include "sidecar/parse/regex_parser.hpp"

#include "sidecar/parse/entry_writer.hpp"

namespace logferry {

std::shared_ptr<const re2::RE2> compile_regex(std::string_view pattern, std::string& error) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<const re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) {
    error = re->error();
    return nullptr;
  }
  return re;
}

RegexParser::RegexParser(std::shared_ptr<const re2::RE2> pattern, const FieldNames& names)
    : pattern_(std::move(pattern)), enricher_(names) {
  for (const auto& [name, index] : pattern_->NamedCapturingGroups()) groups_.emplace_back(index, name);
  matches_.resize(static_cast<size_t>(pattern_->NumberOfCapturingGroups()) + 1);
}

ParseResult RegexParser::parse(std::string_view line, v1::Entry& entry) {
  const EntryMark mark(entry);
  const re2::StringPiece text(line.data(), line.size());
  if (!pattern_->Match(text, 0, text.size(), re2::RE2::UNANCHORED, matches_.data(),
                       static_cast<int>(matches_.size()))) {
    set_parse_error(entry, mark, line, "the line does not match LOGFERRY_REGEX");
    return ParseResult::parse_error;
  }
  for (const auto& [index, name] : groups_) {
    const re2::StringPiece& m = matches_[static_cast<size_t>(index)];
    if (m.data() == nullptr) continue;  // the group did not take part in the match
    enricher_.add_text_field(name, std::string_view(m.data(), m.size()), FieldEnricher::Infer::no, entry);
  }
  if (!entry.has_body()) set_string(*entry.mutable_body(), line);
  return ParseResult::parsed;
}

}  // namespace logferry
