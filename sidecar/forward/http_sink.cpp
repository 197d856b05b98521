#include "sidecar/forward/http_sink.hpp"

#include <stdexcept>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <fmt/format.h>

#include "sidecar/core/errors.hpp"
#include "sidecar/core/event.hpp"
#include "sidecar/core/logger.hpp"
#include "sidecar/forward/endpoint_failover.hpp"
#include "sidecar/forward/http_response.hpp"
#include "sidecar/forward/tls_client_context.hpp"

namespace logferry {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;
using namespace asio::experimental::awaitable_operators;

namespace {
// Answers are short (an empty 200/204, a partial success or an error text).
constexpr uint64_t kMaxResponseBytes = 1u << 20;
}  // namespace

struct HttpSink::Connection {
  using Plain = beast::tcp_stream;
  using Tls = beast::ssl_stream<beast::tcp_stream>;
  std::variant<std::unique_ptr<Plain>, std::unique_ptr<Tls>> stream;
  std::string host_header;
  std::string target;
  beast::flat_buffer buffer;

  beast::tcp_stream& tcp() {
    return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(*s); }, stream);
  }
  void close() {
    error_code ignored;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp().socket().close(ignored);
  }
};

// One keep-alive connection and at most one outstanding request. A connection
// the receiver closed (Connection: close) is replaced before the next request.
class HttpSession final : public SinkSession {
 public:
  HttpSession(HttpSink& sink, std::unique_ptr<HttpSink::Connection> conn)
      : sink_(sink), conn_(std::move(conn)), sent_(sink.ex_) {}

  asio::awaitable<error_code> write(const SealedBatch& batch) override {
    if (closed_) co_return make_error_code(Errc::closed);
    sequence_ = batch.sequence;
    batch_ = &batch;  // the Forwarder keeps it until its report was read
    if (auto ec = co_await send(batch)) co_return ec;
    mark_sent();
    co_return error_code{};
  }

  // Encodes and sends one request (settled locally when it cannot be encoded).
  asio::awaitable<error_code> send(const SealedBatch& batch) {
    HttpBody body;
    if (!sink_.encoder_->encode(batch.payload, body)) {
      // Re-sending cannot help: report it as rejected without a request.
      local_ = DeliveryReport{batch.sequence, Outcome::rejected, std::chrono::milliseconds(0),
                              "the batch cannot be decoded"};
      co_return error_code{};
    }
    if (!conn_) {
      auto c = co_await sink_.connect_any();
      if (!c) co_return c.error();
      conn_ = std::move(*c);
      if (closed_) {
        conn_->close();
        co_return make_error_code(Errc::closed);
      }
    }
    http::request<http::string_body> req{http::verb::post, conn_->target, 11};
    req.set(http::field::host, conn_->host_header);
    req.set(http::field::user_agent, "logferry/" LOGFERRY_VERSION);
    req.set(http::field::content_type, body.content_type);
    if (!body.content_encoding.empty()) req.set(http::field::content_encoding, body.content_encoding);
    for (const auto& [name, value] : sink_.encoder_->headers()) req.set(name, value);
    for (const auto& [name, value] : sink_.options_.http_headers) req.set(name, value);
    req.keep_alive(true);
    req.body() = std::move(body.data);
    req.prepare_payload();
    auto [ec, n] = co_await std::visit(
        [&](auto& s) { return http::async_write(*s, req, asio::as_tuple(asio::use_awaitable)); }, conn_->stream);
    co_return ec;
  }

  asio::awaitable<boost::system::result<DeliveryReport>> read_report() override {
    while (!outstanding_ && !closed_) co_await sent_.wait();
    if (closed_ || (!local_ && !conn_)) co_return make_error_code(Errc::closed);
    outstanding_ = false;
    if (local_) {
      DeliveryReport r = std::move(*local_);
      local_.reset();
      co_return r;
    }
    std::optional<http::response_parser<http::string_body>> parser;
    for (bool fell_back = false;;) {
      parser.emplace();
      parser->body_limit(kMaxResponseBytes);
      auto [ec, n] = co_await std::visit(
          [&](auto& s) { return http::async_read(*s, conn_->buffer, *parser, asio::as_tuple(asio::use_awaitable)); },
          conn_->stream);
      if (ec) co_return ec;
      const auto& res = parser->get();
      // The receiver refused a feature the encoder can do without (Loki
      // structured metadata): the same batch again, in the fallback form.
      if (fell_back || batch_ == nullptr || res.result_int() < 400 || res.result_int() >= 500 ||
          !sink_.encoder_->fall_back(res.result_int(), res.body())) {
        break;
      }
      fell_back = true;
      ++sink_.metrics_.output_fallbacks;
      if (!res.keep_alive()) {
        conn_->close();
        conn_.reset();
      }
      if (auto wec = co_await send(*batch_)) co_return wec;
      if (local_) {
        DeliveryReport r = std::move(*local_);
        local_.reset();
        co_return r;
      }
    }
    const auto& res = parser->get();
    DeliveryReport r = classify_http_response(sequence_, res.result_int(), res[http::field::retry_after], res.body());
    if (r.outcome == Outcome::accepted) {
      std::string why;
      if (const uint64_t dropped = sink_.encoder_->partially_rejected(res.body(), why)) {
        sink_.metrics_.entries_rejected_partial += dropped;
        log_limited(LogLevel::warn, "the output accepted a batch but dropped some of its entries",
                    {{"sequence", sequence_}, {"rejected_entries", dropped}, {"error", why}});
      }
    }
    if (!res.keep_alive()) {
      conn_->close();
      conn_.reset();
    }
    co_return r;
  }

