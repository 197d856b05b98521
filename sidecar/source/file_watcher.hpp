#pragma once
// One open file being tailed: reads from its fd at an offset, splits bytes into
// lines (framing is separate from parsing), holds an unterminated last line,
// cuts over-long lines, and notices truncation (copytruncate). The fd stays
// open after a rename or delete, so a rotated file is read to its end.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <span>
#include <string>

#include "sidecar/core/clock.hpp"
#include "sidecar/core/pipeline_metrics.hpp"
#include "sidecar/core/origin.hpp"
#include "sidecar/core/unique_fd.hpp"
#include "sidecar/source/line_splitter.hpp"
#include "sidecar/source/source.hpp"

namespace logferry {

inline constexpr uint32_t kHeadBytes = 256;

// FNV-1a over bytes: the file-head fingerprint (not a security hash).
uint64_t head_hash(std::string_view bytes);

struct WatcherLimits {
  uint64_t max_line_bytes = 256 * 1024;
  std::chrono::milliseconds partial_flush{5000};
  SteadyClock now = steady_now;  // when data came, and whether a partial line waited long enough
};

class FileWatcher {
 public:
  FileWatcher(OriginPtr origin, UniqueFd fd, dev_t device, ino_t inode, uint64_t offset, WatcherLimits limits);

  // data: read up to the size the file had; more: stopped at the budget (or a
  // full intake) with bytes left; idle: nothing new; replaced: the file is now
  // shorter than what was read, or the byte before the read offset is not the
  // last one read (truncated and written again past it): nothing was read.
  enum class Status { data, more, idle, replaced, error };
  // Reads at most `budget` bytes through `buffer`, handing complete lines to
  // `intake`. No fstat: a read one byte before our offset tells a truncated
  // file from a quiet one (a wake-up for a 10-line write costs one pread).
  Status read_some(std::span<char> buffer, uint64_t budget, Intake& intake, PipelineMetrics& metrics);
  // Forwards a held unterminated line when it waited past the partial flush
  // timeout (or at once when `force`). Returns true when it forwarded one.
  bool flush_partial(Intake& intake, PipelineMetrics& metrics, bool force);
  // True when the file is now shorter than what was read (copytruncate) or its
  // first bytes changed. Reads up to kHeadBytes (the file source asks once per
  // poll interval; read_some notices the common cases on its own), unless the
  // file's size, mtime and ctime are those of the last check that found it
  // unchanged and that ctime was already older than kSettledAge then (file
  // timestamps are coarse: writes within one tick share them): a file nobody
  // wrote costs one fstat.
  bool replaced_in_place();
  // Starts over at offset 0 under a new origin (after truncation).
  void restart(OriginPtr origin);
  // Whether `fd` (another regular file, size `size`) holds what this watcher
  // read: the same head and the same last bytes before offset(), and more
  // after it. logrotate's copytruncate leaves such a copy next to the file.
  bool continued_in(int fd, uint64_t size) const;
  // Goes on reading from that copy (same origin and offset); `rotated` is set.
  void follow(UniqueFd fd, dev_t device, ino_t inode);
  // Reads the file's current head (up to kHeadBytes) into head_ and returns its length.
  uint32_t refresh_head();

  const OriginPtr& origin() const { return origin_; }
  dev_t device() const { return device_; }
  ino_t inode() const { return inode_; }
  uint64_t offset() const { return splitter_.offset(); }
  uint32_t head_length() const { return static_cast<uint32_t>(head_.size()); }
  uint64_t head_fingerprint() const { return head_hash(head_); }
  // When the last byte was read (or the watcher was opened).
  std::chrono::steady_clock::time_point last_data() const { return last_data_; }
  // Whether an unterminated line is held.
  bool has_partial() const { return splitter_.line_start() != splitter_.offset(); }
  // Whether the current size is beyond what was read.
  bool has_unread_bytes() const;
  int fd() const { return fd_.get(); }

  // Set by the file source when the path no longer leads to this file.
  bool rotated = false;

 private:
  void emit(Intake& intake, PipelineMetrics& metrics, const RawLine& line);
  // Extends head_ with bytes read at `at` (while the file is shorter than kHeadBytes).
  void grow_head(uint64_t at, std::string_view bytes);
  // Keeps the last kTailBytes read (tail_ ends at offset()).
  void keep_tail(std::string_view bytes);

  static constexpr size_t kTailBytes = 64;
  static constexpr size_t kLeadBytes = 16;  // of the tail, compared by every read_some

  OriginPtr origin_;
  UniqueFd fd_;
  dev_t device_;
  ino_t inode_;
  WatcherLimits limits_;
  LineSplitter splitter_;  // its offset() is the next byte to read
  ReadTime read_time_;     // the time of the current read, given to its lines
  std::string head_;       // first bytes of the file, up to kHeadBytes
  std::string tail_;       // the last bytes before offset(), up to kTailBytes (empty: not known)
  static constexpr std::chrono::seconds kSettledAge{2};
  struct Unchanged {       // the file's state when replaced_in_place() last found its head unchanged
    off_t size = -1;
    timespec mtime{};
    timespec ctime{};
    size_t head_length = 0;
  } verified_;
  std::chrono::steady_clock::time_point last_data_;
};

}  // namespace logferry
