#pragma once
// The kubelet names each container's log in /var/log/containers
// "<pod>_<namespace>_<container>-<64-hex container id>.log" (a symlink to
// /var/log/pods/<namespace>_<pod>_<uid>/<container>/0.log). A node agent turns
// that name into the OpenTelemetry resource labels of the file's entries.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace logferry {

struct ContainerLogName {
  std::string pod;
  std::string pod_namespace;
  std::string container;
  std::string container_id;  // 64 lowercase hex digits
};

// Parses the last path segment of `path`; nullopt when it is not a kubelet
// container log name (the file is still read, just without these labels).
std::optional<ContainerLogName> parse_container_log_name(std::string_view path);

// The labels in wire order: k8s.pod.name, k8s.namespace.name,
// k8s.container.name, container.id.
std::vector<std::pair<std::string, std::string>> container_log_labels(const ContainerLogName& name);

}  // namespace logferry
