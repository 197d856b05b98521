#pragma once
// The sidecar's HTTP endpoint on LOGFERRY_HTTP_ADDR: /healthz, /readyz, /metrics.
// The app calls start_http_server() once after the configuration is loaded and
// keeps the returned server alive as long as `metrics` lives.
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "sidecar/app/http_server.hpp"
#include "sidecar/app/metrics.hpp"
#include "sidecar/config/config.hpp"

namespace logferry {

// Returns "" when ready, otherwise why not (e.g. "shutting down").
using ReadinessProbe = std::function<std::string()>;

// Builds the routes:
//   /healthz  200 "ok" whenever the event loop runs the handler (liveness);
//   /readyz   200 "ready", or 503 with the reason: `extra` (if given) first, then
//             ReadinessCheck over `metrics` (see readiness.hpp for the definition);
//   /metrics  render_prometheus(metrics), text format 0.0.4.
// `metrics` must outlive the routes.
HttpRoutes sidecar_routes(const Config& config, const Metrics& metrics, ReadinessProbe extra = {});

// Starts the endpoint when config.http_addr is set (nullptr otherwise). Throws
// std::runtime_error when the address cannot be bound (a start-up error).
std::unique_ptr<HttpServer> start_http_server(boost::asio::any_io_executor executor, const Config& config,
                                              const Metrics& metrics, ReadinessProbe extra = {});

}  // namespace logferry
