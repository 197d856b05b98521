#include "sidecar/parse/plain_parser.hpp"

namespace logferry {

ParseResult PlainParser::parse(std::string_view line, v1::Entry& entry) {
  entry.mutable_body()->set_string_value(line.data(), line.size());
  return ParseResult::parsed;
}

}  // namespace logferry
