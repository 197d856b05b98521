#include "aggregator/wire_json.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <iterator>

#include <fmt/format.h>

#include "aggregator/entry_json.hpp"
#include "aggregator/wire_scan.hpp"
#include "sidecar/core/json_escape.hpp"

namespace logferry::aggregator {
namespace {

// AnyValue's fields (the oneof), by number, and the wire type each must have.
enum AnyField : uint32_t { kString = 1, kBool, kInt, kDouble, kArray, kKvlist, kBytes };
constexpr uint32_t kAnyWireType[] = {0, kLengthDelimited, kVarint, kVarint, kFixed64,
                                     kLengthDelimited, kLengthDelimited, kLengthDelimited};

// ArrayValue and KeyValueList: field 1 repeated, each a message checked by `item`.
bool validate_list(std::string_view bytes, int depth, bool (*item)(std::string_view, int)) {
  WireScanner s(bytes, depth);
  WireField f;
  while (s.next(f)) {
    if (f.number == 1 && f.wire_type == kLengthDelimited && !item(f.bytes, s.child_depth())) return false;
  }
  return s.ok();
}

}  // namespace

bool proto_utf8_valid_slow(std::string_view s) {
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    for (; i + 8 <= n; i += 8) {  // ASCII runs eight bytes at a time
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if ((w & 0x8080808080808080ULL) != 0) break;
    }
    if (i == n) break;
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t len = utf8_sequence_length(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

bool validate_any_value(std::string_view bytes, int depth) {
  WireScanner s(bytes, depth);
  WireField f;
  while (s.next(f)) {
    if (f.wire_type != kLengthDelimited) continue;
    bool ok = true;
    switch (f.number) {
      case kString: ok = proto_utf8_valid(f.bytes); break;
      case kArray: ok = validate_list(f.bytes, s.child_depth(), validate_any_value); break;
      case kKvlist: ok = validate_list(f.bytes, s.child_depth(), validate_key_value); break;
      default: break;
    }
    if (!ok) return false;
  }
  return s.ok();
}

bool validate_key_value(std::string_view bytes, int depth) {
  WireScanner s(bytes, depth);
  WireField f;
  while (s.next(f)) {
    if (f.wire_type != kLengthDelimited) continue;
    if (f.number == 1 && !proto_utf8_valid(f.bytes)) return false;
    if (f.number == 2 && !validate_any_value(f.bytes, s.child_depth())) return false;
  }
  return s.ok();
}

std::string_view WireJson::join(std::string_view message, size_t from, uint32_t number) {
  if (used_ == joined_.size()) joined_.emplace_back();
  std::string& out = joined_[used_++];
  out.clear();
  WireScanner s(message.substr(from));
  WireField f;
  while (s.next(f)) {
    if (f.number == number && f.wire_type == kLengthDelimited) out.append(f.bytes);
  }
  return out;
}

void WireJson::any_value(std::string& out, std::string_view bytes) {
  const size_t mark = used_;
  // The oneof's case is its last field; a message case merges the run of its
  // fields since the case last changed.
  WireScanner s(bytes);
  WireField f;
  WireField last;
  size_t run_start = 0;
  uint32_t run_length = 0;
  for (size_t pos = 0; s.next(f); pos = s.position()) {
    if (f.number < kString || f.number > kBytes || f.wire_type != kAnyWireType[f.number]) continue;  // unknown
    if (f.number != last.number) run_start = pos, run_length = 0;
    ++run_length;
    last = f;
  }
  const auto merged = [&] { return run_length == 1 ? last.bytes : join(bytes, run_start, last.number); };
  switch (last.number) {
    case kString: append_json_string(out, last.bytes); break;
    case kBool: out.append(last.varint != 0 ? "true" : "false"); break;
    case kInt: append_int(out, static_cast<int64_t>(last.varint)); break;
    case kDouble: {
      const double d = std::bit_cast<double>(last.varint);
      if (std::isnan(d)) out.append("\"NaN\"");
      else if (std::isinf(d)) out.append(d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
      else fmt::format_to(std::back_inserter(out), "{}", d);
      break;
    }
    case kArray: array(out, merged()); break;
    case kKvlist: kvlist(out, merged()); break;
    case kBytes:
      out.push_back('"');
      append_base64(out, last.bytes);
      out.push_back('"');
      break;
    default: out.append("null"); break;
  }
  used_ = mark;
}

void WireJson::array(std::string& out, std::string_view bytes) {
  out.push_back('[');
  WireScanner s(bytes);
  WireField f;
  bool first = true;
  while (s.next(f)) {
    if (f.number != 1 || f.wire_type != kLengthDelimited) continue;
    if (!first) out.push_back(',');
    first = false;
    any_value(out, f.bytes);
  }
  out.push_back(']');
}

void WireJson::kvlist(std::string& out, std::string_view bytes) {
  out.push_back('{');
  WireScanner s(bytes);
  WireField f;
  bool first = true;
  while (s.next(f)) {
    if (f.number != 1 || f.wire_type != kLengthDelimited) continue;
    if (!first) out.push_back(',');
    first = false;
    key_value(out, f.bytes);
  }
  out.push_back('}');
}

void WireJson::key_value(std::string& out, std::string_view bytes) {
  WireScanner s(bytes);
  WireField f;
  std::string_view key;
  std::string_view value;
  size_t value_start = 0;
  uint32_t values = 0;
  for (size_t pos = 0; s.next(f); pos = s.position()) {
    if (f.wire_type != kLengthDelimited) continue;
    if (f.number == 1) {
      key = f.bytes;
    } else if (f.number == 2) {
      if (values++ == 0) value_start = pos;
      value = f.bytes;
    }
  }
  append_json_string(out, key);
  out.push_back(':');
  if (values > 1) merged_any_value(out, bytes, value_start, 2);
  else any_value(out, value);
}

void WireJson::merged_any_value(std::string& out, std::string_view message, size_t from, uint32_t number) {
  const size_t mark = used_;
  any_value(out, join(message, from, number));
  used_ = mark;
}

}  // namespace logferry::aggregator
