#pragma once
// Groups lines into records (stack traces, wrapped messages) in front of a
// message parser: the lines of a record are joined with '\n' and parsed as
// one by the inner parser. A line continues the held record when it matches
// the rule's `continuation` pattern, or (with a `start` pattern) when it does
// not match `start`. A record is cut at `max_lines` / `max_bytes`: the held
// part is emitted with log.multiline.split=true and the line starts a new
// record (no line is ever dropped).
//
// Every record is held until the next record starts (parse returns
// parsed_holding_line) or until the caller calls flush() after
// LOGFERRY_MULTILINE_TIMEOUT of inactivity. Fields already set on the entry by
// an outer stage (cri/docker: time, log.iostream) travel with the record's
// first line. Records joined from more than one line are counted in the
// caller's counter (the multiline records metric), when one is given.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <re2/re2.h>

#include "sidecar/parse/parser.hpp"

namespace logferry {

struct MultilineRule {
  std::shared_ptr<const re2::RE2> start;         // a line matching it starts a record
  std::shared_ptr<const re2::RE2> continuation;  // a line matching it continues one
};

// The rule of a preset: "java", "python" or "go"; nullopt for other names.
std::optional<MultilineRule> multiline_preset(std::string_view name);

class MultilineParser final : public Parser {
 public:
  // `joined_records` (may be null) is incremented for every record of more than one line.
  MultilineParser(std::unique_ptr<Parser> inner, MultilineRule rule, size_t max_lines, size_t max_bytes,
                  uint64_t* joined_records = nullptr);
  ParseResult parse(std::string_view line, v1::Entry& entry) override;
  ParseResult flush(v1::Entry& entry) override;
  std::string_view name() const override { return inner_->name(); }

 private:
  bool continues(std::string_view line) const;
  // Emits the held record into `entry` (the held fields first).
  ParseResult emit(v1::Entry& entry, bool split);
  // Holds `line` as a new record, taking `fields` (the line's pre-set fields).
  void hold(std::string_view line, v1::Entry& fields);

  std::unique_ptr<Parser> inner_;
  MultilineRule rule_;
  size_t max_lines_;
  size_t max_bytes_;
  uint64_t* joined_records_;
  bool holding_ = false;
  size_t lines_ = 0;
  std::string held_;
  v1::Entry held_fields_;
  v1::Entry incoming_;
};

}  // namespace logferry
