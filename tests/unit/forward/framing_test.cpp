#include "sidecar/forward/framing.hpp"

#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

using namespace logferry;
namespace asio = boost::asio;

namespace {

std::string frame(std::string_view payload) {
  std::string out;
  append_frame(out, payload);
  return out;
}

}  // namespace

TEST_CASE("frame lengths are 4 bytes big-endian", "[framing]") {
  char h[4];
  put_frame_length(h, 0x01020304);
  CHECK(h[0] == 1);
  CHECK(h[3] == 4);
  CHECK(get_frame_length(h) == 0x01020304u);
  CHECK(frame("ab") == std::string("\0\0\0\2ab", 6));
}

TEST_CASE("FrameDecoder waits for truncated frames", "[framing]") {
  FrameDecoder d(1024);
  std::string payload;
  CHECK(d.next(payload) == FrameDecoder::Status::need_more);
  d.feed(std::string("\0\0", 2));
  CHECK(d.next(payload) == FrameDecoder::Status::need_more);
  d.feed(std::string("\0\5abc", 5));
  CHECK(d.next(payload) == FrameDecoder::Status::need_more);
  d.feed("de");
  REQUIRE(d.next(payload) == FrameDecoder::Status::frame);
  CHECK(payload == "abcde");
  CHECK(d.buffered() == 0);
  d.feed(frame(""));
  REQUIRE(d.next(payload) == FrameDecoder::Status::frame);
  CHECK(payload.empty());
}

TEST_CASE("FrameDecoder refuses oversized and garbage lengths", "[framing]") {
  FrameDecoder d(16);
  std::string payload;
  d.feed(frame(std::string(17, 'x')));
  CHECK(d.next(payload) == FrameDecoder::Status::too_large);
  FrameDecoder g(1u << 20);
  g.feed("\xff\xff\xff\xffgarbage");
  CHECK(g.next(payload) == FrameDecoder::Status::too_large);
  FrameDecoder exact(16);
  exact.feed(frame(std::string(16, 'y')));
  CHECK(exact.next(payload) == FrameDecoder::Status::frame);
}

TEST_CASE("FrameDecoder decodes many frames fed byte by byte", "[framing]") {
  std::string stream;
  for (int i = 0; i < 300; ++i) stream += frame(std::string(static_cast<size_t>(i % 37), static_cast<char>('a' + i % 26)));
  FrameDecoder d(1024);
  std::string payload;
  int frames = 0;
  for (const char c : stream) {
    d.feed(std::string_view(&c, 1));
    while (d.next(payload) == FrameDecoder::Status::frame) {
      CHECK(payload == std::string(static_cast<size_t>(frames % 37), static_cast<char>('a' + frames % 26)));
      ++frames;
    }
  }
  CHECK(frames == 300);
  CHECK(d.buffered() == 0);
}

TEST_CASE("async_read_frame reads frames and refuses oversized ones", "[framing]") {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket server(io);
  asio::ip::tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  acceptor.accept(server);
  const std::string bytes = frame("hello") + frame(std::string(100, 'z'));
  asio::write(client, asio::buffer(bytes));

  std::vector<boost::system::error_code> results;
  std::vector<std::string> payloads;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    std::string p;
    results.push_back(co_await async_read_frame(server, p, 64));
    payloads.push_back(p);
    results.push_back(co_await async_read_frame(server, p, 64));
  }, asio::detached);
  io.run_for(std::chrono::seconds(5));
  REQUIRE(results.size() == 2);
  CHECK_FALSE(results[0]);
  CHECK(payloads[0] == "hello");
  CHECK(results[1] == Errc::frame_too_large);
}

TEST_CASE("async_read_frame reports a truncated frame", "[framing]") {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket server(io);
  asio::ip::tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  acceptor.accept(server);
  const std::string bytes = frame("truncated").substr(0, 7);
  asio::write(client, asio::buffer(bytes));
  client.close();
  boost::system::error_code result;
  bool done = false;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    std::string p;
    result = co_await async_read_frame(server, p, 64);
    done = true;
  }, asio::detached);
  io.run_for(std::chrono::seconds(5));
  REQUIRE(done);
  CHECK(result == asio::error::eof);
}

TEST_CASE("async_read_frame sizes its buffer from the bytes received, not from the announced length", "[framing]") {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  asio::ip::tcp::socket server(io);
  asio::ip::tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  acceptor.accept(server);
  constexpr uint32_t kAnnounced = 16u << 20;
  std::string whole(kAnnounced, 'x');
  for (size_t i = 0; i < whole.size(); i += 4093) whole[i] = static_cast<char>('a' + i % 26);
  char header[kFrameHeaderBytes];
  put_frame_length(header, kAnnounced);
  asio::write(client, asio::buffer(header));
  asio::write(client, asio::buffer(whole.data(), 1));

  std::string p;
  boost::system::error_code result = asio::error::would_block;
  asio::co_spawn(io, [&]() -> asio::awaitable<void> { result = co_await async_read_frame(server, p, kAnnounced); },
                 asio::detached);
  // The read is pending with one byte received: its buffer holds little more than that.
  io.run_for(std::chrono::milliseconds(100));
  REQUIRE(result == asio::error::would_block);
  CHECK(p.capacity() <= (256u << 10));

  std::thread writer([&] { asio::write(client, asio::buffer(whole.data() + 1, whole.size() - 1)); });
  io.run_for(std::chrono::seconds(20));
  writer.join();
  REQUIRE_FALSE(result);
  CHECK(p.size() == whole.size());
  CHECK(p == whole);
}
