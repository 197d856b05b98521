#include "sidecar/core/json_escape.hpp"

#include <bit>
#include <cstdint>
#include <cstring>

namespace logferry {
namespace {

// Eight bytes at a time ("SWAR"): a bit trick marks the bytes of a 64-bit word
// that match, with no branch per byte.
constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighBits = 0x8080808080808080ULL;

// The high bit of every byte of `w` below `n` (n <= 0x80). Exact up to the
// first marked byte (in memory order); a borrow may mark bytes after it.
constexpr uint64_t bytes_below(uint64_t w, uint8_t n) { return (w - kOnes * n) & ~w & kHighBits; }

// The bytes a JSON string cannot carry as they are: '"', '\\', control bytes
// (< 0x20), and bytes >= 0x80 (whose UTF-8 sequence must be checked).
constexpr uint64_t special_bytes(uint64_t w) {
  return bytes_below(w ^ (kOnes * '"'), 1) | bytes_below(w ^ (kOnes * '\\'), 1) | bytes_below(w, 0x20) |
         (w & kHighBits);
}

// Index in memory order of the first marked byte of a non-zero mark word.
size_t first_marked(uint64_t marks) {
  if constexpr (std::endian::native == std::endian::little) return static_cast<size_t>(std::countr_zero(marks)) / 8;
  else return static_cast<size_t>(std::countl_zero(marks)) / 8;
}

// Index of the first byte at or after `i` that needs escaping or a UTF-8
// check; s.size() when there is none.
size_t next_special_byte(std::string_view s, size_t i) {
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (const uint64_t m = special_bytes(w)) return i + first_marked(m);
  }
  if (i < s.size()) {
    uint64_t w = kOnes * 'a';  // the padding needs no escaping
    std::memcpy(&w, s.data() + i, s.size() - i);
    if (const uint64_t m = special_bytes(w)) return i + first_marked(m);
  }
  return s.size();
}

}  // namespace

size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  size_t len = 0;
  uint32_t min = 0;
  uint32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, min = 0x80, cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min = 0x800, cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (i + 8 <= s.size()) {  // ASCII runs eight bytes at a time
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if ((w & kHighBits) == 0) {
        i += 8;
        continue;
      }
    }
    const size_t n = utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

namespace {

// Appends the UTF-8 sequence at s[i], or U+FFFD for an invalid byte; returns
// how many bytes of `s` it consumed.
size_t append_sequence_or_replacement(std::string& out, std::string_view s, size_t i) {
  const size_t n = utf8_sequence_length(s, i);
  if (n == 0) {
    out.append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER
    return 1;
  }
  out.append(s.data() + i, n);
  return n;
}

}  // namespace

void append_utf8_repaired(std::string& out, std::string_view s) {
  if (is_valid_utf8(s)) {
    out.append(s);
    return;
  }
  out.reserve(out.size() + s.size() + 8);
  for (size_t i = 0; i < s.size();) i += append_sequence_or_replacement(out, s, i);
}

std::string utf8_repaired(std::string_view s) {
  std::string out;
  append_utf8_repaired(out, s);
  return out;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t i = 0;
  while (true) {
    // Copy the run that needs no escaping in one go.
    const size_t special = next_special_byte(s, i);
    out.append(s.data() + i, special - i);
    i = special;
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      i += append_sequence_or_replacement(out, s, i);
      continue;
    }
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
    ++i;
  }
  out.push_back('"');
}

}  // namespace logferry
