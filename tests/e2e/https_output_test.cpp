// otlp+https:// and loki+https:// with the real sidecar against an HTTPS
// receiver inside the test (certificates made by the test): entries arrive and
// decode; the server's certificate and name are verified (a wrong CA or name is
// refused, logged, counted and retried, and nothing is lost); mutual TLS works;
// a dead first output is passed over.
#include <map>
#include <mutex>
#include <string>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "delivery_lines_test.hpp"
#include "loki/push.pb.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "support/certs.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_receiver.hpp"
#include "support/wait.hpp"

using namespace logferry::test;
namespace fs = std::filesystem;

namespace {

enum class Kind { otlp, loki };

// Decodes every request a receiver gets and counts each line it carries.
class Collector {
 public:
  explicit Collector(Kind kind) : kind_(kind) {}

  // The receiver's answer: 200 for a request that decodes, 400 otherwise.
  ScriptedReply on_request(const ReceivedRequest& r) {
    std::lock_guard lock(mutex_);
    if (r.headers.count("content-type") == 0 || r.headers.at("content-type") != "application/x-protobuf") {
      ++undecodable_;
      return {400, {}, "content type"};
    }
    if (kind_ == Kind::otlp) {
      opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest req;
      if (r.target != "/v1/logs" || !req.ParseFromString(r.decoded)) return bad();
      for (const auto& rl : req.resource_logs()) {
        for (const auto& kv : rl.resource().attributes())
          if (kv.key() == "k8s.pod.name") resource_ = kv.value().string_value();
        for (const auto& sl : rl.scope_logs())
          for (const auto& rec : sl.log_records()) ++lines_[rec.body().string_value()];
      }
    } else {
      logproto::PushRequest req;
      if (r.target != "/loki/api/v1/push" || !req.ParseFromString(r.decoded)) return bad();
      tenant_ = r.headers.count("x-scope-orgid") ? r.headers.at("x-scope-orgid") : "";
      for (const auto& s : req.streams()) {
        resource_ = s.labels();
        for (const auto& e : s.entries()) ++lines_[e.line()];
      }
    }
    subject_ = r.client_subject;
    return {};
  }

  size_t total() const {
    std::lock_guard lock(mutex_);
    size_t n = 0;
    for (const auto& [line, count] : lines_) n += static_cast<size_t>(count);
    return n;
  }
  // Every written line arrived exactly once, and nothing else did.
  void require_exactly_once(const Written& written) const {
    std::lock_guard lock(mutex_);
    std::map<std::string, int> expected;
    for (const auto& [file, lines] : written)
      for (const auto& l : lines) ++expected[l];
    CHECK(undecodable_ == 0);
    CHECK(lines_.size() == expected.size());
    CHECK(lines_ == expected);
  }
  std::string resource() const {
    std::lock_guard lock(mutex_);
    return resource_;
  }
  std::string tenant() const {
    std::lock_guard lock(mutex_);
    return tenant_;
  }
  std::string subject() const {
    std::lock_guard lock(mutex_);
    return subject_;
  }

 private:
  ScriptedReply bad() {
    ++undecodable_;
    return {400, {}, "undecodable"};
  }

  Kind kind_;
  mutable std::mutex mutex_;
  std::map<std::string, int> lines_;
  std::string resource_, tenant_, subject_;
  int undecodable_ = 0;
};

struct HttpsSetup {
  TempDir tmp{"logferry-https"};
  TestCerts certs = make_test_certs(tmp / "certs");

  HttpsSetup() { fs::create_directories(tmp / "logs"); }

  // An HTTPS receiver for `kind`; `client_ca` requires client certificates signed by it.
  std::unique_ptr<TestReceiver> receiver(Kind kind, Collector& collector, const std::string& client_ca = "",
                                         uint16_t port = 0) const {
    ReceiverOptions o;
    o.snappy_bodies = kind == Kind::loki;
    o.tls = ReceiverTls{certs.server_cert.string(), certs.server_key.string(), client_ca};
    o.port = port;
    auto rx = std::make_unique<TestReceiver>(o);
    rx->set_default([&collector](const ReceivedRequest& r) { return collector.on_request(r); });
    return rx;
  }
  // A sidecar sending to `output` and trusting the test CA.
  ProcessEnv sidecar(const std::string& output) const {
    ProcessEnv env = sidecar_env(tmp.path(), output);
    env["LOGFERRY_TLS_CA"] = certs.ca.string();
    env["LOGFERRY_LOKI_TENANT"] = "team-a";
    env["LOGFERRY_SHUTDOWN_TIMEOUT"] = "2s";
    return env;
  }
};

std::string https_output(Kind kind, uint16_t port) {
  return fmt::format("{}+https://127.0.0.1:{}", kind == Kind::otlp ? "otlp" : "loki", port);
}

}  // namespace

