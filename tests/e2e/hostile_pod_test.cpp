// A hostile Pod against the reference aggregator (issue: trust boundaries,
// "a Pod must not write as another Pod, or hide or flood what others write"):
// batches the aggregator cannot take are answered and the sidecar moves on;
// a credential writes only its namespaces and never the audit store; one
// frame costs a bounded amount of memory and disk; many Pods do not exhaust
// the aggregator's descriptors.
#include "support/logferry_processes.hpp"

#include <openssl/sha.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

#include "logferry/v1/logferry.pb.h"
#include "sidecar/forward/framing.hpp"
#include "support/certs.hpp"
#include "support/http_client.hpp"
#include "support/store_reader.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace logferry;
using namespace logferry::test;
namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace ssl = asio::ssl;

namespace {

// A native-protocol client that writes whatever a hostile Pod would, over
// plain TCP or TLS (with the test client certificate); reads time out.
class HostileClient {
 public:
  // With `certs`: mutual TLS with their client certificate (`team`: the team certificate).
  HostileClient(uint16_t port, const TestCerts* certs = nullptr, bool team = false)
      : ctx_(ssl::context::tls_client), tcp_(io_) {
    tcp_.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    timeval tv{20, 0};
    ::setsockopt(tcp_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (certs != nullptr) {
      ctx_.load_verify_file(certs->ca.string());
      ctx_.set_verify_mode(ssl::verify_peer);
      ctx_.use_certificate_chain_file((team ? certs->team_cert : certs->client_cert).string());
      ctx_.use_private_key_file((team ? certs->team_key : certs->client_key).string(), ssl::context::pem);
      tls_.emplace(std::move(tcp_), ctx_);
      tls_->handshake(ssl::stream_base::client);
    }
  }
  bool hello(std::string_view token = {}) {
    v1::ClientMessage m;
    m.mutable_hello()->set_protocol_version(kProtocolVersion);
    m.mutable_hello()->set_token(std::string(token));
    send(m);
    auto reply = receive();
    return reply && reply->has_hello_ack() && reply->hello_ack().accepted();
  }
  void send(const v1::ClientMessage& m) {
    std::string out;
    append_frame(out, m);
    send_raw(out);
  }
  void send_raw(std::string_view bytes) {
    boost::system::error_code ec;
    if (tls_) asio::write(*tls_, asio::buffer(bytes), ec);
    else asio::write(tcp_, asio::buffer(bytes), ec);
  }
  std::optional<v1::ServerMessage> receive() {
    char header[4];
    boost::system::error_code ec;
    read(asio::buffer(header), ec);
    if (ec) return std::nullopt;
    std::string payload(get_frame_length(header), '\0');
    read(asio::buffer(payload), ec);
    v1::ServerMessage m;
    if (ec || !m.ParseFromString(payload)) return std::nullopt;
    return m;
  }
  // The ack of one batch (nullopt: the connection ended instead).
  std::optional<v1::Ack> exchange(const v1::Batch& b) {
    v1::ClientMessage m;
    *m.mutable_batch() = b;
    send(m);
    auto reply = receive();
    if (!reply || !reply->has_ack()) return std::nullopt;
    return reply->ack();
  }

 private:
  void read(asio::mutable_buffer b, boost::system::error_code& ec) {
    if (tls_) asio::read(*tls_, b, ec);
    else asio::read(tcp_, b, ec);
  }
  asio::io_context io_;
  ssl::context ctx_;
  asio::ip::tcp::socket tcp_;
  std::optional<ssl::stream<asio::ip::tcp::socket>> tls_;
};

void add_label(google::protobuf::RepeatedPtrField<v1::KeyValue>* labels, std::string key, std::string value) {
  auto* kv = labels->Add();
  kv->set_key(std::move(key));
  kv->mutable_value()->set_string_value(std::move(value));
}

v1::Batch pod_batch(uint64_t sequence, std::string ns, std::string pod, std::string source, uint64_t offset,
                    int entries = 1) {
  v1::Batch b;
  b.set_sequence(sequence);
  add_label(b.mutable_resource(), "k8s.namespace.name", std::move(ns));
  add_label(b.mutable_resource(), "k8s.pod.name", std::move(pod));
  auto* s = b.add_sources();
  s->set_id(std::move(source));
  s->set_path("/var/log/app.log");
  for (int i = 0; i < entries; ++i) {
    auto* e = b.add_entries();
    e->set_offset(offset + static_cast<uint64_t>(i));
    e->mutable_body()->set_string_value("line " + std::to_string(i));
  }
  return b;
}

// Kilobytes of a /proc/PID/status field (VmRSS, VmHWM), or -1.
long long proc_status_kb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(field + ":")) return std::stoll(line.substr(field.size() + 1));
  }
  return -1;
}

