#include "support/entry_line_oracle.hpp"

#include "sidecar/core/json_escape.hpp"

namespace logferry::test {

using aggregator::append_any_value_json;
using aggregator::append_hex;
using aggregator::append_int;
using aggregator::append_key_values_json;
using aggregator::append_uint;

void append_entry_line(std::string& out, const v1::Entry& entry, const aggregator::LineContext& context) {
  out.append("{\"source_id\":");
  out.append(context.source_id_json);
  out.append(",\"offset\":");
  append_uint(out, entry.offset());
  out.append(",\"source_path\":");
  out.append(context.source_path_json);
  out.append(",\"time_unix_nano\":");
  append_uint(out, entry.time_unix_nano());
  out.append(",\"observed_time_unix_nano\":");
  append_uint(out, entry.observed_time_unix_nano());
  out.append(",\"severity_number\":");
  append_int(out, entry.severity_number());
  out.append(",\"severity_text\":");
  append_json_string(out, entry.severity_text());
  out.append(",\"body\":");
  append_any_value_json(out, entry.body());
  out.append(",\"attributes\":");
  append_key_values_json(out, entry.attributes());
  out.append(",\"resource\":");
  out.append(context.resource_json);
  if (entry.flags() != 0) {
    out.append(",\"flags\":");
    append_uint(out, entry.flags());
  }
  if (!entry.trace_id().empty()) {
    out.append(",\"trace_id\":\"");
    append_hex(out, entry.trace_id());
    out.push_back('"');
  }
  if (!entry.span_id().empty()) {
    out.append(",\"span_id\":\"");
    append_hex(out, entry.span_id());
    out.push_back('"');
  }
  out.append("}\n");
}

}  // namespace logferry::test
