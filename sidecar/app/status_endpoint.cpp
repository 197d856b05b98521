#include "sidecar/app/status_endpoint.hpp"

#include "sidecar/app/prometheus.hpp"
#include "sidecar/app/readiness.hpp"

namespace logferry {

HttpRoutes sidecar_routes(const Config& config, const Metrics& metrics, ReadinessProbe extra) {
  const auto stall_after = config.output.ack_timeout + config.output.backoff_max + config.output.connect_timeout;
  auto check = std::make_shared<ReadinessCheck>(stall_after);
  HttpRoutes routes;
  routes.emplace("/healthz", [] { return HttpResponse{200, "text/plain; charset=utf-8", "ok\n"}; });
  routes.emplace("/readyz", [check, &metrics, extra = std::move(extra)] {
    std::string why = extra ? extra() : std::string();
    // Always consult the check, so it sees every probe's metrics.
    std::string from_metrics = check->problem(metrics, ReadinessCheck::Clock::now());
    if (why.empty()) why = std::move(from_metrics);
    if (why.empty()) return HttpResponse{200, "text/plain; charset=utf-8", "ready\n"};
    return HttpResponse{503, "text/plain; charset=utf-8", why + "\n"};
  });
  routes.emplace("/metrics", [&metrics] {
    return HttpResponse{200, std::string(kPrometheusContentType), render_prometheus(metrics)};
  });
  return routes;
}

std::unique_ptr<HttpServer> start_http_server(boost::asio::any_io_executor executor, const Config& config,
                                              const Metrics& metrics, ReadinessProbe extra) {
  if (config.http_addr.empty()) return nullptr;
  return std::make_unique<HttpServer>(std::move(executor), config.http_addr,
                                      sidecar_routes(config, metrics, std::move(extra)));
}

}  // namespace logferry
