#include "sidecar/kube/api_client.hpp"

#include <sys/stat.h>

#include <limits>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <fmt/format.h>

#include "sidecar/core/errors.hpp"
#include "sidecar/core/token_file.hpp"

namespace logferry {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;
using namespace asio::experimental::awaitable_operators;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// One request's connection, registered with its client so that close() reaches it.
struct ApiStream::Connection {
  Connection(asio::any_io_executor ex, ssl::context& tls, std::set<Connection*>& registry)
      : stream(ex, tls), registry_(registry) {
    registry_.insert(this);
  }
  ~Connection() { registry_.erase(this); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream); }
  void close() {
    error_code ignored;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp().socket().close(ignored);
  }
  // Appends the body bytes of the next read to `out`; done() tells when the body is complete.
  asio::awaitable<error_code> read_some_body(std::string& out, std::chrono::milliseconds timeout) {
    char chunk[16 * 1024];
    auto& body = parser.get().body();
    body.data = chunk;
    body.size = sizeof chunk;
    tcp().expires_after(timeout);
    auto [ec, n] = co_await http::async_read_some(stream, buffer, parser, kTuple);
    if (ec == http::error::need_buffer) ec = {};
    out.append(chunk, sizeof chunk - body.size);
    co_return ec;
  }
  bool done() const { return parser.is_done(); }

  beast::ssl_stream<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;

 private:
  std::set<Connection*>& registry_;
};

ApiStream::ApiStream(std::unique_ptr<Connection> conn, std::chrono::milliseconds read_timeout, uint64_t max_line)
    : conn_(std::move(conn)), read_timeout_(read_timeout), max_line_(max_line), status_(conn_->parser.get().result_int()) {}

ApiStream::~ApiStream() = default;

asio::awaitable<boost::system::result<std::optional<std::string>>> ApiStream::next_line() {
  for (size_t scanned = 0;;) {
    const size_t nl = pending_.find('\n', scanned);
    if (nl != std::string::npos) {
      std::string line = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      scanned = 0;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      if (line.size() > max_line_) co_return make_error_code(Errc::frame_too_large);
      co_return std::optional<std::string>(std::move(line));
    }
    scanned = pending_.size();
    if (pending_.size() > max_line_) co_return make_error_code(Errc::frame_too_large);
    if (ended_ || conn_->done()) {
      ended_ = true;
      if (pending_.empty()) co_return std::optional<std::string>();
      co_return std::optional<std::string>(std::exchange(pending_, {}));  // a last line without "\n"
    }
    if (auto ec = co_await conn_->read_some_body(pending_, read_timeout_)) {
      if (ec == beast::error::timeout) co_return make_error_code(asio::error::timed_out);
      co_return ec;
    }
  }
}

ApiClient::ApiClient(asio::any_io_executor ex, const KubeOptions& options, KubeMetrics& metrics)
    : ex_(std::move(ex)), options_(options), metrics_(metrics), tls_(ssl::context::tls_client) {
  auto ep = parse_api_url(options_.api_url);
  if (!ep) throw std::runtime_error(fmt::format("Kubernetes API URL \"{}\": expected https://host[:port]", options_.api_url));
  endpoint_ = std::move(*ep);
  tls_.set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  error_code ec;
  tls_.load_verify_file(options_.ca_file, ec);
  if (ec) throw std::runtime_error(fmt::format("Kubernetes CA file \"{}\": cannot load: {}", options_.ca_file, ec.message()));
  tls_.set_verify_mode(ssl::verify_peer);
}

ApiClient::~ApiClient() { close(); }

void ApiClient::close() {
  closed_ = true;
  for (auto* c : open_) c->close();
}

const std::string& ApiClient::token() {
  if (options_.token_file.empty()) return token_;
  struct stat st {};
  if (::stat(options_.token_file.c_str(), &st) != 0) {
    token_stamp_.reset();  // keep the last token; read again once the file is back
    return token_;
  }
  const FileStamp stamp = FileStamp::of(st);
  if (token_stamp_ && *token_stamp_ == stamp) return token_;
  if (auto t = read_token_file(options_.token_file)) {
    token_ = std::move(*t);
    token_stamp_ = stamp;
  }
  return token_;
}

