#pragma once
// Framing shared by every source: turns a stream's bytes into lines with their
// byte offsets, holds an unterminated last line until more bytes (or a flush)
// arrive, and cuts lines longer than LOGFERRY_MAX_LINE_BYTES (the head is
// forwarded marked truncated, the rest up to the newline is skipped).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "sidecar/source/source.hpp"

namespace logferry {

class LineSplitter {
 public:
  // Receives each line; the text is valid only during the call.
  using Emit = std::function<void(const RawLine&)>;

  // `offset` is the stream position of the first byte that will be consumed.
  explicit LineSplitter(uint64_t max_line_bytes, uint64_t offset = 0);

  // Splits the stream's next bytes, calling `emit` for every complete line.
  void consume(std::string_view chunk, const Emit& emit);
  // Emits a held unterminated line (ending at offset()). Returns true when there was one.
  bool flush(const Emit& emit);
  // Forgets held bytes and continues at `offset`.
  void reset(uint64_t offset);

  // Stream position after the last consumed byte.
  uint64_t offset() const { return offset_; }
  // Where the next line not yet emitted starts: everything before it was
  // emitted or deliberately skipped.
  uint64_t line_start() const { return line_start_; }
  // True while an unterminated line is held.
  bool has_partial() const { return !partial_.empty(); }

 private:
  uint64_t max_line_bytes_;
  uint64_t offset_;
  uint64_t line_start_;
  std::string partial_;    // bytes of an unterminated line
  bool skipping_ = false;  // discarding the rest of an over-long line
};

}  // namespace logferry
