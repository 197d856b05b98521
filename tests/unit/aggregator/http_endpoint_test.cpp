#include "aggregator/http_endpoint.hpp"
#include "aggregator/session_protocol.hpp"

#include <algorithm>
#include <string>

#include <catch2/catch.hpp>

TEST_CASE("the aggregator's /metrics text, exactly", "[aggregator][metrics]") {
  logferry::aggregator::AggregatorMetrics m;
  m.connections_accepted = 7;
  m.connections_active = 2;
  m.tls_handshake_failures = 1;
  m.batches = 5;
  m.entries_stored = 42;
  m.batch_rejections.at(static_cast<size_t>(logferry::aggregator::RejectReason::namespace_denied)) = 3;
  const std::string text = logferry::aggregator::render_aggregator_prometheus(m);
  CHECK(text.rfind("# HELP logferry_aggregator_connections_accepted_total TCP connections accepted.\n"
                   "# TYPE logferry_aggregator_connections_accepted_total counter\n"
                   "logferry_aggregator_connections_accepted_total 7\n"
                   "# HELP logferry_aggregator_connections_active Connections currently open.\n"
                   "# TYPE logferry_aggregator_connections_active gauge\n"
                   "logferry_aggregator_connections_active 2\n",
                   0) == 0);
  CHECK(text.find("\nlogferry_aggregator_tls_handshake_failures_total 1\n") != std::string::npos);
  CHECK(text.find("\nlogferry_aggregator_batches_total 5\n") != std::string::npos);
  CHECK(text.find("\nlogferry_aggregator_entries_stored_total 42\n") != std::string::npos);
  CHECK(text.find("\nlogferry_aggregator_store_errors_total 0\n") != std::string::npos);
  // 17 families, the 3 of the retention and the 6 of the audit webhook, three
  // lines each, the unauthenticated closings and the batch rejections by reason
  // (HELP, TYPE, 4 samples each), nothing else (the store's and the relay's
  // families appear only when there is a store or a relay).
  CHECK(std::count(text.begin(), text.end(), '\n') == 26 * 3 + 6 + 6);
  CHECK(text.find("\nlogferry_aggregator_batch_rejections_total{reason=\"namespace\"} 3\n") != std::string::npos);
  CHECK(text.find("\nlogferry_aggregator_batch_rejections_total{reason=\"undecodable\"} 0\n") != std::string::npos);
  CHECK(text.find("\nlogferry_aggregator_retention_unrelayed_entries_deleted_total 0\n") != std::string::npos);
  CHECK(text.find("\nlogferry_aggregator_unauthenticated_closed_total{reason=\"hello_too_large\"} 0\n") !=
        std::string::npos);

  auto routes = logferry::aggregator::aggregator_routes(m, [] { return std::string("shutting down"); });
  const auto ready = routes.at("/readyz")();
  CHECK(ready.status == 503);
  CHECK(ready.body == "shutting down\n");
  const auto health = routes.at("/healthz")();
  CHECK(health.status == 200);
  CHECK(health.body == "ok\n");
  const auto metrics = routes.at("/metrics")();
  CHECK(metrics.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(metrics.body == text);
}
