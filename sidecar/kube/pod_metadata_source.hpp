#pragma once
// Node mode: an origin's Pod (found in the PodCache by the namespace and Pod
// name its file name gave, k8s.namespace.name and k8s.pod.name) as
// OriginMetadata: k8s.pod.uid, k8s.pod.label.<key>, k8s.pod.annotation.<key>
// (as the allow-lists kept them), the workload keys, and the logferry.io/
// annotations: exclude ("true"), parser-<container> else parser, multiline.
#include <functional>
#include <string_view>
#include <utility>

#include "sidecar/core/origin_metadata.hpp"
#include "sidecar/kube/pod_cache.hpp"

namespace logferry {

class PodMetadataSource final : public MetadataSource {
 public:
  // `is_parser` tells a parser name from a typo (a bad annotation is ignored
  // and the configured parser kept); `cache` must outlive this.
  PodMetadataSource(const PodCache& cache, std::function<bool(std::string_view)> is_parser)
      : cache_(cache), is_parser_(std::move(is_parser)) {}

  uint64_t version() const override { return cache_.version(); }
  OriginMetadata lookup(const Origin& origin) const override;

 private:
  const PodCache& cache_;
  std::function<bool(std::string_view)> is_parser_;
};

}  // namespace logferry
