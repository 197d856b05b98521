#include "aggregator/store_retention.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

#include "aggregator/store_relay.hpp"
#include "sidecar/core/logger.hpp"

namespace logferry::aggregator {
namespace asio = boost::asio;

StoreRetention::StoreRetention(asio::any_io_executor ex, SegmentStore& store, StoreRelay* relay,
                               AggregatorMetrics& metrics, RetentionOptions options)
    : ex_(ex), store_(store), relay_(relay), metrics_(metrics), options_(options), timer_(ex) {
  store_.set_cap(options_.max_bytes);
}

void StoreRetention::stop() {
  stopped_ = true;
  timer_.cancel();
}

void StoreRetention::start() {
  if (enabled()) asio::co_spawn(ex_, run(), asio::detached);
}

asio::awaitable<void> StoreRetention::run() {
  using namespace asio::experimental::awaitable_operators;
  auto last = std::chrono::steady_clock::time_point{};
  while (!stopped_) {
    const auto now = std::chrono::steady_clock::now();
    const bool over = options_.max_bytes != 0 && store_.total_bytes() > options_.max_bytes;
    // The cap at most five times a second, the age on the interval.
    if ((over && now - last >= std::chrono::milliseconds(200)) || now - last >= options_.check_interval) {
      enforce();
      last = now;
    }
    timer_.expires_after(store_.full() ? std::chrono::milliseconds(200) : options_.check_interval);
    co_await (store_.appended_event().wait() || timer_.async_wait(asio::as_tuple(asio::use_awaitable)));
  }
}

bool StoreRetention::remove(std::string_view key, uint32_t index, bool relayed) {
  const uint64_t lost = relayed || relay_ == nullptr ? 0 : relay_->skip_segment(key, index);
  const auto freed = store_.remove_segment(key, index);
  if (!freed) return false;
  bump(metrics_.retention_segments_deleted);
  bump(metrics_.retention_bytes_deleted, *freed);
  if (lost != 0) {
    bump(metrics_.retention_unrelayed_deleted, lost);
    log_error("the store's size cap deleted lines the relay had not delivered",
              {{"dir", std::string(key)}, {"segment", index}, {"lines", lost},
               {"LOGFERRY_AGGREGATOR_RETENTION_WHEN_FULL", "delete_oldest"}});
  }
  return true;
}

void StoreRetention::enforce() {
  struct Candidate {
    std::string key;
    uint32_t index;
    int64_t mtime_ns;
  };
  std::vector<Candidate> all;
  store_.for_each_pod([&](const PodSegments& pod) {
    for (const auto& [index, size] : pod.sizes) {
      struct stat st {};
      if (::stat((pod.dir / segment_file_name(index)).c_str(), &st) != 0) continue;
      all.push_back({std::string(pod.key), index, int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec});
    }
  });
  std::sort(all.begin(), all.end(), [](const Candidate& a, const Candidate& b) {
    return a.mtime_ns != b.mtime_ns ? a.mtime_ns < b.mtime_ns : a.index < b.index;
  });
  const auto is_relayed = [&](const Candidate& c) { return relay_ == nullptr || relay_->relayed(c.key, c.index); };
  std::vector<bool> gone(all.size(), false);
  if (options_.max_age.count() != 0) {
    const int64_t limit = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::system_clock::now().time_since_epoch() - options_.max_age).count();
    for (size_t i = 0; i < all.size() && all[i].mtime_ns < limit; ++i) {
      if (is_relayed(all[i])) gone[i] = remove(all[i].key, all[i].index, true);
    }
  }
  if (options_.max_bytes != 0) {
    // Relayed segments first, then (delete_oldest) the others, oldest first.
    for (int pass = 0; pass < 2 && store_.total_bytes() > options_.max_bytes; ++pass) {
      if (pass == 1 && options_.when_full != RetentionFull::delete_oldest) break;
      for (size_t i = 0; i < all.size() && store_.total_bytes() > options_.max_bytes; ++i) {
        if (gone[i]) continue;
        const bool relayed = is_relayed(all[i]);
        if (pass == 0 && !relayed) continue;
        gone[i] = remove(all[i].key, all[i].index, relayed);
      }
    }
  }
  const bool full = store_.full();
  if (full != was_full_) {
    if (full) log_warn("the store is full: sidecars are slowed down until the relay frees room",
                       {{"bytes", store_.total_bytes()}, {"LOGFERRY_AGGREGATOR_RETENTION_MAX_BYTES", options_.max_bytes}});
    else log_info("the store has room again", {{"bytes", store_.total_bytes()}});
    was_full_ = full;
  }
}

}  // namespace logferry::aggregator