  void close() override {
    closed_ = true;
    if (conn_) conn_->close();
    sent_.notify();
  }

 private:
  void mark_sent() {
    outstanding_ = true;
    sent_.notify();
  }

  HttpSink& sink_;
  std::unique_ptr<HttpSink::Connection> conn_;
  Event sent_;  // a request went out (or was settled locally)
  bool outstanding_ = false;
  bool closed_ = false;
  uint64_t sequence_ = 0;
  const SealedBatch* batch_ = nullptr;  // the batch written last
  std::optional<DeliveryReport> local_;
};

HttpSink::HttpSink(asio::any_io_executor ex, const OutputOptions& options, PipelineMetrics& metrics, std::unique_ptr<HttpEncoder> encoder)
    : ex_(ex), options_(options), metrics_(metrics), encoder_(std::move(encoder)), tls_(tls_client_context_if_needed(options)) {}

HttpSink::~HttpSink() = default;

std::string HttpSink::describe() const { return describe_outputs(options_.outputs); }

std::string HttpSink::current_output() const { return preferred_output(options_.outputs, preferred_); }

asio::awaitable<boost::system::result<std::unique_ptr<SinkSession>>> HttpSink::open() {
  auto c = co_await connect_any();
  if (!c) co_return c.error();
  co_return std::make_unique<HttpSession>(*this, std::move(*c));
}

asio::awaitable<boost::system::result<std::unique_ptr<HttpSink::Connection>>> HttpSink::connect_any() {
  return open_with_failover<std::unique_ptr<Connection>>(
      options_.outputs, preferred_, metrics_.output_errors, [this](const Endpoint& ep) { return connect(ep); }, never_stop);
}

asio::awaitable<boost::system::result<std::unique_ptr<HttpSink::Connection>>> HttpSink::connect(const Endpoint& ep) {
  tcp::resolver resolver(ex_);
  asio::steady_timer timer(ex_, options_.connect_timeout);
  auto resolved = co_await (resolver.async_resolve(ep.host, std::to_string(ep.port), asio::as_tuple(asio::use_awaitable)) ||
                            timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (resolved.index() != 0) co_return asio::error::timed_out;
  auto [rec, results] = std::get<0>(std::move(resolved));
  if (rec) co_return rec;

  auto conn = std::make_unique<Connection>();
  const bool v6 = ep.host.find(':') != std::string::npos;
  conn->host_header = v6 ? fmt::format("[{}]:{}", ep.host, ep.port) : fmt::format("{}:{}", ep.host, ep.port);
  conn->target = ep.path.empty() ? std::string(encoder_->default_path()) : ep.path;
  auto stream = std::make_unique<beast::tcp_stream>(ex_);
  stream->expires_after(options_.connect_timeout);
  auto [cec, endpoint] = co_await stream->async_connect(results, asio::as_tuple(asio::use_awaitable));
  if (cec) co_return cec;
  stream->socket().set_option(tcp::no_delay(true));
  if (!uses_tls(ep)) {
    stream->expires_never();
    conn->stream = std::move(stream);
    co_return conn;
  }
  auto tls = std::make_unique<Connection::Tls>(std::move(*stream), *tls_);
  verify_server_name(*tls, tls_server_name(options_, ep));
  auto [hec] = co_await tls->async_handshake(ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
  if (hec) {
    log_limited(LogLevel::error, "TLS handshake failed", {{"output", ep.text}, {"error", hec.message()}});
    co_return hec;
  }
  beast::get_lowest_layer(*tls).expires_never();
  conn->stream = std::move(tls);
  co_return conn;
}

}  // namespace logferry
