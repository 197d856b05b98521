#pragma once
// The pipe's overflow on disk: lines that arrive while the pipeline's memory
// buffer is full are appended to segment files in one directory, replayed in
// order when the pipeline has room (before any newer line), and a segment is
// deleted once its last line is acknowledged (Origin.acked_offset). Segments
// left by an earlier run are found on start and replayed first, under the
// origin id they were read with, so the aggregator dedupes what it already has.
//
// Segment file "<16-digit sequence>.seg": a text header "logferry-spill 1\n<origin
// id>\n<origin path>\n", then records of offset (8 bytes), end offset (8),
// length (4), flags (1; bit 0 = truncated, bit 1 = a read time follows), all
// little-endian, then the read time (8, when flagged: the observed time the
// entry gets on replay, docs/ordering.md), and the line's bytes. A damaged or torn tail (a crash while appending) is skipped on replay.
//
// Durability: records are written to the file (the page cache) after every
// read from the pipe, so a crash of logferry loses none of them; a segment is
// fsynced when it is sealed (full, about to be replayed, or at shutdown), so a
// node crash may lose only the tail of the segment being written.
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <system_error>

#include "sidecar/core/origin.hpp"
#include "sidecar/source/file_watcher.hpp"
#include "sidecar/source/source.hpp"

namespace logferry {

class SpillQueue {
 public:
  // Opens `dir` (created if missing) and adopts the segments found there as
  // the oldest lines. `max_bytes` bounds the files' total size (headers
  // included). Throws std::runtime_error when the directory cannot be used.
  SpillQueue(std::string dir, uint64_t max_bytes);
  // Writes and fsyncs what is buffered.
  ~SpillQueue();
  SpillQueue(const SpillQueue&) = delete;
  SpillQueue& operator=(const SpillQueue&) = delete;

  enum class Push { stored, full, failed };
  enum class Bound { respect, exceed };
  // Appends a line of `origin` (buffered until flush()). `full` when it would
  // take the files beyond max_bytes (unless Bound::exceed), `failed` when the
  // segment cannot be created or written.
  Push push(const OriginPtr& origin, const RawLine& line, Bound bound = Bound::respect);
  // Writes buffered records to their segment file.
  std::error_code flush();
  // Flushes, fsyncs and closes the segment being written (shutdown).
  void seal();

  struct Replayed {
    OriginPtr origin;
    RawLine line;  // text valid until the next call of next()
  };
  // The oldest line not replayed yet, or nullopt when none is left.
  std::optional<Replayed> next();
  // True when lines wait to be replayed.
  bool has_pending() const { return pending_lines_ > 0; }
  // The origin of the line next() returns (nullptr when none is pending).
  OriginPtr pending_origin() const;

  // Deletes replayed segments whose last line is acknowledged.
  void release_acked();
  // Discards the oldest segment none of whose lines was replayed yet; returns
  // how many lines it held (0 when there is no such segment).
  uint64_t drop_oldest();

  uint64_t bytes() const { return bytes_; }
  uint64_t max_bytes() const { return max_bytes_; }
  uint64_t pending_lines() const { return pending_lines_; }
  size_t segments() const { return segments_.size(); }

 private:
  struct Segment {
    uint64_t seq = 0;
    std::string path;
    OriginPtr origin;
    uint64_t bytes = 0;      // file size (header and buffered records included)
    uint64_t lines = 0;      // records in the file
    uint64_t replayed = 0;   // records handed out by next()
    uint64_t last_end = 0;   // end offset of the last record
    bool sealed = false;     // no more appends
  };

  void adopt_existing();
  bool open_tail(const OriginPtr& origin);
  void close_tail(bool sync);
  bool load_for_replay(Segment& seg);
  void remove_segment(std::deque<Segment>::iterator it);

  std::string dir_;
  uint64_t max_bytes_;
  uint64_t segment_bytes_;  // a segment is sealed when it reaches this size
  std::deque<Segment> segments_;
  uint64_t bytes_ = 0;
  uint64_t pending_lines_ = 0;
  uint64_t next_seq_ = 1;
  UniqueFd tail_fd_;       // the segment being written (segments_.back()), if open
  std::string write_buf_;  // records not yet written to tail_fd_
  // Replay position: the loaded segment's bytes and the next record in them.
  uint64_t reading_seq_ = 0;
  std::string read_buf_;
  size_t read_pos_ = 0;
  uint64_t read_end_ = 0;  // end offset of the last record read from it
};

}  // namespace logferry
