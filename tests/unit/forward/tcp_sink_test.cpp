#include "sidecar/forward/tcp_sink.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include "logferry/v1/logferry.pb.h"
#include "sidecar/config/config.hpp"
#include "sidecar/core/errors.hpp"
#include "sidecar/forward/framing.hpp"
#include "sidecar/forward/tcp_session.hpp"
#include "sidecar/core/pipeline_metrics.hpp"

using namespace logferry;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// A hostile aggregator: accepts the hello, announces a 2 GiB maximum frame,
// then sends the header of an ack frame of `ack_length` bytes and one byte.
asio::awaitable<void> hostile_server(tcp::acceptor& acceptor, uint32_t hello_ack_padding, uint32_t ack_length) {
  auto socket = co_await acceptor.async_accept(asio::use_awaitable);
  std::string hello;
  if (co_await async_read_frame(socket, hello, kDefaultMaxFrameBytes)) co_return;
  v1::ServerMessage reply;
  reply.mutable_hello_ack()->set_accepted(true);
  reply.mutable_hello_ack()->set_protocol_version(kProtocolVersion);
  reply.mutable_hello_ack()->set_max_frame_bytes(uint32_t{1} << 31);
  reply.mutable_hello_ack()->set_error(std::string(hello_ack_padding, 'x'));
  std::string out;
  append_frame(out, reply);
  char header[kFrameHeaderBytes];
  put_frame_length(header, ack_length);
  out.append(header, kFrameHeaderBytes);
  out.push_back('\x08');
  co_await asio::async_write(socket, asio::buffer(out), asio::use_awaitable);
  // Keep the connection open while the client decides.
  asio::steady_timer hold(socket.get_executor(), 10s);
  co_await hold.async_wait(asio::as_tuple(asio::use_awaitable));
}

struct Outcome {
  bool opened = false;
  boost::system::error_code open_error;
  std::optional<boost::system::error_code> report_error;
};

Outcome run_against(uint32_t hello_ack_padding, uint32_t ack_length) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  Config config;
  config.output.outputs = *parse_outputs("tcp://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()));
  config.output.connect_timeout = 5s;
  config.output.compress = false;
  PipelineMetrics metrics;
  TcpSink sink(io.get_executor(), config.output, metrics);
  Outcome result;
  bool done = false;
  asio::co_spawn(io, hostile_server(acceptor, hello_ack_padding, ack_length), asio::detached);
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto session = co_await sink.open();
        if (!session) {
          result.open_error = session.error();
        } else {
          result.opened = true;
          auto report = co_await (*session)->read_report();
          result.report_error = report ? boost::system::error_code{} : report.error();
          (*session)->close();
        }
        done = true;
      },
      asio::detached);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done && std::chrono::steady_clock::now() < deadline) io.run_for(20ms);
  return result;
}

}  // namespace

TEST_CASE("the announced max frame is clamped: a 1 GiB ack is refused before any allocation",
          "[forward][security]") {
  const auto r = run_against(0, 1u << 30);
  REQUIRE(r.opened);
  REQUIRE(r.report_error.has_value());
  CHECK(*r.report_error == make_error_code(Errc::frame_too_large));
  v1::HelloAck ack;
  ack.set_max_frame_bytes(uint32_t{1} << 31);
  CHECK(server_frame_limit(ack) == kMaxServerFrameBytes);
  ack.set_max_frame_bytes(1024);
  CHECK(server_frame_limit(ack) == 1024);
}

TEST_CASE("a hello reply longer than the sidecar's limit is refused", "[forward][security]") {
  const auto r = run_against(kMaxServerFrameBytes, 16);
  CHECK_FALSE(r.opened);
  CHECK(r.open_error == make_error_code(Errc::frame_too_large));
}

namespace {

std::string ack_frame(uint64_t sequence, bool ok) {
  v1::ServerMessage m;
  m.mutable_ack()->set_sequence(sequence);
  m.mutable_ack()->set_status(ok ? v1::ACK_STATUS_OK : v1::ACK_STATUS_REJECTED);
  if (!ok) m.mutable_ack()->set_error("over a limit");
  std::string out;
  append_frame(out, m);
  return out;
}

}  // namespace

TEST_CASE("a session reads acks however they arrive: several in one segment, one split across segments",
          "[forward]") {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto client = std::make_unique<tcp::socket>(io);
  client->connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  TcpSession<tcp::socket> session(std::move(client), false, kMaxServerFrameBytes);

  const std::string three = ack_frame(1, true) + ack_frame(2, false) + ack_frame(3, true);
  const std::string split = ack_frame(4, true);
  std::string too_large(kFrameHeaderBytes, '\0');
  put_frame_length(too_large.data(), kMaxServerFrameBytes + 1);
  std::vector<uint64_t> sequences;
  std::vector<bool> accepted;
  std::string last_error;
  std::optional<boost::system::error_code> end;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    co_await asio::async_write(server, asio::buffer(three), asio::use_awaitable);
    for (size_t at = 0; at < split.size(); ++at) {  // a byte at a time, each after the reader waited
      asio::steady_timer pause(io, 5ms);
      co_await pause.async_wait(asio::use_awaitable);
      co_await asio::async_write(server, asio::buffer(split.data() + at, 1), asio::use_awaitable);
    }
    co_await asio::async_write(server, asio::buffer(too_large), asio::use_awaitable);
  }, asio::detached);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 5; ++i) {
      auto r = co_await session.read_report();
      if (!r) {
        end = r.error();
        co_return;
      }
      sequences.push_back(r->sequence);
      accepted.push_back(r->outcome == logferry::Outcome::accepted);
      if (!r->error.empty()) last_error = r->error;
    }
  }, asio::detached);
  io.run_for(10s);
  CHECK(sequences == std::vector<uint64_t>{1, 2, 3, 4});
  CHECK(accepted == std::vector<bool>{true, false, true, true});
  CHECK(last_error == "over a limit");
  REQUIRE(end);
  CHECK(*end == Errc::frame_too_large);  // refused from its header: nothing of it is allocated
}
