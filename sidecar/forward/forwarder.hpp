#pragma once
// Ordered, acknowledged delivery of sealed batches through a Sink. Keeps every
// unacknowledged batch (bounded by LOGFERRY_BUFFER_MAX_BYTES), writes up to
// max-in-flight of them ahead of their acks, and after any failure reconnects
// with backoff and re-sends from the oldest unacknowledged batch, so the
// receiver sees each source's entries in order. An acknowledgement commits the
// batch's offsets into its origins.
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "sidecar/core/pipeline_metrics.hpp"
#include "sidecar/core/output_options.hpp"
#include "sidecar/core/event.hpp"
#include "sidecar/core/backoff.hpp"
#include "sidecar/forward/sink.hpp"

namespace logferry {
namespace v1 {
class Batch;
}

class Forwarder {
 public:
  Forwarder(boost::asio::any_io_executor ex, Sink& sink, const OutputOptions& options, PipelineMetrics& metrics);

  // Queues a batch for delivery (never blocks; callers respect full()).
  void push(std::shared_ptr<SealedBatch> batch);
  // Seals `batch`: numbers it, appends the resource labels, serializes it into
  // `sealed` (whose commits the caller filled) followed by `more_entries`
  // (`more_count` entries already in wire format, Batch field 4) and queues it
  // with push().
  void push(v1::Batch& batch, const Labels& resource, std::shared_ptr<SealedBatch> sealed,
            std::string_view more_entries = {}, uint32_t more_count = 0);
  // True when the queued bytes reached the memory budget.
  bool full() const { return bytes_ >= budget_; }
  // Completes once full() is false.
  boost::asio::awaitable<void> wait_for_room();
  // Connects, sends and re-sends until stop(); returns after stop().
  boost::asio::awaitable<void> run();
  // Completes when every queued batch is acknowledged, or at `deadline`.
  // Returns true when nothing is left.
  boost::asio::awaitable<bool> drain(std::chrono::steady_clock::time_point deadline);
  // Ends run() (the current session is closed).
  void stop();
  // Called with the number of bytes an acknowledgement committed (the
  // checkpoint saver decides from it when to write).
  void on_commit(std::function<void(uint64_t)> f) { on_commit_ = std::move(f); }

  size_t queued_batches() const { return queue_.size(); }
  uint64_t sequence() const { return next_sequence_; }
  uint64_t next_sequence() { return next_sequence_++; }

 private:
  boost::asio::awaitable<boost::system::error_code> writer(SinkSession& s);
  boost::asio::awaitable<boost::system::error_code> reader(SinkSession& s);
  boost::asio::awaitable<boost::system::error_code> watchdog();
  void complete_front(const DeliveryReport& report);

  boost::asio::any_io_executor ex_;
  Sink& sink_;
  const OutputOptions& options_;
  PipelineMetrics& metrics_;
  uint64_t budget_;
  std::deque<std::shared_ptr<SealedBatch>> queue_;  // unacknowledged, oldest first
  size_t written_ = 0;                               // queue_[0..written_) were written in this session
  std::deque<std::chrono::steady_clock::time_point> written_at_;
  uint64_t bytes_ = 0;
  uint64_t next_sequence_ = 1;
  Backoff backoff_;
  std::chrono::milliseconds retry_after_{0};
  Event changed_;  // queue grew, or acks freed slots
  Event room_;     // bytes dropped below the budget
  Event done_;     // queue became empty
  Event stop_event_;
  Event written_event_;  // a batch was written while none waited for its ack
  std::function<void(uint64_t)> on_commit_;
  bool stopping_ = false;
  SinkSession* session_ = nullptr;
};

}  // namespace logferry
