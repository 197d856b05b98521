#include "sidecar/parse/klog_parser.hpp"

#include "sidecar/core/clock.hpp"
#include "sidecar/parse/entry_writer.hpp"
#include "sidecar/parse/logfmt_parser.hpp"
#include "sidecar/parse/logfmt_scanner.hpp"
#include "sidecar/parse/severity.hpp"
#include "sidecar/parse/time_parse.hpp"

namespace logferry {

ParseResult KlogParser::parse(std::string_view line, v1::Entry& entry) {
  const EntryMark mark(entry);
  auto fail = [&](std::string_view why) {
    set_parse_error(entry, mark, line, std::string("not a klog line: ") + std::string(why));
    return ParseResult::parse_error;
  };
  if (line.size() < 22) return fail("too short");
  int32_t severity = 0;
  switch (line[0]) {
    case 'I': severity = kSeverityInfo; break;
    case 'W': severity = kSeverityWarn; break;
    case 'E': severity = kSeverityError; break;
    case 'F': severity = kSeverityFatal; break;
    case 'D': severity = kSeverityDebug; break;
    default: return fail("expected I, W, E or F");
  }
  // The time runs to the first space after "mmdd hh:mm:ss".
  const size_t time_end = line.find(' ', 6);
  if (time_end == std::string_view::npos) return fail("expected a time");
  const auto t = parse_klog_time(line.substr(1, time_end - 1), now_unix_nano());
  if (!t) return fail("invalid time");
  std::string_view rest = line.substr(time_end);
  while (rest.starts_with(' ')) rest.remove_prefix(1);
  const size_t thread_end = rest.find(' ');
  int64_t thread = 0;
  if (thread_end == std::string_view::npos || !parse_int64(rest.substr(0, thread_end), thread))
    return fail("expected a thread id");
  rest = rest.substr(thread_end + 1);
  const size_t bracket = rest.find("] ");
  const size_t bracket_end = bracket == std::string_view::npos && rest.ends_with(']') ? rest.size() - 1 : bracket;
  if (bracket_end == std::string_view::npos) return fail("expected file:line]");
  const std::string_view location = rest.substr(0, bracket_end);
  const size_t colon = location.rfind(':');
  int64_t lineno = 0;
  if (colon == std::string_view::npos || !parse_int64(location.substr(colon + 1), lineno))
    return fail("expected file:line]");
  rest = rest.substr(std::min(rest.size(), bracket_end + 2));

  entry.set_time_unix_nano(*t);
  entry.set_severity_number(severity);
  entry.set_severity_text(std::string(1, line[0]));
  add_int_attribute(entry, "thread.id", thread);
  add_string_attribute(entry, "code.filepath", location.substr(0, colon));
  add_int_attribute(entry, "code.lineno", lineno);
  if (rest.starts_with('"')) {
    const size_t end = read_quoted(rest, 0, scratch_);
    if (end != std::string_view::npos && (end == rest.size() || rest[end] == ' ')) {
      const EntryMark pairs_mark(entry);
      if (add_logfmt_fields(rest.substr(end), enricher_, entry, BareKeys::rejected).empty()) {
        if (!entry.has_body()) set_string(*entry.mutable_body(), scratch_);
        return ParseResult::parsed;
      }
      pairs_mark.restore(entry);  // not klog pairs after all: keep the text
    }
  }
  set_string(*entry.mutable_body(), rest);
  return ParseResult::parsed;
}

}  // namespace logferry
