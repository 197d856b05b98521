#pragma once
// Chooses the Sink for the configured output scheme: tcp/tls (native
// protocol), otlp+http(s) (OpenTelemetry) or loki+http(s) (Grafana Loki).
#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "sidecar/core/pipeline_metrics.hpp"
#include "sidecar/core/output_options.hpp"
#include "sidecar/forward/sink.hpp"

namespace logferry {

// Builds the sink for options.outputs (all of one kind, as parse_outputs
// guarantees). Throws std::runtime_error at start-up (TLS material, an output
// kind without a sink). `config` and `metrics` must outlive the sink.
std::unique_ptr<Sink> make_sink(boost::asio::any_io_executor executor, const OutputOptions& options, PipelineMetrics& metrics);

}  // namespace logferry
