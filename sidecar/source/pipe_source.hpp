#pragma once
// The named-pipe source (LOGFERRY_PIPE): the app writes its log lines into a
// FIFO that logferry creates and reads.
//
// What it means for the app:
// - logferry creates the FIFO if it is missing, with LOGFERRY_PIPE_MODE
//   (default 0622: the app may run as another user and still write; only
//   logferry reads. With a shared fsGroup, 0660 is tighter). An existing FIFO
//   keeps its owner and mode.
// - Open the pipe for writing and write whole lines ending in "\n". Writes of
//   up to PIPE_BUF (4096) bytes are atomic, so several processes may write at
//   once and every such line arrives whole. Writers may come and go: logferry
//   holds the pipe open for writing itself, so it never sees end-of-file and
//   an app opening the pipe does not wait for a reader.
// - Each run of logferry reads the pipe as a new stream (source id
//   "pipe:<path>:<random>"); offsets count the stream's bytes.
// - While the output is slow or down, logferry keeps draining the pipe so the
//   app's writes do not block: lines go to the memory buffer
//   (LOGFERRY_BUFFER_MAX_BYTES), then to segment files in LOGFERRY_SPILL_DIR
//   (up to LOGFERRY_SPILL_MAX_BYTES), which are replayed in order, before newer
//   lines, when the output catches up, and deleted once acknowledged.
// - Beyond that, LOGFERRY_PIPE_OVERFLOW decides:
//     block        logferry stops reading; once the pipe's kernel buffer (64 KiB)
//                  is full, the app's write() calls block until the output
//                  recovers. Nothing is lost; the app may stall.
//     drop_oldest  the oldest spilled segment not yet replayed is deleted to
//                  make room (without a spill directory: the incoming line is
//                  dropped). The app never blocks; the newest lines survive.
//     drop_newest  incoming lines are dropped until there is room again. The app
//                  never blocks; the oldest lines survive.
//   Every dropped line is counted (metric logferry_dropped_lines_total with
//   reason "pipe_overflow") and logged (rate-limited).
//   With block, the spill limit may be exceeded by at most one read (64 KiB).
// - Durability: the spill directory survives a restart of logferry (segments
//   left over are replayed first, under their old source id, so the aggregator
//   drops what it already stored). Lines still in the pipe's kernel buffer or
//   in logferry's memory buffer when logferry dies are lost: a pipe has no
//   other durability. On SIGTERM logferry reads what the pipe holds, spills
//   what the output cannot take before LOGFERRY_SHUTDOWN_TIMEOUT, and exits.
#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "sidecar/core/pipeline_metrics.hpp"
#include "sidecar/core/source_options.hpp"
#include "sidecar/core/event.hpp"
#include "sidecar/source/file_watcher.hpp"
#include "sidecar/source/line_splitter.hpp"
#include "sidecar/source/source.hpp"
#include "sidecar/source/spill_queue.hpp"

namespace logferry {

// Creates the FIFO at `path` with `mode` (umask not applied) unless something
// exists there, and opens it for reading and writing (non-blocking). Never
// follows a symbolic link, checks the opened descriptor is a FIFO and sets the
// mode on the descriptor, so a link raced into the path changes nothing else.
// Throws std::runtime_error when it cannot, or when the path is not a FIFO.
UniqueFd ensure_fifo(const std::string& path, uint32_t mode);

class PipeSource final : public Source {
 public:
  // Creates/opens the FIFO and the spill directory (adopting leftover
  // segments). Throws std::runtime_error on failure (start-up only).
  PipeSource(boost::asio::any_io_executor ex, const PipeSourceOptions& options, const ReadOptions& read,
             PipelineMetrics& metrics);
  ~PipeSource() override;

  boost::asio::awaitable<void> run(Intake& intake) override;
  void drain() override;

  // The stream read in this run.
  const OriginPtr& origin() const { return origin_; }

 private:
  // Hands a line read from the pipe to the intake, the spill, or the overflow policy.
  void route(Intake& intake, const RawLine& line);
  void accept(Intake& intake, const OriginPtr& origin, const RawLine& line);
  void drop_line();
  // Moves spilled lines into the intake while it has room.
  void replay(Intake& intake);
  // Reads what the pipe holds now (up to the read budget); returns the bytes read.
  size_t read_available(Intake& intake);
  // True when the overflow policy is block and neither memory nor spill has room.
  bool blocked(const Intake& intake) const;
  void flush_partial(Intake& intake, bool force);
  void update_gauges();

  boost::asio::any_io_executor ex_;
  const PipeSourceOptions& options_;
  const ReadOptions& read_;
  PipelineMetrics& metrics_;
  boost::asio::posix::stream_descriptor pipe_;
  OriginPtr origin_;
  std::optional<SpillQueue> spill_;
  OriginPtr replaying_;  // origin of the last replayed line
  LineSplitter splitter_;
  ReadTime read_time_;  // the time of the current read or replay, given to its lines
  std::vector<char> buffer_;
  std::chrono::steady_clock::time_point last_data_;
  Event wake_;
  bool draining_ = false;
};

}  // namespace logferry
