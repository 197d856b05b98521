// Bounded memory: with the aggregator away, 50 MiB of lines fill a 1 MiB
// LOGFERRY_BUFFER_MAX_BYTES many times over; the file source pauses instead of
// buffering, so the sidecar's peak RSS stays under its idle baseline plus the
// buffer plus a small constant, and everything arrives once the aggregator is back.
#include <catch2/catch.hpp>

#include "delivery_lines_test.hpp"
#include "support/logferry_processes.hpp"
#include "support/store_reader.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

using namespace logferry::test;
namespace fs = std::filesystem;

namespace {

// Beyond the buffer: the 256 KiB read buffer, the batch being built (up to
// LOGFERRY_BATCH_MAX_BYTES in a protobuf arena), the zstd context and the
// compressed copy of the batch being written, and allocator slack.
constexpr uint64_t kConstantKiB = 6 * 1024;
constexpr uint64_t kBufferKiB = 1024;

ProcessEnv memory_env(const fs::path& tmp, uint16_t port) {
  ProcessEnv env = sidecar_env(tmp, "tcp://127.0.0.1:" + std::to_string(port));
  env["LOGFERRY_BUFFER_MAX_BYTES"] = "1MiB";
  env["LOGFERRY_BATCH_MAX_BYTES"] = "256KiB";
  return env;
}

}  // namespace

TEST_CASE("50 MiB while the aggregator is away: peak RSS stays bounded, then all arrives", "[e2e][delivery][rss]") {
  const uint16_t port = free_port();

  // Baseline: the same configuration, idle (one empty file, no aggregator).
  uint64_t baseline_kib = 0;
  {
    TempDir idle("logferry-mem-idle");
    fs::create_directories(idle / "logs");
    write_file(idle / "logs" / "a.log", "");
    Sidecar sidecar(memory_env(idle.path(), port));
    sidecar.start();
    REQUIRE(sidecar.process().wait_for_stderr("cannot reach the output", 10s));
    std::this_thread::sleep_for(1s);
    baseline_kib = proc_status_kib(sidecar.process().pid(), "VmHWM");
    sidecar.kill9();
  }
  REQUIRE(baseline_kib > 0);

  TempDir tmp("logferry-mem");
  fs::create_directories(tmp / "logs");
  Written written;
  Sidecar sidecar(memory_env(tmp.path(), port));
  sidecar.start();
  // 2 x 135,000 lines of about 200 bytes: over 50 MiB, written while the sidecar runs.
  for (int round = 0; round < 10; ++round) {
    for (const char* name : {"a.log", "b.log"}) {
      const fs::path f = tmp / "logs" / name;
      append_lines(f, written[f.string()], 13'500, name, 200);
    }
  }
  uint64_t bytes = 0;
  for (const char* name : {"a.log", "b.log"}) bytes += fs::file_size(tmp / "logs" / name);
  REQUIRE(bytes > 50u * 1024 * 1024);
  std::this_thread::sleep_for(3s);  // long enough to read it all, were it not paused
  const uint64_t held_kib = proc_status_kib(sidecar.process().pid(), "VmHWM");

  Aggregator aggregator(tmp / "store", {{"LOGFERRY_AGGREGATOR_FSYNC", "never"}}, port);
  REQUIRE(wait_until([&] { return count_stored(tmp / "store") >= 270'000; }, 50s, 100ms));
  const uint64_t peak_kib = proc_status_kib(sidecar.process().pid(), "VmHWM");
  WARN("sidecar VmHWM: idle baseline " << baseline_kib << " KiB; while the aggregator was away " << held_kib
                                       << " KiB; peak over the whole run " << peak_kib << " KiB; bound "
                                       << baseline_kib + kBufferKiB + kConstantKiB << " KiB");
  CHECK(peak_kib <= baseline_kib + kBufferKiB + kConstantKiB);
  require_exactly_once(tmp / "store", written);
  CHECK(sidecar.stop() == 0);
  CHECK(aggregator.stop() == 0);
}
