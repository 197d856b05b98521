#pragma once
// Keeps a PodCache equal to this node's Pods: lists them
// (fieldSelector=spec.nodeName=<node>), then watches from the list's
// resourceVersion. ADDED/MODIFIED upsert (with owner resolution), DELETED
// marks deleted, BOOKMARK only moves the resource version. A watch that ends
// normally is re-opened from the last resource version; 410 Gone (the HTTP
// status or an ERROR event) relists; any other failure waits a jittered
// exponential backoff, then retries the same step (a failed list lists again,
// a failed watch watches again from the last resource version).
#include <atomic>
#include <chrono>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "sidecar/core/backoff.hpp"
#include "sidecar/kube/api_client.hpp"
#include "sidecar/kube/kube_metrics.hpp"
#include "sidecar/kube/kube_options.hpp"
#include "sidecar/kube/owner_resolver.hpp"
#include "sidecar/kube/pod_cache.hpp"

namespace logferry {

class PodWatcher {
 public:
  // Throws std::runtime_error at start-up (bad api_url, unreadable CA file).
  PodWatcher(boost::asio::any_io_executor ex, KubeOptions options, PodCache& cache, KubeMetrics& metrics);

  // Lists and watches until stop(). Never throws.
  boost::asio::awaitable<void> run();
  // Ends run() promptly (open requests are cut, a backoff wait is cancelled).
  // Callable from any thread; destroy the watcher only after run() returned.
  void stop();
  // True once the first list was applied to the cache.
  bool synced() const { return synced_.load(); }

 private:
  enum class WatchEnd { ended, ended_early, gone, failed };
  // One list applied to the cache; false when it failed (counted, logged).
  boost::asio::awaitable<bool> list();
  // One watch request, its events applied until it ends.
  boost::asio::awaitable<WatchEnd> watch();
  // Applies one event; false for an ERROR event (its code in `code`).
  boost::asio::awaitable<bool> apply(std::string_view line, int& code);
  std::string pods_target() const;

  boost::asio::any_io_executor ex_;
  const KubeOptions options_;
  PodCache& cache_;
  KubeMetrics& metrics_;
  ApiClient client_;
  OwnerResolver owners_;
  Backoff backoff_;
  boost::asio::steady_timer sleep_;
  std::string resource_version_;
  std::atomic<bool> synced_{false};
  bool stopped_ = false;
};

}  // namespace logferry
