#include "aggregator/aggregator_app.hpp"

#include <cstdio>
#include <exception>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>
#include <google/protobuf/stubs/logging.h>

#include "aggregator/aggregator_metrics.hpp"
#include "aggregator/audit_listener.hpp"
#include "aggregator/http_endpoint.hpp"
#include "aggregator/relay.hpp"
#include "aggregator/segment_store.hpp"
#include "aggregator/server.hpp"
#include "aggregator/store_relay.hpp"
#include "aggregator/store_retention.hpp"
#include "sidecar/config/value_parsers.hpp"
#include "sidecar/core/logger.hpp"

namespace logferry::aggregator {
namespace {

std::string format_endpoint(const boost::asio::ip::tcp::endpoint& ep) {
  const auto addr = ep.address();
  return addr.is_v6() ? fmt::format("[{}]:{}", addr.to_string(), ep.port()) : fmt::format("{}:{}", addr.to_string(), ep.port());
}

// libprotobuf logs every invalid UTF-8 string it parses; a hostile client could
// flood stderr with that, so it goes through the rate-limited logger at debug.
void protobuf_log(google::protobuf::LogLevel, const char*, int, const std::string& message) {
  log_limited(LogLevel::debug, "protobuf", {{"detail", message}});
}

}  // namespace

int run_aggregator(const AggregatorConfig& config) {
  configure_logging(config.log_level, config.log_format, "logferry-aggregator");
  google::protobuf::SetLogHandler(protobuf_log);
  boost::asio::io_context io(1);
  AggregatorMetrics metrics;
  std::optional<SegmentStore> store;
  const bool relay_only = !config.relay.empty() && config.relay_mode == RelayMode::relay_only;
  std::unique_ptr<Relay> relay;
  if (!config.relay.empty()) {
    try {
      relay = std::make_unique<Relay>(io.get_executor(), config.relay_output);
    } catch (const std::exception& e) {
      log_error("cannot start the relay",
                {{"LOGFERRY_AGGREGATOR_RELAY", redact_urls(config.relay)}, {"error", e.what()}});
      return 1;
    }
    relay->start();
    log_info("relaying", {{"to", redact_urls(config.relay)}, {"mode", relay_only ? "relay_only" : "store_and_forward"}});
  }
  if (!config.discard && !relay_only) {
    store.emplace(io.get_executor(), StoreOptions{config.data_dir, config.segment_max_bytes, config.fsync, config.store_mode,
                                                           static_cast<size_t>(config.max_open_segments)}, metrics);
    if (auto err = store->open(); !err.empty()) {
      log_error("cannot open the data directory", {{"error", err}});
      return 1;
    }
    log_info("store opened", {{"data_dir", config.data_dir}, {"lines", store->recovered_lines()}});
  }
  // store_and_forward: the relay reads the durable store (resuming from its cursors).
  std::optional<StoreRelay> store_relay;
  if (relay && store) {
    store_relay.emplace(io.get_executor(), *store, *relay, metrics, StoreRelayOptions{});
    if (auto err = store_relay->open(); !err.empty()) {
      log_error("cannot open the relay cursors", {{"error", err}});
      return 1;
    }
    store_relay->start();
  }
  std::optional<StoreRetention> retention;
  if (store) {
    retention.emplace(io.get_executor(), *store, store_relay ? &*store_relay : nullptr, metrics,
                      RetentionOptions{config.retention_max_bytes, config.retention_max_age, config.retention_when_full});
    retention->start();
  }
  Server server(io, config, store ? &*store : nullptr, metrics);
  if (relay && relay_only) server.set_relay(relay.get());
  boost::asio::ip::tcp::endpoint bound;
  try {
    bound = server.listen();
  } catch (const std::exception& e) {
    log_error("cannot listen", {{"address", fmt::format("{}:{}", config.listen_host, config.listen_port)},
                                {"error", e.what()}});
    return 1;
  }
  std::fputs(fmt::format("listening on {}\n", format_endpoint(bound)).c_str(), stdout);
  std::fflush(stdout);
  log_info("listening", {{"address", format_endpoint(bound)},
                         {"fsync", config.fsync == FsyncPolicy::always ? "always" : "never"},
                         {"discard", config.discard}});
  server.start();
  bool stopping = false;
  std::unique_ptr<HttpServer> http;
  try {
    http = start_aggregator_http(io.get_executor(), config, metrics, [&]() -> std::string {
      if (stopping) return "shutting down";
      if (store && store->failed()) return "the store failed (see the logs)";
      if (store && !store->write_error().empty()) return "the store cannot write: " + store->write_error();
      if (!server.accept_error().empty()) return "cannot accept connections: " + server.accept_error();
      return {};
    }, AggregatorParts{relay.get(), store ? &*store : nullptr, store_relay ? &*store_relay : nullptr});
  } catch (const std::exception& e) {
    log_error("cannot start the HTTP endpoint",
              {{"LOGFERRY_AGGREGATOR_HTTP_ADDR", config.http_addr}, {"error", e.what()}});
    return 1;
  }
  if (http) {
    std::fputs(fmt::format("http endpoint on {}\n", format_endpoint(http->local_endpoint())).c_str(), stdout);
    std::fflush(stdout);
  }
  std::optional<AuditReceiver> audit_receiver;
  std::unique_ptr<AuditListener> audit;
  if (!config.audit_listen.empty()) {
    audit_receiver.emplace(store ? &*store : nullptr, metrics, config.data_dir);
    audit_receiver->open();
    try {
      audit = std::make_unique<AuditListener>(io.get_executor(), config, *audit_receiver, metrics);
      const auto ep = audit->start();
      std::fputs(fmt::format("audit endpoint on {}\n", format_endpoint(ep)).c_str(), stdout);
      std::fflush(stdout);
      log_info("audit webhook listening", {{"address", format_endpoint(ep)}, {"path", config.audit_path},
                                           {"tls", !config.tls_cert.empty()}});
    } catch (const std::exception& e) {
      log_error("cannot start the audit webhook",
                {{"LOGFERRY_AGGREGATOR_AUDIT_LISTEN", config.audit_listen}, {"error", e.what()}});
      return 1;
    }
  }

  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    stopping = true;
    log_info("stopping: finishing in-flight batches", {{"signal", sig}});
    if (relay) {
      // Deliver what is queued downstream (bounded), then let io.run() end.
      boost::asio::co_spawn(io, [&]() -> boost::asio::awaitable<void> {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(store_relay ? 5 : 20);
        bool drained = true;
        if (store_relay) {
          drained = co_await store_relay->drain(deadline);
          const uint64_t waiting = store_relay->lag_entries();
          if (!drained || waiting != 0)
            log_info("stopping with stored lines not relayed yet: relayed after the restart",
                     {{"relay", redact_urls(config.relay)}, {"lines", waiting}});
          store_relay->stop();
        } else {
          drained = co_await relay->drain(deadline);
          if (!drained) log_error("stopping with batches not relayed", {{"relay", redact_urls(config.relay)}});
        }
        relay->stop();
      }, boost::asio::detached);
    }
    if (retention) retention->stop();
    server.stop([&] {
      if (http) http->stop();  // the endpoint would keep io.run() going
      if (audit) audit->stop();
      if (store) store->close();
      log_info("stopped", {{"entries_stored", metrics.entries_stored.load()},
                           {"duplicates_dropped", metrics.duplicates_dropped.load()}});
    });
  });
  io.run();
  if (http) http->stop();
  if (audit) audit->stop();
  if (store) store->close();
  return store && store->failed() ? 1 : 0;
}

}  // namespace logferry::aggregator
