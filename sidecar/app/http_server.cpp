// GCC 12 reports a "potential null pointer dereference" inside Asio's scheduler
// (compensating_work_started, inlined into the epoll reactor) although it is in
// a system header; it is Asio's code, not ours, so it is silenced for this file.
#pragma GCC diagnostic ignored "-Wnull-dereference"

#include "sidecar/app/http_server.hpp"

#include <set>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "sidecar/app/connection_slots.hpp"
#include "sidecar/config/value_parsers.hpp"
#include "sidecar/core/logger.hpp"

namespace logferry {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

struct HttpServerState {
  HttpServerState(asio::any_io_executor ex, HttpRoutes r, HttpServerLimits l)
      : acceptor(ex), routes(std::move(r)), limits(l), slots(ConnectionSlotLimits{l.max_connections, 0}) {}

  tcp::acceptor acceptor;
  HttpRoutes routes;
  HttpServerLimits limits;
  std::set<beast::tcp_stream*> streams;  // open connections, closed by stop()
  ConnectionSlots slots;                 // admission: the longest idle is closed when full
  bool stopped = false;
};

namespace {

// Builds the response to one request from the routes.
http::response<http::string_body> respond(const HttpRoutes& routes,
                                          const http::request<http::empty_body>& req) {
  HttpResponse r;
  const std::string_view target(req.target().data(), req.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    r = {405, "text/plain; charset=utf-8", "method not allowed\n"};
  } else if (const auto it = routes.find(path); it == routes.end()) {
    r = {404, "text/plain; charset=utf-8", "not found\n"};
  } else {
    r = it->second();
  }
  http::response<http::string_body> res{static_cast<http::status>(r.status), req.version()};
  res.set(http::field::content_type, r.content_type);
  if (r.status == 405) res.set(http::field::allow, "GET, HEAD");
  res.keep_alive(req.keep_alive());
  if (req.method() == http::verb::head) {
    res.content_length(r.body.size());
  } else {
    res.body() = std::move(r.body);
    res.prepare_payload();
  }
  return res;
}

asio::awaitable<void> serve_connection(std::shared_ptr<HttpServerState> st, tcp::socket socket,
                                       ConnectionSlots::Slot slot) {
  beast::tcp_stream stream(std::move(socket));
  st->streams.insert(&stream);
  struct Unregister {
    HttpServerState& s;
    beast::tcp_stream* p;
    ~Unregister() { s.streams.erase(p); }
  } unregister{*st, &stream};
  slot.set_close([&stream] {
    beast::error_code ignored;
    stream.socket().close(ignored);
  });

  beast::flat_buffer buffer(st->limits.max_request_bytes);
  for (;;) {
    http::request_parser<http::empty_body> parser;
    parser.header_limit(static_cast<uint32_t>(st->limits.max_request_bytes));
    parser.body_limit(0);
    slot.set_idle(true);  // until a whole request arrived, the connection may be closed to make room
    stream.expires_after(st->limits.request_timeout);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (ec || st->stopped || !slot.held()) break;  // closed, timed out, too large, malformed or evicted
    slot.set_idle(false);
    auto res = respond(st->routes, parser.get());
    const bool keep = res.keep_alive();
    auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    if (wec || !keep || st->stopped) break;
  }
  slot.release();
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.close();
}

asio::awaitable<void> accept_loop(std::shared_ptr<HttpServerState> st) {
  const auto ex = co_await asio::this_coro::executor;
  while (!st->stopped) {
    auto [ec, socket] = co_await st->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (st->stopped) co_return;
    if (ec) {
      // E.g. out of file descriptors: wait a little instead of spinning.
      log_limited(LogLevel::warn, "http: accept failed", {{"error", ec.message()}});
      asio::steady_timer pause(ex, std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    beast::error_code ignored;
    const auto remote = socket.remote_endpoint(ignored);
    ConnectionSlots::Slot slot;
    const uint64_t evicted = st->slots.evicted();
    if (st->slots.admit(ignored ? std::string() : remote.address().to_string(), {}, slot) !=
        ConnectionSlots::Admit::admitted) {
      log_limited(LogLevel::warn, "http: connection limit reached and no connection idle, closing a new connection",
                  {{"limit", st->limits.max_connections}});
      socket.close(ignored);
      continue;
    }
    if (st->slots.evicted() != evicted) {
      log_limited(LogLevel::warn, "http: connection limit reached, closed the connection idle the longest",
                  {{"limit", st->limits.max_connections}});
    }
    asio::co_spawn(ex, serve_connection(st, std::move(socket), std::move(slot)), asio::detached);
  }
}

tcp::endpoint resolve_listen(asio::any_io_executor ex, std::string_view listen) {
  const auto hp = parse_host_port(listen);
  if (!hp) throw std::runtime_error(fmt::format("invalid listen address \"{}\": expected HOST:PORT", listen));
  beast::error_code ec;
  const auto addr = asio::ip::make_address(hp->first, ec);
  if (!ec) return {addr, hp->second};
  tcp::resolver resolver(ex);
  const auto results = resolver.resolve(hp->first, std::to_string(hp->second), ec);
  if (ec || results.empty()) {
    throw std::runtime_error(fmt::format("cannot resolve listen address \"{}\": {}", listen, ec.message()));
  }
  return results.begin()->endpoint();
}

}  // namespace

HttpServer::HttpServer(asio::any_io_executor executor, std::string_view listen, HttpRoutes routes,
                       HttpServerLimits limits)
    : state_(std::make_shared<HttpServerState>(executor, std::move(routes), limits)) {
  const tcp::endpoint ep = resolve_listen(executor, listen);
  beast::error_code ec;
  auto& acc = state_->acceptor;
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot listen on {}: {}", listen, ec.message()));
  asio::co_spawn(executor, accept_loop(state_), asio::detached);
}

HttpServer::~HttpServer() { stop(); }

tcp::endpoint HttpServer::local_endpoint() const {
  beast::error_code ec;
  return state_->acceptor.local_endpoint(ec);
}

void HttpServer::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  beast::error_code ignored;
  state_->acceptor.close(ignored);
  for (auto* s : state_->streams) s->socket().close(ignored);
}

size_t HttpServer::connections() const { return state_->streams.size(); }

}  // namespace logferry
