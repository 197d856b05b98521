#pragma once
// Tokenizes logfmt text: `key=value key="quoted \"value\"" flag`, separated by
// spaces or tabs. Quoted values use Go/JSON escapes (\" \\ \n \r \t \uXXXX).
// Used by the logfmt parser, `auto` detection and klog's structured pairs.
#include <string>
#include <string_view>

namespace logferry {

struct LogfmtPair {
  std::string_view key;
  std::string_view value;  // unescaped; valid until the next call to next()
  bool quoted = false;     // the value was written in quotes
  bool has_value = false;  // false for a bare key ("flag")
};

class LogfmtScanner {
 public:
  explicit LogfmtScanner(std::string_view text) : text_(text) {}
  // Reads the next pair; false at the end or on a syntax error (see error()).
  bool next(LogfmtPair& pair);
  // The syntax error that stopped next(), or "" at a clean end.
  std::string_view error() const { return error_; }

 private:
  bool fail(std::string_view why) {
    error_ = why;
    return false;
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string_view error_;
  std::string unescaped_;
};

// Reads a quoted string starting at text[pos] == '"', unescaping into `out`;
// returns the position after the closing quote, or npos when unterminated.
size_t read_quoted(std::string_view text, size_t pos, std::string& out);

}  // namespace logferry
