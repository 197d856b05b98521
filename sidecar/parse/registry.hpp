#pragma once
// The explicit table of parsers by name, and the factory that builds the
// parser chain for one origin:
//   filter (LOGFERRY_DROP, LOGFERRY_MIN_SEVERITY)
//     -> [cri | docker decoder: partial lines reassembled]
//       -> [multiline (LOGFERRY_MULTILINE / LOGFERRY_MULTILINE_START)]
//         -> the message parser (plain, json, ...; `auto` behind cri/docker)
//
// How the caller drives a chain (one per origin), by ParseResult:
//   pending             the line is held: remember its offset as the start of
//                       the held record (keep the earlier one if already holding)
//   parsed/parse_error  `entry` is complete (offset: the held start, if any, else the line's)
//   parsed_holding_line `entry` is the previously held record; the current line is now held
//   dropped             the line was consumed; nothing is forwarded
// and after multiline_flush_timeout() without a new line on that origin (and
// at shutdown / end of a rotated file) it calls flush(entry) until it returns
// pending, forwarding each entry flush() fills.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sidecar/config/env_table.hpp"
#include "sidecar/config/config.hpp"
#include "sidecar/parse/parser.hpp"

namespace logferry {

// Names of every registered parser, in table order.
std::vector<std::string_view> parser_names();

// "plain, json, ..." for error messages.
std::string parser_names_text();

// True when `name` is in the table.
bool is_parser_name(std::string_view name);

// The parser name for lines read from `path`: the first LOGFERRY_PARSERS glob
// matching it (fnmatch), else LOGFERRY_PARSER.
std::string_view parser_name_for(const ParseOptions& options, std::string_view path);

// Builds the parser chain for lines read from `path` (per-source overrides
// applied). The configuration was validated at start-up, so this cannot fail.
// The multiline stage counts records joined from several lines in
// `multiline_records` (may be null; it must outlive the chain).
std::unique_ptr<Parser> make_parser_for(const ParseOptions& options, std::string_view path,
                                        uint64_t* multiline_records = nullptr);

// Start-up checks across the parsing variables: patterns compile
// (LOGFERRY_REGEX, LOGFERRY_MULTILINE_START, LOGFERRY_DROP), LOGFERRY_REGEX is
// set when a regex parser is used, presets and start patterns exclude each other.
std::vector<EnvError> check_parse_config(const ParseOptions& options);

// The parser names and checks above, for load_config (the config layer does not link the parsers).
ParserCatalog parser_catalog();

}  // namespace logferry