TEST_CASE("HTTPS outputs: entries arrive over a verified TLS connection and decode", "[e2e][https]") {
  const Kind kind = GENERATE(Kind::otlp, Kind::loki);
  INFO((kind == Kind::otlp ? "otlp+https" : "loki+https"));
  HttpsSetup s;
  Collector collector(kind);
  auto rx = s.receiver(kind, collector);
  Sidecar sidecar(s.sidecar(https_output(kind, rx->port())));
  sidecar.start();
  Written written;
  const fs::path a = s.tmp / "logs" / "a.log";
  append_lines(a, written[a.string()], 3'000, "a");
  REQUIRE(wait_until([&] { return collector.total() >= 3'000; }, 30s, 50ms));
  CHECK(sidecar.stop() == 0);  // everything acknowledged
  collector.require_exactly_once(written);
  if (kind == Kind::otlp) {
    CHECK(collector.resource() == "web-0");
  } else {
    CHECK(collector.resource().find("pod=\"web-0\"") != std::string::npos);
    CHECK(collector.resource().find("filename=\"a.log\"") != std::string::npos);
    CHECK(collector.tenant() == "team-a");
  }
  CHECK(rx->tls_failures() == 0);
  CHECK(sidecar.process().stderr_text().find("TLS handshake failed") == std::string::npos);
}

TEST_CASE("HTTPS outputs: a certificate from another CA or for another name is refused, retried, nothing lost",
          "[e2e][https]") {
  HttpsSetup s;
  const Kind kind = GENERATE(Kind::otlp, Kind::loki);
  INFO((kind == Kind::otlp ? "otlp+https" : "loki+https"));
  Collector collector(kind);
  auto rx = s.receiver(kind, collector);
  Written written;
  const fs::path a = s.tmp / "logs" / "a.log";
  append_lines(a, written[a.string()], 200, "a");

  ProcessEnv bad = s.sidecar(https_output(kind, rx->port()));
  const uint16_t http = free_port();
  bad["LOGFERRY_HTTP_ADDR"] = fmt::format("127.0.0.1:{}", http);
  SECTION("a server certificate from an unknown CA") { bad["LOGFERRY_TLS_CA"] = s.certs.other_ca.string(); }
  SECTION("a server certificate for another name") { bad["LOGFERRY_TLS_SERVER_NAME"] = "other.example"; }
  {
    Sidecar sidecar(bad);
    sidecar.start();
    REQUIRE(sidecar.process().wait_for_stderr("TLS handshake failed", 15s));
    // Retried with backoff, each attempt counted; never a request with the lines.
    REQUIRE(wait_until([&] { return metrics_sample(http, "logferry_connect_failures_total") >= 3; }, 20s, 100ms));
    CHECK(rx->tls_failures() >= 3);
    CHECK(rx->request_count() == 0);
    CHECK(sidecar.process().stderr_text().find("certificate verify failed") != std::string::npos);
    CHECK(metrics_sample(http, "logferry_entries_acked_total") == 0);
    CHECK(sidecar.stop() == 1);  // the drain cannot finish: the lines stay unacknowledged
  }
  CHECK(collector.total() == 0);
  // With the right settings, the same checkpoint directory: every line arrives once.
  Sidecar sidecar(s.sidecar(https_output(kind, rx->port())));
  sidecar.start();
  REQUIRE(wait_until([&] { return collector.total() >= 200; }, 30s, 50ms));
  CHECK(sidecar.stop() == 0);
  collector.require_exactly_once(written);
}

TEST_CASE("HTTPS outputs: mutual TLS with a client certificate", "[e2e][https]") {
  HttpsSetup s;
  Collector collector(Kind::otlp);
  auto rx = s.receiver(Kind::otlp, collector, s.certs.ca.string());
  Written written;
  const fs::path a = s.tmp / "logs" / "a.log";
  append_lines(a, written[a.string()], 500, "a");
  ProcessEnv env = s.sidecar(https_output(Kind::otlp, rx->port()));

  SECTION("without a client certificate the receiver refuses the connection; nothing is lost") {
    {
      Sidecar sidecar(env);
      sidecar.start();
      REQUIRE(wait_until([&] { return rx->tls_failures() >= 2; }, 20s, 50ms));
      CHECK(rx->request_count() == 0);
      CHECK(sidecar.stop() == 1);
    }
    CHECK(collector.total() == 0);
  }
  env["LOGFERRY_TLS_CERT"] = s.certs.client_cert.string();
  env["LOGFERRY_TLS_KEY"] = s.certs.client_key.string();
  Sidecar sidecar(env);
  sidecar.start();
  REQUIRE(wait_until([&] { return collector.total() >= 500; }, 30s, 50ms));
  CHECK(sidecar.stop() == 0);
  collector.require_exactly_once(written);
  CHECK(collector.subject() == "logferry-sidecar");
}

TEST_CASE("HTTPS outputs: a dead first output is passed over, a second one that dies hands back to the first",
          "[e2e][https][failover]") {
  HttpsSetup s;
  Collector collector(Kind::loki);
  const uint16_t first_port = free_port();
  auto second = s.receiver(Kind::loki, collector);
  ProcessEnv env = s.sidecar(https_output(Kind::loki, first_port) + "," + https_output(Kind::loki, second->port()));
  const uint16_t http = free_port();
  env["LOGFERRY_HTTP_ADDR"] = fmt::format("127.0.0.1:{}", http);
  Sidecar sidecar(env);
  sidecar.start();
  Written written;
  const fs::path a = s.tmp / "logs" / "a.log";
  append_lines(a, written[a.string()], 1'000, "a");
  // Acknowledged, not only received: taking the receiver down must not cut an answer.
  REQUIRE(wait_until([&] { return metrics_sample(http, "logferry_entries_acked_total") >= 1'000; }, 30s, 50ms));
  CHECK(collector.total() == 1'000);
  const size_t second_requests = second->request_count();
  CHECK(second_requests > 0);

  // The first output comes up, the second goes away: the rest goes to the first.
  auto first = s.receiver(Kind::loki, collector, "", first_port);
  second.reset();
  append_lines(a, written[a.string()], 1'000, "b");
  REQUIRE(wait_until([&] { return collector.total() >= 2'000; }, 30s, 50ms));
  CHECK(sidecar.stop() == 0);
  collector.require_exactly_once(written);
  CHECK(first->request_count() > 0);
}
