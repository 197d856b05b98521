#pragma once
// The client's batching stage, on its event loop: takes records from the
// RecordQueue into a v1::Batch of one source (the client's id and name, each
// entry's offset its sequence number), seals it by the sidecar's rules
// (LOGFERRY_BATCH_MAX_ENTRIES, _MAX_BYTES, _TIMEOUT) and hands it to the
// Forwarder, which delivers, retries and commits the source's acked offset.
// While the Forwarder's buffer is full, records stay in the queue (which then
// drops new ones), so memory stays bounded.
#include <chrono>
#include <functional>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <google/protobuf/arena.h>

#include "logferry/v1/logferry.pb.h"
#include "sidecar/client/record_queue.hpp"
#include "sidecar/core/batch_policy.hpp"
#include "sidecar/core/labels.hpp"
#include "sidecar/core/event.hpp"
#include "sidecar/core/origin.hpp"
#include "sidecar/forward/forwarder.hpp"

namespace logferry {

class RecordBatcher {
 public:
  // `progress` is called on the event loop with the acknowledged offset each
  // time it moved. All references must outlive run().
  RecordBatcher(boost::asio::any_io_executor ex, const BatchPolicy& policy, Labels resource, Forwarder& forwarder,
                RecordQueue& queue, OriginPtr origin, std::function<void(uint64_t)> progress);

  // Moves records into batches until stop().
  boost::asio::awaitable<void> run();
  // The queue received records (call on the event loop).
  void wake() { wake_.notify(); }
  // Seals as soon as everything queued now is batched (call on the event loop).
  void request_flush();
  void stop();

 private:
  // Takes queued records while the Forwarder has room; true when the queue was emptied.
  bool pump();
  void add(const Record& record);
  void seal();
  void start_batch();
  void publish_progress();

  const BatchPolicy& policy_;
  Forwarder& forwarder_;
  RecordQueue& queue_;
  OriginPtr origin_;
  std::function<void(uint64_t)> progress_;
  Labels resource_;
  google::protobuf::Arena arena_;
  v1::Batch* batch_ = nullptr;
  uint64_t batch_bytes_ = 0;
  uint64_t batch_end_ = 0;  // offset after the batch's last entry
  std::chrono::steady_clock::time_point batch_started_;
  std::vector<Record> taken_;
  uint64_t published_ = 0;
  bool flush_requested_ = false;
  bool stopping_ = false;
  Event wake_;
};

}  // namespace logferry
