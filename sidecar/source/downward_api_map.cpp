#include "sidecar/source/downward_api_map.hpp"

#include <cstdint>

#include "sidecar/core/json_escape.hpp"

namespace logferry {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads `digits` hex digits at s[i]; -1 when they are not all hex.
int64_t read_hex(std::string_view s, size_t i, size_t digits) {
  if (i + digits > s.size()) return -1;
  int64_t v = 0;
  for (size_t k = 0; k < digits; ++k) {
    const int d = hex_value(s[i + k]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// Appends a code point as UTF-8; false for surrogates and values past U+10FFFF
// (Go's Unquote refuses them too).
bool append_code_point(std::string& out, int64_t cp) {
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

}  // namespace

std::optional<std::string> unquote_go_string(std::string_view q) {
  if (q.size() < 2 || q.front() != '"' || q.back() != '"') return std::nullopt;
  const std::string_view s = q.substr(1, q.size() - 2);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '"' || c == '\n') return std::nullopt;
    if (c != '\\') {
      out.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 >= s.size()) return std::nullopt;
    const char e = s[i + 1];
    i += 2;
    switch (e) {
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      case '\\': out.push_back('\\'); break;
      case '"': out.push_back('"'); break;
      case 'x': {  // one raw byte
        const int64_t v = read_hex(s, i, 2);
        if (v < 0) return std::nullopt;
        out.push_back(static_cast<char>(v));
        i += 2;
        break;
      }
      case 'u':
      case 'U': {
        const size_t digits = e == 'u' ? 4 : 8;
        if (!append_code_point(out, read_hex(s, i, digits))) return std::nullopt;
        i += digits;
        break;
      }
      default: {  // \ooo: three octal digits, one byte
        if (e < '0' || e > '7' || i + 2 > s.size()) return std::nullopt;
        int v = e - '0';
        for (size_t k = 0; k < 2; ++k) {
          const char o = s[i + k];
          if (o < '0' || o > '7') return std::nullopt;
          v = v * 8 + (o - '0');
        }
        if (v > 255) return std::nullopt;
        out.push_back(static_cast<char>(v));
        i += 2;
        break;
      }
    }
  }
  return out;
}

DownwardApiMap parse_downward_api_map(std::string_view text) {
  DownwardApiMap m;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    // Label and annotation keys never contain '=', values are quoted: the
    // first '=' separates them.
    const size_t eq = line.find('=');
    if (eq == 0 || eq == std::string_view::npos) {
      ++m.bad_lines;
      continue;
    }
    auto value = unquote_go_string(line.substr(eq + 1));
    if (!value) {
      ++m.bad_lines;
      continue;
    }
    // Label text crosses a trust boundary here: invalid UTF-8 becomes U+FFFD.
    m.pairs.emplace_back(utf8_repaired(line.substr(0, eq)), utf8_repaired(*value));
  }
  return m;
}

}  // namespace logferry
