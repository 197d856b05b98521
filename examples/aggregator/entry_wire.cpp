#include "aggregator/entry_wire.hpp"

#include "aggregator/wire_scan.hpp"
#include "sidecar/core/json_escape.hpp"

namespace logferry::aggregator {
namespace {

// Entry's fields (see proto/logferry/v1/logferry.proto).
enum EntryField : uint32_t {
  kTime = 1,
  kSeverityNumber = 2,
  kSeverityText = 3,
  kBody = 5,
  kAttributes = 6,
  kFlags = 8,
  kTraceId = 9,
  kSpanId = 10,
  kObservedTime = 11,
  kSourceIndex = 100,
  kOffset = 101,
};

// An entry's fields after one pass over its bytes, last occurrence winning.
struct EntryFields {
  uint64_t time = 0;
  uint64_t observed_time = 0;
  uint64_t offset = 0;
  int32_t severity_number = 0;
  uint32_t flags = 0;
  std::string_view severity_text;
  std::string_view body;      // the last body field
  size_t body_start = 0;      // where the first body field starts
  uint32_t bodies = 0;
  size_t attributes_start = 0;  // where the first attributes field starts
  bool has_attributes = false;
  std::string_view trace_id;
  std::string_view span_id;
};

void read_fields(std::string_view entry, EntryFields& e) {
  WireScanner s(entry);
  WireField f;
  for (size_t pos = 0; s.next(f); pos = s.position()) {
    switch (f.wire_type) {
      case kFixed64:
        if (f.number == kTime) e.time = f.varint;
        else if (f.number == kObservedTime) e.observed_time = f.varint;
        break;
      case kVarint:
        if (f.number == kSeverityNumber) e.severity_number = static_cast<int32_t>(static_cast<uint32_t>(f.varint));
        else if (f.number == kOffset) e.offset = f.varint;
        break;
      case kFixed32:
        if (f.number == kFlags) e.flags = static_cast<uint32_t>(f.varint);
        break;
      case kLengthDelimited:
        switch (f.number) {
          case kSeverityText: e.severity_text = f.bytes; break;
          case kBody:
            if (e.bodies++ == 0) e.body_start = pos;
            e.body = f.bytes;
            break;
          case kAttributes:
            if (!e.has_attributes) e.attributes_start = pos, e.has_attributes = true;
            break;
          case kTraceId: e.trace_id = f.bytes; break;
          case kSpanId: e.span_id = f.bytes; break;
          default: break;
        }
        break;
      default: break;
    }
  }
}

}  // namespace

bool validate_entry(std::string_view bytes, int depth, EntryKey& key) {
  WireScanner s(bytes, depth);
  WireField f;
  key = EntryKey{};
  while (s.next(f)) {
    if (f.wire_type == kVarint) {
      if (f.number == kSourceIndex) key.source_index = static_cast<uint32_t>(f.varint);
      else if (f.number == kOffset) key.offset = f.varint;
    } else if (f.wire_type == kLengthDelimited) {
      bool ok = true;
      if (f.number == kSeverityText) ok = proto_utf8_valid(f.bytes);
      else if (f.number == kBody) ok = validate_any_value(f.bytes, s.child_depth());
      else if (f.number == kAttributes) ok = validate_key_value(f.bytes, s.child_depth());
      if (!ok) return false;
    }
  }
  return s.ok();
}

void append_entry_line(std::string& out, std::string_view entry, const LineContext& context, WireJson& json) {
  EntryFields e;
  read_fields(entry, e);
  out.append("{\"source_id\":");
  out.append(context.source_id_json);
  out.append(",\"offset\":");
  append_uint(out, e.offset);
  out.append(",\"source_path\":");
  out.append(context.source_path_json);
  out.append(",\"time_unix_nano\":");
  append_uint(out, e.time);
  out.append(",\"observed_time_unix_nano\":");
  append_uint(out, e.observed_time);
  out.append(",\"severity_number\":");
  append_int(out, e.severity_number);
  out.append(",\"severity_text\":");
  append_json_string(out, e.severity_text);
  out.append(",\"body\":");
  if (e.bodies > 1) json.merged_any_value(out, entry, e.body_start, kBody);
  else json.any_value(out, e.body);
  out.append(",\"attributes\":{");
  if (e.has_attributes) {
    WireScanner s(entry.substr(e.attributes_start));
    WireField f;
    bool first = true;
    while (s.next(f)) {
      if (f.number != kAttributes || f.wire_type != kLengthDelimited) continue;
      if (!first) out.push_back(',');
      first = false;
      json.key_value(out, f.bytes);
    }
  }
  out.append("},\"resource\":");
  out.append(context.resource_json);
  if (e.flags != 0) {
    out.append(",\"flags\":");
    append_uint(out, e.flags);
  }
  if (!e.trace_id.empty()) {
    out.append(",\"trace_id\":\"");
    append_hex(out, e.trace_id);
    out.push_back('"');
  }
  if (!e.span_id.empty()) {
    out.append(",\"span_id\":\"");
    append_hex(out, e.span_id);
    out.push_back('"');
  }
  out.append("}\n");
}

}  // namespace logferry::aggregator
