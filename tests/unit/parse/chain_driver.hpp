#pragma once
// Drives a parser chain the way the pipeline's intake does (see registry.hpp):
// tracks the offset of the held record and collects the entries forwarded.
#include <cstdint>
#include <string>
#include <vector>

#include "tests/unit/parse/parser_cases.hpp"

namespace logferry::test {

struct Forwarded {
  v1::Entry entry;
  uint64_t offset = 0;
};

class ChainDriver {
 public:
  explicit ChainDriver(std::unique_ptr<Parser> chain) : chain_(std::move(chain)) {}

  // Feeds one line (its offset is the running byte count, as in a file).
  ParseResult feed(const std::string& line) {
    const uint64_t offset = offset_;
    offset_ += line.size() + 1;
    v1::Entry entry;
    const ParseResult r = chain_->parse(line, entry);
    CHECK(entry_is_valid(entry));
    switch (r) {
      case ParseResult::pending:
        if (!holding_) held_offset_ = offset, holding_ = true;
        break;
      case ParseResult::parsed:
      case ParseResult::parse_error:
        out.push_back({std::move(entry), holding_ ? held_offset_ : offset});
        holding_ = false;
        break;
      case ParseResult::parsed_holding_line:
        out.push_back({std::move(entry), holding_ ? held_offset_ : offset});
        held_offset_ = offset;
        holding_ = true;
        break;
      case ParseResult::dropped:
        ++dropped;
        break;
    }
    return r;
  }

  // What the intake does after the flush timeout: flush until pending.
  void flush() {
    for (int i = 0; i < 16; ++i) {
      v1::Entry entry;
      const ParseResult r = chain_->flush(entry);
      if (r == ParseResult::pending) break;
      CHECK(entry_is_valid(entry));
      out.push_back({std::move(entry), held_offset_});
    }
    holding_ = false;
  }

  // Bodies of the forwarded entries, in order.
  std::vector<std::string> bodies() const {
    std::vector<std::string> b;
    for (const auto& f : out) b.push_back(f.entry.body().string_value());
    return b;
  }

  std::vector<Forwarded> out;
  int dropped = 0;

 private:
  std::unique_ptr<Parser> chain_;
  uint64_t offset_ = 0;
  uint64_t held_offset_ = 0;
  bool holding_ = false;
};

inline ChainDriver driver_for(const Environment& env, const std::string& path = "/var/log/app/x.log") {
  return ChainDriver(make_parser_for(make_config(env).parse, path));
}

}  // namespace logferry::test
