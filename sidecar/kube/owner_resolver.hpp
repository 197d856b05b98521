#pragma once
// Resolves a Pod's controller owner into OpenTelemetry workload keys:
//   ReplicaSet  -> k8s.replicaset.name, and k8s.deployment.name when the
//                  ReplicaSet's own controller is a Deployment (one GET of the ReplicaSet)
//   Job         -> k8s.job.name, and k8s.cronjob.name when the Job's controller
//                  is a CronJob (one GET of the Job)
//   StatefulSet -> k8s.statefulset.name;  DaemonSet -> k8s.daemonset.name
// Lookups are cached by kind/namespace/name (bounded); a failed lookup (403,
// 404, network, timeout) still gives the direct owner's key, is counted, and is
// tried again only after a while.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include "sidecar/kube/api_client.hpp"
#include "sidecar/kube/pod_info.hpp"

namespace logferry {

// Fetches one object by its API path (ApiClient::get in production, a table in tests).
using ObjectFetcher = std::function<boost::asio::awaitable<boost::system::result<ApiResponse>>(std::string path)>;

// The key of the direct owner ("k8s.replicaset.name", ...); "" for other kinds.
std::string_view workload_key(std::string_view owner_kind);

class OwnerResolver {
 public:
  // `retry_failed`: how long a failed lookup is remembered before it is tried again.
  OwnerResolver(ObjectFetcher fetch, KubeMetrics& metrics, size_t max_entries, std::chrono::milliseconds retry_failed);

  // Sets pod.workload from pod.owner (cleared when there is none).
  boost::asio::awaitable<void> resolve(PodInfo& pod);
  size_t cached() const { return cache_.size(); }

 private:
  struct Entry {
    std::optional<PodInfo::Owner> parent;  // the owner's own controller
    std::chrono::steady_clock::time_point retry_at;  // max() unless the lookup failed
  };
  // The controller of the ReplicaSet or Job `owner` in `ns` (cached).
  boost::asio::awaitable<std::optional<PodInfo::Owner>> parent_of(const std::string& ns, const PodInfo::Owner& owner);

  ObjectFetcher fetch_;
  KubeMetrics& metrics_;
  size_t max_entries_;
  std::chrono::milliseconds retry_failed_;
  std::unordered_map<std::string, Entry> cache_;  // "kind/namespace/name"
};

}  // namespace logferry
