#include "sidecar/parse/registry.hpp"

#include "sidecar/config/config.hpp"
#include "sidecar/parse/plain_parser.hpp"

namespace logferry {

std::vector<std::string_view> parser_names() { return {"plain"}; }

std::unique_ptr<Parser> make_parser_for(const Config& /*config*/, std::string_view /*path*/) {
  return std::make_unique<PlainParser>();
}

}  // namespace logferry
