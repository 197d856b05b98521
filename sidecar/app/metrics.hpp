#pragma once
// The sidecar's counters and gauges. One instance, owned by the App; each
// component takes the part it updates (PipelineMetrics, core/pipeline_metrics.hpp).
// Rendered as Prometheus text by the HTTP endpoint.
#include <cstdint>
#include <functional>

#include "sidecar/core/pipeline_metrics.hpp"
#include "sidecar/kube/kube_metrics.hpp"

namespace logferry {

struct Metrics : PipelineMetrics {
  uint64_t start_time_unix = 0;
  // Node mode with the API server (null/empty otherwise).
  const KubeMetrics* kube = nullptr;
  std::function<uint64_t()> kube_pods;  // Pods in the cache
};

}  // namespace logferry
