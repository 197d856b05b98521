#include "sidecar/forward/tcp_sink.hpp"

#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <google/protobuf/io/coded_stream.h>

#include "sidecar/core/logger.hpp"
#include "sidecar/core/token_file.hpp"
#include "sidecar/forward/endpoint_failover.hpp"
#include "sidecar/forward/tcp_session.hpp"
#include "sidecar/forward/tls_client_context.hpp"

namespace logferry {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;
using namespace asio::experimental::awaitable_operators;

std::string batch_frame_header(uint32_t field, size_t payload_size) {
  uint8_t envelope[16];
  uint8_t* p = envelope;
  p = google::protobuf::io::CodedOutputStream::WriteTagToArray((field << 3) | 2, p);
  p = google::protobuf::io::CodedOutputStream::WriteVarint64ToArray(payload_size, p);
  const size_t envelope_size = static_cast<size_t>(p - envelope);
  std::string header(kFrameHeaderBytes + envelope_size, '\0');
  put_frame_length(header.data(), static_cast<uint32_t>(envelope_size + payload_size));
  std::memcpy(header.data() + kFrameHeaderBytes, envelope, envelope_size);
  return header;
}

bool zstd_compress(ZSTD_CCtx* cctx, std::string_view in, std::string& out) {
  out.resize(ZSTD_compressBound(in.size()));
  const size_t n = ZSTD_compressCCtx(cctx, out.data(), out.size(), in.data(), in.size(), 1);
  if (ZSTD_isError(n)) return false;
  out.resize(n);
  return true;
}

namespace {

// Runs `op` with a deadline; a timeout gives asio::error::timed_out.
template <class T>
asio::awaitable<std::optional<T>> with_deadline(asio::awaitable<T> op, std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  auto r = co_await (std::move(op) || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
  if (r.index() == 0) co_return std::get<0>(std::move(r));
  co_return std::nullopt;
}

template <class Stream>
asio::awaitable<boost::system::result<v1::HelloAck>> handshake(Stream& stream, const v1::Hello& hello) {
  v1::ClientMessage msg;
  *msg.mutable_hello() = hello;
  std::string frame;
  append_frame(frame, msg);
  auto [ec, n] = co_await asio::async_write(stream, asio::buffer(frame), asio::as_tuple(asio::use_awaitable));
  if (ec) co_return ec;
  std::string payload;
  if (auto rec = co_await async_read_frame(stream, payload, kMaxServerFrameBytes)) co_return rec;
  v1::ServerMessage reply;
  if (!reply.ParseFromString(payload) || !reply.has_hello_ack()) co_return make_error_code(Errc::malformed_message);
  co_return reply.hello_ack();
}

}  // namespace

uint32_t server_frame_limit(const v1::HelloAck& ack) {
  const uint32_t announced = ack.max_frame_bytes() ? ack.max_frame_bytes() : kDefaultMaxFrameBytes;
  return std::min(announced, kMaxServerFrameBytes);
}

TcpSink::TcpSink(asio::any_io_executor ex, const OutputOptions& options, PipelineMetrics& metrics)
    : ex_(ex), options_(options), metrics_(metrics), tls_(tls_client_context_if_needed(options)) {}

TcpSink::~TcpSink() = default;

std::string TcpSink::describe() const { return describe_outputs(options_.outputs); }

std::string TcpSink::current_output() const { return preferred_output(options_.outputs, preferred_); }

std::string TcpSink::current_token() const {
  // A token file is re-read for every connection: mounted Secrets are rotated in place.
  if (!options_.auth_token_file.empty()) return read_token_file(options_.auth_token_file).value_or("");
  return options_.auth_token;
}

asio::awaitable<boost::system::result<std::unique_ptr<SinkSession>>> TcpSink::open() {
  // A refused handshake (wrong token) is not a reason to fail over: every output would refuse it.
  return open_with_failover<std::unique_ptr<SinkSession>>(
      options_.outputs, preferred_, metrics_.output_errors, [this](const Endpoint& ep) { return open_endpoint(ep); },
      [](const error_code& ec) { return ec == Errc::handshake_refused; });
}

asio::awaitable<boost::system::result<std::unique_ptr<SinkSession>>> TcpSink::open_endpoint(const Endpoint& ep) {
  const auto deadline = options_.connect_timeout;
  tcp::resolver resolver(ex_);
  auto resolved = co_await with_deadline(
      resolver.async_resolve(ep.host, std::to_string(ep.port), asio::as_tuple(asio::use_awaitable)), deadline);
  if (!resolved) co_return asio::error::timed_out;
  auto [rec, results] = *resolved;
  if (rec) co_return rec;

  auto socket = std::make_unique<tcp::socket>(ex_);
  auto connected =
      co_await with_deadline(asio::async_connect(*socket, results, asio::as_tuple(asio::use_awaitable)), deadline);
  if (!connected) co_return asio::error::timed_out;
  if (auto [cec, endpoint] = *connected; cec) co_return cec;
  socket->set_option(tcp::no_delay(true));

  v1::Hello hello;
  hello.set_protocol_version(kProtocolVersion);
  hello.set_token(current_token());
  hello.set_agent(fmt::format("logferry/{}", LOGFERRY_VERSION));
  if (options_.compress) hello.add_compressions(v1::COMPRESSION_ZSTD);

  auto finish = [&](const v1::HelloAck& ack) -> boost::system::result<bool> {
    if (!ack.accepted()) {
      log_limited(LogLevel::error, "the aggregator refused the handshake", {{"output", ep.text}, {"reason", ack.error()}});
      return boost::system::result<bool>(boost::system::in_place_error, make_error_code(Errc::handshake_refused));
    }
    return ack.compression() == v1::COMPRESSION_ZSTD;
  };

  if (ep.scheme == "tls") {
    using TlsStream = ssl::stream<tcp::socket>;
    auto stream = std::make_unique<TlsStream>(std::move(*socket), *tls_);
    verify_server_name(*stream, tls_server_name(options_, ep));
    auto hs = co_await with_deadline(stream->async_handshake(ssl::stream_base::client, asio::as_tuple(asio::use_awaitable)),
                                     deadline);
    if (!hs) co_return asio::error::timed_out;
    if (auto [hec] = *hs; hec) {
      log_limited(LogLevel::error, "TLS handshake failed", {{"output", ep.text}, {"error", hec.message()}});
      co_return hec;
    }
    auto ack = co_await with_deadline(handshake(*stream, hello), deadline);
    if (!ack) co_return asio::error::timed_out;
    if (!*ack) co_return ack->error();
    auto zstd = finish(**ack);
    if (!zstd) co_return zstd.error();
    const uint32_t max_frame = server_frame_limit(**ack);
    co_return std::make_unique<TcpSession<TlsStream>>(std::move(stream), *zstd, max_frame);
  }
  auto ack = co_await with_deadline(handshake(*socket, hello), deadline);
  if (!ack) co_return asio::error::timed_out;
  if (!*ack) co_return ack->error();
  auto zstd = finish(**ack);
  if (!zstd) co_return zstd.error();
  const uint32_t max_frame = server_frame_limit(**ack);
  co_return std::make_unique<TcpSession<tcp::socket>>(std::move(socket), *zstd, max_frame);
}

}  // namespace logferry