uint64_t disk_bytes(const fs::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

// Lowers this process's soft descriptor limit while alive (children started meanwhile inherit it).
class NoFileLimit {
 public:
  explicit NoFileLimit(rlim_t soft) {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit lowered = saved_;
    lowered.rlim_cur = std::min(soft, saved_.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &lowered);
  }
  ~NoFileLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }

 private:
  rlimit saved_{};
};

}  // namespace

TEST_CASE("a batch the aggregator rejects is counted by the sidecar, which moves on to the other files",
          "[e2e][hostile]") {
  TempDir tmp("logferry-hostile");
  const fs::path logs = tmp / "logs";
  fs::create_directories(logs);
  // Paths over 160 bytes are over the aggregator's limit: the long-named file's batch is rejected.
  Aggregator aggregator(tmp / "data", {{"LOGFERRY_AGGREGATOR_MAX_PATH_BYTES", "160"},
                                       {"LOGFERRY_AGGREGATOR_HTTP_ADDR", "127.0.0.1:0"}});
  const uint16_t agg_http = aggregator.http_port();
  const fs::path long_name = logs / (std::string(170, 'x') + ".log");
  const fs::path good = logs / "good.log";
  write_file(long_name, "refused 1\nrefused 2\n");
  Sidecar sidecar({{"LOGFERRY_FILES", (logs / "*.log").string()},
                   {"LOGFERRY_OUTPUT", aggregator.output()},
                   {"LOGFERRY_CHECKPOINT_DIR", (tmp / "state").string()},
                   {"LOGFERRY_BATCH_TIMEOUT", "50ms"}});
  sidecar.start();
  REQUIRE(wait_until([&] { return metrics_sample(agg_http, "logferry_aggregator_batches_rejected_total") >= 1; }, 20s));
  CHECK(sidecar.process().wait_for_stderr("batch rejected by the output", 10s));
  std::string lines;
  for (int i = 0; i < 1000; ++i) lines += "good " + std::to_string(i) + "\n";
  write_file(good, lines);
  REQUIRE(wait_until([&] { return count_stored(tmp / "data") >= 1000; }, 30s));
  const auto stored = read_store(tmp / "data");
  size_t good_lines = 0;
  for (const auto& e : stored) {
    CHECK(e.body.starts_with("good "));
    good_lines += e.body.starts_with("good ") ? 1 : 0;
  }
  CHECK(good_lines == 1000);
  CHECK(sidecar.stop() == 0);
  // The rejected batch's offsets were committed: a restart does not send it again.
  const long long rejected = metrics_sample(agg_http, "logferry_aggregator_batches_rejected_total");
  sidecar.start();
  std::ofstream(good, std::ios::app) << "after restart\n";
  REQUIRE(wait_until([&] { return count_stored(tmp / "data") >= 1001; }, 30s));
  CHECK(count_stored(tmp / "data") == 1001);
  CHECK(metrics_sample(agg_http, "logferry_aggregator_batches_rejected_total") == rejected);
  CHECK(sidecar.stop() == 0);
}

