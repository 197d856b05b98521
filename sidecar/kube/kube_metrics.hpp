#pragma once
// Counters of the Kubernetes metadata layer: plain atomics, read by whoever
// exports them (the app layer's metrics endpoint) from any thread.
#include <atomic>
#include <cstdint>

namespace logferry {

struct KubeMetrics {
  std::atomic<uint64_t> api_errors{0};           // failed requests: network, TLS, timeouts, non-2xx, bad JSON
  std::atomic<uint64_t> unauthorized{0};         // 401 answers (each also re-reads the token file)
  std::atomic<uint64_t> lists{0};                // Pod lists that succeeded
  std::atomic<uint64_t> relists{0};              // lists forced by 410 Gone (HTTP or ERROR event)
  std::atomic<uint64_t> watches{0};              // watch requests answered 200
  std::atomic<uint64_t> watch_events{0};         // events applied (bookmarks included)
  std::atomic<uint64_t> owner_lookups{0};        // ReplicaSet/Job GETs sent
  std::atomic<uint64_t> owner_lookup_errors{0};  // of those, failed (403, 404, network, timeout)
};

}  // namespace logferry
