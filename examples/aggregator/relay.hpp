#pragma once
// The aggregator as a relay: batches are forwarded to an OTLP/HTTP or Loki
// endpoint (LOGFERRY_AGGREGATOR_RELAY) with the sidecar's own Sink and
// Forwarder (ordering, retries, backoff, Retry-After). In relay_only mode a
// sidecar's batch is submitted by its connection and acknowledged only once the
// downstream accepted (or definitively rejected) it; in store_and_forward mode
// StoreRelay (store_relay.hpp) submits what it reads back from the durable store.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "aggregator/aggregator_config.hpp"
#include "logferry/v1/logferry.pb.h"
#include "sidecar/core/pipeline_metrics.hpp"
#include "sidecar/config/config.hpp"
#include "sidecar/config/env_table.hpp"
#include "sidecar/core/event.hpp"
#include "sidecar/core/origin.hpp"
#include "sidecar/forward/forwarder.hpp"
#include "sidecar/forward/sink.hpp"

namespace logferry::aggregator {

// The output settings of the relay: LOGFERRY_AGGREGATOR_RELAY as the output
// plus the sidecar's output variables found in `env` (the same part of the
// sidecar's table, output_table(): LOGFERRY_OTLP_*, LOGFERRY_LOKI_*,
// LOGFERRY_TLS_*, LOGFERRY_BACKOFF_*, ...), checked like the sidecar checks
// them. Returns the errors ("NAME=value: ..."), empty when usable.
std::vector<EnvError> relay_output_options(const Environment& env, std::string_view relay_output,
                                           OutputOptions& out);

class Relay {
 public:
  // Throws std::runtime_error at start-up (TLS material). `options` must outlive the relay.
  Relay(boost::asio::any_io_executor ex, const OutputOptions& options);
  ~Relay();

  // Starts delivering.
  void start();
  // Queues a serialized Batch of `entries` entries; the returned origin's
  // acked_offset becomes 1 once the downstream accepted or rejected it (event()
  // is notified then).
  OriginPtr submit(std::string_view serialized_batch, uint32_t entries);
  // The same for a batch built here (StoreRelay): numbered by the relay, so a
  // native-protocol downstream (tcp://) sees increasing sequences.
  OriginPtr submit(v1::Batch& batch);
  // Completes once the relay buffer has room (LOGFERRY_BUFFER_MAX_BYTES).
  boost::asio::awaitable<void> wait_for_room() { return forwarder_.wait_for_room(); }
  // Notified after every downstream answer, and on stop().
  Event& event() { return event_; }
  // Waits until everything queued was delivered, at most until `deadline`.
  boost::asio::awaitable<bool> drain(std::chrono::steady_clock::time_point deadline) { return forwarder_.drain(deadline); }
  // Stops delivering; undelivered batches stay unacknowledged.
  void stop();
  bool stopped() const { return stopped_; }
  const PipelineMetrics& metrics() const { return metrics_; }
  // Batches handed to submit() so far.
  uint64_t submitted_batches() const { return submitted_; }
  // Batches waiting for the downstream's answer (queued or in flight).
  size_t queued_batches() const { return forwarder_.queued_batches(); }

 private:
  class NotifyingSink;
  PipelineMetrics metrics_;
  Event event_;
  std::unique_ptr<Sink> sink_;
  std::unique_ptr<Sink> notifying_;
  Forwarder forwarder_;
  boost::asio::any_io_executor ex_;
  bool stopped_ = false;
  uint64_t submitted_ = 0;
};

}  // namespace logferry::aggregator
