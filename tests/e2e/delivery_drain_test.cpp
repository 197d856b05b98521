// Drain on SIGTERM: lines the app writes while both are stopping still arrive
// (LOGFERRY_DRAIN_QUIET), logferry exits 0 within the timeout; a second SIGTERM
// or the shutdown timeout exits at once (code 1) with checkpoints saved.
#include <csignal>

#include <catch2/catch.hpp>

#include "delivery_lines_test.hpp"
#include "sidecar/checkpoint/file_checkpoint_store.hpp"
#include "support/http_client.hpp"
#include "support/logferry_processes.hpp"
#include "support/store_reader.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace logferry::test;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// The checkpoint offset of the file at `path` (UINT64_MAX when not recorded).
uint64_t checkpoint_offset(const fs::path& state, const fs::path& path) {
  auto records = logferry::FileCheckpointStore(state.string()).load();
  if (!records) return UINT64_MAX;
  for (const auto& r : *records) {
    if (r.path == path.string()) return r.offset;
  }
  return UINT64_MAX;
}

}  // namespace

TEST_CASE("SIGTERM while the app still writes: every line it wrote arrives, exit 0", "[e2e][delivery]") {
  TempDir tmp("logferry-drain");
  fs::create_directories(tmp / "logs");
  Aggregator aggregator(tmp / "store");
  ProcessEnv env = sidecar_env(tmp.path(), aggregator.output());
  env["LOGFERRY_SHUTDOWN_TIMEOUT"] = "20s";
  env["LOGFERRY_DRAIN_QUIET"] = "1s";
  Sidecar sidecar(env);
  sidecar.start();
  BackgroundWriter app({tmp / "logs" / "app.log"}, 200, 10ms);
  REQUIRE(wait_until([&] { return count_stored(tmp / "store") > 2'000; }, 20s, 20ms));

  // Both get SIGTERM at once (a plain sidecar container): the app keeps
  // writing while it stops, here for another 700 ms.
  const auto signalled = Clock::now();
  REQUIRE(sidecar.process().kill(SIGTERM));
  std::this_thread::sleep_for(700ms);
  app.stop();
  const auto status = sidecar.process().wait_for_exit(20s);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - signalled);
  REQUIRE(status);
  CHECK(status->code == 0);
  CHECK(took < 20s);
  WARN("drained and exited " << took.count() << " ms after SIGTERM; " << total_lines(app.written()) << " lines");
  // Everything is stored before the exit: the sidecar waited for the acks.
  require_exactly_once(tmp / "store", app.written());
  CHECK(sidecar.process().stderr_text().find("drained: every line acknowledged") != std::string::npos);
  CHECK(aggregator.stop() == 0);
}

TEST_CASE("a second SIGTERM exits at once, with the acknowledged position saved", "[e2e][delivery]") {
  TempDir tmp("logferry-drain2");
  fs::create_directories(tmp / "logs");
  const fs::path log = tmp / "logs" / "app.log";
  auto aggregator = std::make_unique<Aggregator>(tmp / "store");
  const uint16_t port = aggregator->port();
  ProcessEnv env = sidecar_env(tmp.path(), aggregator->output());
  env["LOGFERRY_SHUTDOWN_TIMEOUT"] = "60s";
  env["LOGFERRY_DRAIN_QUIET"] = "200ms";
  const uint16_t http = free_port();
  env["LOGFERRY_HTTP_ADDR"] = "127.0.0.1:" + std::to_string(http);
  Sidecar sidecar(env);
  sidecar.start();
  Written written;
  append_lines(log, written[log.string()], 10'000, "a");
  REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= 10'000; }, 20s, 20ms));
  const uint64_t acked_size = fs::file_size(log);

  // The aggregator goes away; 5,000 more lines are read but cannot be acknowledged.
  CHECK(aggregator->stop() == 0);
  append_lines(log, written[log.string()], 5'000, "a");
  REQUIRE(wait_until([&] { return metrics_sample("127.0.0.1", http, "logferry_lines_read_total") >= 15'000; }, 20s));
  REQUIRE(sidecar.process().kill(SIGTERM));
  REQUIRE(sidecar.process().wait_for_stderr("signal received: draining", 5s));
  // Past the quiet time, the sources are done and the sidecar waits for acks:
  // the second signal must end that wait.
  REQUIRE(sidecar.process().wait_for_stderr("sources drained: waiting for acknowledgements", 5s));
  const auto second = Clock::now();
  REQUIRE(sidecar.process().kill(SIGTERM));
  const auto status = sidecar.process().wait_for_exit(5s);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - second);
  REQUIRE(status);
  CHECK(status->code == 1);
  CHECK(took < 1s);
  CHECK(sidecar.process().stderr_text().find("second signal: exiting now") != std::string::npos);
  // The checkpoint holds exactly the acknowledged position.
  CHECK(checkpoint_offset(tmp / "state", log) == acked_size);

  // Back up again: a new sidecar sends only the 5,000 unacknowledged lines.
  aggregator = std::make_unique<Aggregator>(tmp / "store", ProcessEnv{}, port);
  Sidecar again(env);
  again.start();
  REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= 15'000; }, 20s, 20ms));
  CHECK(again.stop() == 0);
  CHECK(again.process().stderr_text().find("\"entries_acked\":\"5000\"") != std::string::npos);
  require_exactly_once(tmp / "store", written);
  CHECK(aggregator->stop() == 0);
}

TEST_CASE("the shutdown timeout with the aggregator down: exit 1 within it, checkpoints saved", "[e2e][delivery]") {
  TempDir tmp("logferry-drain3");
  fs::create_directories(tmp / "logs");
  const fs::path log = tmp / "logs" / "app.log";
  const uint16_t port = free_port();
  ProcessEnv env = sidecar_env(tmp.path(), "tcp://127.0.0.1:" + std::to_string(port));
  env["LOGFERRY_SHUTDOWN_TIMEOUT"] = "3s";
  env["LOGFERRY_DRAIN_QUIET"] = "200ms";
  const uint16_t http = free_port();
  env["LOGFERRY_HTTP_ADDR"] = "127.0.0.1:" + std::to_string(http);
  Written written;
  append_lines(log, written[log.string()], 3'000, "a");
  Sidecar sidecar(env);
  sidecar.start();
  // Every line read and the output tried (and refused) at least once.
  REQUIRE(wait_until(
      [&] {
        return metrics_sample("127.0.0.1", http, "logferry_lines_read_total") == 3'000 &&
               metrics_sample("127.0.0.1", http, "logferry_connect_failures_total") >= 1;
      },
      20s));
  const auto signalled = Clock::now();
  REQUIRE(sidecar.process().kill(SIGTERM));
  const auto status = sidecar.process().wait_for_exit(10s);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - signalled);
  REQUIRE(status);
  CHECK(status->code == 1);
  CHECK(took >= 2900ms);
  CHECK(took < 4500ms);
  WARN("exited " << took.count() << " ms after SIGTERM with LOGFERRY_SHUTDOWN_TIMEOUT=3s");
  CHECK(sidecar.process().stderr_text().find("shutdown timeout") != std::string::npos);
  CHECK(checkpoint_offset(tmp / "state", log) == 0);  // the identity is saved; nothing acknowledged

  Aggregator aggregator(tmp / "store", {}, port);
  Sidecar again(env);
  again.start();
  REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= 3'000; }, 20s, 20ms));
  CHECK(again.stop() == 0);
  require_exactly_once(tmp / "store", written);
  CHECK(aggregator.stop() == 0);
}
