// The aggregator under 1,000 concurrent sidecar connections (raw test clients:
// hello plus one small batch each, all held open at the same time): every batch
// is acknowledged, a new client is still served, and the HTTP endpoint reports
// exactly what happened (the exact /metrics text: unit/aggregator/http_endpoint_test.cpp).
#include <poll.h>
#include <algorithm>
#include <sys/resource.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>

#include "delivery_lines_test.hpp"
#include "logferry/v1/logferry.pb.h"
#include "sidecar/forward/framing.hpp"
#include "support/http_client.hpp"
#include "support/logferry_processes.hpp"
#include "support/loopback.hpp"
#include "support/skip.hpp"
#include "support/store_reader.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace logferry::test;
namespace fs = std::filesystem;
namespace v1 = logferry::v1;

namespace {

// Hello and one batch of one entry from source `id`, as bytes on the wire.
std::string hello_and_batch(const std::string& id) {
  std::string out;
  v1::ClientMessage hello;
  hello.mutable_hello()->set_protocol_version(logferry::kProtocolVersion);
  hello.mutable_hello()->set_agent("raw-test-client");
  logferry::append_frame(out, hello);
  v1::ClientMessage msg;
  auto* b = msg.mutable_batch();
  b->set_sequence(1);
  for (const auto& [k, v] : {std::pair{"k8s.namespace.name", "load"}, std::pair{"k8s.pod.name", "many"}}) {
    auto* kv = b->add_resource();
    kv->set_key(k);
    kv->mutable_value()->set_string_value(v);
  }
  auto* src = b->add_sources();
  src->set_id(id);
  src->set_path("/var/log/" + id + ".log");
  src->set_end_offset(10);
  auto* e = b->add_entries();
  e->set_source_index(0);
  e->set_offset(0);
  e->mutable_body()->set_string_value("hello from " + id);
  logferry::append_frame(out, msg);
  return out;
}

// Reads whole frames from `fd` until `frames` arrived; false on error/EOF/deadline.
bool read_frames(int fd, size_t frames, std::vector<v1::ServerMessage>& out, std::chrono::milliseconds timeout) {
  std::string buf;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < frames) {
    while (buf.size() >= 4) {
      const auto* p = reinterpret_cast<const unsigned char*>(buf.data());
      const size_t len = (size_t{p[0]} << 24) | (size_t{p[1]} << 16) | (size_t{p[2]} << 8) | size_t{p[3]};
      if (buf.size() < 4 + len) break;
      v1::ServerMessage m;
      if (!m.ParseFromArray(buf.data() + 4, static_cast<int>(len))) return false;
      out.push_back(std::move(m));
      buf.erase(0, 4 + len);
    }
    if (out.size() >= frames) break;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[4096];
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf.append(chunk, static_cast<size_t>(n));
  }
  return true;
}

// A raw client: connect, send hello + batch, later read HelloAck + Ack.
struct RawClient {
  int fd = -1;
  explicit RawClient(uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = loopback(port);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ~RawClient() {
    if (fd >= 0) ::close(fd);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  bool send_all(const std::string& data) const {
    return fd >= 0 && ::send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  // True when the hello was accepted and the batch acknowledged with one entry stored.
  bool acked(std::chrono::milliseconds timeout) const {
    std::vector<v1::ServerMessage> replies;
    if (fd < 0 || !read_frames(fd, 2, replies, timeout)) return false;
    return replies[0].hello_ack().accepted() && replies[1].has_ack() && replies[1].ack().sequence() == 1 &&
           replies[1].ack().stored() == 1;
  }
};

}  // namespace

TEST_CASE("1,000 concurrent connections are all acknowledged; a new client is still served", "[e2e][delivery]") {
  constexpr size_t kClients = 1'000;
  rlimit lim{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &lim) == 0);
  if (lim.rlim_cur < kClients + 200 && lim.rlim_max >= kClients + 200) {
    lim.rlim_cur = std::min<rlim_t>(lim.rlim_max, 4096);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &lim) == 0);  // the aggregator inherits it
  }
  if (lim.rlim_cur < kClients + 200) {
    skip("1,000 connections: RLIMIT_NOFILE is " + std::to_string(lim.rlim_cur) + " and cannot be raised");
    return;
  }

  TempDir tmp("logferry-conns");
  Aggregator aggregator(tmp / "store", {{"LOGFERRY_AGGREGATOR_HTTP_ADDR", "127.0.0.1:0"}});
  const uint16_t http_port = aggregator.http_port();
  const uint64_t rss_idle = proc_status_kib(aggregator.process().pid(), "VmRSS");

  std::vector<std::unique_ptr<RawClient>> clients;
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < kClients; ++i) {
    auto c = std::make_unique<RawClient>(aggregator.port());
    REQUIRE(c->fd >= 0);
    REQUIRE(c->send_all(hello_and_batch(fmt::format("raw-{:04}", i))));
    clients.push_back(std::move(c));
  }
  size_t acked = 0;
  for (const auto& c : clients) acked += c->acked(20s) ? 1 : 0;
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  CHECK(acked == kClients);

  // All still open: the endpoint counts them, and the RSS tells the per-connection cost.
  const uint64_t rss_busy = proc_status_kib(aggregator.process().pid(), "VmRSS");
  auto metrics = http_get("127.0.0.1", http_port, "/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  const auto expected = static_cast<long long>(kClients);
  CHECK(prometheus_sample(metrics->body, "logferry_aggregator_connections_active") == expected);
  CHECK(prometheus_sample(metrics->body, "logferry_aggregator_batches_total") == expected);
  CHECK(prometheus_sample(metrics->body, "logferry_aggregator_entries_stored_total") == expected);

  // A new client is served while the thousand are held open.
  RawClient late(aggregator.port());
  REQUIRE(late.send_all(hello_and_batch("late")));
  CHECK(late.acked(10s));
  WARN(kClients << " connections acknowledged in " << took.count() << " ms; aggregator VmRSS " << rss_idle
                << " KiB idle, " << rss_busy << " KiB with " << kClients + 1 << " open ("
                << (rss_busy - std::min(rss_busy, rss_idle)) * 1024 / kClients << " bytes per connection)");
  clients.clear();
  CHECK(wait_until([&] { return count_stored(tmp / "store") == kClients + 1; }, 10s));
  auto health = http_get("127.0.0.1", http_port, "/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(health->body == "ok\n");
  auto ready = http_get("127.0.0.1", http_port, "/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  CHECK(ready->body == "ready\n");
  CHECK(aggregator.stop() == 0);
}
