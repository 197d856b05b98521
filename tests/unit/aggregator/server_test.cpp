#include "aggregator/server.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <zstd.h>

#include <openssl/sha.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "aggregator/aggregator_config.hpp"
#include "aggregator/session_protocol.hpp"
#include "sidecar/core/token_file.hpp"
#include "sidecar/forward/framing.hpp"
#include "support/certs.hpp"
#include "support/temp_dir.hpp"

using namespace logferry;
using namespace logferry::aggregator;
namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

uint64_t rejections(const AggregatorMetrics& m, RejectReason reason) {
  return m.batch_rejections.at(static_cast<size_t>(reason)).load();
}

// An aggregator on 127.0.0.1:0 with its io_context on a thread of its own.
class TestAggregator {
 public:
  explicit TestAggregator(AggregatorConfig config) : config_(std::move(config)) {
    config_.data_dir = dir_.path().string();
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
  }
  fs::path dir() const { return dir_.path(); }

  AggregatorMetrics metrics;
  asio::ip::tcp::endpoint endpoint;

 private:
  test::TempDir dir_{"logferry-agg-server"};
  AggregatorConfig config_;
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

TEST_CASE("a token file with a trailing space authenticates a sidecar reading the same file", "[aggregator]") {
  // One Secret mounted on both sides: an editor's trailing space and newline
  // must not make the two programs read different tokens.
  std::random_device rd;
  const fs::path file = fs::temp_directory_path() / ("logferry-token-" + std::to_string(rd()) + std::to_string(::getpid()));
  {
    std::ofstream out(file, std::ios::binary);
    out << "s3cret \n";
  }
  auto loaded = load_aggregator_config({{"LOGFERRY_AGGREGATOR_TOKEN_FILE", file.string()},
                                        {"LOGFERRY_AGGREGATOR_DISCARD", "true"}});
  REQUIRE(loaded.errors.empty());
  auto config = fast_config();
  config.token = loaded.config.token;
  config.token_file = loaded.config.token_file;
  TestAggregator agg(config);
  // What the sidecar sends (TcpSink re-reads LOGFERRY_AUTH_TOKEN_FILE per connection).
  const auto sidecar_token = read_token_file(file.string());
  REQUIRE(sidecar_token == std::optional<std::string>("s3cret"));
  RawClient client(agg.endpoint);
  CHECK(client.hello(*sidecar_token).accepted());
  std::error_code ec;
  fs::remove(file, ec);
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
  CHECK(rejections(agg.metrics, RejectReason::invalid) == 1);
}

namespace {

v1::Batch labelled_batch(uint64_t sequence, std::string_view ns, std::string_view pod, int count) {
  v1::Batch b = make_batch(sequence, sequence * 1000, count);
  auto* n = b.add_resource();
  n->set_key("k8s.namespace.name");
  n->mutable_value()->set_string_value(std::string(ns));
  b.mutable_resource(0)->mutable_value()->set_string_value(std::string(pod));
  return b;
}

// The status and reason of the ack of one batch; the connection must still answer.
v1::Ack send_batch(RawClient& client, const v1::Batch& b) {
  client.send(batch_message(b));
  auto reply = client.receive();
  REQUIRE(reply);
  REQUIRE(reply->has_ack());
  CHECK(reply->ack().sequence() == b.sequence());
  return reply->ack();
}

}  // namespace

TEST_CASE("a batch with a string that is not UTF-8 is rejected with a reason; the connection goes on", "[aggregator]") {
  TestAggregator agg(fast_config());
  RawClient client(agg.endpoint);
  REQUIRE(client.hello().accepted());
  v1::ClientMessage m = batch_message(make_batch(1, 0, 1));
  m.mutable_batch()->mutable_sources(0)->set_path("/var/log/cafX.log");
  std::string frame;
  append_frame(frame, m);
  frame[frame.find("cafX")+3] = '\xe9';  // Latin-1, as a file name on disk may be
  client.send_raw(frame);
  auto reply = client.receive();
  REQUIRE(reply);
  CHECK(reply->ack().sequence() == 1);
  CHECK(reply->ack().status() == v1::ACK_STATUS_REJECTED);
  CHECK_THAT(reply->ack().error(), Catch::Contains("UTF-8"));
  CHECK(send_batch(client, make_batch(2, 10, 3)).status() == v1::ACK_STATUS_OK);
  CHECK(agg.metrics.batches_rejected.load() == 1);
  CHECK(rejections(agg.metrics, RejectReason::undecodable) == 1);
  CHECK(agg.metrics.frames_malformed.load() == 0);
}

TEST_CASE("batches over the limits are rejected with the limit's name; the connection goes on", "[aggregator]") {
  auto config = fast_config();
  config.limits.max_entries = 10;
  config.limits.max_labels = 4;
  config.limits.max_label_bytes = 256;
  config.limits.max_path_bytes = 64;
  config.limits.max_rendered_bytes = 4096;
  TestAggregator agg(config);
  RawClient client(agg.endpoint);
  REQUIRE(client.hello().accepted());
  uint64_t seq = 0;
  const auto check = [&](v1::Batch b, std::string_view variable) {
    b.set_sequence(++seq);
    const v1::Ack ack = send_batch(client, b);
    CHECK(ack.status() == v1::ACK_STATUS_REJECTED);
    CHECK_THAT(ack.error(), Catch::Contains(std::string(variable)));
  };
  check(make_batch(0, 0, 11), "LOGFERRY_AGGREGATOR_MAX_BATCH_ENTRIES");
  {
    v1::Batch b = make_batch(0, 0, 1);
    for (int i = 0; i < 5; ++i) {
      auto* kv = b.add_resource();
      kv->set_key("k" + std::to_string(i));
      kv->mutable_value()->set_string_value("v");
    }
    check(b, "LOGFERRY_AGGREGATOR_MAX_LABELS");
  }
  {
    v1::Batch b = make_batch(0, 0, 1);
    b.mutable_resource(0)->mutable_value()->set_string_value(std::string(300, 'p'));
    check(b, "LOGFERRY_AGGREGATOR_MAX_LABEL_BYTES");
  }
  {
    v1::Batch b = make_batch(0, 0, 1);
    b.mutable_sources(0)->set_path(std::string(65, 'p'));
    check(b, "LOGFERRY_AGGREGATOR_MAX_PATH_BYTES");
  }
  {
    // Each stored line repeats the labels: 10 tiny entries under 3 labels of 200 bytes exceed 4 KiB.
    v1::Batch b = make_batch(0, 0, 10);
    for (int i = 0; i < 3; ++i) {
      auto* kv = b.add_resource();
      kv->set_key("big" + std::to_string(i));
      kv->mutable_value()->set_string_value(std::string(200, 'x'));
    }
    check(b, "LOGFERRY_AGGREGATOR_MAX_BATCH_RENDERED_BYTES");
  }
  v1::Batch ok = make_batch(++seq, 0, 10);
  CHECK(send_batch(client, ok).status() == v1::ACK_STATUS_OK);
  CHECK(agg.metrics.batches_rejected.load() == 5);
  CHECK(rejections(agg.metrics, RejectReason::limit) == 5);
  CHECK(rejections(agg.metrics, RejectReason::namespace_denied) == 0);
}

TEST_CASE("a credential writes only the namespaces granted to it; the audit namespace is nobody's", "[aggregator]") {
  std::random_device rd;
  const fs::path file = fs::temp_directory_path() / ("logferry-credentials-" + std::to_string(rd()));
  {
    std::ofstream out(file);
    out << "# team a\nsha256:" << test::sha256_hex("token-a") << "  team-a, team-a-*\n"
        << "sha256:" << test::sha256_hex("token-b") << "\tteam-b\n";
  }
  auto config = fast_config();
  config.credentials_file = file.string();
  config.token = "admin-token";
  TestAggregator agg(config);
  {
    RawClient client(agg.endpoint);
    REQUIRE(client.hello("token-a").accepted());
    CHECK(send_batch(client, labelled_batch(1, "team-a", "web-0", 1)).status() == v1::ACK_STATUS_OK);
    CHECK(send_batch(client, labelled_batch(2, "team-a-dev", "web-0", 1)).status() == v1::ACK_STATUS_OK);
    const v1::Ack forged = send_batch(client, labelled_batch(3, "team-b", "web-0", 1));
    CHECK(forged.status() == v1::ACK_STATUS_REJECTED);
    CHECK_THAT(forged.error(), Catch::Contains("may not write namespace \"team-b\""));
    // A node agent's batch: a source's own namespace label counts.
    v1::Batch mixed = labelled_batch(4, "team-a", "web-0", 1);
    auto* own = mixed.mutable_sources(0)->add_resource();
    own->set_key("k8s.namespace.name");
    own->mutable_value()->set_string_value("team-b");
    CHECK(send_batch(client, mixed).status() == v1::ACK_STATUS_REJECTED);
    CHECK(send_batch(client, labelled_batch(5, "", "web-0", 1)).status() == v1::ACK_STATUS_REJECTED);
  }
  {
    RawClient client(agg.endpoint);
    REQUIRE(client.hello("admin-token").accepted());  // the single token: every namespace
    CHECK(send_batch(client, labelled_batch(1, "team-b", "web-0", 1)).status() == v1::ACK_STATUS_OK);
    const v1::Ack audit = send_batch(client, labelled_batch(2, "_audit", "kube-apiserver", 1));
    CHECK(audit.status() == v1::ACK_STATUS_REJECTED);
    CHECK_THAT(audit.error(), Catch::Contains("reserved"));
  }
  {
    RawClient client(agg.endpoint);
    CHECK_FALSE(client.hello("token-c").accepted());
  }
  CHECK(agg.metrics.batches_rejected.load() == 4);
  CHECK(rejections(agg.metrics, RejectReason::namespace_denied) == 4);  // the reserved _audit one included
  CHECK(rejections(agg.metrics, RejectReason::limit) == 0);
  size_t team_b_segments = 0;
  for (const auto& f : fs::recursive_directory_iterator(agg.dir() / "team-b")) {
    if (f.is_regular_file()) ++team_b_segments;
  }
  CHECK(team_b_segments == 1);  // the admin's batch; the forged ones stored nothing
  CHECK_FALSE(fs::exists(agg.dir() / "_audit"));
  fs::remove(file);
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

TEST_CASE("the open-listener warning: beyond loopback with no TLS, token or credentials file", "[aggregator]") {
  const auto any = asio::ip::make_address("0.0.0.0");
  AggregatorConfig c;
  CHECK(open_to_anyone(c, any));
  CHECK(open_to_anyone(c, asio::ip::make_address("10.1.2.3")));
  CHECK_FALSE(open_to_anyone(c, asio::ip::make_address("127.0.0.1")));
  CHECK_FALSE(open_to_anyone(c, asio::ip::make_address("::1")));
  AggregatorConfig with_credentials;
  with_credentials.credentials_file = "/etc/logferry/credentials";  // every client then needs a listed token
  CHECK_FALSE(open_to_anyone(with_credentials, any));
  AggregatorConfig with_token_file;
  with_token_file.token_file = "/etc/logferry/token";
  CHECK_FALSE(open_to_anyone(with_token_file, any));
  AggregatorConfig with_tls;
  with_tls.tls_cert = "/etc/logferry/tls.crt";
  CHECK_FALSE(open_to_anyone(with_tls, any));
}
