#include "sidecar/source/downward_api_map.hpp"

#include <cstdint>

#include "sidecar/core/code_points.hpp"
#include "sidecar/core/json_escape.hpp"

namespace logferry {

namespace {

// Reads `digits` hex digits at s[i]; -1 when they are not all hex.
int64_t read_hex(std::string_view s, size_t i, size_t digits) {
  if (i + digits > s.size()) return -1;
  int64_t v = 0;
  for (size_t k = 0; k < digits; ++k) {
    const int d = hex_digit_value(s[i + k]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
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
        if (!append_utf8_code_point(out, read_hex(s, i, digits))) return std::nullopt;
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
