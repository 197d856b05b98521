#pragma once
// A Parser turns one line into an entry. Parsers never throw and never drop a
// line: a line that cannot be parsed becomes the raw body plus a
// log.parse_error attribute saying why. A parser may hold state across lines
// (e.g. CRI partial lines); such state is per origin, so each origin gets its
// own parser instance from the registry.
#include <string_view>

#include "logferry/v1/logferry.pb.h"
#include "sidecar/core/wire_buffer.hpp"

namespace logferry {

enum class ParseResult {
  parsed,       // `entry` was filled from the line
  parse_error,  // `entry` holds the raw line and a log.parse_error attribute
  pending,      // the line was kept as state; no entry yet (call again / flush)
  // `entry` is the record held so far (e.g. the previous multiline record) and
  // the current line is now held as the start of the next one.
  parsed_holding_line,
  dropped,      // the line was consumed and deliberately not forwarded (a filter)
};

class Parser {
 public:
  virtual ~Parser() = default;
  // Fills `entry` (body, attributes, time, severity, trace ids) from `line`.
  virtual ParseResult parse(std::string_view line, v1::Entry& entry) = 0;
  // Emits any held state as an entry; returns pending when there was none.
  virtual ParseResult flush(v1::Entry& /*entry*/) { return ParseResult::pending; }
  // The per-line fast path: appends the entry for `line` to `out` as v1::Entry
  // wire-format fields, without building a message, and returns true; the
  // bytes parse as the entry parse() would fill. Returns false with `out`
  // unchanged when this parser, or this line, needs parse() (held state, a
  // parse error, duplicate keys, ...). Only called on a chain's outermost parser.
  virtual bool encode(std::string_view /*line*/, WireBuffer& /*out*/) { return false; }
  virtual std::string_view name() const = 0;
};

}  // namespace logferry
