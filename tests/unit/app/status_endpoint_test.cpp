#include "sidecar/app/status_endpoint.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include "sidecar/app/prometheus.hpp"

using namespace logferry;

TEST_CASE("status endpoint: /healthz, /readyz and /metrics", "[ops][http]") {
  Config config;
  config.output.ack_timeout = std::chrono::seconds(30);
  Metrics metrics;
  std::string extra;
  auto routes = sidecar_routes(config, metrics, [&] { return extra; });
  REQUIRE(routes.size() == 3);

  const auto health = routes.at("/healthz")();
  CHECK(health.status == 200);
  CHECK(health.body == "ok\n");

  auto ready = routes.at("/readyz")();
  CHECK(ready.status == 503);
  CHECK(ready.body == "sources not opened yet\n");
  metrics.sources_open = true;
  ready = routes.at("/readyz")();
  CHECK(ready.status == 200);
  CHECK(ready.body == "ready\n");
  extra = "shutting down";
  ready = routes.at("/readyz")();
  CHECK(ready.status == 503);
  CHECK(ready.body == "shutting down\n");

  metrics.lines_read = 42;
  const auto m = routes.at("/metrics")();
  CHECK(m.status == 200);
  CHECK(m.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(m.body == render_prometheus(metrics));
  CHECK(m.body.find("logferry_lines_read_total 42\n") != std::string::npos);
}

TEST_CASE("status endpoint: not started without LOGFERRY_HTTP_ADDR", "[ops][http]") {
  boost::asio::io_context io;
  Config config;
  Metrics metrics;
  CHECK(start_http_server(io.get_executor(), config, metrics) == nullptr);
  config.http_addr = "127.0.0.1:0";
  auto server = start_http_server(io.get_executor(), config, metrics);
  REQUIRE(server != nullptr);
  CHECK(server->local_endpoint().port() != 0);
  config.http_addr = "not an address";
  CHECK_THROWS_WITH(start_http_server(io.get_executor(), config, metrics),
                    "invalid listen address \"not an address\": expected HOST:PORT");
}
