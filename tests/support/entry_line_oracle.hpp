#pragma once
// The test oracle of the aggregator's ndjson lines: an entry rendered from the
// parsed message tree (v1::Entry), field by field. The aggregator renders from
// the wire bytes (aggregator/entry_wire.hpp); tests and the fuzz target check
// that both give the same line. Not part of the aggregator: only tests use it.
#include <string>

#include "aggregator/entry_json.hpp"
#include "logferry/v1/logferry.pb.h"

namespace logferry::test {

// Appends `entry` as the one ndjson line the aggregator stores for it, '\n' included.
void append_entry_line(std::string& out, const v1::Entry& entry, const aggregator::LineContext& context);

}  // namespace logferry::test
