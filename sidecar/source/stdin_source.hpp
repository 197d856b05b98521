#pragma once
// The stdin source (LOGFERRY_STDIN=true), for `app | logferry`: reads lines
// from standard input until end-of-file, then returns, which makes the app
// drain and exit 0 once everything is acknowledged. When the pipeline's buffer
// is full it stops reading, so the writing app blocks (no spill: the pipe
// between the two processes is the buffer). Each run is a new stream (source
// id "stdin:<random>", path "stdin").
#include <chrono>
#include <optional>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "sidecar/core/pipeline_metrics.hpp"
#include "sidecar/core/source_options.hpp"
#include "sidecar/core/event.hpp"
#include "sidecar/source/line_splitter.hpp"
#include "sidecar/source/source.hpp"

namespace logferry {

class StdinSource final : public Source {
 public:
  // Reads `fd` (standard input by default; not closed by the source).
  StdinSource(boost::asio::any_io_executor ex, const ReadOptions& read, PipelineMetrics& metrics, int fd = 0);
  ~StdinSource() override;

  // Returns at end-of-file (or after drain()), having retired its origin.
  boost::asio::awaitable<void> run(Intake& intake) override;
  void drain() override;

  const OriginPtr& origin() const { return origin_; }

 private:
  enum class Read { data, nothing, end };
  // One read() when input is ready; `end` at end-of-file or on an error.
  Read read_once(Intake& intake);
  // True when a read() will not block (data or end-of-file waiting).
  bool ready() const;
  void emit(Intake& intake, const RawLine& line);
  void flush_partial(Intake& intake);

  boost::asio::any_io_executor ex_;
  const ReadOptions& read_;
  PipelineMetrics& metrics_;
  int fd_;
  // A duplicate of fd_ for readiness waits; unset when fd_ cannot be polled
  // (a regular file or /dev/null: reads never block there).
  std::optional<boost::asio::posix::stream_descriptor> waiter_;
  OriginPtr origin_;
  LineSplitter splitter_;
  ReadTime read_time_;  // the time of the current read, given to its lines
  std::vector<char> buffer_;
  std::chrono::steady_clock::time_point last_data_;
  Event wake_;
  bool draining_ = false;
};

}  // namespace logferry
