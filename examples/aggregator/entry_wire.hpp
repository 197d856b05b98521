#pragma once
// One Entry straight from its protobuf wire bytes: validated the way
// ParseFromArray would (once per batch, duplicates included) and rendered as
// the same ndjson line append_entry_line writes for the parsed message, with
// no message tree in between. Fields may come in any order; for a singular
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

// Appends a validated entry as one line, '\n' included: the same bytes as
// append_entry_line on the parsed entry.
void append_entry_line(std::string& out, std::string_view entry, const LineContext& context, WireJson& json);

}  // namespace logferry::aggregator