TEST_CASE("a forged namespace and a forged audit identity are refused; real audit events are still stored",
          "[e2e][hostile]") {
  TempDir tmp("logferry-hostile");
  const TestCerts certs = make_test_certs(tmp / "certs");
  write_file(tmp / "credentials", "# team-a's sidecars\nsha256:" + sha256_hex("token-a") + "  team-a,team-a-*\n");
  const ProcessEnv env{{"LOGFERRY_AGGREGATOR_TLS_CERT", certs.server_cert.string()},
                       {"LOGFERRY_AGGREGATOR_TLS_KEY", certs.server_key.string()},
                       {"LOGFERRY_AGGREGATOR_TLS_CLIENT_CA", certs.ca.string()},
                       {"LOGFERRY_AGGREGATOR_CREDENTIALS_FILE", (tmp / "credentials").string()},
                       {"LOGFERRY_AGGREGATOR_AUDIT_LISTEN", "127.0.0.1:0"}};
  Aggregator aggregator(tmp / "data", env);
  {
    HostileClient client(aggregator.port(), &certs);
    REQUIRE(client.hello("token-a"));
    auto ok = client.exchange(pod_batch(1, "team-a", "web-0", "file:1:1", 0));
    REQUIRE(ok);
    CHECK(ok->status() == v1::ACK_STATUS_OK);
    auto other = client.exchange(pod_batch(2, "team-b", "web-0", "file:1:1", 0));
    REQUIRE(other);
    CHECK(other->status() == v1::ACK_STATUS_REJECTED);
    CHECK_THAT(other->error(), Catch::Contains("team-b"));
    // The audit store's identity with the highest offset there is.
    auto audit = client.exchange(pod_batch(3, "_audit", "kube-apiserver", "k8s-audit-webhook", UINT64_MAX));
    REQUIRE(audit);
    CHECK(audit->status() == v1::ACK_STATUS_REJECTED);
    CHECK_THAT(audit->error(), Catch::Contains("reserved"));
  }
  CHECK_FALSE(fs::exists(tmp / "data" / "team-b"));
  CHECK_FALSE(fs::exists(tmp / "data" / "_audit"));
  aggregator.restart();
  const uint16_t audit_port = aggregator.audit_port();
  // The real audit webhook, over the same mutual TLS.
  asio::io_context io;
  ssl::context ctx(ssl::context::tls_client);
  ctx.load_verify_file(certs.ca.string());
  ctx.set_verify_mode(ssl::verify_peer);
  ctx.use_certificate_chain_file(certs.client_cert.string());
  ctx.use_private_key_file(certs.client_key.string(), ssl::context::pem);
  asio::ip::tcp::socket tcp(io);
  tcp.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), audit_port));
  timeval tv{20, 0};
  ::setsockopt(tcp.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ssl::stream<asio::ip::tcp::socket> tls(std::move(tcp), ctx);
  tls.handshake(ssl::stream_base::client);
  const std::string body =
      R"({"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[)"
      R"({"level":"Metadata","auditID":"0b5b0a39-7c1e-4d8a-9e0f-1a2b3c4d5e6f","stage":"ResponseComplete",)"
      R"("requestURI":"/api/v1/namespaces/team-a/secrets/db","verb":"get","user":{"username":"alice"},)"
      R"("objectRef":{"resource":"secrets","namespace":"team-a","name":"db","apiVersion":"v1"},)"
      R"("responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-03-04T05:06:07.000100Z",)"
      R"("stageTimestamp":"2026-03-04T05:06:07.000200Z"}]})";
  const std::string request = "POST /audit HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                              "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  asio::write(tls, asio::buffer(request));
  std::string response;
  boost::system::error_code ec;
  char buf[4096];
  for (;;) {
    const size_t n = tls.read_some(asio::buffer(buf), ec);
    response.append(buf, n);
    if (ec) break;
  }
  CHECK_THAT(response, Catch::StartsWith("HTTP/1.1 200"));
  CHECK_THAT(response, Catch::Contains("stored 1 events"));
  size_t audit_lines = 0;
  for (const auto& e : read_store(tmp / "data")) audit_lines += e.source_id == "k8s-audit-webhook" ? 1 : 0;
  CHECK(audit_lines == 1);
}

TEST_CASE("mutual TLS: a credentials line naming the client certificate grants its namespaces only",
          "[e2e][hostile][tls]") {
  TempDir tmp("logferry-certbound");
  const TestCerts certs = make_test_certs(tmp / "certs");
  write_file(tmp / "credentials", "sha256:" + sha256_hex("token-a") + "  team-a\n" +
                                      "uri:spiffe://cluster.local/ns/team-b/sa/logferry  team-b\n");
  const ProcessEnv env{{"LOGFERRY_AGGREGATOR_TLS_CERT", certs.server_cert.string()},
                       {"LOGFERRY_AGGREGATOR_TLS_KEY", certs.server_key.string()},
                       {"LOGFERRY_AGGREGATOR_TLS_CLIENT_CA", certs.ca.string()},
                       {"LOGFERRY_AGGREGATOR_CREDENTIALS_FILE", (tmp / "credentials").string()}};
  Aggregator aggregator(tmp / "data", env);
  {
    // The team's certificate names the line: no token needed, team-b only.
    HostileClient client(aggregator.port(), &certs, true);
    REQUIRE(client.hello());
    auto ok = client.exchange(pod_batch(1, "team-b", "web-0", "file:1:1", 0));
    REQUIRE(ok);
    CHECK(ok->status() == v1::ACK_STATUS_OK);
    auto forged = client.exchange(pod_batch(2, "team-a", "web-0", "file:1:2", 0));
    REQUIRE(forged);
    CHECK(forged->status() == v1::ACK_STATUS_REJECTED);
    CHECK_THAT(forged->error(), Catch::Contains("may not write namespace \"team-a\"") && Catch::Contains("team-b"));
  }
  {
    // A certificate the file does not name authenticates the connection only: a token is still needed.
    HostileClient client(aggregator.port(), &certs);
    CHECK_FALSE(client.hello());
  }
  {
    HostileClient client(aggregator.port(), &certs);
    REQUIRE(client.hello("token-a"));
    auto ok = client.exchange(pod_batch(1, "team-a", "web-1", "file:1:3", 0));
    REQUIRE(ok);
    CHECK(ok->status() == v1::ACK_STATUS_OK);
  }
  CHECK(fs::exists(tmp / "data" / "team-b"));
  CHECK(fs::exists(tmp / "data" / "team-a" / "web-1"));
  CHECK_FALSE(fs::exists(tmp / "data" / "team-a" / "web-0"));
}

