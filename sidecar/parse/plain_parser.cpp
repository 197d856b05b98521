#include "sidecar/parse/plain_parser.hpp"

#include "sidecar/parse/entry_writer.hpp"

namespace logferry {

ParseResult PlainParser::parse(std::string_view line, v1::Entry& entry) {
  set_string(*entry.mutable_body(), line);
  return ParseResult::parsed;
}

}  // namespace logferry
