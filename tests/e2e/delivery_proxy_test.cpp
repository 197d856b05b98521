// Delivery that survives the network: 500,000 lines written while the sidecar
// runs pass through a proxy that cuts connections, stalls them and drops acks;
// the store ends up with every line exactly once, in order per file.
#include "support/fault_proxy.hpp"

#include <random>

#include <catch2/catch.hpp>

#include "delivery_lines_test.hpp"
#include "support/logferry_processes.hpp"
#include "support/random_seed.hpp"
#include "support/store_reader.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace logferry::test;
namespace fs = std::filesystem;

TEST_CASE("500,000 lines through cuts, stalls and dropped acks arrive exactly once", "[e2e][delivery]") {
  TempDir tmp("logferry-proxy");
  fs::create_directories(tmp / "logs");
  Aggregator aggregator(tmp / "store", {{"LOGFERRY_AGGREGATOR_FSYNC", "never"}});
  FaultProxy proxy(aggregator.port());

  ProcessEnv env = sidecar_env(tmp.path(), proxy.output());
  env["LOGFERRY_ACK_TIMEOUT"] = "2s";  // a dropped last ack leads to a reconnect and a re-send
  Sidecar sidecar(env);
  sidecar.start();

  const auto start = std::chrono::steady_clock::now();
  // Two files, 250,000 lines each, written in steps while the sidecar runs.
  BackgroundWriter writer({tmp / "logs" / "a.log", tmp / "logs" / "b.log"}, 5'000, 20ms, 250'000);

  const uint64_t seed = random_seed("fault schedule");
  INFO("fault schedule seed " << seed << ", ack drop seed " << proxy.seed() << " (replay: " << kRandomSeedVariable
                              << "=" << run_random_seed() << ")");
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> pause_ms(150, 600);
  std::uniform_int_distribution<int> kind(0, 9);
  int drop_rounds = 0;
  // The first fault always drops acks, while batches are surely flowing.
  REQUIRE(wait_until([&] { return proxy.stats().bytes_up > 64 * 1024; }, 20s, 10ms));
  proxy.set_ack_drop_probability(0.3);
  REQUIRE(wait_until([&] { return proxy.stats().acks_dropped > 0; }, 20s, 10ms));
  proxy.set_ack_drop_probability(0.0);
  ++drop_rounds;
  // Faults while the lines are written, and a little beyond.
  const auto faults_until = std::chrono::steady_clock::now() + 40s;
  while (std::chrono::steady_clock::now() < faults_until &&
         (!writer.finished() || proxy.stats().stalls < 2 || drop_rounds < 2 || proxy.stats().cuts < 5)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
    const int k = kind(rng);
    if (k < 4) {
      proxy.cut_all();
    } else if (k < 6) {
      proxy.set_stalled(true);  // sometimes longer than the ack timeout
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng) * 5));
      proxy.set_stalled(false);
    } else {
      proxy.set_ack_drop_probability(0.2);
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng) * 2));
      proxy.set_ack_drop_probability(0.0);
      ++drop_rounds;
    }
  }
  proxy.set_ack_drop_probability(0.0);
  proxy.set_stalled(false);
  REQUIRE(wait_until([&] { return writer.finished(); }, 30s, 50ms));
  writer.stop();
  REQUIRE(total_lines(writer.written()) == 500'000);

  REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= 500'000; }, 40s, 100ms));
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  const auto st = proxy.stats();
  WARN("proxy: " << st.connections << " connections, " << st.cuts << " cut, " << st.acks_dropped
                 << " acks dropped, " << st.stalls << " stalls; all stored after " << elapsed.count() << " ms");
  CHECK(st.cuts >= 5);
  CHECK(st.acks_dropped > 0);
  CHECK(st.stalls >= 2);
  require_exactly_once(tmp / "store", writer.written());
  CHECK(sidecar.stop() == 0);
  // The sidecar saw the faults: it re-sent batches after reconnecting.
  CHECK(sidecar.process().stderr_text().find("re-sending unacknowledged batches") != std::string::npos);
  CHECK(aggregator.stop() == 0);
}
