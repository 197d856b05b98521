#include "sidecar/app/readiness.hpp"

#include <catch2/catch.hpp>

using namespace logferry;
using namespace std::chrono_literals;

TEST_CASE("readiness: not ready until the sources are open", "[ops][readiness]") {
  ReadinessCheck check(60s);
  Metrics m;
  const auto t0 = ReadinessCheck::Clock::time_point{} + 1h;
  CHECK(check.problem(m, t0) == "sources not opened yet");
  m.sources_open = true;
  CHECK(check.problem(m, t0 + 1s) == "");
}

TEST_CASE("readiness: an idle output is ready even when disconnected", "[ops][readiness]") {
  ReadinessCheck check(60s);
  Metrics m;
  m.sources_open = true;
  m.connected = false;
  const auto t0 = ReadinessCheck::Clock::time_point{} + 1h;
  CHECK(check.problem(m, t0) == "");
  CHECK(check.problem(m, t0 + 10min) == "");
}

TEST_CASE("readiness: buffered data without acks for stall_after is stuck", "[ops][readiness]") {
  ReadinessCheck check(60s);
  Metrics m;
  m.sources_open = true;
  m.batches_acked = 5;
  const auto t0 = ReadinessCheck::Clock::time_point{} + 1h;
  CHECK(check.problem(m, t0) == "");
  m.buffer_bytes = 4096;  // data waits from now on; acks stop
  CHECK(check.problem(m, t0 + 30s) == "");
  CHECK(check.problem(m, t0 + 59s) == "");
  CHECK(check.problem(m, t0 + 61s) == "output stuck: 4096 bytes buffered, no batch acknowledged for 61s (output disconnected)");
  m.connected = true;
  CHECK(check.problem(m, t0 + 62s) == "output stuck: 4096 bytes buffered, no batch acknowledged for 62s (output connected)");
  // One ack is progress: ready again, and the clock restarts.
  m.batches_acked = 6;
  CHECK(check.problem(m, t0 + 63s) == "");
  CHECK(check.problem(m, t0 + 122s) == "");
  CHECK_FALSE(check.problem(m, t0 + 124s).empty());
  // Draining the buffer is progress too.
  m.buffer_bytes = 0;
  CHECK(check.problem(m, t0 + 125s) == "");
}
