#pragma once
// What the parse stage is told (ParseStage, parse/registry.hpp): plain data,
// filled from the environment by the config layer, or by a test.
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace logferry {

struct ParseOptions {
  std::string parser = "plain";                                        // LOGFERRY_PARSER
  std::vector<std::pair<std::string, std::string>> parser_overrides;   // LOGFERRY_PARSERS: (path glob, parser), first match wins
  std::string regex;                                                   // LOGFERRY_REGEX
  std::vector<std::string> message_fields, time_fields, level_fields;  // empty = built-in defaults
  std::string multiline;                                               // preset java|python|go; "" = none
  std::string multiline_start;                                         // RE2: first line of a record
  std::chrono::milliseconds multiline_timeout{1000};                   // a held record waits at most this long
  uint64_t multiline_max_lines = 500;
  uint64_t multiline_max_bytes = 256 * 1024;
  std::string drop;          // RE2: matching lines are dropped
  int32_t min_severity = 0;  // OTel severity number; 0 = keep all
  uint64_t max_line_bytes = 256 * 1024;  // LOGFERRY_MAX_LINE_BYTES: cri/docker partial lines reassembled up to it
  // The parser of the messages inside cri/docker lines; "" = auto. Set per
  // origin by the parse stage (node mode: a Pod's logferry.io/parser annotation).
  std::string container_message_parser;

  bool operator==(const ParseOptions&) const = default;
};

}  // namespace logferry
