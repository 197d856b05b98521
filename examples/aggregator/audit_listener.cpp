#include "aggregator/audit_listener.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <stdexcept>
#include <unordered_set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <fmt/format.h>

#include "aggregator/session_protocol.hpp"
#include "aggregator/tls_terminator.hpp"
#include "sidecar/app/connection_slots.hpp"
#include "sidecar/config/value_parsers.hpp"
#include "sidecar/core/logger.hpp"

namespace logferry::aggregator {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;

struct AuditListenerState {
  AuditListenerState(asio::any_io_executor ex, const AggregatorConfig& c, AuditReceiver& r, AggregatorMetrics& m)
      : config(c), receiver(r), metrics(m), acceptor(ex), slots(ConnectionSlotLimits{kMaxConnections, 0}) {}
  static constexpr size_t kMaxConnections = 64;  // a cluster has a few API servers, each with a few connections
  const AggregatorConfig& config;
  AuditReceiver& receiver;
  AggregatorMetrics& metrics;
  tcp::acceptor acceptor;
  std::optional<ssl::context> tls;
  std::unordered_set<beast::tcp_stream*> live;
  ConnectionSlots slots;                  // when full, the connection idle the longest is closed
  std::optional<TokenFile> token;         // LOGFERRY_AGGREGATOR_AUDIT_TOKEN_FILE
  bool stopped = false;
};

namespace {

using State = AuditListenerState;

constexpr size_t kMaxHeaderBytes = 16 * 1024;
constexpr size_t kMaxConnections = State::kMaxConnections;
// Once a request's first bytes arrived, its request line and headers must follow within this time.
constexpr std::chrono::seconds kHeaderTimeout{5};
// After refusing a body unread, read and drop what the client still sends for a
// while, so that closing does not reset the connection before it read the answer.
constexpr std::chrono::seconds kLingerTime{2};
constexpr size_t kLingerBytes = 64u << 20;

// Keeps a connection's stream in the listener's set while it is open.
class Registration {
 public:
  Registration(State& state, beast::tcp_stream& stream) : state_(state), stream_(stream) { state_.live.insert(&stream_); }
  ~Registration() { state_.live.erase(&stream_); }
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;

