#include "sidecar/parse/parse_stage.hpp"

#include "sidecar/parse/registry.hpp"

namespace logferry {

std::unique_ptr<Parser> ParseStage::chain_for(const Origin& origin) const {
  return make_parser_for(options_, origin.path, multiline_records_);
}

}  // namespace logferry
