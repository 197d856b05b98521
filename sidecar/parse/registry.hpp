#pragma once
// The explicit table of parsers by name, and the factory that builds the
// parser chain (parser, multiline, filters) for one origin.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sidecar/parse/parser.hpp"

namespace logferry {

struct Config;

// Names of every registered parser, in table order.
std::vector<std::string_view> parser_names();

// Builds the parser chain for lines read from `path` (per-source overrides
// applied). The configuration was validated at start-up, so this cannot fail.
std::unique_ptr<Parser> make_parser_for(const Config& config, std::string_view path);

}  // namespace logferry
