// Delivery that survives crashes: the aggregator killed (SIGKILL) three times
// mid-stream and restarted on the same port, and the sidecar killed five times
// at random moments and restarted: every line is stored exactly once.
#include <csignal>
#include <random>

#include <catch2/catch.hpp>

#include "delivery_lines_test.hpp"
#include "support/http_client.hpp"
#include "support/logferry_processes.hpp"
#include "support/store_reader.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace logferry::test;
namespace fs = std::filesystem;

TEST_CASE("the aggregator killed three times mid-stream: every line exactly once", "[e2e][delivery]") {
  TempDir tmp("logferry-aggkill");
  fs::create_directories(tmp / "logs");
  Aggregator aggregator(tmp / "store");  // fsync always: an ack means durable
  ProcessEnv env = sidecar_env(tmp.path(), aggregator.output());
  env["LOGFERRY_ACK_TIMEOUT"] = "3s";
  Sidecar sidecar(env);
  sidecar.start();
  BackgroundWriter writer({tmp / "logs" / "a.log", tmp / "logs" / "b.log"}, 400, 50ms, 75'000);

  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pause_ms(100, 700);
  for (int kill = 0; kill < 3; ++kill) {
    // Kill only while lines are still flowing in.
    const size_t before = count_stored(tmp / "store");
    REQUIRE(wait_until([&] { return count_stored(tmp / "store") > before + 5'000; }, 20s, 20ms));
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    aggregator.process().kill(SIGKILL);
    REQUIRE(aggregator.process().wait_for_exit(5s));
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    const uint16_t port = aggregator.port();
    aggregator.restart();  // same data directory, same port
    REQUIRE(aggregator.port() == port);
  }
  CHECK_FALSE(writer.finished());  // the kills happened mid-stream
  REQUIRE(wait_until([&] { return writer.finished(); }, 30s, 50ms));
  writer.stop();
  const size_t total = total_lines(writer.written());
  REQUIRE(total == 150'000);
  REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= total; }, 30s, 100ms));
  require_exactly_once(tmp / "store", writer.written());
  CHECK(sidecar.stop() == 0);
  CHECK(aggregator.stop() == 0);
}

TEST_CASE("the sidecar killed five times at random moments: every line exactly once", "[e2e][delivery]") {
  TempDir tmp("logferry-sidekill");
  fs::create_directories(tmp / "logs");
  Aggregator aggregator(tmp / "store", {{"LOGFERRY_AGGREGATOR_HTTP_ADDR", "127.0.0.1:0"}});
  const ProcessEnv env = sidecar_env(tmp.path(), aggregator.output());
  auto sidecar = std::make_unique<Sidecar>(env);
  sidecar->start();
  // 500,000 lines over about ten seconds, in two files.
  BackgroundWriter writer({tmp / "logs" / "a.log", tmp / "logs" / "b.log"}, 1'250, 50ms, 250'000);

  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pause_ms(200, 1'200);
  for (int kill = 0; kill < 5; ++kill) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    sidecar->kill9();
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng) / 4));
    sidecar = std::make_unique<Sidecar>(env);  // same checkpoint directory
    sidecar->start();
  }
  CHECK_FALSE(writer.finished());  // the kills happened while lines were written
  REQUIRE(wait_until([&] { return writer.finished(); }, 30s, 50ms));
  writer.stop();
  const size_t total = total_lines(writer.written());
  REQUIRE(total == 500'000);
  REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= total; }, 60s, 100ms));
  // Re-sent lines were dropped by the aggregator as duplicates, not stored twice.
  require_exactly_once(tmp / "store", writer.written());
  // Report how much was re-sent after the kills (bounded by the unacked window
  // plus the last checkpoint interval, per kill).
  const long long duplicates = metrics_sample(aggregator.http_port(), "logferry_aggregator_duplicates_dropped_total");
  REQUIRE(duplicates >= 0);
  WARN("sidecar SIGKILLed 5 times over 500,000 lines: " << duplicates
       << " re-sent entries were dropped by the aggregator as duplicates; 0 lost, 0 stored twice");
  CHECK(static_cast<size_t>(duplicates) < total / 2);
  CHECK(sidecar->stop() == 0);
  CHECK(aggregator.stop() == 0);
}

TEST_CASE("failover: a dead address first in LOGFERRY_OUTPUT, the live aggregator second", "[e2e][delivery]") {
  TempDir tmp("logferry-failover");
  fs::create_directories(tmp / "logs");
  Aggregator aggregator(tmp / "store");
  const std::string output =
      "tcp://127.0.0.1:" + std::to_string(free_port()) + ",tcp://127.0.0.1:" + std::to_string(aggregator.port());
  Sidecar sidecar(sidecar_env(tmp.path(), output));
  sidecar.start();
  Written written;
  const fs::path a = tmp / "logs" / "a.log";
  append_lines(a, written[a.string()], 5'000, "a");
  REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= 5'000; }, 30s, 50ms));
  require_exactly_once(tmp / "store", written);
  CHECK(sidecar.stop() == 0);
  CHECK(sidecar.process().stderr_text().find("connected to the output") != std::string::npos);
  CHECK(aggregator.stop() == 0);
}
