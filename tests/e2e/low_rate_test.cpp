// A Pod that logs a few hundred lines a second: the sidecar reads them in one
// wake-up per batch (LOGFERRY_BATCH_TIMEOUT), not one per write of the app,
// and every line still arrives once and in order.
#include <filesystem>
#include <fstream>
#include <string>

#include <catch2/catch.hpp>

#include "delivery_lines_test.hpp"
#include "support/logferry_processes.hpp"
#include "support/store_reader.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace logferry::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// Times every thread of `pid` went to sleep on its own (blocked in epoll_wait,
// mostly): its wake-ups.
uint64_t voluntary_switches(pid_t pid) {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0) total += std::stoull(line.substr(24));
    }
  }
  return total;
}

}  // namespace

TEST_CASE("at a few hundred lines a second the sidecar wakes once per batch, not once per write",
          "[e2e][files]") {
  TempDir tmp("logferry-low-rate");
  fs::create_directories(tmp / "logs");
  Aggregator aggregator(tmp / "store");
  ProcessEnv env = sidecar_env(tmp.path(), aggregator.output());
  env["LOGFERRY_BATCH_TIMEOUT"] = "200ms";
  env["LOGFERRY_POLL_INTERVAL"] = "1s";
  Sidecar sidecar(env);
  sidecar.start();
  REQUIRE(sidecar.process().wait_for_stderr("initial scan done", 10s));
  // 10 lines every 20 ms: 50 writes a second.
  BackgroundWriter app({tmp / "logs" / "app.log"}, 10, 20ms);
  // The rate is measured over a poll interval; then the window.
  std::this_thread::sleep_for(2500ms);
  const size_t lines_before = app.lines();
  const uint64_t switches_before = voluntary_switches(sidecar.process().pid());
  std::this_thread::sleep_for(3s);
  const uint64_t switches = voluntary_switches(sidecar.process().pid()) - switches_before;
  const size_t writes = (app.lines() - lines_before) / 10;
  app.stop();
  // Per 200 ms batch: the write that opens it, the batch falling due (read and
  // sent), its acknowledgement; plus the rescan and checkpoint each second.
  // Reading at every write would be more than one per write.
  WARN(switches << " wake-ups for " << writes << " writes of the app in 3 s");
  CHECK(writes > 60);
  CHECK(switches * 2 < writes);
  REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= total_lines(app.written()); }, 20s, 50ms));
  require_exactly_once(tmp / "store", app.written());
  CHECK(sidecar.stop() == 0);
}
