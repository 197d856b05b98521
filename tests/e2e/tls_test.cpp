// TLS and mutual TLS between the real sidecar and aggregator, with certificates
// made by the test: accepted and delivered when everything matches; refused
// with a clear log line on the side that detects it otherwise.
#include "support/certs.hpp"

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "delivery_lines_test.hpp"
#include "support/http_client.hpp"
#include "support/logferry_processes.hpp"
#include "support/store_reader.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace logferry::test;
namespace fs = std::filesystem;

namespace {

constexpr const char* kToken = "s3cret-token-7f1c";

struct TlsSetup {
  TempDir tmp{"logferry-tls"};
  TestCerts certs = make_test_certs(tmp / "certs");

  // An aggregator requiring TLS with client certificates and kToken.
  ProcessEnv aggregator_env() const {
    return {{"LOGFERRY_AGGREGATOR_TLS_CERT", certs.server_cert.string()},
            {"LOGFERRY_AGGREGATOR_TLS_KEY", certs.server_key.string()},
            {"LOGFERRY_AGGREGATOR_TLS_CLIENT_CA", certs.ca.string()},
            {"LOGFERRY_AGGREGATOR_TOKEN", kToken}};
  }
  // A sidecar with everything right; tests change one thing.
  ProcessEnv sidecar(uint16_t port) const {
    ProcessEnv env = sidecar_env(tmp.path(), "tls://127.0.0.1:" + std::to_string(port));
    env["LOGFERRY_TLS_CA"] = certs.ca.string();
    env["LOGFERRY_TLS_CERT"] = certs.client_cert.string();
    env["LOGFERRY_TLS_KEY"] = certs.client_key.string();
    env["LOGFERRY_AUTH_TOKEN"] = kToken;
    return env;
  }
};

// Starts the sidecar with one line to send and returns once `who` logged `needle`.
bool refused_with(ChildProcess& who, std::string_view needle) { return who.wait_for_stderr(needle, 10s); }

}  // namespace

TEST_CASE("mutual TLS with a token: accepted, lines arrive", "[e2e][delivery][tls]") {
  TlsSetup s;
  fs::create_directories(s.tmp / "logs");
  Aggregator aggregator(s.tmp / "store", s.aggregator_env());
  Sidecar sidecar(s.sidecar(aggregator.port()));
  sidecar.start();
  Written written;
  const fs::path a = s.tmp / "logs" / "a.log";
  append_lines(a, written[a.string()], 20'000, "a");
  REQUIRE(wait_until([&] { return count_stored(s.tmp / "store") >= 20'000; }, 30s, 50ms));
  require_exactly_once(s.tmp / "store", written);
  CHECK(sidecar.stop() == 0);
  CHECK(aggregator.stop() == 0);
  // Secrets are never logged.
  CHECK(sidecar.process().stderr_text().find(kToken) == std::string::npos);
  CHECK(aggregator.process().stderr_text().find(kToken) == std::string::npos);
  CHECK(aggregator.process().stderr_text().find("TLS handshake failed") == std::string::npos);
}

TEST_CASE("TLS refusals are logged clearly on the side that detects them", "[e2e][delivery][tls]") {
  TlsSetup s;
  fs::create_directories(s.tmp / "logs");
  write_file(s.tmp / "logs" / "a.log", "one line\n");
  Aggregator aggregator(s.tmp / "store", s.aggregator_env());

  SECTION("a server certificate from an unknown CA: the sidecar refuses it") {
    ProcessEnv env = s.sidecar(aggregator.port());
    env["LOGFERRY_TLS_CA"] = s.certs.other_ca.string();
    Sidecar sidecar(env);
    sidecar.start();
    REQUIRE(refused_with(sidecar.process(), "TLS handshake failed"));
    CHECK(sidecar.process().stderr_text().find("certificate verify failed") != std::string::npos);
    CHECK(refused_with(aggregator.process(), "TLS handshake failed: client disconnected"));
  }
  SECTION("a server certificate for another name: the sidecar refuses it") {
    ProcessEnv env = s.sidecar(aggregator.port());
    env["LOGFERRY_TLS_SERVER_NAME"] = "other.example";
    Sidecar sidecar(env);
    sidecar.start();
    REQUIRE(refused_with(sidecar.process(), "TLS handshake failed"));
    CHECK(sidecar.process().stderr_text().find("certificate verify failed") != std::string::npos);
  }
  SECTION("no client certificate where one is required: the aggregator refuses it") {
    ProcessEnv env = s.sidecar(aggregator.port());
    env.erase("LOGFERRY_TLS_CERT");
    env.erase("LOGFERRY_TLS_KEY");
    Sidecar sidecar(env);
    sidecar.start();
    REQUIRE(refused_with(aggregator.process(), "TLS handshake failed: client disconnected"));
    CHECK(aggregator.process().stderr_text().find("peer did not return a certificate") != std::string::npos);
    CHECK(sidecar.process().wait_for_stderr("cannot reach the output", 10s));
  }
  SECTION("a wrong token: the aggregator refuses the hello, the sidecar says why") {
    ProcessEnv env = s.sidecar(aggregator.port());
    env["LOGFERRY_AUTH_TOKEN"] = "not-the-token";
    Sidecar sidecar(env);
    sidecar.start();
    REQUIRE(refused_with(sidecar.process(), "the aggregator refused the handshake"));
    CHECK(sidecar.process().stderr_text().find("wrong token") != std::string::npos);
    CHECK(refused_with(aggregator.process(), "hello refused"));
    CHECK(sidecar.process().stderr_text().find("not-the-token") == std::string::npos);
  }
  CHECK(count_stored(s.tmp / "store") == 0);
  CHECK(aggregator.process().stderr_text().find(kToken) == std::string::npos);
  CHECK(aggregator.stop() == 0);
}

TEST_CASE("the aggregator re-reads its token file when it changes", "[e2e][delivery]") {
  TempDir tmp("logferry-tokenfile");
  fs::create_directories(tmp / "logs");
  write_file(tmp / "logs" / "a.log", "one line\n");
  const fs::path token = tmp / "token";
  write_file(token, "first-token\n");
  Aggregator aggregator(tmp / "store", {{"LOGFERRY_AGGREGATOR_TOKEN_FILE", token.string()}});
  {
    ProcessEnv env = sidecar_env(tmp.path(), aggregator.output());
    env["LOGFERRY_AUTH_TOKEN"] = "first-token";
    Sidecar sidecar(env);
    sidecar.start();
    REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= 1; }, 20s, 20ms));
    CHECK(sidecar.stop() == 0);
  }
  write_file(token, "second-token\n");  // a rotated Secret
  write_file(tmp / "logs" / "b.log", "another line\n");
  ProcessEnv env = sidecar_env(tmp.path(), aggregator.output());
  env["LOGFERRY_AUTH_TOKEN"] = "first-token";
  {
    Sidecar old_token(env);
    old_token.start();
    REQUIRE(old_token.process().wait_for_stderr("the aggregator refused the handshake", 10s));
    old_token.kill9();
  }
  env["LOGFERRY_AUTH_TOKEN"] = "second-token";
  Sidecar sidecar(env);
  sidecar.start();
  REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= 2; }, 20s, 20ms));
  CHECK(sidecar.stop() == 0);
  CHECK(aggregator.process().stderr_text().find("token file changed") != std::string::npos);
  CHECK(aggregator.process().stderr_text().find("second-token") == std::string::npos);
  CHECK(aggregator.stop() == 0);
}