 private:
  State& state_;
  beast::tcp_stream& stream_;
};

std::string peer_of(const tcp::socket& s) {
  error_code ec;
  const auto ep = s.remote_endpoint(ec);
  return ec ? std::string("unknown") : fmt::format("{}:{}", ep.address().to_string(), ep.port());
}

std::string_view reason_text(unsigned status) {
  switch (status) {
    case 401: return "unauthorized: send the bearer token of LOGFERRY_AGGREGATOR_AUDIT_TOKEN_FILE";
    case 404: return "not found: the audit webhook is at LOGFERRY_AGGREGATOR_AUDIT_PATH";
    case 405: return "method not allowed: POST an audit.k8s.io/v1 EventList";
    case 413: return "request body over LOGFERRY_AGGREGATOR_AUDIT_MAX_BYTES";
    case 431: return "request headers too large";
    default: return "";
  }
}

asio::awaitable<void> linger(beast::tcp_stream& stream) {
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(kLingerTime);
  std::array<char, 16384> buf;
  for (size_t total = 0; total < kLingerBytes;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
    total += n;
    if (ec) break;
  }
}

// True when the request carries "Authorization: Bearer <token>" (compared in constant time).
bool authorized(const http::request<http::string_body>& req, std::string_view token) {
  const auto it = req.find(http::field::authorization);
  if (it == req.end() || token.empty()) return false;
  const std::string_view value(it->value().data(), it->value().size());
  constexpr std::string_view kScheme = "Bearer ";
  if (value.size() < kScheme.size() || !std::equal(kScheme.begin(), kScheme.end(), value.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
      })) {
    return false;
  }
  return tokens_equal(token, value.substr(kScheme.size()));
}

// Serves requests on one connection until it closes, an error, or a refusal.
template <class Stream>
asio::awaitable<void> serve(State& s, Stream& stream, ConnectionSlots::Slot& slot) {
  beast::tcp_stream& tcp_layer = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(s.config.audit_max_bytes);
    slot.set_idle(true);  // until a request's headers arrived, the connection may be closed to make room
    if (buffer.size() == 0) {
      // The next request on a kept-alive connection: wait for its first bytes (idle connections are
      // bounded by the slots, not by this wait).
      using namespace asio::experimental::awaitable_operators;
      asio::steady_timer idle(tcp_layer.get_executor(), s.config.idle_timeout);
      const auto woke = co_await (
          tcp_layer.socket().async_wait(tcp::socket::wait_read, asio::as_tuple(asio::use_awaitable)) ||
          idle.async_wait(asio::as_tuple(asio::use_awaitable)));
      if (woke.index() != 0 || std::get<0>(std::get<0>(woke)) || s.stopped || !slot.held()) co_return;
    }
    tcp_layer.expires_after(kHeaderTimeout);
    auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (!slot.held()) co_return;
    slot.set_idle(false);
    unsigned status = 0;
    std::string text;
    bool keep_alive = false;
    if (hec == http::error::header_limit) {
      status = 431;
    } else if (hec == http::error::body_limit) {
      status = 413;  // Content-Length over the limit: refused before any of the body is read
    } else if (hec) {
      co_return;  // closed, timed out or not HTTP
    } else {
      const auto& req = parser.get();
      const std::string_view target(req.target().data(), req.target().size());
      const std::string_view path = target.substr(0, target.find('?'));
      const auto length = parser.content_length();
      if (path != s.config.audit_path) {
        status = 404;
      } else if (req.method() != http::verb::post) {
        status = 405;
      } else if (s.token && !authorized(req, s.token->current())) {
        status = 401;
        bump(s.metrics.audit_requests_unauthorized);
        log_limited(LogLevel::warn, "audit webhook: request without the bearer token refused",
                    {{"peer", peer_of(tcp_layer.socket())}});
      } else if (length && *length > s.config.audit_max_bytes) {
        status = 413;
      } else {
        tcp_layer.expires_after(s.config.frame_timeout);
        auto [bec, bn] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        if (bec == http::error::body_limit) {
          status = 413;
        } else if (bec) {
          co_return;
        } else {
          tcp_layer.expires_never();  // the durable write takes what it takes
          AuditAnswer answer = co_await s.receiver.receive(parser.get().body());
          if (s.stopped) co_return;
          status = answer.status;
          text = std::move(answer.text);
          keep_alive = parser.get().keep_alive();
        }
      }
    }
    bump(s.metrics.audit_requests);
    if (status == 413) bump(s.metrics.audit_requests_oversized);
    if (text.empty()) text = reason_text(status);
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::server, "logferry-aggregator");
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    if (status == 401) res.set(http::field::www_authenticate, "Bearer");
    res.keep_alive(keep_alive);
    res.body() = std::move(text);
    res.body().push_back('\n');
    res.prepare_payload();
    tcp_layer.expires_after(s.config.frame_timeout);
    auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    if (wec) co_return;
    if (!keep_alive) {
      if (!parser.is_done()) co_await linger(tcp_layer);  // a body was left unread
      error_code ignored;
      tcp_layer.socket().shutdown(tcp::socket::shutdown_both, ignored);
      co_return;
    }
  }
}

