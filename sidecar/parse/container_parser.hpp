#pragma once
// `cri` and `docker`: the container runtimes' log files, decoded in front of
// the rest of the chain (multiline, then the message parser):
//   cri:    2024-01-02T15:04:05.123456789Z stdout F message   (P = partial)
//   docker: {"log":"message\n","stream":"stdout","time":"2024-01-02T15:04:05.1Z"}
//           (a "log" without the trailing newline is a partial line)
// Partial lines are reassembled per stream, at most `max_bytes` (the rest of
// an over-long line is cut and the entry gets log.truncated=true). The
// entry's time is the runtime's (the message parser may override it with the
// application's own), and log.iostream = stdout|stderr. A line that is not in
// the runtime's format is a parse error (raw line as body).
//
// Holding state: a partial line returns `pending`; the caller flushes after
// LOGFERRY_MULTILINE_TIMEOUT of inactivity. flush() may need calling until it
// returns `pending` (a flushed partial can be held by the multiline stage).
#include <array>
#include <memory>
#include <string>

#include "sidecar/parse/json_reader.hpp"
#include "sidecar/parse/parser.hpp"

namespace logferry {

class ContainerParser final : public Parser {
 public:
  enum class Format { cri, docker };
  ContainerParser(Format format, std::unique_ptr<Parser> inner, size_t max_bytes);
  ParseResult parse(std::string_view line, v1::Entry& entry) override;
  ParseResult flush(v1::Entry& entry) override;
  std::string_view name() const override { return format_ == Format::cri ? "cri" : "docker"; }

 private:
  struct Line {
    std::string_view message;
    std::string_view stream;
    uint64_t time = 0;
    bool partial = false;
  };
  struct Partial {
    std::string text;
    uint64_t time = 0;
    bool active = false;
    bool truncated = false;
  };
  // Decodes the runtime's line format; returns "" or why it is not one.
  std::string_view decode(std::string_view line, Line& out);
  std::string_view decode_docker(std::string_view line, Line& out);
  ParseResult emit(std::string_view message, std::string_view stream, uint64_t time, bool truncated,
                   v1::Entry& entry);

  Format format_;
  std::unique_ptr<Parser> inner_;
  size_t max_bytes_;
  std::array<Partial, 2> partials_;  // stdout, stderr
  JsonReader json_;
};

}  // namespace logferry
