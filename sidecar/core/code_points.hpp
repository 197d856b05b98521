#pragma once
// Small decoding helpers shared by the code that unescapes text (logfmt's
// \uXXXX, the kubelet's Go-quoted downwardAPI values, hex ids and token
// hashes): hex digits and code points written as UTF-8.
#include <array>
#include <cstdint>
#include <string>

namespace logferry {

namespace detail {
// The value of each hex digit byte, -1 for other bytes.
inline constexpr std::array<int8_t, 256> kHexValue = [] {
  std::array<int8_t, 256> t{};
  t.fill(-1);
  for (int i = 0; i < 10; ++i) t['0' + i] = static_cast<int8_t>(i);
  for (int i = 0; i < 6; ++i) t['a' + i] = t['A' + i] = static_cast<int8_t>(10 + i);
  return t;
}();
}  // namespace detail

// The value of one hex digit (0-9, a-f, A-F); -1 for any other character (one load).
inline int hex_digit_value(char c) { return detail::kHexValue[static_cast<unsigned char>(c)]; }

// Appends `cp` as UTF-8. Returns false, appending nothing, for a surrogate or a
// value outside 0..U+10FFFF (they have no UTF-8 form).
inline bool append_utf8_code_point(std::string& out, int64_t cp) {
  if (cp < 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  const auto c = static_cast<uint32_t>(cp);
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
  return true;
}

}  // namespace logferry
