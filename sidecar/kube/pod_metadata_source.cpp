#include "sidecar/kube/pod_metadata_source.hpp"

#include <string>

namespace logferry {
namespace {

std::string_view value_of(const Labels& labels, std::string_view key) {
  for (const auto& [k, v] : labels)
    if (k == key) return v;
  return {};
}

constexpr std::string_view kPresets[] = {"java", "python", "go"};

}  // namespace

OriginMetadata PodMetadataSource::lookup(const Origin& origin) const {
  OriginMetadata m;
  const auto ns = value_of(origin.resource, "k8s.namespace.name");
  const auto name = value_of(origin.resource, "k8s.pod.name");
  if (ns.empty() || name.empty()) return m;
  const auto pod = cache_.find(ns, name);
  if (!pod) return m;
  m.known = true;
  m.resource.emplace_back("k8s.pod.uid", pod->uid);
  for (const auto& [k, v] : pod->labels) m.resource.emplace_back("k8s.pod.label." + k, v);
  for (const auto& [k, v] : pod->annotations) m.resource.emplace_back("k8s.pod.annotation." + k, v);
  for (const auto& kv : pod->workload) m.resource.push_back(kv);

  const auto container = value_of(origin.resource, "k8s.container.name");
  std::string_view parser, container_parser;
  for (const auto& [k, v] : pod->settings) {
    if (k == "logferry.io/exclude") m.exclude = v == "true";
    else if (k == "logferry.io/parser") parser = v;
    else if (!container.empty() && k.size() == 19 + container.size() && k.starts_with("logferry.io/parser-") &&
             k.ends_with(container))
      container_parser = v;
    else if (k == "logferry.io/multiline") {
      for (const auto preset : kPresets)
        if (v == preset) m.multiline = v;
    }
  }
  if (!container_parser.empty()) parser = container_parser;
  if (!parser.empty() && is_parser_(parser)) m.parser = std::string(parser);
  return m;
}

}  // namespace logferry
