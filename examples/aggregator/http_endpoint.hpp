#pragma once
// The aggregator's HTTP endpoint (LOGFERRY_AGGREGATOR_HTTP_ADDR): /healthz,
// /readyz and /metrics in Prometheus text, on the sidecar's generic HttpServer.
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "aggregator/aggregator_config.hpp"
#include "aggregator/aggregator_metrics.hpp"
#include "aggregator/relay.hpp"
#include "aggregator/segment_store.hpp"
#include "aggregator/store_relay.hpp"
#include "sidecar/app/http_server.hpp"

namespace logferry::aggregator {

// The parts whose state /metrics shows besides the counters (each may be null).
struct AggregatorParts {
  const Relay* relay = nullptr;
  const SegmentStore* store = nullptr;
  const StoreRelay* store_relay = nullptr;
};

// Returns "" when ready, otherwise why not (e.g. "shutting down").
using AggregatorReadiness = std::function<std::string()>;

// Renders every AggregatorMetrics field (counters end in _total), in a fixed
// order, the store's size, and the relay's delivery counters and lag when there is a relay.
std::string render_aggregator_prometheus(const AggregatorMetrics& metrics, const AggregatorParts& parts = {});

// /healthz 200 "ok\n"; /readyz 200 "ready\n" or 503 "<reason>\n"; /metrics the
// rendering above. `metrics` and the parts must outlive the routes.
HttpRoutes aggregator_routes(const AggregatorMetrics& metrics, AggregatorReadiness readiness,
                             AggregatorParts parts = {});

// Starts the endpoint when config.http_addr is set (nullptr otherwise); throws
// std::runtime_error when the address cannot be bound (start-up).
std::unique_ptr<HttpServer> start_aggregator_http(boost::asio::any_io_executor executor, const AggregatorConfig& config,
                                                  const AggregatorMetrics& metrics, AggregatorReadiness readiness,
                                                  AggregatorParts parts = {});

}  // namespace logferry::aggregator
