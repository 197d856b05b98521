#include "sidecar/parse/auto_parser.hpp"

namespace logferry {

ParseResult AutoParser::parse(std::string_view line, v1::Entry& entry) {
  const size_t first = line.find_first_not_of(" \t");
  if (first != std::string_view::npos && line[first] == '{') return json_.parse(line, entry);
  // Cheap pre-check before scanning: logfmt lines have an '=' early on.
  const size_t eq = line.find('=');
  if (eq != std::string_view::npos && eq > 0 && eq < 128 && looks_like_logfmt(line)) return logfmt_.parse(line, entry);
  return plain_.parse(line, entry);
}

}  // namespace logferry
