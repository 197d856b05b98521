#include "aggregator/server.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <zstd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include "sidecar/forward/framing.hpp"

using namespace logferry;
using namespace logferry::aggregator;
namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// An aggregator on 127.0.0.1:0 with its io_context on a thread of its own.
class TestAggregator {
 public:
  explicit TestAggregator(AggregatorConfig config) : config_(std::move(config)) {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("logferry-agg-server-" + std::to_string(rd()) + std::to_string(::getpid()));
    config_.data_dir = dir_.string();
    config_.listen_host = "127.0.0.1";
    config_.listen_port = 0;
    store_.emplace(io_.get_executor(), StoreOptions{config_.data_dir, config_.segment_max_bytes, config_.fsync}, metrics);
    REQUIRE(store_->open().empty());
    server_.emplace(io_, config_, &*store_, metrics);
    endpoint = server_->listen();
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestAggregator() {
    asio::post(io_, [this] { server_->stop([this] { store_->close(); }); });
    thread_.join();
    server_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir() const { return dir_; }

  AggregatorMetrics metrics;
  asio::ip::tcp::endpoint endpoint;

 private:
  AggregatorConfig config_;
  fs::path dir_;
  asio::io_context io_;
  std::optional<SegmentStore> store_;
  std::optional<Server> server_;
  std::thread thread_;
};

// A blocking client whose reads give up after a few seconds.
class RawClient {
 public:
  // `from`: the local address to connect from (any 127.x.y.z is loopback).
  explicit RawClient(const asio::ip::tcp::endpoint& ep, std::string_view from = {}) : socket_(io_) {
    if (!from.empty()) {
      socket_.open(asio::ip::tcp::v4());
      socket_.bind({asio::ip::make_address(from), 0});
    }
    socket_.connect(ep);
    timeval tv{5, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void send_raw(std::string_view bytes) {
    boost::system::error_code ec;
    asio::write(socket_, asio::buffer(bytes), ec);
  }
  void send(const v1::ClientMessage& m) {
    std::string out;
    append_frame(out, m);
    send_raw(out);
  }
  // The next server message, or nullopt when the connection ended.
  std::optional<v1::ServerMessage> receive() {
    char header[4];
    boost::system::error_code ec;
    asio::read(socket_, asio::buffer(header), ec);
    if (ec) return std::nullopt;
    std::string payload(get_frame_length(header), '\0');
    asio::read(socket_, asio::buffer(payload), ec);
    v1::ServerMessage m;
    if (ec || !m.ParseFromString(payload)) return std::nullopt;
    return m;
  }
  // True when the server closed the connection (EOF or reset) within the read timeout.
  bool closed_by_server() {
    char c;
    boost::system::error_code ec;
    socket_.read_some(asio::buffer(&c, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
  v1::HelloAck hello(std::string_view token = {}, uint32_t version = kProtocolVersion, bool zstd = false) {
    v1::ClientMessage m;
    m.mutable_hello()->set_protocol_version(version);
    m.mutable_hello()->set_token(std::string(token));
    m.mutable_hello()->set_agent("test");
    if (zstd) m.mutable_hello()->add_compressions(v1::COMPRESSION_ZSTD);
    send(m);
    auto reply = receive();
    REQUIRE(reply.has_value());
    REQUIRE(reply->has_hello_ack());
    return reply->hello_ack();
  }

 private:
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
};

v1::Batch make_batch(uint64_t sequence, uint64_t first_offset, int count) {
  v1::Batch b;
  b.set_sequence(sequence);
  auto* p = b.add_resource();
  p->set_key("k8s.pod.name");
  p->mutable_value()->set_string_value("web-0");
  auto* s = b.add_sources();
  s->set_id("file:1:2:abc");
  s->set_path("/var/log/app.log");
  for (int i = 0; i < count; ++i) {
    auto* e = b.add_entries();
    e->set_offset(first_offset + static_cast<uint64_t>(i));
    e->mutable_body()->set_string_value("hello");
  }
  return b;
}

v1::ClientMessage batch_message(const v1::Batch& b) {
  v1::ClientMessage m;
  *m.mutable_batch() = b;
  return m;
}

AggregatorConfig fast_config() {
  AggregatorConfig c;
  c.handshake_timeout = 2s;
  c.idle_timeout = 5s;
  c.frame_timeout = 300ms;
  c.max_frame_bytes = 64 * 1024;
  return c;
}

}  // namespace

TEST_CASE("a good client gets its hello accepted and its batches acknowledged", "[aggregator]") {
  TestAggregator agg(fast_config());
  RawClient client(agg.endpoint);
  const auto ack = client.hello();
  CHECK(ack.accepted());
  CHECK(ack.max_frame_bytes() == 64u * 1024);
  CHECK(ack.compression() == v1::COMPRESSION_NONE);
  client.send(batch_message(make_batch(1, 0, 3)));
  client.send(batch_message(make_batch(2, 0, 5)));  // 3 duplicates, 2 new
  auto a1 = client.receive();
  auto a2 = client.receive();
  REQUIRE(a1);
  REQUIRE(a2);
  CHECK(a1->ack().sequence() == 1);
  CHECK(a1->ack().stored() == 3);
  CHECK(a2->ack().sequence() == 2);
  CHECK(a2->ack().stored() == 2);
  CHECK(a2->ack().duplicates() == 3);
  CHECK(a2->ack().status() == v1::ACK_STATUS_OK);
  CHECK(fs::exists(agg.dir() / "_unknown" / "web-0" / "segment-000001.ndjson"));
  CHECK(agg.metrics.entries_stored.load() == 5);
  CHECK(agg.metrics.fsyncs.load() >= 1);

  // A sequence number that does not increase is a protocol violation.
  client.send(batch_message(make_batch(2, 10, 1)));
  CHECK(client.closed_by_server());
}

TEST_CASE("a wrong or missing token is refused", "[aggregator]") {
  auto config = fast_config();
  config.token = "s3cret";
  TestAggregator agg(config);
  {
    RawClient client(agg.endpoint);
    const auto ack = client.hello("wrong");
    CHECK_FALSE(ack.accepted());
    CHECK(ack.error() == "wrong token");
    CHECK(client.closed_by_server());
  }
  {
    RawClient client(agg.endpoint);
    const auto ack = client.hello("");
    CHECK_FALSE(ack.accepted());
    CHECK(ack.error() == "a token is required");
  }
  RawClient good(agg.endpoint);
  CHECK(good.hello("s3cret").accepted());
  CHECK(agg.metrics.handshake_failures.load() == 2);
}

TEST_CASE("a wrong protocol version is refused", "[aggregator]") {
  TestAggregator agg(fast_config());
  RawClient client(agg.endpoint);
  const auto ack = client.hello({}, 99);
  CHECK_FALSE(ack.accepted());
  CHECK(ack.error().find("version 99") != std::string::npos);
  CHECK(client.closed_by_server());
}

TEST_CASE("an oversized frame closes only its own connection", "[aggregator]") {
  TestAggregator agg(fast_config());
  RawClient good(agg.endpoint);
  REQUIRE(good.hello().accepted());
  RawClient bad(agg.endpoint);
  REQUIRE(bad.hello().accepted());
  char header[4];
  put_frame_length(header, 1u << 30);
  bad.send_raw(std::string_view(header, 4));
  CHECK(bad.closed_by_server());
  good.send(batch_message(make_batch(1, 0, 2)));
  auto ack = good.receive();
  REQUIRE(ack);
  CHECK(ack->ack().stored() == 2);
  CHECK(agg.metrics.frames_oversized.load() == 1);
}

TEST_CASE("garbage bytes close the connection", "[aggregator]") {
  TestAggregator agg(fast_config());
  {
    RawClient before_hello(agg.endpoint);
    before_hello.send_raw(std::string("\0\0\0\x08\xff\xff\xff\xff\xff\xff\xff\xff", 12));
    auto reply = before_hello.receive();  // a refusal, then close
    REQUIRE(reply);
    CHECK_FALSE(reply->hello_ack().accepted());
    CHECK(before_hello.closed_by_server());
  }
  RawClient after_hello(agg.endpoint);
  REQUIRE(after_hello.hello().accepted());
  after_hello.send_raw(std::string("\0\0\0\x06garbag", 10));
  CHECK(after_hello.closed_by_server());
  CHECK(agg.metrics.frames_malformed.load() == 1);
}

TEST_CASE("a peer stalling mid-frame is closed after the frame deadline", "[aggregator]") {
  TestAggregator agg(fast_config());
  RawClient client(agg.endpoint);
  REQUIRE(client.hello().accepted());
  const auto start = std::chrono::steady_clock::now();
  client.send_raw(std::string("\0\0\0\x40partial", 11));
  CHECK(client.closed_by_server());
  CHECK(std::chrono::steady_clock::now() - start < 4s);
  CHECK(agg.metrics.frames_stalled.load() == 1);
}

TEST_CASE("a client that never says hello is closed after the handshake deadline", "[aggregator]") {
  auto config = fast_config();
  config.handshake_timeout = 200ms;
  TestAggregator agg(config);
  RawClient client(agg.endpoint);
  CHECK(client.closed_by_server());
  CHECK(agg.metrics.handshake_failures.load() == 1);
}

TEST_CASE("zstd-compressed batches are accepted when agreed", "[aggregator]") {
  TestAggregator agg(fast_config());
  RawClient client(agg.endpoint);
  const auto ack = client.hello({}, kProtocolVersion, true);
  REQUIRE(ack.compression() == v1::COMPRESSION_ZSTD);
  const std::string plain = make_batch(7, 100, 50).SerializeAsString();
  std::string packed(ZSTD_compressBound(plain.size()), '\0');
  packed.resize(ZSTD_compress(packed.data(), packed.size(), plain.data(), plain.size(), 3));
  v1::ClientMessage m;
  m.set_compressed_batch(packed);
  client.send(m);
  auto reply = client.receive();
  REQUIRE(reply);
  CHECK(reply->ack().sequence() == 7);
  CHECK(reply->ack().stored() == 50);

  // Corrupt compressed data closes the connection.
  m.set_compressed_batch("not zstd at all");
  client.send(m);
  CHECK(client.closed_by_server());
}

TEST_CASE("a batch with an out-of-range source index is rejected, not stored", "[aggregator]") {
  TestAggregator agg(fast_config());
  RawClient client(agg.endpoint);
  REQUIRE(client.hello().accepted());
  auto b = make_batch(1, 0, 1);
  b.mutable_entries(0)->set_source_index(5);
  client.send(batch_message(b));
  auto reply = client.receive();
  REQUIRE(reply);
  CHECK(reply->ack().status() == v1::ACK_STATUS_REJECTED);
  CHECK(reply->ack().stored() == 0);
}

TEST_CASE("a hello frame over 8 KiB closes the connection without waiting for its bytes", "[aggregator]") {
  TestAggregator agg(fast_config());
  RawClient client(agg.endpoint);
  char header[4];
  put_frame_length(header, 60 * 1024);  // under the batch frame limit, over the hello limit
  client.send_raw(std::string(header, 4) + "x");
  CHECK(client.closed_by_server());
  CHECK(agg.metrics.hello_oversized.load() == 1);
  CHECK(agg.metrics.handshake_timeouts.load() == 0);
  RawClient good(agg.endpoint);
  CHECK(good.hello().accepted());
}

TEST_CASE("when MAX_PENDING connections wait without a hello, the oldest is closed and a new client is served",
          "[aggregator]") {
  auto config = fast_config();
  config.max_pending = 4;
  config.max_pending_per_peer = 100;
  config.handshake_timeout = 30s;
  TestAggregator agg(config);
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(std::make_unique<RawClient>(agg.endpoint));
  RawClient good(agg.endpoint);
  CHECK(good.hello().accepted());
  CHECK(idle[0]->closed_by_server());
  CHECK(agg.metrics.unauthenticated_evicted.load() == 1);
  good.send(batch_message(make_batch(1, 0, 1)));
  auto ack = good.receive();
  REQUIRE(ack);
  CHECK(ack->ack().stored() == 1);
}

TEST_CASE("one address holds at most MAX_PENDING_PER_PEER connections without a hello", "[aggregator]") {
  auto config = fast_config();
  config.max_pending_per_peer = 2;
  config.handshake_timeout = 30s;
  TestAggregator agg(config);
  RawClient a(agg.endpoint, "127.0.0.2");
  RawClient b(agg.endpoint, "127.0.0.2");
  RawClient other(agg.endpoint, "127.0.0.3");
  RawClient c(agg.endpoint, "127.0.0.2");  // the third from 127.0.0.2: its oldest (a) closes
  CHECK(a.closed_by_server());
  const auto deadline = std::chrono::steady_clock::now() + 5s;  // counted just after the close
  while (agg.metrics.unauthenticated_evicted_peer.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  CHECK(agg.metrics.unauthenticated_evicted_peer.load() == 1);
  CHECK(agg.metrics.unauthenticated_evicted.load() == 0);
  CHECK(other.hello().accepted());
  CHECK(c.hello().accepted());
}

TEST_CASE("connections without a hello do not take MAX_CONNECTIONS sessions", "[aggregator]") {
  auto config = fast_config();
  config.max_connections = 2;
  config.handshake_timeout = 30s;
  TestAggregator agg(config);
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 3; ++i) idle.push_back(std::make_unique<RawClient>(agg.endpoint));
  RawClient first(agg.endpoint);
  RawClient second(agg.endpoint);
  RawClient third(agg.endpoint);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (agg.metrics.connections_accepted.load() < 6 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE(agg.metrics.connections_accepted.load() == 6);
  CHECK(first.hello().accepted());
  CHECK(second.hello().accepted());
  const auto refused = third.hello();  // accepted while sessions were free; refused at its hello
  CHECK_FALSE(refused.accepted());
  CHECK(refused.error() == "too many connections: try again later");
  RawClient fourth(agg.endpoint);  // the sessions are full: closed at accept
  CHECK(fourth.closed_by_server());
  CHECK(agg.metrics.connections_refused.load() == 2);
}
