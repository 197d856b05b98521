#pragma once
// One Entry straight from its protobuf wire bytes: validated the way
// ParseFromArray would (once per batch, duplicates included) and rendered as
// the same ndjson line as the parsed message rendered field by field (the
// tests' oracle, tests/support/entry_line_oracle.hpp), with no message tree in
// between. Fields may come in any order; for a singular
// field the last occurrence wins, message fields given twice are merged and
// attributes may be split around other fields, as in protobuf.
#include <cstdint>
#include <string>
#include <string_view>

#include "aggregator/entry_json.hpp"
#include "aggregator/wire_json.hpp"

namespace logferry::aggregator {

// The fields of an entry the store needs before rendering it.
struct EntryKey {
  uint32_t source_index = 0;
  uint64_t offset = 0;
};

// True when ParseFromArray would accept `bytes` as an Entry nested `depth`
// levels above protobuf's limit; fills `key` then.
bool validate_entry(std::string_view bytes, int depth, EntryKey& key);

// Validates an entry as validate_entry does and, when valid, appends the
// parts of its line that depend on the entry alone: `out` gets
// ,"time_unix_nano":...,"attributes":{...} and then the tail (flags, ids,
// "}\n"); `tail_at` is where the tail starts. False when invalid (what was
// appended is then to be discarded).
bool render_entry(std::string& out, size_t& tail_at, std::string_view bytes, int depth, EntryKey& key,
                  WireJson& json);

// The parts of a line that are the same for all entries of one source in one
// batch, joined once: {"source_id":ID,"offset": / ,"source_path":PATH / ,"resource":{...}
struct LineFrame {
  std::string opening;
  std::string path;
  std::string resource;
};
void build_frame(const LineContext& context, LineFrame& frame);

// Appends a whole line from the parts render_entry wrote: the same bytes as
// the tests' oracle renders from the parsed entry.
void append_line(std::string& out, const LineFrame& frame, uint64_t offset, std::string_view head,
                 std::string_view tail);

// Validates, renders and appends one entry's line (for tests and tools); false when invalid.
bool append_entry_line(std::string& out, std::string_view entry, const LineContext& context, WireJson& json);

}  // namespace logferry::aggregator
