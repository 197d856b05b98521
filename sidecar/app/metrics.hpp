#pragma once
// The sidecar's counters and gauges. One instance, owned by the App; each
// component takes the part it updates (PipelineMetrics, core/pipeline_metrics.hpp).
// Rendered as Prometheus text by the HTTP endpoint.
#include <cstdint>

#include "sidecar/core/pipeline_metrics.hpp"

namespace logferry {

struct Metrics : PipelineMetrics {
  uint64_t start_time_unix = 0;
};

}  // namespace logferry
