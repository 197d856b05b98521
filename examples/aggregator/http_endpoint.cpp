#include "aggregator/http_endpoint.hpp"

#include "sidecar/app/prometheus.hpp"

namespace logferry::aggregator {

std::string render_aggregator_prometheus(const AggregatorMetrics& m) {
  constexpr auto counter = MetricType::counter;
  constexpr auto gauge = MetricType::gauge;
  auto v = [](const Counter& c) { return c.load(std::memory_order_relaxed); };
  PrometheusWriter w;
  w.family("logferry_aggregator_connections_accepted_total", counter, "TCP connections accepted.",
           v(m.connections_accepted));
  w.family("logferry_aggregator_connections_active", gauge, "Connections currently open.", v(m.connections_active));
  w.family("logferry_aggregator_connections_refused_total", counter,
           "Connections closed at accept (over LOGFERRY_AGGREGATOR_MAX_CONNECTIONS).", v(m.connections_refused));
  w.family("logferry_aggregator_handshake_failures_total", counter,
           "Hellos refused (version, token), malformed or too late.", v(m.handshake_failures));
  w.family("logferry_aggregator_tls_handshake_failures_total", counter,
           "TLS handshakes that failed (bad or missing client certificate, not TLS, too slow).",
           v(m.tls_handshake_failures));
  w.family("logferry_aggregator_frames_oversized_total", counter, "Frames over the maximum size (connection closed).",
           v(m.frames_oversized));
  w.family("logferry_aggregator_frames_malformed_total", counter,
           "Undecodable frames or protocol violations (connection closed).", v(m.frames_malformed));
  w.family("logferry_aggregator_frames_stalled_total", counter,
           "Connections closed for being idle too long or stalling mid-frame.", v(m.frames_stalled));
  w.family("logferry_aggregator_batches_total", counter, "Batches received and acknowledged.", v(m.batches));
  w.family("logferry_aggregator_batches_rejected_total", counter, "Batches acknowledged as rejected.",
           v(m.batches_rejected));
  w.family("logferry_aggregator_entries_stored_total", counter, "Entries stored (counted, in discard mode).",
           v(m.entries_stored));
  w.family("logferry_aggregator_duplicates_dropped_total", counter,
           "Entries dropped because their (source id, offset) was already stored.", v(m.duplicates_dropped));
  w.family("logferry_aggregator_received_bytes_total", counter, "Frame bytes read, headers included.",
           v(m.bytes_received));
  w.family("logferry_aggregator_written_bytes_total", counter, "ndjson bytes written to segments.",
           v(m.bytes_written));
  w.family("logferry_aggregator_fsyncs_total", counter, "fdatasync calls (one covers many batches).", v(m.fsyncs));
  w.family("logferry_aggregator_store_errors_total", counter, "Failed writes or syncs.", v(m.store_errors));
  return w.take();
}

HttpRoutes aggregator_routes(const AggregatorMetrics& metrics, AggregatorReadiness readiness) {
  HttpRoutes routes;
  routes.emplace("/healthz", [] { return HttpResponse{200, "text/plain; charset=utf-8", "ok\n"}; });
  routes.emplace("/readyz", [readiness = std::move(readiness)] {
    const std::string why = readiness ? readiness() : std::string();
    if (why.empty()) return HttpResponse{200, "text/plain; charset=utf-8", "ready\n"};
    return HttpResponse{503, "text/plain; charset=utf-8", why + "\n"};
  });
  routes.emplace("/metrics", [&metrics] {
    return HttpResponse{200, std::string(kPrometheusContentType), render_aggregator_prometheus(metrics)};
  });
  return routes;
}

std::unique_ptr<HttpServer> start_aggregator_http(boost::asio::any_io_executor executor, const AggregatorConfig& config,
                                                  const AggregatorMetrics& metrics, AggregatorReadiness readiness) {
  if (config.http_addr.empty()) return nullptr;
  return std::make_unique<HttpServer>(std::move(executor), config.http_addr,
                                      aggregator_routes(metrics, std::move(readiness)));
}

}  // namespace logferry::aggregator
