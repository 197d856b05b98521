#include "aggregator/entry_wire.hpp"

#include <array>

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
  std::array<std::string_view, 16> attributes;  // the first ones, to skip a second pass
  size_t attribute_count = 0;
  std::string_view trace_id;
  std::string_view span_id;
};

// One pass over the entry's own fields: the last of each singular field, where
// the repeated and merged ones start, and the checks of what is not rendered
// later (every severity_text; each body when there are several).
bool read_fields(std::string_view entry, int depth, bool check_utf8, EntryFields& e, EntryKey& key) {
  WireScanner s(entry, depth);
  WireField f;
  key = EntryKey{};
  for (size_t pos = 0; s.next(f); pos = s.position()) {
    switch (f.wire_type) {
      case kFixed64:
        if (f.number == kTime) e.time = f.varint;
        else if (f.number == kObservedTime) e.observed_time = f.varint;
        break;
      case kVarint:
        if (f.number == kSeverityNumber) e.severity_number = static_cast<int32_t>(static_cast<uint32_t>(f.varint));
        else if (f.number == kSourceIndex) key.source_index = static_cast<uint32_t>(f.varint);
        else if (f.number == kOffset) key.offset = f.varint;
        break;
      case kFixed32:
        if (f.number == kFlags) e.flags = static_cast<uint32_t>(f.varint);
        break;
      case kLengthDelimited:
        switch (f.number) {
          case kSeverityText:
            if (check_utf8 && !is_valid_utf8(f.bytes)) return false;
            e.severity_text = f.bytes;
            break;
          case kBody:
            // Bodies given more than once merge; each is checked on its own here.
            if (e.bodies++ == 0) {
              e.body_start = pos;
            } else if (check_utf8 && ((e.bodies == 2 && !validate_any_value(e.body, s.child_depth())) ||
                                      !validate_any_value(f.bytes, s.child_depth()))) {
              return false;
            }
            e.body = f.bytes;
            break;
          case kAttributes:
            if (e.attribute_count == 0) e.attributes_start = pos;
            if (e.attribute_count < e.attributes.size()) e.attributes[e.attribute_count] = f.bytes;
            ++e.attribute_count;
            break;
          case kTraceId: e.trace_id = f.bytes; break;
          case kSpanId: e.span_id = f.bytes; break;
          default: break;
        }
        break;
      default: break;
    }
  }
  return s.ok();
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
      if (f.number == kSeverityText) ok = is_valid_utf8(f.bytes);
      else if (f.number == kBody) ok = validate_any_value(f.bytes, s.child_depth());
      else if (f.number == kAttributes) ok = validate_key_value(f.bytes, s.child_depth());
      if (!ok) return false;
    }
  }
  return s.ok();
}

bool render_entry(std::string& out, size_t& tail_at, std::string_view bytes, int depth, EntryKey& key,
                  WireJson& json) {
  EntryFields e;
  if (!read_fields(bytes, depth, json.check_utf8, e, key)) return false;
  const int child = depth - 1;
  out.append(",\"time_unix_nano\":");
  append_uint(out, e.time);
  out.append(",\"observed_time_unix_nano\":");
  append_uint(out, e.observed_time);
  out.append(",\"severity_number\":");
  append_int(out, e.severity_number);
  out.append(",\"severity_text\":");
  append_json_string(out, e.severity_text);
  out.append(",\"body\":");
  const bool body_ok = e.bodies > 1 ? json.merged_any_value(out, bytes, e.body_start, kBody, child)
                                    : json.any_value(out, e.body, child);
  if (!body_ok) return false;
  out.append(",\"attributes\":{");
  if (e.attribute_count <= e.attributes.size()) {
    for (size_t i = 0; i < e.attribute_count; ++i) {
      if (i != 0) out.push_back(',');
      if (!json.key_value(out, e.attributes[i], child)) return false;
    }
  } else {
    WireScanner s(bytes.substr(e.attributes_start));
    WireField f;
    bool first = true;
    while (s.next(f)) {
      if (f.number != kAttributes || f.wire_type != kLengthDelimited) continue;
      if (!first) out.push_back(',');
      first = false;
      if (!json.key_value(out, f.bytes, child)) return false;
    }
  }
  out.push_back('}');
  tail_at = out.size();
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
  return true;
}

void build_frame(const LineContext& context, LineFrame& frame) {
  frame.opening.assign("{\"source_id\":").append(context.source_id_json).append(",\"offset\":");
  frame.path.assign(",\"source_path\":").append(context.source_path_json);
  frame.resource.assign(",\"resource\":").append(context.resource_json);
}

void append_line(std::string& out, const LineFrame& frame, uint64_t offset, std::string_view head,
                 std::string_view tail) {
  out.append(frame.opening);
  append_uint(out, offset);
  out.append(frame.path);
  out.append(head);
  out.append(frame.resource);
  out.append(tail);
}

bool append_entry_line(std::string& out, std::string_view entry, const LineContext& context, WireJson& json) {
  std::string parts;
  size_t tail_at = 0;
  EntryKey key;
  if (!render_entry(parts, tail_at, entry, kWireMaxDepth - 1, key, json)) return false;
  LineFrame frame;
  build_frame(context, frame);
  const std::string_view view(parts);
  append_line(out, frame, key.offset, view.substr(0, tail_at), view.substr(tail_at));
  return true;
}

}  // namespace logferry::aggregator
