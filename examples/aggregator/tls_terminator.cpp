#include "aggregator/tls_terminator.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "aggregator/credentials.hpp"
#include "sidecar/core/logger.hpp"
#include "sidecar/core/unique_fd.hpp"

namespace logferry::aggregator {
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr size_t kRelayBufferBytes = 16 * 1024;

// One terminated client: the TLS stream and the relay's end of the socketpair.
struct TlsPipe {
  TlsPipe(tcp::socket s, ssl::context& context) : tls(std::move(s), context), plain(tls.get_executor()) {}
  ssl::stream<tcp::socket> tls;
  asio::local::stream_protocol::socket plain;
};

// Client to Connection; at the client's end, the Connection sees end-of-file
// (it still sends the acks of batches it read).
asio::awaitable<void> relay_up(std::shared_ptr<TlsPipe> r) {
  std::array<char, kRelayBufferBytes> buf;
  for (;;) {
    auto [ec, n] = co_await r->tls.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    if (n > 0) {
      auto [wec, w] = co_await asio::async_write(r->plain, asio::buffer(buf.data(), n), asio::as_tuple(asio::use_awaitable));
      if (wec) break;
    }
    if (ec) break;
  }
  error_code ignored;
  r->plain.shutdown(asio::socket_base::shutdown_send, ignored);
}

// Connection to client; when the Connection closes, so does the client's socket.
asio::awaitable<void> relay_down(std::shared_ptr<TlsPipe> r) {
  std::array<char, kRelayBufferBytes> buf;
  for (;;) {
    auto [ec, n] = co_await r->plain.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    if (n > 0) {
      auto [wec, w] = co_await asio::async_write(r->tls, asio::buffer(buf.data(), n), asio::as_tuple(asio::use_awaitable));
      if (wec) break;
    }
    if (ec) break;
  }
  error_code ignored;
  r->tls.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
  r->tls.lowest_layer().close(ignored);
  r->plain.close(ignored);
}

std::string peer_of(const tcp::socket& s) {
  error_code ec;
  const auto ep = s.remote_endpoint(ec);
  if (ec) return "unknown";
  return fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

}  // namespace

ssl::context make_server_tls_context(const AggregatorConfig& config) {
  ssl::context context(ssl::context::tls_server);
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  error_code ec;
  context.use_certificate_chain_file(config.tls_cert, ec);
  if (ec) {
    throw std::runtime_error(
        fmt::format("LOGFERRY_AGGREGATOR_TLS_CERT=\"{}\": cannot load: {}", config.tls_cert, ec.message()));
  }
  context.use_private_key_file(config.tls_key, ssl::context::pem, ec);
  if (ec) {
    throw std::runtime_error(
        fmt::format("LOGFERRY_AGGREGATOR_TLS_KEY=\"{}\": cannot load: {}", config.tls_key, ec.message()));
  }
  if (!config.tls_client_ca.empty()) {
    context.load_verify_file(config.tls_client_ca, ec);
    if (ec) {
      throw std::runtime_error(fmt::format("LOGFERRY_AGGREGATOR_TLS_CLIENT_CA=\"{}\": cannot load: {}",
                                           config.tls_client_ca, ec.message()));
    }
    context.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return context;
}

TlsTerminator::TlsTerminator(const AggregatorConfig& config, AggregatorMetrics& metrics)
    : config_(config), metrics_(metrics), context_(make_server_tls_context(config)) {}

asio::awaitable<std::optional<TlsTerminator::Client>> TlsTerminator::accept(tcp::socket client,
                                                                  ConnectionSlots::Slot& pending) {
  using namespace asio::experimental::awaitable_operators;
  auto ex = client.get_executor();
  const std::string peer = peer_of(client);
  // Built in place: the stream is never moved once it holds TLS state.
  auto relay = std::make_shared<TlsPipe>(std::move(client), context_);
  pending.set_close([weak = std::weak_ptr<TlsPipe>(relay)] {
    if (const auto r = weak.lock()) {
      error_code ignored;
      r->tls.lowest_layer().close(ignored);
    }
  });
  asio::steady_timer timer(ex, config_.handshake_timeout);
  auto r = co_await (relay->tls.async_handshake(ssl::stream_base::server, asio::as_tuple(asio::use_awaitable)) ||
                     timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  error_code ec = r.index() == 0 ? std::get<0>(std::get<0>(r)) : asio::error::timed_out;
  pending.set_close({});
  if (ec && !pending.held()) {
    co_return std::nullopt;  // evicted: another connection needed the slot (counted there)
  }
  if (ec) {
    bump(metrics_.tls_handshake_failures);
    log_limited(LogLevel::warn, "TLS handshake failed: client disconnected",
                {{"peer", peer}, {"reason", ec == asio::error::timed_out ? "no TLS handshake in time" : ec.message()}});
    error_code ignored;
    relay->tls.lowest_layer().close(ignored);
    co_return std::nullopt;
  }
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    log_limited(LogLevel::error, "cannot relay a TLS client: socketpair failed", {{"error", std::strerror(errno)}});
    co_return std::nullopt;
  }
  UniqueFd inner_fd(fds[0]);
  UniqueFd plain_fd(fds[1]);
  tcp::socket inner(ex);
  error_code aec;
  inner.assign(tcp::v4(), inner_fd.get(), aec);
  if (!aec) inner_fd.release();  // the socket owns it now
  error_code bec;
  relay->plain.assign(asio::local::stream_protocol(), plain_fd.get(), bec);
  if (!bec) plain_fd.release();
  if (aec || bec) co_return std::nullopt;
  // Verified against LOGFERRY_AGGREGATOR_TLS_CLIENT_CA by the handshake (or absent).
  std::vector<std::string> names = certificate_names(SSL_get0_peer_certificate(relay->tls.native_handle()));
  asio::co_spawn(ex, relay_up(relay), asio::detached);
  asio::co_spawn(ex, relay_down(relay), asio::detached);
  co_return std::optional<Client>(Client{std::move(inner), std::move(names)});
}

}  // namespace logferry::aggregator
