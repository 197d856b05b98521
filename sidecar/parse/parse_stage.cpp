#include "sidecar/parse/parse_stage.hpp"

#include <string>

#include "sidecar/parse/registry.hpp"

namespace logferry {

std::unique_ptr<Parser> ParseStage::chain_for(const Origin& origin, std::string_view parser,
                                              std::string_view multiline) const {
  if (parser.empty() && multiline.empty()) return make_parser_for(options_, origin.path, multiline_records_);
  ParseOptions asked = options_;
  if (!parser.empty()) {
    // Inside the kubelet's cri/docker lines the asked parser reads the
    // message; elsewhere it reads the whole line.
    const std::string_view configured = parser_name_for(options_, origin.path);
    if (configured == "cri" || configured == "docker") {
      asked.parser = std::string(configured);
      asked.container_message_parser = std::string(parser);
    } else {
      asked.parser = std::string(parser);
    }
    asked.parser_overrides.clear();
  }
  if (!multiline.empty()) {
    asked.multiline = std::string(multiline);
    asked.multiline_start.clear();
  }
  return make_parser_for(asked, origin.path, multiline_records_);
}

}  // namespace logferry
