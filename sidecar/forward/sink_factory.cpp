#include "sidecar/forward/sink_factory.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "sidecar/forward/http_sink.hpp"
#include "sidecar/forward/loki_encoder.hpp"
#include "sidecar/forward/otlp_encoder.hpp"
#include "sidecar/forward/tcp_sink.hpp"

namespace logferry {

std::unique_ptr<Sink> make_sink(boost::asio::any_io_executor executor, const OutputOptions& options, PipelineMetrics& metrics) {
  if (options.outputs.empty()) throw std::runtime_error("LOGFERRY_OUTPUT: no output configured");
  const std::string& scheme = options.outputs.front().scheme;
  if (scheme == "tcp" || scheme == "tls") return std::make_unique<TcpSink>(executor, options, metrics);
  if (scheme.starts_with("otlp+"))
    return std::make_unique<HttpSink>(executor, options, metrics, std::make_unique<OtlpEncoder>(options));
  if (scheme.starts_with("loki+"))
    return std::make_unique<HttpSink>(executor, options, metrics, std::make_unique<LokiEncoder>(options));
  throw std::runtime_error(fmt::format("LOGFERRY_OUTPUT=\"{}\": no sink for the scheme {}",
                                       options.outputs.front().text, scheme));
}

}  // namespace logferry