TEST_CASE("TLS handshakes that never finish hold pending slots only: the oldest is closed, a sidecar is served",
          "[e2e][delivery][tls][hostile]") {
  TlsSetup s;
  fs::create_directories(s.tmp / "logs");
  ProcessEnv env = s.aggregator_env();
  env["LOGFERRY_AGGREGATOR_HTTP_ADDR"] = "127.0.0.1:0";
  env["LOGFERRY_AGGREGATOR_MAX_PENDING"] = "4";
  env["LOGFERRY_AGGREGATOR_MAX_CONNECTIONS"] = "4";
  env["LOGFERRY_AGGREGATOR_HANDSHAKE_TIMEOUT"] = "120s";  // only the pending cap can close them
  Aggregator aggregator(s.tmp / "store", env);
  const uint16_t http = aggregator.http_port();
  // Eight anonymous connections that never send a ClientHello: each is a TLS handshake in progress.
  std::vector<std::unique_ptr<TcpClient>> stalled;
  for (int i = 0; i < 8; ++i) {
    stalled.push_back(std::make_unique<TcpClient>("127.0.0.1", aggregator.port()));
    REQUIRE(stalled.back()->connected());
  }
  const std::string evicted = "logferry_aggregator_unauthenticated_closed_total{reason=\"pending_limit\"}";
  REQUIRE(wait_until([&] { return metrics_sample("127.0.0.1", http, evicted) >= 4; }, 20s, 50ms));
  Sidecar sidecar(s.sidecar(aggregator.port()));
  sidecar.start();
  Written written;
  const fs::path a = s.tmp / "logs" / "a.log";
  append_lines(a, written[a.string()], 500, "a");
  REQUIRE(wait_until([&] { return count_stored(s.tmp / "store") >= 500; }, 30s, 50ms));
  require_exactly_once(s.tmp / "store", written);
  CHECK(metrics_sample("127.0.0.1", http, evicted) >= 5);  // the sidecar's handshake pushed out one more
  CHECK(metrics_sample("127.0.0.1", http, "logferry_aggregator_connections_refused_total") == 0);
  CHECK(sidecar.stop() == 0);
}
