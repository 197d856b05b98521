// The aggregator as a relay, end to end with the real binaries: two sidecars
// send over the native protocol, the aggregator forwards everything to an
// OTLP/HTTP receiver running inside the test, which sees every entry once;
// and the relay's counters on the aggregator's /metrics after a known workload.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "logferry/v1/logferry.pb.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "sidecar/forward/framing.hpp"
#include "support/http_client.hpp"
#include "support/logferry_processes.hpp"
#include "support/loopback.hpp"
#include "support/otlp_logs_receiver.hpp"
#include "support/temp_dir.hpp"
#include "support/test_receiver.hpp"
#include "support/wait.hpp"

using namespace logferry::test;
namespace fs = std::filesystem;

namespace {

void write_lines(const fs::path& file, const std::string& tag, size_t count) {
  std::ofstream out(file, std::ios::app | std::ios::binary);
  for (size_t i = 0; i < count; ++i) out << fmt::format("{} line {:06}\n", tag, i);
}

// A native-protocol client with plain sockets: every read gives up after 10 s.
class NativeClient {
 public:
  explicit NativeClient(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in addr = loopback(port);
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~NativeClient() { ::close(fd_); }
  NativeClient(const NativeClient&) = delete;
  NativeClient& operator=(const NativeClient&) = delete;
  bool connected() const { return connected_; }
  bool send(const logferry::v1::ClientMessage& m) {
    std::string out;
    logferry::append_frame(out, m);
    for (size_t done = 0; done < out.size();) {
      const ssize_t n = ::send(fd_, out.data() + done, out.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }
  std::optional<logferry::v1::ServerMessage> receive() {
    char header[4];
    if (!read_exact(header, 4)) return std::nullopt;
    std::string payload(logferry::get_frame_length(header), '\0');
    logferry::v1::ServerMessage m;
    if (!read_exact(payload.data(), payload.size()) || !m.ParseFromString(payload)) return std::nullopt;
    return m;
  }

 private:
  bool read_exact(char* p, size_t n) {
    while (n > 0) {
      const ssize_t r = ::recv(fd_, p, n, 0);
      if (r <= 0) return false;
      p += r;
      n -= static_cast<size_t>(r);
    }
    return true;
  }
  int fd_;
  bool connected_ = false;
};

// One batch of `count` entries of pod web-0, offsets from `first`; `poison` puts
// a body the test receiver refuses into it.
logferry::v1::ClientMessage relay_batch(uint64_t sequence, uint64_t first, int count, bool poison) {
  logferry::v1::ClientMessage m;
  auto* b = m.mutable_batch();
  b->set_sequence(sequence);
  for (const auto& [k, v] : {std::pair{"k8s.pod.name", "web-0"}, std::pair{"k8s.namespace.name", "shop"}}) {
    auto* kv = b->add_resource();
    kv->set_key(k);
    kv->mutable_value()->set_string_value(v);
  }
  auto* src = b->add_sources();
  src->set_id("file:1:2:relay-metrics");
  src->set_path("/var/log/app.log");
  src->set_end_offset(first + static_cast<uint64_t>(count));
  for (int i = 0; i < count; ++i) {
    auto* e = b->add_entries();
    e->set_offset(first + static_cast<uint64_t>(i) + 1);
    e->mutable_body()->set_string_value(poison && i == 7 ? "poison" : fmt::format("entry {}", first + i));
  }
  return m;
}

}  // namespace

TEST_CASE("the relay's activity is on the aggregator's /metrics, exactly", "[e2e][relay]") {
  TempDir tmp("logferry-relay-metrics");
  std::atomic<size_t> accepted{0};
  TestReceiver rx;
  rx.set_default([&](const ReceivedRequest& r) {
    opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest req;
    if (!req.ParseFromString(r.decoded)) return ScriptedReply{400, {}, "undecodable"};
    size_t n = 0;
    for (const auto& rl : req.resource_logs())
      for (const auto& sl : rl.scope_logs())
        for (const auto& rec : sl.log_records()) {
          if (rec.body().string_value() == "poison") return ScriptedReply{400, {}, "refused"};
          ++n;
        }
    accepted += n;
    return ScriptedReply{};
  });
  rx.script({{503, {}, "warming up"}});  // the first batch is retried once
  Aggregator aggregator(tmp / "store", {{"LOGFERRY_AGGREGATOR_RELAY", fmt::format("otlp+http://127.0.0.1:{}", rx.port())},
                                        {"LOGFERRY_AGGREGATOR_RELAY_MODE", "store_and_forward"},
                                        {"LOGFERRY_AGGREGATOR_HTTP_ADDR", "127.0.0.1:0"},
                                        {"LOGFERRY_BACKOFF_INITIAL", "50ms"},
                                        {"LOGFERRY_BACKOFF_MAX", "200ms"}});
  const uint16_t http_port = aggregator.http_port();

  // Five batches of 100 entries; the third carries an entry the downstream refuses.
  NativeClient client(aggregator.port());
  REQUIRE(client.connected());
  logferry::v1::ClientMessage hello;
  hello.mutable_hello()->set_protocol_version(logferry::kProtocolVersion);
  hello.mutable_hello()->set_agent("relay-metrics-test");
  REQUIRE(client.send(hello));
  auto ack = client.receive();
  REQUIRE((ack && ack->has_hello_ack()));
  for (uint64_t i = 0; i < 5; ++i) REQUIRE(client.send(relay_batch(i + 1, i * 100, 100, i == 2)));
  for (int i = 0; i < 5; ++i) {
    ack = client.receive();
    REQUIRE((ack && ack->has_ack()));
  }

  std::string metrics;
  const bool settled = wait_until([&] {
    const auto r = http_get("127.0.0.1", http_port, "/metrics");
    if (!r) return false;
    metrics = r->body;
    return prometheus_sample(metrics, "logferry_aggregator_relay_batches_total") +
                   prometheus_sample(metrics, "logferry_aggregator_relay_batches_rejected_total") == 5 &&
           prometheus_sample(metrics, "logferry_aggregator_relay_queue_batches") == 0;
  }, 20s, 50ms);
  INFO(metrics);
  REQUIRE(settled);
  CHECK(prometheus_sample(metrics, "logferry_aggregator_relay_batches_submitted_total") == 5);
  CHECK(prometheus_sample(metrics, "logferry_aggregator_relay_batches_total") == 4);
  CHECK(prometheus_sample(metrics, "logferry_aggregator_relay_entries_total") == 400);
  CHECK(prometheus_sample(metrics, "logferry_aggregator_relay_batches_retried_total") == 1);
  CHECK(prometheus_sample(metrics, "logferry_aggregator_relay_batches_rejected_total") == 1);
  CHECK(prometheus_sample(metrics, "logferry_aggregator_relay_errors_total") == 1);
  // The same error under its downstream (the 503 ended the session with it).
  CHECK(prometheus_sample(metrics, fmt::format("logferry_aggregator_relay_output_errors_total{{output=\"otlp+http://127.0.0.1:{}\"}}",
                                    rx.port())) == 1);
  CHECK(prometheus_sample(metrics, "logferry_aggregator_relay_queue_batches") == 0);
  CHECK(prometheus_sample(metrics, "logferry_aggregator_relay_queue_bytes") == 0);
  CHECK(prometheus_sample(metrics, "logferry_aggregator_entries_stored_total") == 500);
  CHECK(accepted.load() == 400);
  CHECK(rx.requests().size() == 6);  // 503, then five answers
  CHECK(aggregator.stop() == 0);
}

TEST_CASE("the aggregator relays 100,000 entries from two sidecars to an OTLP receiver, each once",
          "[e2e][relay]") {
  const std::string mode = GENERATE(std::string("relay_only"), std::string("store_and_forward"));
  INFO(mode);
  TempDir tmp("logferry-relay");
  OtlpLogsReceiver rx;
  // The first answer asks for a retry: relayed batches are held, not lost.
  rx.receiver().script({{503, {{"Retry-After", "1"}}, "warming up"}});

  Aggregator aggregator(tmp / "store", {{"LOGFERRY_AGGREGATOR_RELAY", fmt::format("otlp+http://127.0.0.1:{}", rx.port())},
                                        {"LOGFERRY_AGGREGATOR_RELAY_MODE", mode},
                                        {"LOGFERRY_OTLP_COMPRESSION", "gzip"},
                                        {"LOGFERRY_BACKOFF_INITIAL", "50ms"},
                                        {"LOGFERRY_BACKOFF_MAX", "500ms"}});
  std::vector<std::unique_ptr<Sidecar>> sidecars;
  for (const std::string pod : {"web-0", "web-1"}) {
    fs::create_directories(tmp / pod);
    write_lines(tmp / pod / "app.log", pod, 20'000);
    sidecars.push_back(std::make_unique<Sidecar>(ProcessEnv{{"LOGFERRY_FILES", (tmp / pod / "*.log").string()},
                                                            {"LOGFERRY_OUTPUT", aggregator.output()},
                                                            {"LOGFERRY_CHECKPOINT_DIR", (tmp / pod / "state").string()},
                                                            {"POD_NAME", pod},
                                                            {"POD_NAMESPACE", "shop"}}));
    sidecars.back()->start();
  }
  for (const std::string pod : {"web-0", "web-1"}) {
    std::ofstream out(tmp / pod / "app.log", std::ios::app | std::ios::binary);
    for (size_t i = 20'000; i < 50'000; ++i) out << fmt::format("{} line {:06}\n", pod, i);
  }
  REQUIRE(wait_until([&] { return rx.count() >= 100'000; }, 120s, 100ms));
  for (auto& s : sidecars) CHECK(s->stop() == 0);  // every line acknowledged by the aggregator
  CHECK(aggregator.stop() == 0);

  const std::vector<std::string> received = rx.bodies();
  const std::multiset<std::string> bodies(received.begin(), received.end());
  CHECK(bodies.size() == 100'000);
  size_t missing = 0, repeated = 0;
  for (const std::string pod : {"web-0", "web-1"}) {
    for (size_t i = 0; i < 50'000; ++i) {
      const size_t n = bodies.count(fmt::format("{} line {:06}", pod, i));
      missing += n == 0;
      repeated += n > 1;
    }
  }
  CHECK(missing == 0);
  CHECK(repeated == 0);
  CHECK(rx.pods() == std::set<std::string>{"web-0", "web-1"});
  CHECK(rx.receiver().requests().front().answered == 503);
}
