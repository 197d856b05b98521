#pragma once
// What the Kubernetes metadata layer reads: where the API server is, how to
// trust and authenticate to it, which node's Pods to follow, which labels and
// annotations to keep, and its timings. Filled by the configuration layer (or
// from the in-cluster environment through in_cluster_options).
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace logferry {

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

// The default in-cluster service account files.
inline constexpr std::string_view kServiceAccountCa = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
inline constexpr std::string_view kServiceAccountToken = "/var/run/secrets/kubernetes.io/serviceaccount/token";

// Options for a process running in a Pod: api_url from KUBERNETES_SERVICE_HOST
// and KUBERNETES_SERVICE_PORT (an IPv6 host is bracketed), the service account's
// CA and token files. std::nullopt when either variable is unset, empty or the
// port is not a number in 1..65535. `getenv` is ::getenv or a test's lookup.
std::optional<KubeOptions> in_cluster_options(const std::function<const char*(const char*)>& getenv);

// An api_url taken apart.
struct ApiEndpoint {
  std::string host;  // without brackets
  uint16_t port = 443;
  std::string host_header;  // "host:port", IPv6 bracketed
};

// Parses "https://host[:port]" (a trailing "/" allowed); std::nullopt for any
// other scheme, a path, an empty host or a bad port.
std::optional<ApiEndpoint> parse_api_url(std::string_view url);

// `s` with every byte outside RFC 3986's unreserved set as %XX (a query value).
std::string percent_encode(std::string_view s);

}  // namespace logferry
