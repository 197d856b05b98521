#pragma once
// What the Kubernetes metadata layer (sidecar/kube) reads: where the API
// server is, how to trust and authenticate to it, which node's Pods to follow,
// which labels and annotations to keep, and its timings. Plain data, filled
// by the configuration layer (LOGFERRY_KUBE_*) or by a test.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace logferry {

// The default in-cluster service account files.
inline constexpr std::string_view kServiceAccountCa = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
inline constexpr std::string_view kServiceAccountToken = "/var/run/secrets/kubernetes.io/serviceaccount/token";

struct KubeOptions {
  std::string api_url;     // "https://host:port" ("https://[::1]:6443" for IPv6)
  std::string ca_file;     // PEM bundle that signed the API server's certificate
  std::string token_file;  // bearer token, re-read when it changes ("" = no Authorization header)
  std::string node_name;   // only this node's Pods are listed and watched
  std::vector<std::string> label_globs{"*"};     // fnmatch patterns of the label keys kept
  std::vector<std::string> annotation_globs{};   // same for annotations (none by default)
  std::chrono::milliseconds backoff_initial{500}, backoff_max{30000}, request_timeout{10000};
  std::chrono::milliseconds deleted_ttl{60000};  // how long a deleted Pod's metadata stays resolvable
  std::chrono::seconds watch_timeout{300};       // timeoutSeconds of each watch request
  uint64_t max_list_bytes = 64ull << 20;         // cap of a one-shot response body (the Pod list)
  uint64_t max_event_bytes = 4ull << 20;         // cap of one watch event line
  size_t owner_cache_entries = 4096;             // ReplicaSets/Jobs remembered by the owner lookup
};

}  // namespace logferry