asio::awaitable<boost::system::result<std::unique_ptr<ApiStream::Connection>>> ApiClient::request(const std::string& target,
                                                                                                  uint64_t body_limit) {
  if (closed_) co_return make_error_code(Errc::closed);
  tcp::resolver::results_type endpoints;
  error_code aec;
  const auto address = asio::ip::make_address(endpoint_.host, aec);
  if (aec) {
    tcp::resolver resolver(ex_);
    asio::steady_timer timer(ex_, options_.request_timeout);
    auto resolved = co_await (resolver.async_resolve(endpoint_.host, std::to_string(endpoint_.port), kTuple) ||
                              timer.async_wait(kTuple));
    if (resolved.index() != 0) co_return asio::error::timed_out;
    auto [rec, results] = std::get<0>(std::move(resolved));
    if (rec) co_return rec;
    endpoints = std::move(results);
  } else {
    endpoints = tcp::resolver::results_type::create(tcp::endpoint(address, endpoint_.port), endpoint_.host,
                                                    std::to_string(endpoint_.port));
  }
  if (closed_) co_return make_error_code(Errc::closed);

  auto conn = std::make_unique<ApiStream::Connection>(ex_, tls_, open_);
  conn->tcp().expires_after(options_.request_timeout);
  if (auto [ec, ep] = co_await conn->tcp().async_connect(endpoints, kTuple); ec) co_return ec;
  // SNI carries names only (RFC 6066); the certificate is checked for a name or an IP.
  if (aec) SSL_set_tlsext_host_name(conn->stream.native_handle(), endpoint_.host.c_str());
  conn->stream.set_verify_callback(ssl::host_name_verification(endpoint_.host));
  if (auto [ec] = co_await conn->stream.async_handshake(ssl::stream_base::client, kTuple); ec) co_return ec;

  // A string body (empty) as the HTTP outputs send: the write path's template
  // instances are shared with theirs (an empty_body request costs 300 KB of code).
  http::request<http::string_body> req{http::verb::get, target, 11};
  req.set(http::field::host, endpoint_.host_header);
  req.set(http::field::user_agent, "logferry/" LOGFERRY_VERSION);
  req.set(http::field::accept, "application/json");
  if (const auto& t = token(); !t.empty()) req.set(http::field::authorization, "Bearer " + t);
  req.keep_alive(false);
  if (auto [ec, n] = co_await http::async_write(conn->stream, req, kTuple); ec) co_return ec;

  conn->parser.body_limit(body_limit);
  conn->parser.header_limit(64 * 1024);
  if (auto [ec, n] = co_await http::async_read_header(conn->stream, conn->buffer, conn->parser, kTuple); ec) co_return ec;
  if (conn->parser.get().result() == http::status::unauthorized) {
    ++metrics_.unauthorized;
    token_stamp_.reset();  // the token may have been rotated: read the file again
  }
  co_return conn;
}

asio::awaitable<boost::system::result<ApiResponse>> ApiClient::get(std::string target, uint64_t max_body) {
  auto conn = co_await request(target, max_body);
  if (!conn) co_return conn.error();
  ApiResponse res;
  res.status = (*conn)->parser.get().result_int();
  while (!(*conn)->done()) {
    if (auto ec = co_await (*conn)->read_some_body(res.body, options_.request_timeout)) {
      if (ec == beast::error::timeout) co_return make_error_code(asio::error::timed_out);
      co_return ec;
    }
  }
  co_return res;
}

asio::awaitable<boost::system::result<std::unique_ptr<ApiStream>>> ApiClient::stream(std::string target,
                                                                                   std::chrono::milliseconds read_timeout) {
  // The stream has no overall size: each line is capped instead.
  auto conn = co_await request(target, std::numeric_limits<uint64_t>::max());
  if (!conn) co_return conn.error();
  co_return std::unique_ptr<ApiStream>(new ApiStream(std::move(*conn), read_timeout, options_.max_event_bytes));
}

}  // namespace logferry
