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

#include "sidecar/core/kube_options.hpp"

namespace logferry {



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
