#include "sidecar/parse/plain_parser.hpp"

#include "sidecar/core/json_escape.hpp"
#include "sidecar/parse/entry_writer.hpp"

namespace logferry {

ParseResult PlainParser::parse(std::string_view line, v1::Entry& entry) {
  set_string(*entry.mutable_body(), line);
  return ParseResult::parsed;
}

bool PlainParser::encode(std::string_view line, WireBuffer& out) {
  const size_t body = out.open(5);  // Entry.body
  if (is_valid_utf8(line)) {
    out.bytes(1, line);  // AnyValue.string_value
  } else {
    assign_utf8(&repaired_, line);
    out.bytes(1, repaired_);
  }
  out.close(body);
  return true;
}

}  // namespace logferry
