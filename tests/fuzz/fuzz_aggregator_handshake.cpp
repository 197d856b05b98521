// libFuzzer target: the bytes of a fresh, unauthenticated connection through
// the aggregator's pre-authentication path as the server runs it: frames read
// from a real socket with async_read_frame (buffers grown from the bytes that
// arrive, the hello capped at kMaxHelloBytes), the hello and token check, the
// refusal reply, then batch frames up to the frame limit once accepted.
// Checked: no frame over its limit is ever delivered, a payload buffer never
// holds more than twice the bytes received plus one read step, and a refused
// or failed hello ends the conversation.
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <google/protobuf/stubs/logging.h>

#include "aggregator/session_protocol.hpp"
#include "sidecar/core/errors.hpp"
#include "sidecar/forward/framing.hpp"

using namespace logferry;
using namespace logferry::aggregator;
namespace asio = boost::asio;
using Socket = asio::local::stream_protocol::socket;

namespace {

asio::awaitable<void> serve(Socket& socket, const ProtocolSettings& settings, DecodeScratch& scratch,
                            size_t input_bytes) {
  SessionProtocol session(settings);
  std::string payload;
  std::string reply;
  const auto check_buffer = [&](uint32_t limit) {
    if (payload.size() > limit) __builtin_trap();
    if (payload.capacity() > 2 * input_bytes + kFrameReadStepBytes + 64) __builtin_trap();
  };
  const uint32_t hello_limit = std::min(kMaxHelloBytes, settings.max_frame_bytes);
  if (auto ec = co_await async_read_frame(socket, payload, hello_limit)) co_return;
  check_buffer(hello_limit);
  reply.clear();
  const auto refused = session.on_hello(payload, reply);
  if (reply.size() < kFrameHeaderBytes) __builtin_trap();  // every hello is answered
  if (refused) {
    if (session.accepted()) __builtin_trap();
    co_return;
  }
  if (!session.accepted()) __builtin_trap();
  DecodedBatch decoded;
  for (;;) {
    if (auto ec = co_await async_read_frame(socket, payload, settings.max_frame_bytes)) co_return;
    check_buffer(settings.max_frame_bytes);
    if (session.on_frame(payload, scratch, decoded)) co_return;
    reply.clear();
    append_ack_frame(reply, decoded.sequence, decoded.entry_count, 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static DecodeScratch scratch;
  // Invalid UTF-8 in a hello is expected input: not worth a protobuf log line per run.
  static const bool quiet = [] {
    google::protobuf::SetLogHandler([](google::protobuf::LogLevel, const char*, int, const std::string&) {});
    return true;
  }();
  (void)quiet;
  if (size == 0 || size > 128 * 1024) return 0;  // what one socket buffer takes without a reader
  // The first byte picks the settings: token required, discard mode, a small frame limit.
  const uint8_t flags = data[0];
  ++data, --size;
  ProtocolSettings settings;
  settings.max_frame_bytes = (flags & 4) ? 2048 : 64 * 1024;
  settings.token = (flags & 1) ? "token" : "";
  settings.discard = (flags & 2) != 0;
  settings.render = false;

  asio::io_context io;
  Socket client(io);
  Socket server(io);
  asio::local::connect_pair(client, server);
  const int buffer = 256 * 1024;
  ::setsockopt(client.native_handle(), SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  ::setsockopt(server.native_handle(), SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  boost::system::error_code ec;
  asio::write(client, asio::buffer(data, size), ec);
  client.shutdown(Socket::shutdown_send, ec);
  asio::co_spawn(io, serve(server, settings, scratch, size), asio::detached);
  io.run();
  return 0;
}
