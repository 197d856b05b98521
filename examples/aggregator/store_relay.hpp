#pragma once
// Store-and-forward from disk: the relay reads the durable store, not memory.
// Each Pod directory has a relay cursor (segment, byte offset): everything
// before it was accepted or definitively rejected by the downstream. The
// cursor moves only after the downstream answered and is saved in
// DIR/relay-cursor at most once per cursor interval (and at stop), so a
// restarted aggregator resumes where its last saved cursor points. Lines after
// that point are sent again: they carry the same bytes (observed time, record
// id), which Loki and OTLP backends drop as duplicates.
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "aggregator/aggregator_metrics.hpp"
#include "aggregator/relay.hpp"
#include "aggregator/segment_store.hpp"
#include "aggregator/stored_line.hpp"

namespace logferry::aggregator {

struct StoreRelayOptions {
  size_t batch_max_entries = 1000;        // entries per relayed batch
  size_t batch_max_bytes = 1u << 20;      // stored bytes read per relayed batch (a longer line is read whole)
  std::chrono::milliseconds cursor_interval{1000};  // how often moved cursors are saved
};

// A place in a Pod directory's segments.
struct StorePosition {
  uint32_t segment = 0;
  uint64_t offset = 0;
  auto operator<=>(const StorePosition&) const = default;
};

class StoreRelay {
 public:
  StoreRelay(boost::asio::any_io_executor ex, SegmentStore& store, Relay& relay, AggregatorMetrics& metrics,
             StoreRelayOptions options);

  // Loads the saved cursors and counts the lines not relayed yet (start-up;
  // returns "" or what went wrong).
  std::string open();
  // Starts reading the store and submitting to the relay.
  void start();
  // Stops submitting and completes when the batches in flight were answered
  // (true) or at `deadline` (false); saves the cursors either way. What is not
  // relayed yet stays in the store for the next start.
  boost::asio::awaitable<bool> drain(std::chrono::steady_clock::time_point deadline);
  // Stops reading and saves the cursors.
  void stop();

  // True when segment `index` of the Pod directory was relayed completely.
  bool relayed(std::string_view dir_key, uint32_t index) const;
  // Retention is about to delete segment `index`, relayed or not: the cursor
  // moves past it. Returns the lines of it that were not relayed.
  uint64_t skip_segment(std::string_view dir_key, uint32_t index);
  // The saved or current cursor of a Pod directory (for tests).
  StorePosition cursor(std::string_view dir_key) const;

  // Lines stored and not yet answered by the downstream.
  uint64_t lag_entries() const;
  // Bytes of the store after the cursors.
  uint64_t lag_bytes() const;
  // Age of the oldest line waiting for the downstream's answer (its observed
  // time), 0 when none waits.
  double lag_seconds() const;
  // Stored lines the relay could not read back (damaged): skipped, counted.
  uint64_t unreadable_lines() const { return unreadable_; }

 private:
  struct PodState {
    std::filesystem::path dir;
    StorePosition acked;  // the downstream answered everything before this
    StorePosition read;   // submitted up to here
    bool dirty = false;   // acked moved since the last save
  };
  struct InFlight {
    std::string key;
    StorePosition end;
    OriginPtr origin;
    uint64_t entries = 0;
    uint64_t first_time_ns = 0;
  };

  boost::asio::awaitable<void> run();
  PodState& state_for(std::string_view key, const std::filesystem::path& dir);
  // Moves cursors over answered batches; true when any moved.
  bool settle();
  // Saves moved cursors (all when `now`, else when the interval passed).
  void save_cursors(bool now);
  // Reads and submits the Pod's next batch; false when it has nothing new.
  bool submit_next(const std::string& key);
  // Counts the lines of `dir`'s segment `index` in [from, to).
  uint64_t count_lines(const std::filesystem::path& dir, uint32_t index, uint64_t from, uint64_t to) const;

  boost::asio::any_io_executor ex_;
  SegmentStore& store_;
  Relay& relay_;
  AggregatorMetrics& metrics_;
  StoreRelayOptions options_;
  StringMap<PodState> pods_;
  std::deque<InFlight> in_flight_;
  StoredLineParser parser_;
  StoredLine line_;
  std::string buffer_;
  bool stopped_ = false;
  bool draining_ = false;
  boost::asio::steady_timer timer_;  // the run loop's wait, cancelled by stop()
  std::chrono::steady_clock::time_point last_save_{};
  uint64_t backlog_at_open_ = 0;  // lines after the cursors at open()
  uint64_t stored_at_open_ = 0;   // metrics.entries_stored at open()
  uint64_t answered_ = 0;         // entries the downstream answered since open()
  uint64_t skipped_ = 0;          // unrelayed lines deleted by retention since open()
  uint64_t unreadable_ = 0;
};

}  // namespace logferry::aggregator
