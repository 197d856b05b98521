#include "aggregator/server.hpp"

#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include "sidecar/core/logger.hpp"

namespace logferry::aggregator {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Completion of a connection's coroutine: an escaping exception ends that connection only.
void log_exception(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log_limited(LogLevel::error, "connection failed", {{"error", ex.what()}});
  }
}

}  // namespace

Server::Server(asio::io_context& io, const AggregatorConfig& config, SegmentStore* store, AggregatorMetrics& metrics)
    : io_(io),
      config_(config),
      metrics_(metrics),
      context_{config, ProtocolSettings{config.max_frame_bytes, config.token, config.discard, store != nullptr, config.limits, nullptr},
               metrics, store, {}, {}, nullptr},
      acceptor_(io),
      pending_(ConnectionSlotLimits{config.max_pending, config.max_pending_per_peer}) {
  context_.on_closed = [this](Connection* c) { connection_closed(c); };
  if (!config.tls_cert.empty()) tls_ = std::make_unique<TlsTerminator>(config, metrics);
  if (!config.token_file.empty()) {
    token_file_ = std::make_unique<TokenFile>(config.token_file, config.token);
    context_.token_file = token_file_.get();
  }
  context_.protocol.limits = config.limits;
  if (!config.credentials_file.empty()) {
    credentials_ = std::make_unique<Credentials>(config.credentials_file);
    if (auto why = credentials_->load(); !why.empty()) throw std::runtime_error(why);
    context_.protocol.credentials = credentials_.get();
  }
}

bool open_to_anyone(const AggregatorConfig& config, const asio::ip::address& address) {
  return !address.is_loopback() && config.tls_cert.empty() && config.token.empty() && config.token_file.empty() &&
         config.credentials_file.empty();
}

Server::~Server() {
  // Connections still alive (an io_context destroyed unfinished) must not call back.
  context_.on_closed = nullptr;
}

tcp::endpoint Server::listen() {
  const tcp::endpoint ep(asio::ip::make_address(config_.listen_host), config_.listen_port);
  acceptor_.open(ep.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  if (open_to_anyone(config_, ep.address())) {
    log_warn("listening beyond loopback without TLS and without a token: anyone who reaches this address can "
             "write entries (set LOGFERRY_AGGREGATOR_TOKEN_FILE, LOGFERRY_AGGREGATOR_CREDENTIALS_FILE, "
             "LOGFERRY_AGGREGATOR_TLS_*, or listen on 127.0.0.1)",
             {{"address", fmt::format("{}:{}", config_.listen_host, config_.listen_port)}});
  }
  return acceptor_.local_endpoint();
}

void Server::start() {
  asio::co_spawn(io_, accept_loop(), [](std::exception_ptr e) { log_exception(e); });
}

asio::awaitable<void> Server::accept_loop() {
  const auto alive = alive_;
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (!*alive || stopping_) break;
    if (ec) {
      if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) break;
      // Out of descriptors or similar: not ready, and wait a little instead of spinning.
      bump(metrics_.accept_errors);
      accept_error_ = ec.message();
      log_limited(LogLevel::error, "accept failed", {{"error", ec.message()}});
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      if (!*alive || stopping_) break;
      continue;
    }
    if (!accept_error_.empty()) {
      log_info("accepting connections again", {{"after", accept_error_}});
      accept_error_.clear();
    }
    if (context_.sessions >= config_.max_connections) {
      bump(metrics_.connections_refused);
      log_limited(LogLevel::warn, "too many connections: closed at accept", {{"limit", config_.max_connections}});
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    boost::system::error_code ignored;
    const auto remote = socket.remote_endpoint(ignored);
    const std::string peer = ignored ? std::string() : remote.address().to_string();
    ConnectionSlots::Slot pending;
    const uint64_t evicted_before = pending_.evicted();
    const uint64_t evicted_peer_before = pending_.evicted_peer();
    const auto admitted = pending_.admit(peer, {}, pending);
    if (pending_.evicted() != evicted_before) {
      bump(metrics_.unauthenticated_evicted);
      log_limited(LogLevel::warn, "too many connections without a hello: the oldest closed",
                  {{"limit", config_.max_pending}});
    }
    if (pending_.evicted_peer() != evicted_peer_before) {
      bump(metrics_.unauthenticated_evicted_peer);
      log_limited(LogLevel::warn, "too many connections without a hello from one address: its oldest closed",
                  {{"peer", peer}, {"limit", config_.max_pending_per_peer}});
    }
    if (admitted != ConnectionSlots::Admit::admitted) {
      // Every pending connection is idle until its hello: not reached, but handled.
      bump(metrics_.unauthenticated_evicted);
      socket.close(ignored);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ignored);
    if (tls_) {
      asio::co_spawn(io_, start_tls(std::move(socket), std::move(pending)), [](std::exception_ptr e) { log_exception(e); });
      continue;
    }
    start_connection(std::move(socket), std::move(pending));
  }
}

asio::awaitable<void> Server::start_tls(tcp::socket socket, ConnectionSlots::Slot pending) {
  const auto alive = alive_;
  auto client = co_await tls_->accept(std::move(socket), pending);
  if (!*alive || stopping_ || !client || !pending.held()) co_return;
  start_connection(std::move(client->plain), std::move(pending), std::move(client->certificate_names));
}

void Server::start_connection(tcp::socket socket, ConnectionSlots::Slot pending,
                              std::vector<std::string> certificate_names) {
  auto conn = std::make_shared<Connection>(std::move(socket), context_, std::move(pending), std::move(certificate_names));
  live_.insert(conn.get());
  asio::co_spawn(io_, conn->run(), [conn](std::exception_ptr e) { log_exception(e); });
}

void Server::stop(std::function<void()> on_stopped) {
  stopping_ = true;
  on_stopped_ = std::move(on_stopped);
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  // Copy: stop() may end a connection synchronously.
  const std::vector<Connection*> conns(live_.begin(), live_.end());
  for (Connection* c : conns) c->stop();
  if (live_.empty() && on_stopped_) asio::post(io_, std::exchange(on_stopped_, nullptr));
}

void Server::connection_closed(Connection* c) {
  live_.erase(c);
  if (stopping_ && live_.empty() && on_stopped_) asio::post(io_, std::exchange(on_stopped_, nullptr));
}

}  // namespace logferry::aggregator
