#include "sidecar/parse/access_log_parser.hpp"

#include "sidecar/parse/entry_writer.hpp"
#include "sidecar/parse/time_parse.hpp"

namespace logferry {
namespace {

// A cursor over the line; each read_* returns false when the text is not there.
struct Cursor {
  std::string_view text;
  size_t pos = 0;

  bool done() const { return pos >= text.size(); }
  bool token(std::string_view& out) {
    const size_t end = text.find(' ', pos);
    const size_t stop = end == std::string_view::npos ? text.size() : end;
    if (stop == pos) return false;
    out = text.substr(pos, stop - pos);
    pos = stop;
    return true;
  }
  bool space() {
    if (pos >= text.size() || text[pos] != ' ') return false;
    while (pos < text.size() && text[pos] == ' ') ++pos;
    return true;
  }
  bool bracketed(std::string_view& out) {
    if (pos >= text.size() || text[pos] != '[') return false;
    const size_t end = text.find(']', pos);
    if (end == std::string_view::npos) return false;
    out = text.substr(pos + 1, end - pos - 1);
    pos = end + 1;
    return true;
  }
  // A quoted field; \" and \\ escapes are skipped over (not unescaped).
  bool quoted(std::string_view& out) {
    if (pos >= text.size() || text[pos] != '"') return false;
    for (size_t i = pos + 1; i < text.size(); ++i) {
      if (text[i] == '\\') {
        ++i;
      } else if (text[i] == '"') {
        out = text.substr(pos + 1, i - pos - 1);
        pos = i + 1;
        return true;
      }
    }
    return false;
  }
};

void add_request(std::string_view request, v1::Entry& entry) {
  const size_t sp1 = request.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : request.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || sp1 == 0 ||
      request.find(' ', sp2 + 1) != std::string_view::npos) {
    if (request != "-") add_string_attribute(entry, "http.request.line", request);  // e.g. a TLS probe
    return;
  }
  add_string_attribute(entry, "http.request.method", request.substr(0, sp1));
  const std::string_view target = request.substr(sp1 + 1, sp2 - sp1 - 1);
  const size_t q = target.find('?');
  add_string_attribute(entry, "url.path", target.substr(0, q));
  if (q != std::string_view::npos) add_string_attribute(entry, "url.query", target.substr(q + 1));
  const std::string_view protocol = request.substr(sp2 + 1);
  const size_t slash = protocol.find('/');
  if (slash != std::string_view::npos && protocol.substr(0, slash) == "HTTP") {
    add_string_attribute(entry, "network.protocol.name", "http");
    add_string_attribute(entry, "network.protocol.version", protocol.substr(slash + 1));
  }
}

}  // namespace

ParseResult AccessLogParser::parse(std::string_view line, v1::Entry& entry) {
  const EntryMark mark(entry);
  auto fail = [&](std::string_view why) {
    set_parse_error(entry, mark, line, std::string("not an access log line: ") + std::string(why));
    return ParseResult::parse_error;
  };
  Cursor c{line};
  std::string_view client, ident, user, time, request, status, size;
  if (!c.token(client) || !c.space() || !c.token(ident) || !c.space() || !c.token(user) || !c.space())
    return fail("expected client, ident and user");
  if (!c.bracketed(time) || !c.space()) return fail("expected [time]");
  const auto t = parse_clf_time(time);
  if (!t) return fail("invalid time");
  if (!c.quoted(request) || !c.space()) return fail("expected \"request\"");
  if (!c.token(status)) return fail("expected a status");
  int64_t status_code = 0;
  if (!parse_int64(status, status_code) || status_code < 100 || status_code > 999)
    return fail("invalid status");
  int64_t bytes = -1;
  if (c.space() && c.token(size) && size != "-" && (!parse_int64(size, bytes) || bytes < 0))
    return fail("invalid size");

  entry.set_time_unix_nano(*t);
  set_string(*entry.mutable_body(), line);
  add_string_attribute(entry, "client.address", client);
  if (user != "-") add_string_attribute(entry, "user.name", user);
  add_request(request, entry);
  add_int_attribute(entry, "http.response.status_code", status_code);
  if (bytes >= 0) add_int_attribute(entry, "http.response.body.size", bytes);
  std::string_view referer, agent;
  if (c.space() && c.quoted(referer)) {
    if (referer != "-") add_string_attribute(entry, "http.request.header.referer", referer);
    if (c.space() && c.quoted(agent) && agent != "-") add_string_attribute(entry, "user_agent.original", agent);
  }
  return ParseResult::parsed;
}

}  // namespace logferry
