#include "sidecar/source/container_log_name.hpp"

namespace logferry {
namespace {

constexpr std::string_view kSuffix = ".log";
constexpr size_t kIdLength = 64;

bool is_hex_id(std::string_view s) {
  if (s.size() != kIdLength) return false;
  for (const char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Pod, namespace and container names are DNS labels or subdomains: never '_' or '/'.
bool is_name(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::optional<ContainerLogName> parse_container_log_name(std::string_view path) {
  const size_t slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (!name.ends_with(kSuffix)) return std::nullopt;
  name.remove_suffix(kSuffix.size());
  // "<pod>_<namespace>_<container>-<id>": the id is after the last '-'.
  if (name.size() < kIdLength + 1 || name[name.size() - kIdLength - 1] != '-') return std::nullopt;
  const std::string_view id = name.substr(name.size() - kIdLength);
  if (!is_hex_id(id)) return std::nullopt;
  name.remove_suffix(kIdLength + 1);
  const size_t first = name.find('_');
  if (first == std::string_view::npos) return std::nullopt;
  const size_t second = name.find('_', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const std::string_view pod = name.substr(0, first);
  const std::string_view ns = name.substr(first + 1, second - first - 1);
  const std::string_view container = name.substr(second + 1);
  if (!is_name(pod) || !is_name(ns) || !is_name(container)) return std::nullopt;
  return ContainerLogName{std::string(pod), std::string(ns), std::string(container), std::string(id)};
}

std::vector<std::pair<std::string, std::string>> container_log_labels(const ContainerLogName& name) {
  return {{"k8s.pod.name", name.pod},
          {"k8s.namespace.name", name.pod_namespace},
          {"k8s.container.name", name.container},
          {"container.id", name.container_id}};
}

}  // namespace logferry
