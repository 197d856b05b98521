#pragma once
// Retention of the store: segments are deleted, oldest first, when they are
// older than the maximum age or the store is over its size cap. With a relay
// only segments the downstream has answered completely are deleted; at the cap
// the sidecars are slowed down (not acknowledged sooner than the relay frees
// room) unless the policy is delete_oldest, which deletes unrelayed segments
// too and counts and logs the lines lost that way. Nothing is deleted
// silently: every deletion is counted.
#include <chrono>
#include <cstdint>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "aggregator/aggregator_config.hpp"
#include "aggregator/aggregator_metrics.hpp"
#include "aggregator/segment_store.hpp"

namespace logferry::aggregator {

class StoreRelay;

struct RetentionOptions {
  uint64_t max_bytes = 0;                 // 0: no cap
  std::chrono::milliseconds max_age{0};   // 0: no age limit
  RetentionFull when_full = RetentionFull::slow;
  std::chrono::milliseconds check_interval{10000};  // age checks; the cap is checked after appends
};

class StoreRetention {
 public:
  // `relay` may be null (no relay: every segment may go). Gives the store its cap.
  StoreRetention(boost::asio::any_io_executor ex, SegmentStore& store, StoreRelay* relay, AggregatorMetrics& metrics,
                 RetentionOptions options);
  bool enabled() const { return options_.max_bytes != 0 || options_.max_age.count() != 0; }
  void start();
  void stop();
  // Applies the age limit and the cap once (also called by the loop).
  void enforce();

 private:
  boost::asio::awaitable<void> run();
  bool remove(std::string_view key, uint32_t index, bool relayed);

  boost::asio::any_io_executor ex_;
  SegmentStore& store_;
  StoreRelay* relay_;
  AggregatorMetrics& metrics_;
  RetentionOptions options_;
  bool stopped_ = false;
  bool was_full_ = false;  // for logging the transitions
  boost::asio::steady_timer timer_;  // the run loop's wait, cancelled by stop()
};

}  // namespace logferry::aggregator
