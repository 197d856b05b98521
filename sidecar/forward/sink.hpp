#pragma once
// A Sink is where batches go: the native TCP protocol, OTLP/HTTP or Loki.
// A Sink opens sessions (a connection plus its handshake); a session
// writes batches and reports, in order, what became of each one. The
// Forwarder owns ordering, retries, backoff and commits.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include "sidecar/core/origin.hpp"

namespace logferry {

// A batch ready for delivery: its encoded v1::Batch plus what to commit on ack.
struct SealedBatch {
  uint64_t sequence = 0;
  std::string payload;  // serialized logferry.v1.Batch
  uint32_t entries = 0;
  bool sent_once = false;  // written at least once (a later write is a re-send)
  // For each origin in the batch: the offset to commit once the batch is acked.
  std::vector<std::pair<OriginPtr, uint64_t>> commits;
  size_t memory_bytes() const { return payload.size() + sizeof(*this) + commits.size() * 24; }
};

enum class Outcome {
  accepted,  // stored by the receiver: commit
  rejected,  // will never be accepted: count it, commit, do not resend
  retry,     // not taken now: back off and resend (from this batch on)
};

struct DeliveryReport {
  uint64_t sequence = 0;
  Outcome outcome = Outcome::accepted;
  std::chrono::milliseconds retry_after{0};  // receiver's hint, 0 when none
  std::string error;                         // receiver's reason, for logs
};

class SinkSession {
 public:
  virtual ~SinkSession() = default;
  // Sends one batch; may be called again before earlier reports were read.
  virtual boost::asio::awaitable<boost::system::error_code> write(const SealedBatch& batch) = 0;
  // Waits for the report of the oldest written batch whose report was not read yet.
  virtual boost::asio::awaitable<boost::system::result<DeliveryReport>> read_report() = 0;
  // Closes the connection; pending operations complete with an error.
  virtual void close() = 0;
};

class Sink {
 public:
  virtual ~Sink() = default;
  // Connects (resolving names anew, trying each address) and handshakes.
  virtual boost::asio::awaitable<boost::system::result<std::unique_ptr<SinkSession>>> open() = 0;
  // How many batches a session may have written but not reported.
  virtual size_t max_in_flight() const = 0;
  // For logs: e.g. "tcp://aggregator:7070".
  virtual std::string describe() const = 0;
  // The output a session opened by open() talks to (with failover, the one that
  // opened last): the label of its errors in PipelineMetrics::output_errors.
  virtual std::string current_output() const { return describe(); }
};

}  // namespace logferry