asio::awaitable<void> run_connection(std::shared_ptr<State> s, tcp::socket socket, ConnectionSlots::Slot slot) {
  beast::tcp_stream plain(std::move(socket));
  if (!s->tls) {
    Registration registration(*s, plain);
    slot.set_close([&plain] {
      error_code ignored;
      plain.socket().close(ignored);
    });
    co_await serve(*s, plain, slot);
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> stream(std::move(plain), *s->tls);
  Registration registration(*s, stream.next_layer());
  slot.set_close([&stream] {
    error_code ignored;
    stream.next_layer().socket().close(ignored);
  });
  const std::string peer = peer_of(stream.next_layer().socket());
  stream.next_layer().expires_after(s->config.handshake_timeout);
  auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
  if (ec) {
    if (!slot.held()) co_return;  // closed to make room for another connection
    bump(s->metrics.tls_handshake_failures);
    log_limited(LogLevel::warn, "audit webhook: TLS handshake failed: client disconnected",
                {{"peer", peer}, {"reason", ec == beast::error::timeout ? "no TLS handshake in time" : ec.message()}});
    co_return;
  }
  co_await serve(*s, stream, slot);
}

asio::awaitable<void> accept_loop(std::shared_ptr<State> s) {
  for (;;) {
    auto [ec, socket] = co_await s->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (s->stopped) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) co_return;
      log_limited(LogLevel::error, "audit webhook: accept failed", {{"error", ec.message()}});
      asio::steady_timer pause(s->acceptor.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    error_code ignored;
    const auto remote = socket.remote_endpoint(ignored);
    ConnectionSlots::Slot slot;
    const uint64_t evicted = s->slots.evicted();
    if (s->slots.admit(ignored ? std::string() : remote.address().to_string(), {}, slot) !=
        ConnectionSlots::Admit::admitted) {
      log_limited(LogLevel::warn, "audit webhook: too many busy connections: closed at accept",
                  {{"limit", kMaxConnections}});
      continue;  // the socket closes here
    }
    if (s->slots.evicted() != evicted) {
      log_limited(LogLevel::warn, "audit webhook: too many connections: closed the one idle the longest",
                  {{"limit", kMaxConnections}});
    }
    asio::co_spawn(s->acceptor.get_executor(), run_connection(s, std::move(socket), std::move(slot)),
                   [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log_limited(LogLevel::error, "audit webhook connection failed", {{"error", ex.what()}});
      }
    });
  }
}

}  // namespace

AuditListener::AuditListener(asio::any_io_executor executor, const AggregatorConfig& config, AuditReceiver& receiver,
                             AggregatorMetrics& metrics)
    : state_(std::make_shared<State>(executor, config, receiver, metrics)) {
  if (!config.tls_cert.empty()) state_->tls.emplace(make_server_tls_context(config));
  if (!config.audit_token_file.empty()) state_->token.emplace(config.audit_token_file, std::string());
}

AuditListener::~AuditListener() { stop(); }

tcp::endpoint AuditListener::start() {
  const auto hp = parse_host_port(state_->config.audit_listen);
  error_code ec;
  const auto address = hp ? asio::ip::make_address(hp->first == "localhost" ? "127.0.0.1" : hp->first, ec)
                          : asio::ip::address();
  if (!hp || ec) throw std::runtime_error("expected HOST:PORT with a numeric IP address");
  const tcp::endpoint ep(address, hp->second);
  auto& acceptor = state_->acceptor;
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error(ec.message());
  const auto& c = state_->config;
  if (c.tls_client_ca.empty() && c.audit_token_file.empty()) {
    log_warn("audit webhook without client authentication (LOGFERRY_AGGREGATOR_AUDIT_INSECURE=true): anyone who "
             "reaches it can write audit events; set LOGFERRY_AGGREGATOR_AUDIT_TOKEN_FILE or "
             "LOGFERRY_AGGREGATOR_TLS_CLIENT_CA",
             {{"address", c.audit_listen}});
  }
  asio::co_spawn(acceptor.get_executor(), accept_loop(state_), [](std::exception_ptr) {});
  return acceptor.local_endpoint();
}

void AuditListener::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  error_code ignored;
  state_->acceptor.close(ignored);
  for (beast::tcp_stream* stream : state_->live) stream->socket().close(ignored);
}

}  // namespace logferry::aggregator
