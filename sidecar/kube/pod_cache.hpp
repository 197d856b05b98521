#pragma once
// This node's Pods, by uid and by namespace/name. Readers get shared snapshots
// (a holder keeps its copy whatever happens to the cache); version() changes
// with every change of any entry, so a consumer re-resolves only then. A
// deleted Pod stays resolvable for deleted_ttl (its files are still being
// read), then it is dropped: nothing grows with Pods that came and went.
// Thread-safe (a mutex): the watcher writes on the io_context's thread, readers
// may be elsewhere.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sidecar/kube/pod_info.hpp"

namespace logferry {

class PodCache {
 public:
  using Clock = std::chrono::steady_clock;
  explicit PodCache(std::chrono::milliseconds deleted_ttl);

  // The Pod ns/name; with a non-empty uid, only when it has that uid (a Pod
  // re-created under the same name has a new uid; the old one is still found
  // by its uid until it is pruned). nullptr when unknown.
  std::shared_ptr<const PodInfo> find(std::string_view ns, std::string_view name, std::string_view uid = {}) const;
  // Changes whenever an entry is added, changed, marked deleted or dropped.
  uint64_t version() const;
  // Entries, deleted ones not yet pruned included.
  size_t size() const;

  // Adds or replaces the Pod (by uid); the newest uid wins its namespace/name.
  void upsert(PodInfo pod, Clock::time_point now = Clock::now());
  // Marks the Pod deleted (kept for deleted_ttl), with its final metadata.
  void remove(PodInfo pod, Clock::time_point now = Clock::now());
  // A relist: the cache becomes `pods`; entries missing from it are marked deleted.
  void replace_all(std::vector<PodInfo> pods, Clock::time_point now = Clock::now());
  // Drops deleted entries older than deleted_ttl; how many were dropped.
  // Also done by every change above.
  size_t prune(Clock::time_point now = Clock::now());

 private:
  struct Entry {
    std::shared_ptr<const PodInfo> pod;
    Clock::time_point deleted_at{};
  };
  void put_locked(PodInfo pod, Clock::time_point now);
  size_t prune_locked(Clock::time_point now);

  const std::chrono::milliseconds deleted_ttl_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> by_uid_;
  std::map<std::pair<std::string, std::string>, std::string> by_name_;  // (ns, name) -> uid
  uint64_t version_ = 0;
};

}  // namespace logferry
