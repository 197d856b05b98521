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

bool validate_any_value(std::string_view bytes, int depth) {
  WireScanner s(bytes, depth);
  WireField f;
  while (s.next(f)) {
    if (f.wire_type != kLengthDelimited) continue;
    bool ok = true;
    switch (f.number) {
      case kString: ok = is_valid_utf8(f.bytes); break;
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
    if (f.number == 1 && !is_valid_utf8(f.bytes)) return false;
    if (f.number == 2 && !validate_any_value(f.bytes, s.child_depth())) return false;
  }
  return s.ok();
}

bool append_json_string_checked(std::string& out, std::string_view s, char suffix) {
  // Fast path: nothing to escape and nothing above 0x7F (so valid UTF-8).
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const auto special = [](uint64_t w) {
    const uint64_t quote = w ^ (kOnes * '"');
    const uint64_t slash = w ^ (kOnes * '\\');
    return (((quote - kOnes) & ~quote) | ((slash - kOnes) & ~slash) | ((w - kOnes * 0x20) & ~w) | w) & kHigh;
  };
  const size_t n = s.size();
  uint64_t marks = 0;
  uint64_t w = kOnes * 'a';  // padding that needs no escaping
  if (n >= 8) {
    for (size_t i = 0; i + 8 <= n; i += 8) {
      std::memcpy(&w, s.data() + i, 8);
      marks |= special(w);
    }
    std::memcpy(&w, s.data() + n - 8, 8);  // the last eight bytes, overlapping
  } else if (n >= 4) {
    std::memcpy(&w, s.data(), 4);
    std::memcpy(reinterpret_cast<char*>(&w) + 4, s.data() + n - 4, 4);
  } else {
    for (size_t i = 0; i < n; ++i) reinterpret_cast<char*>(&w)[i] = s[i];
  }
  marks |= special(w);
  const size_t extra = suffix != '\0' ? 1 : 0;
  if (marks == 0) {
    char quoted[64];
    if (n + 3 <= sizeof quoted) {  // one append for the usual short string
      quoted[0] = '"';
      if (n >= 8) {
        std::memcpy(quoted + 1, s.data(), n);
      } else if (n >= 4) {
        std::memcpy(quoted + 1, s.data(), 4);
        std::memcpy(quoted + 1 + n - 4, s.data() + n - 4, 4);
      } else {
        for (size_t i = 0; i < n; ++i) quoted[1 + i] = s[i];
      }
      quoted[n + 1] = '"';
      quoted[n + 2] = suffix;
      out.append(quoted, n + 2 + extra);
      return true;
    }
    out.push_back('"');
    out.append(s);
    out.push_back('"');
  } else {
    if (!is_valid_utf8(s)) return false;
    append_json_string(out, s);
  }
  if (extra != 0) out.push_back(suffix);
  return true;
}

bool WireJson::string_fallback(std::string& out, std::string_view s, char suffix) {
  if (check_utf8) return false;
  append_json_string(out, s);
  if (suffix != '\0') out.push_back(suffix);
  return true;
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

bool WireJson::any_value(std::string& out, std::string_view bytes, int depth) {
  // Fast path: the usual lone string, bool or double field.
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  if (depth >= 0 && bytes.size() >= 2) {
    if (b[0] == (kString << 3 | kLengthDelimited) && b[1] < 0x80 && b[1] + size_t{2} == bytes.size()) {
      return string(out, std::string_view(bytes.data() + 2, b[1]));
    }
    if (b[0] == (kBool << 3 | kVarint) && b[1] < 0x80 && bytes.size() == 2) {
      out.append(b[1] != 0 ? "true" : "false");
      return true;
    }
  }
  // The oneof's case is its last field; a message case merges the run of its
  // fields since the case last changed.
  WireScanner s(bytes, depth);
  WireField f;
  WireField last;
  size_t run_start = 0;
  uint32_t run_length = 0;
  uint32_t fields = 0;
  for (size_t pos = 0; s.next(f); pos = s.position()) {
    if (f.number < kString || f.number > kBytes || f.wire_type != kAnyWireType[f.number]) continue;  // unknown
    if (f.number != last.number) run_start = pos, run_length = 0;
    ++run_length;
    ++fields;
    last = f;
  }
  if (!s.ok()) return false;
  // More than one field (rare): each must be valid on its own, rendered or not.
  if (fields > 1 && check_utf8 && !validate_any_value(bytes, depth)) return false;
  const size_t mark = used_;
  bool ok = true;
  switch (last.number) {
    case kString: ok = string(out, last.bytes); break;
    case kBool: out.append(last.varint != 0 ? "true" : "false"); break;
    case kInt: append_int(out, static_cast<int64_t>(last.varint)); break;
    case kDouble: {
      const double d = std::bit_cast<double>(last.varint);
      if (std::isnan(d)) out.append("\"NaN\"");
      else if (std::isinf(d)) out.append(d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
      else fmt::format_to(std::back_inserter(out), "{}", d);
      break;
    }
    case kArray:
      ok = list(out, run_length == 1 ? last.bytes : join(bytes, run_start, kArray), s.child_depth(), '[', ']',
                &WireJson::any_value);
      break;
    case kKvlist:
      ok = list(out, run_length == 1 ? last.bytes : join(bytes, run_start, kKvlist), s.child_depth(), '{', '}',
                &WireJson::key_value);
      break;
    case kBytes:
      out.push_back('"');
      append_base64(out, last.bytes);
      out.push_back('"');
      break;
    default: out.append("null"); break;
  }
  used_ = mark;
  return ok;
}

bool WireJson::list(std::string& out, std::string_view bytes, int depth, char open, char close,
                    bool (WireJson::*item)(std::string&, std::string_view, int)) {
  out.push_back(open);
  WireScanner s(bytes, depth);
  WireField f;
  bool first = true;
  while (s.next(f)) {
    if (f.number != 1 || f.wire_type != kLengthDelimited) continue;
    if (!first) out.push_back(',');
    first = false;
    if (!(this->*item)(out, f.bytes, s.child_depth())) return false;
  }
  out.push_back(close);
  return s.ok();
}

bool WireJson::key_value(std::string& out, std::string_view bytes, int depth) {
  // Fast path: one key of under 128 bytes, then one value of under 128 bytes.
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  if (depth >= 0 && bytes.size() >= 4 && b[0] == (1 << 3 | kLengthDelimited) && b[1] < 0x80) {
    const size_t at = size_t{2} + b[1];
    if (at + 2 <= bytes.size() && b[at] == (2 << 3 | kLengthDelimited) && b[at + 1] < 0x80 &&
        b[at + 1] + at + 2 == bytes.size()) {
      if (!string(out, std::string_view(bytes.data() + 2, b[1]), ':')) return false;
      return any_value(out, std::string_view(bytes.data() + at + 2, b[at + 1]), depth - 1);
    }
  }
  WireScanner s(bytes, depth);
  WireField f;
  std::string_view key;
  std::string_view value;
  size_t value_start = 0;
  uint32_t keys = 0;
  uint32_t values = 0;
  for (size_t pos = 0; s.next(f); pos = s.position()) {
    if (f.wire_type != kLengthDelimited) continue;
    if (f.number == 1) {
      key = f.bytes;
      ++keys;
    } else if (f.number == 2) {
      if (values++ == 0) value_start = pos;
      value = f.bytes;
    }
  }
  if (!s.ok()) return false;
  // A field given twice (rare): every occurrence must be valid on its own.
  if ((keys > 1 || values > 1) && check_utf8 && !validate_key_value(bytes, depth)) return false;
  if (!string(out, key, ':')) return false;
  if (values > 1) return merged_any_value(out, bytes, value_start, 2, s.child_depth());
  return any_value(out, value, s.child_depth());
}

bool WireJson::merged_any_value(std::string& out, std::string_view message, size_t from, uint32_t number,
                                int depth) {
  const size_t mark = used_;
  const bool ok = any_value(out, join(message, from, number), depth);
  used_ = mark;
  return ok;
}

}  // namespace logferry::aggregator