TEST_CASE("the amplification frames cost under 64 MiB of memory and disk", "[e2e][hostile][rss]") {
  TempDir tmp("logferry-hostile");
  Aggregator aggregator(tmp / "data");
  const pid_t pid = aggregator.process().pid();
  HostileClient client(aggregator.port());
  REQUIRE(client.hello());
  REQUIRE(client.exchange(pod_batch(1, "prod", "warm-up", "file:1:1", 0))->status() == v1::ACK_STATUS_OK);
  const long long rss_before = proc_status_kb(pid, "VmRSS");
  REQUIRE(rss_before > 0);
  // 1. A 97 KB frame: 20 labels of 4 KB and 3,000 empty entries (each stored line repeats the labels).
  v1::Batch labels = pod_batch(2, "prod", "amplifier", "file:1:2", 0, 0);
  for (int i = 0; i < 20; ++i) add_label(labels.mutable_resource(), "label." + std::to_string(i), std::string(3900, 'x'));
  for (int i = 0; i < 3000; ++i) labels.add_entries()->set_offset(static_cast<uint64_t>(i) + 1);
  CHECK(labels.ByteSizeLong() < 100 * 1024);
  const auto first = client.exchange(labels);
  REQUIRE(first);
  // 2. A 1 MB frame of tiny entries under modest labels.
  v1::Batch many = pod_batch(3, "prod", "amplifier-2", "file:1:3", 0, 0);
  for (int i = 0; i < 8; ++i) add_label(many.mutable_resource(), "label." + std::to_string(i), std::string(400, 'y'));
  for (int i = 0; i < 150000; ++i) many.add_entries()->set_offset(static_cast<uint64_t>(i) + 1);
  CHECK(many.ByteSizeLong() > 1000 * 1000);
  const auto second = client.exchange(many);
  REQUIRE(second);
  // 3. 1 MB that is accepted: 60,000 entries of 10 bytes under the default labels.
  v1::Batch stored = pod_batch(4, "prod", "big", "file:1:4", 0, 0);
  for (int i = 0; i < 60000; ++i) {
    auto* e = stored.add_entries();
    e->set_offset(static_cast<uint64_t>(i) + 1);
    e->mutable_body()->set_string_value("0123456789");
  }
  const auto third = client.exchange(stored);
  REQUIRE(third);
  CHECK(third->status() == v1::ACK_STATUS_OK);
  const long long peak = proc_status_kb(pid, "VmHWM");
  const uint64_t disk = disk_bytes(tmp / "data");
  INFO("RSS before " << rss_before << " kB, peak " << peak << " kB; disk " << disk << " bytes; acks: "
                     << first->error() << " / " << second->error());
  CHECK(first->status() == v1::ACK_STATUS_REJECTED);
  CHECK(second->status() == v1::ACK_STATUS_REJECTED);
  CHECK(disk < (64u << 20));
  CHECK(peak - rss_before < 64 * 1024);
  // The store still takes ordinary batches afterwards.
  CHECK(client.exchange(pod_batch(5, "prod", "warm-up", "file:1:1", 1))->status() == v1::ACK_STATUS_OK);
}

TEST_CASE("1,100 Pods under a 1024 descriptor limit are all stored", "[e2e][hostile]") {
  TempDir tmp("logferry-hostile");
  std::optional<Aggregator> aggregator;
  {
    NoFileLimit limit(1024);
    aggregator.emplace(tmp / "data", ProcessEnv{{"LOGFERRY_AGGREGATOR_HTTP_ADDR", "127.0.0.1:0"}});
  }
  const uint16_t http = aggregator->http_port();
  HostileClient client(aggregator->port());
  REQUIRE(client.hello());
  constexpr int kPods = 1100;
  // Pipelined: all batches first, then all acks.
  for (int i = 0; i < kPods; ++i) {
    v1::ClientMessage m;
    *m.mutable_batch() = pod_batch(static_cast<uint64_t>(i) + 1, "prod", fmt::format("web-{}", i), "file:1:1", 0, 2);
    client.send(m);
  }
  int ok = 0;
  for (int i = 0; i < kPods; ++i) {
    auto reply = client.receive();
    if (!reply || !reply->has_ack()) break;
    ok += reply->ack().status() == v1::ACK_STATUS_OK ? 1 : 0;
  }
  CHECK(ok == kPods);
  CHECK(count_stored(tmp / "data") == 2u * kPods);
  // A new connection is still accepted, and the aggregator is ready.
  HostileClient later(aggregator->port());
  CHECK(later.hello());
  const auto ready = http_get("127.0.0.1", http, "/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
}
