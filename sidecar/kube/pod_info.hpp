#pragma once
// A Pod's metadata as the log pipeline needs it, and the parsers of the API
// server's JSON (a Pod, a Pod list, a watch event line). The parsers are pure
// and never throw: hostile or truncated input gives std::nullopt, a field of
// the wrong type is treated as missing.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sidecar/kube/kube_options.hpp"

namespace logferry {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// The annotations logferry reads for itself (see PodInfo::settings).
inline constexpr std::string_view kSettingsAnnotations = "logferry.io/*";

struct PodInfo {
  std::string ns, name, uid, node;
  KeyValues labels, annotations;  // already filtered by the options' globs, sorted by key
  // The annotations that steer logferry itself (logferry.io/...), whatever
  // the allow-list: exclude, parser, parser-<container>, multiline.
  KeyValues settings;
  struct Owner {
    std::string kind, name;
    bool operator==(const Owner&) const = default;
  };
  std::optional<Owner> owner;  // the controller ownerReference
  // Resolved OpenTelemetry keys, e.g. {"k8s.replicaset.name","web-7d9f"},{"k8s.deployment.name","web"}.
  KeyValues workload;
  bool deleted = false;
  bool operator==(const PodInfo&) const = default;
};

// Parses one Pod object. std::nullopt when it is not a JSON object or lacks
// metadata.namespace, metadata.name or metadata.uid.
std::optional<PodInfo> parse_pod(std::string_view json, const KubeOptions& options);

// The controller ownerReference of any object (a Pod, a ReplicaSet, a Job).
std::optional<PodInfo::Owner> parse_controller_owner(std::string_view json);

struct PodList {
  std::string resource_version;  // metadata.resourceVersion: where the watch starts
  std::vector<PodInfo> items;    // the items that parsed (others are skipped)
  size_t skipped = 0;
};

// Parses a PodList. std::nullopt when it is not an object with an `items` array.
std::optional<PodList> parse_pod_list(std::string_view json, const KubeOptions& options);

struct WatchEvent {
  enum class Type { added, modified, deleted, bookmark, error };
  Type type = Type::error;
  std::optional<PodInfo> pod;    // added, modified, deleted
  std::string resource_version;  // the object's metadata.resourceVersion (every type but error)
  int code = 0;                  // error: the Status's code (410 = the resource version is too old)
  std::string message;           // error: the Status's message
};

// Parses one line of a watch stream. std::nullopt when the line is not an
// event, its type is unknown, or an added/modified/deleted object is not a Pod.
std::optional<WatchEvent> parse_watch_event(std::string_view line, const KubeOptions& options);

}  // namespace logferry
