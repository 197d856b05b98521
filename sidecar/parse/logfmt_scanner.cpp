#include "sidecar/parse/logfmt_scanner.hpp"

#include "sidecar/core/code_points.hpp"

namespace logferry {
namespace {

// Reads 4 hex digits at text[pos].
int hex4(std::string_view text, size_t pos) {
  if (pos + 4 > text.size()) return -1;
  int v = 0;
  for (size_t i = pos; i < pos + 4; ++i) {
    const int h = hex_digit_value(text[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

}  // namespace

size_t read_quoted(std::string_view text, size_t pos, std::string& out) {
  out.clear();
  ++pos;  // opening quote
  while (pos < text.size()) {
    const char c = text[pos];
    if (c == '"') return pos + 1;
    if (c != '\\' || pos + 1 >= text.size()) {
      out.push_back(c);
      ++pos;
      continue;
    }
    const char e = text[pos + 1];
    pos += 2;
    switch (e) {
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case '"': out.push_back('"'); break;
      case '\\': out.push_back('\\'); break;
      case '/': out.push_back('/'); break;
      case 'u': {
        int cp = hex4(text, pos);
        if (cp < 0) {
          out.append("\\u");
          break;
        }
        pos += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && pos + 1 < text.size() && text[pos] == '\\' && text[pos + 1] == 'u') {
          const int lo = hex4(text, pos + 2);
          if (lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            pos += 6;
          }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // a lone surrogate
        append_utf8_code_point(out, cp);  // valid: surrogates were replaced above
        break;
      }
      default:  // unknown escape: kept as written
        out.push_back('\\');
        out.push_back(e);
    }
  }
  return std::string_view::npos;
}

bool LogfmtScanner::next(LogfmtPair& pair) {
  while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  if (pos_ >= text_.size()) return false;
  const size_t key_start = pos_;
  while (pos_ < text_.size() && !is_space(text_[pos_]) && text_[pos_] != '=' && text_[pos_] != '"') ++pos_;
  if (pos_ < text_.size() && text_[pos_] == '"') return fail("a quote inside a key");
  pair.key = text_.substr(key_start, pos_ - key_start);
  if (pair.key.empty()) return fail("a value without a key");
  pair.value = {};
  pair.quoted = false;
  pair.has_value = false;
  if (pos_ >= text_.size() || text_[pos_] != '=') return true;  // a bare key
  ++pos_;
  pair.has_value = true;
  if (pos_ < text_.size() && text_[pos_] == '"') {
    const size_t end = read_quoted(text_, pos_, unescaped_);
    if (end == std::string_view::npos) return fail("an unterminated quoted value");
    if (end < text_.size() && !is_space(text_[end])) return fail("text right after a quoted value");
    pos_ = end;
    pair.value = unescaped_;
    pair.quoted = true;
    return true;
  }
  const size_t value_start = pos_;
  while (pos_ < text_.size() && !is_space(text_[pos_])) ++pos_;
  pair.value = text_.substr(value_start, pos_ - value_start);
  return true;
}

}  // namespace logferry
