#pragma once
// Chooses the Sink for the configured output scheme: tcp/tls (native
// protocol), otlp+http(s) (OpenTelemetry) or loki+http(s) (Grafana Loki).
#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "sidecar/core/pipeline_metrics.hpp"
#include "sidecar/config/config.hpp"
#include "sidecar/forward/sink.hpp"

namespace logferry {

// Builds the sink for config.outputs (all of one kind, as parse_outputs
// guarantees). Throws std::runtime_error at start-up (TLS material, an output
// kind without a sink). `config` and `metrics` must outlive the sink.
std::unique_ptr<Sink> make_sink(boost::asio::any_io_executor executor, const Config& config, PipelineMetrics& metrics);

}  // namespace logferry
