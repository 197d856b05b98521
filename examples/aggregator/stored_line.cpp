#include "aggregator/stored_line.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#include "aggregator/wire_scan.hpp"
#include "sidecar/core/code_points.hpp"

namespace logferry::aggregator {

namespace dom = simdjson::dom;
using KeyValues = google::protobuf::RepeatedPtrField<v1::KeyValue>;

namespace {

// The members of a line, in the order append_entry_line writes them.
enum Member : int {
  kLineSourceId, kLineOffset, kLineSourcePath, kLineTime, kLineObservedTime, kLineSeverityNumber, kLineSeverityText,
  kLineBody, kLineAttributes, kLineResource, kLineFlags, kLineTraceId, kLineSpanId, kMemberCount
};
constexpr std::string_view kMembers[kMemberCount] = {
    "source_id",       "offset",        "source_path", "time_unix_nano", "observed_time_unix_nano",
    "severity_number", "severity_text", "body",        "attributes",     "resource",
    "flags",           "trace_id",      "span_id"};
constexpr uint32_t kRequired = (1u << kLineFlags) - 1;  // every member before flags

// Room (WireScanner's depth: message levels that may still nest below) of an entry
// inside a Batch, as the aggregator accepts it, and of a KeyValue of Source.resource
// (Batch > Source > KeyValue), the deeper of the two places a resource goes.
constexpr int kEntryRoom = kWireMaxDepth - 1;
constexpr int kResourceRoom = kWireMaxDepth - 2;

int member_of(std::string_view key) {
  for (int i = 0; i < kMemberCount; ++i)
    if (kMembers[i] == key) return i;
  return -1;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Walks the members of an object text simdjson has validated and yields each
// member's value as written (DOM elements do not keep their text), in the
// order the DOM iterates them. Every step is bounded by the text.
class MemberTexts {
 public:
  explicit MemberTexts(std::string_view json) : s_(json) {
    skip_space();
    if (i_ < s_.size()) ++i_;  // '{'
  }
  std::string_view next() {
    skip_space();
    if (i_ < s_.size() && s_[i_] == ',') ++i_;
    skip_space();
    skip_string();  // the key
    skip_space();
    if (i_ < s_.size()) ++i_;  // ':'
    skip_space();
    const size_t start = i_;
    skip_value();
    return s_.substr(start, i_ - start);
  }

 private:
  void skip_space() { while (i_ < s_.size() && is_space(s_[i_])) ++i_; }
  void skip_string() {  // at its opening quote
    ++i_;
    while (i_ < s_.size() && s_[i_] != '"') i_ += s_[i_] == '\\' ? 2 : 1;
    i_ = std::min(i_ + 1, s_.size());
  }
  void skip_value() {
    size_t depth = 0;
    while (i_ < s_.size()) {
      const char c = s_[i_];
      if (c == '"') {
        skip_string();
        if (depth == 0) return;
      } else if (c == '{' || c == '[') {
        ++depth, ++i_;
      } else if (c == '}' || c == ']') {
        if (depth == 0) return;  // the end of the object, after a number or a literal
        ++i_;
        if (--depth == 0) return;
      } else if (depth == 0 && (c == ',' || is_space(c))) {
        return;
      } else {
        ++i_;
      }
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

bool to_key_values(dom::object object, KeyValues& out, int room);

// Converts one JSON value; `room`: message levels that may still nest below `out`.
bool to_any(dom::element value, v1::AnyValue& out, int room) {
  if (room < 0) return false;
  switch (value.type()) {
    case dom::element_type::STRING: {
      const std::string_view s = value.get_string().value_unsafe();
      out.mutable_string_value()->assign(s.data(), s.size());  // simdjson validated the UTF-8
      return true;
    }
    case dom::element_type::INT64: out.set_int_value(value.get_int64().value_unsafe()); return true;
    case dom::element_type::UINT64:  // beyond int64
      out.set_double_value(static_cast<double>(value.get_uint64().value_unsafe()));
      return true;
    case dom::element_type::DOUBLE: out.set_double_value(value.get_double().value_unsafe()); return true;
    case dom::element_type::BOOL: out.set_bool_value(value.get_bool().value_unsafe()); return true;
    case dom::element_type::NULL_VALUE: return true;
    case dom::element_type::ARRAY: {
      if (room < 1) return false;  // the ArrayValue
      v1::ArrayValue* list = out.mutable_array_value();
      const dom::array items = value.get_array().value_unsafe();  // a copy: the result is a temporary
      for (const dom::element item : items)
        if (!to_any(item, *list->add_values(), room - 2)) return false;
      return true;
    }
    case dom::element_type::OBJECT:
      if (room < 1) return false;  // the KeyValueList
      return to_key_values(value.get_object().value_unsafe(), *out.mutable_kvlist_value()->mutable_values(),
                           room - 2);
  }
  return false;
}

// Appends the members of `object`; `room`: levels that may nest below each KeyValue.
bool to_key_values(dom::object object, KeyValues& out, int room) {
  for (const dom::key_value_pair member : object) {
    v1::KeyValue* kv = out.Add();
    kv->mutable_key()->assign(member.key.data(), member.key.size());
    if (!to_any(member.value, *kv->mutable_value(), room - 1)) return false;
  }
  return true;
}

bool read_string(dom::element value, std::string& out) {
  std::string_view s;
  if (value.get_string().get(s)) return false;
  out.assign(s.data(), s.size());
  return true;
}

bool read_uint(dom::element value, uint64_t max, uint64_t& out) { return !value.get_uint64().get(out) && out <= max; }

bool read_hex(dom::element value, std::string& out) {
  std::string_view hex;
  if (value.get_string().get(hex) || hex.size() % 2 != 0) return false;
  out.resize(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_digit_value(hex[2 * i]), lo = hex_digit_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<char>(hi << 4 | lo);
  }
  return true;
}

}  // namespace

bool StoredLineParser::parse(std::string_view line, StoredLine& out) {
  out.entry.Clear();
  dom::element root;
  dom::object object;
  if (load(line, root) || root.get_object().get(object)) return false;
  MemberTexts texts(line);  // `line` is the text simdjson validated
  uint32_t seen = 0;
  for (const dom::key_value_pair member : object) {
    const std::string_view text = texts.next();
    const int index = member_of(member.key);
    if (index < 0) continue;  // not written by this version: ignored
    const uint32_t bit = 1u << index;
    if ((seen & bit) != 0 || !read_member(index, member.value, text, out)) return false;
    seen |= bit;
  }
  return (seen & kRequired) == kRequired;
}

bool StoredLineParser::read_member(int member, dom::element value, std::string_view text, StoredLine& out) {
  v1::Entry& e = out.entry;
  switch (member) {
    case kLineSourceId: return read_string(value, out.source_id);
    case kLineSourcePath: return read_string(value, out.source_path);
    case kLineSeverityText: return read_string(value, *e.mutable_severity_text());
    case kLineSeverityNumber: {
      int64_t severity = 0;
      if (value.get_int64().get(severity) || severity != static_cast<int32_t>(severity)) return false;  // int32
      e.set_severity_number(static_cast<int32_t>(severity));
      return true;
    }
    case kLineBody: return value.is_null() || to_any(value, *e.mutable_body(), kEntryRoom - 1);
    case kLineAttributes: {
      dom::object object;
      return !value.get_object().get(object) && to_key_values(object, *e.mutable_attributes(), kEntryRoom - 1);
    }
    case kLineResource: {
      dom::object object;
      if (value.get_object().get(object) || !text.starts_with('{') || !text.ends_with('}')) return false;
      resource_check_.Clear();
      if (!to_key_values(object, resource_check_, kResourceRoom)) return false;
      out.resource_json.assign(text.data(), text.size());
      return true;
    }
    case kLineOffset:
    case kLineTime:
    case kLineObservedTime:
    case kLineFlags: {
      uint64_t n = 0;
      if (!read_uint(value, member == kLineFlags ? std::numeric_limits<uint32_t>::max() : ~uint64_t{0}, n)) return false;
      if (member == kLineOffset) e.set_offset(n);
      else if (member == kLineTime) e.set_time_unix_nano(n);
      else if (member == kLineObservedTime) e.set_observed_time_unix_nano(n);
      else e.set_flags(static_cast<uint32_t>(n));
      return true;
    }
    case kLineTraceId: return read_hex(value, *e.mutable_trace_id());
    case kLineSpanId: return read_hex(value, *e.mutable_span_id());
    default: return false;
  }
}

bool StoredLineParser::parse_key_values(std::string_view object_json, KeyValues& out) {
  out.Clear();
  dom::element root;
  dom::object object;
  if (!load(object_json, root) && !root.get_object().get(object) && to_key_values(object, out, kResourceRoom))
    return true;
  out.Clear();
  return false;
}

simdjson::error_code StoredLineParser::load(std::string_view json, dom::element& root) {
  if (json.empty()) return simdjson::EMPTY;
  const size_t needed = json.size() + simdjson::SIMDJSON_PADDING;
  if (buffer_.size() < needed) buffer_.resize(needed);
  std::memcpy(buffer_.data(), json.data(), json.size());
  std::memset(buffer_.data() + json.size(), 0, simdjson::SIMDJSON_PADDING);
  return parser_.parse(buffer_.data(), json.size(), false).get(root);
}

}  // namespace logferry::aggregator
