#include "sidecar/forward/source_clock.hpp"

#include <algorithm>
#include <vector>

#include <catch2/catch.hpp>

using namespace logferry;

namespace {
constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint64_t kT = 1'767'225'600 * kSecond;  // 2026-01-01T00:00:00Z
}  // namespace

TEST_CASE("source clock: observed times strictly increase when the clock stands still or goes back", "[order]") {
  SourceClock c;
  CHECK(c.observe(kT) == kT);
  CHECK(c.observe(kT) == kT + 1);      // the same clock reading (one read per chunk)
  CHECK(c.observe(kT) == kT + 2);
  CHECK(c.observe(kT - 50) == kT + 3);  // the wall clock stepped back
  CHECK(c.observe(kT + 10) == kT + 10); // the clock moved past: its value
  CHECK(c.observe(kT + 10) == kT + 11);
  SourceClock other;                    // per source: another starts afresh
  CHECK(other.observe(kT) == kT);
}

TEST_CASE("source clock: the precision a time carried", "[order]") {
  CHECK(carried_tick(kT) == kSecond);
  CHECK(carried_tick(kT + 123'000'000) == 1'000'000);
  CHECK(carried_tick(kT + 123'456'000) == 1'000);
  CHECK(carried_tick(kT + 123'456'789) == 1);
}

TEST_CASE("source clock: equal second-resolution times keep file order inside their second", "[order]") {
  SourceClock c;
  std::vector<uint64_t> out;
  for (uint64_t t : {kT, kT, kT, kT + kSecond, kT + kSecond}) out.push_back(c.order_event(t));
  CHECK(out == std::vector<uint64_t>{kT, kT + 1, kT + 2, kT + kSecond, kT + kSecond + 1});
}

TEST_CASE("source clock: millisecond ties stay in their millisecond, never cross into the next tick", "[order]") {
  const uint64_t ms = kT + 7'000'000;  // .007
  SourceClock c;
  CHECK(c.order_event(ms) == ms);
  CHECK(c.order_event(ms) == ms + 1);
  // A microsecond tick holds 1000 ns: ties beyond that share its last
  // nanosecond rather than spill into the next tick (or start over).
  const uint64_t us = kT + 7'001'000;
  SourceClock d;
  std::vector<uint64_t> out;
  for (int i = 0; i < 1'200; ++i) out.push_back(d.order_event(us));
  CHECK(out[0] == us);
  CHECK(out[998] == us + 998);
  CHECK(out[999] == us + 999);
  CHECK(out[1'199] == us + 999);
  CHECK(std::is_sorted(out.begin(), out.end()));
}

TEST_CASE("source clock: times the line carried in full, or that differ, are left as they are", "[order]") {
  SourceClock c;
  const uint64_t ns = kT + 123'456'789;
  CHECK(c.order_event(ns) == ns);
  CHECK(c.order_event(ns) == ns);  // nanosecond precision: nothing the line did not carry
  // A line going back in time keeps its time (it is not moved after the previous one).
  CHECK(c.order_event(kT + 5 * kSecond) == kT + 5 * kSecond);
  CHECK(c.order_event(kT + 2 * kSecond) == kT + 2 * kSecond);
  CHECK(c.order_event(kT + 2 * kSecond) == kT + 2 * kSecond + 1);
  // Entries without an event time are skipped over, not ties.
  CHECK(c.order_event(0) == 0);
  CHECK(c.order_event(kT + 2 * kSecond) == kT + 2 * kSecond + 2);
}
