#include "sidecar/source/line_splitter.hpp"

#include <algorithm>
#include <cstring>

namespace logferry {

LineSplitter::LineSplitter(uint64_t max_line_bytes, uint64_t offset)
    : max_line_bytes_(max_line_bytes), offset_(offset), line_start_(offset) {}

void LineSplitter::reset(uint64_t offset) {
  offset_ = offset;
  line_start_ = offset;
  partial_.clear();
  skipping_ = false;
}

void LineSplitter::consume(std::string_view chunk, const Emit& emit) {
  const uint64_t chunk_start = offset_;
  size_t pos = 0;
  while (pos < chunk.size()) {
    const char* nl = static_cast<const char*>(std::memchr(chunk.data() + pos, '\n', chunk.size() - pos));
    const size_t line_end = nl ? static_cast<size_t>(nl - chunk.data()) : chunk.size();
    const std::string_view piece = chunk.substr(pos, line_end - pos);
    const uint64_t piece_start = chunk_start + pos;
    if (skipping_) {
      // The rest of an over-long line: not forwarded (its head was, marked truncated).
      if (nl) {
        skipping_ = false;
        line_start_ = chunk_start + line_end + 1;
      }
    } else if (nl && partial_.empty()) {
      // The fast path: a whole line inside the chunk, handed over without a copy.
      const uint64_t end = piece_start + piece.size() + 1;
      if (piece.size() > max_line_bytes_) {
        emit(RawLine{piece.substr(0, max_line_bytes_), piece_start, end, true});
      } else {
        emit(RawLine{piece, piece_start, end, false});
      }
      line_start_ = end;
    } else {
      if (partial_.empty()) line_start_ = piece_start;
      const size_t room = max_line_bytes_ - std::min<size_t>(partial_.size(), max_line_bytes_);
      partial_.append(piece.substr(0, room));
      if (piece.size() > room) {
        // Over-long: forward the head now, skip the rest up to the newline.
        const uint64_t end = nl ? chunk_start + line_end + 1 : chunk_start + line_end;
        emit(RawLine{partial_, line_start_, end, true});
        partial_.clear();
        skipping_ = nl == nullptr;
        line_start_ = end;
      } else if (nl) {
        emit(RawLine{partial_, line_start_, chunk_start + line_end + 1, false});
        partial_.clear();
        line_start_ = chunk_start + line_end + 1;
      }
    }
    pos = line_end + (nl ? 1 : 0);
  }
  offset_ = chunk_start + chunk.size();
}

bool LineSplitter::flush(const Emit& emit) {
  if (partial_.empty()) return false;
  emit(RawLine{partial_, line_start_, offset_, false});
  partial_.clear();
  line_start_ = offset_;
  return true;
}

}  // namespace logferry
