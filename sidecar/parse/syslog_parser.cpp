#include "sidecar/parse/syslog_parser.hpp"

#include <string>

#include "sidecar/core/clock.hpp"
#include "sidecar/parse/entry_writer.hpp"
#include "sidecar/parse/severity.hpp"
#include "sidecar/parse/time_parse.hpp"

namespace logferry {
namespace {

constexpr std::string_view kKeywords[] = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};

// Splits off the next space-terminated token of `rest`.
std::string_view next_token(std::string_view& rest) {
  const size_t sp = rest.find(' ');
  const std::string_view tok = rest.substr(0, sp);
  rest = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
  return tok;
}

// Parses RFC 5424 STRUCTURED-DATA at the start of `rest` into `out`; returns
// false when malformed. Advances `rest` past it.
bool parse_structured_data(std::string_view& rest, v1::AnyValue& out) {
  v1::KeyValueList* elements = out.mutable_kvlist_value();
  std::string value;
  size_t pos = 0;
  while (pos < rest.size() && rest[pos] == '[') {
    const size_t id_end = rest.find_first_of(" ]", pos);
    if (id_end == std::string_view::npos || id_end == pos + 1) return false;
    v1::KeyValue* element = elements->add_values();
    assign_utf8(element->mutable_key(), rest.substr(pos + 1, id_end - pos - 1));
    v1::KeyValueList* params = element->mutable_value()->mutable_kvlist_value();
    pos = id_end;
    while (pos < rest.size() && rest[pos] == ' ') {
      const size_t eq = rest.find('=', pos + 1);
      if (eq == std::string_view::npos || eq + 1 >= rest.size() || rest[eq + 1] != '"') return false;
      const std::string_view name = rest.substr(pos + 1, eq - pos - 1);
      value.clear();
      size_t i = eq + 2;
      for (; i < rest.size() && rest[i] != '"'; ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size() && (rest[i + 1] == '"' || rest[i + 1] == '\\' || rest[i + 1] == ']'))
          ++i;
        value.push_back(rest[i]);
      }
      if (i >= rest.size()) return false;
      v1::KeyValue* param = params->add_values();
      assign_utf8(param->mutable_key(), name);
      set_string(*param->mutable_value(), value);
      pos = i + 1;
    }
    if (pos >= rest.size() || rest[pos] != ']') return false;
    ++pos;
  }
  rest = rest.substr(pos);
  return true;
}

void add_unless_nil(v1::Entry& entry, std::string_view key, std::string_view value) {
  if (!value.empty() && value != "-") add_string_attribute(entry, key, value);
}

std::string_view strip_bom(std::string_view msg) {
  return msg.starts_with("\xEF\xBB\xBF") ? msg.substr(3) : msg;
}

}  // namespace

ParseResult SyslogParser::parse(std::string_view line, v1::Entry& entry) {
  const EntryMark mark(entry);
  auto fail = [&](std::string_view why) {
    set_parse_error(entry, mark, line, std::string("not a syslog line: ") + std::string(why));
    return ParseResult::parse_error;
  };
  std::string_view rest = line;
  int pri = -1;
  if (rest.starts_with('<')) {
    const size_t close = rest.find('>');
    if (close == std::string_view::npos || close < 2 || close > 4) return fail("invalid <PRI>");
    int64_t n = 0;
    if (!parse_int64(rest.substr(1, close - 1), n) || n > 191) return fail("invalid <PRI>");
    pri = static_cast<int>(n);
    rest = rest.substr(close + 1);
  }
  if (pri >= 0) {
    entry.set_severity_number(severity_from_syslog(pri % 8));
    entry.set_severity_text(std::string(kKeywords[pri % 8]));
    add_int_attribute(entry, "syslog.facility", pri / 8);
  }
  if (pri >= 0 && rest.starts_with("1 ")) {  // RFC 5424
    rest.remove_prefix(2);
    const std::string_view time = next_token(rest);
    if (time != "-") {
      const auto t = parse_rfc3339(time);
      if (!t) return fail("invalid RFC 5424 timestamp");
      entry.set_time_unix_nano(*t);
    }
    add_unless_nil(entry, "host.name", next_token(rest));
    add_unless_nil(entry, "syslog.appname", next_token(rest));
    add_unless_nil(entry, "syslog.procid", next_token(rest));
    add_unless_nil(entry, "syslog.msgid", next_token(rest));
    if (rest.empty()) return fail("missing structured data");
    if (rest.starts_with('-')) {
      rest.remove_prefix(1);
    } else {
      v1::AnyValue sd;
      if (!parse_structured_data(rest, sd)) return fail("invalid structured data");
      add_attribute(entry, "syslog.structured_data").mutable_value()->Swap(&sd);
    }
    if (rest.starts_with(' ')) rest.remove_prefix(1);
    set_string(*entry.mutable_body(), strip_bom(rest));
    return ParseResult::parsed;
  }
  // RFC 3164: a BSD timestamp (or RFC 3339 as rsyslog writes), host, tag.
  std::optional<uint64_t> t;
  if (rest.size() >= 16 && rest[15] == ' ') t = parse_syslog_time(rest.substr(0, 15), now_unix_nano());
  if (t) {
    rest.remove_prefix(16);
  } else {
    std::string_view probe = rest;
    t = parse_rfc3339(next_token(probe));
    if (!t) return fail("expected a timestamp");
    rest = probe;
  }
  entry.set_time_unix_nano(*t);
  add_unless_nil(entry, "host.name", next_token(rest));
  // TAG[PID]: or TAG: (the tag is optional).
  const size_t colon = rest.find(": ");
  const size_t tag_end = rest.find_first_of(" [:");
  if (colon != std::string_view::npos && tag_end != std::string_view::npos && tag_end <= colon && tag_end > 0) {
    const std::string_view tag = rest.substr(0, tag_end);
    std::string_view pid;
    if (rest[tag_end] == '[' && colon > tag_end + 1 && rest[colon - 1] == ']') {
      pid = rest.substr(tag_end + 1, colon - tag_end - 2);
    }
    if (rest[tag_end] == ':' || !pid.empty()) {
      add_string_attribute(entry, "syslog.appname", tag);
      if (!pid.empty()) add_string_attribute(entry, "syslog.procid", pid);
      rest = rest.substr(colon + 2);
    }
  }
  set_string(*entry.mutable_body(), rest);
  return ParseResult::parsed;
}

}  // namespace logferry
