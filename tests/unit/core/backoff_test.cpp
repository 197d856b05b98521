#include "sidecar/core/backoff.hpp"

#include <set>

#include <catch2/catch.hpp>

using namespace logferry;
using std::chrono::milliseconds;

TEST_CASE("backoff doubles its ceiling up to the cap, with full jitter, and resets", "[core]") {
  Backoff b(milliseconds(100), milliseconds(1000));
  CHECK(b.ceiling_now() == milliseconds(100));
  for (int i = 0; i < 5; ++i) {
    const auto ceiling = b.ceiling_now();
    const auto d = b.next();
    CHECK(d >= milliseconds(0));
    CHECK(d <= ceiling);
  }
  CHECK(b.ceiling_now() == milliseconds(1000));
  b.reset();
  CHECK(b.ceiling_now() == milliseconds(100));
  // Jitter: many draws are not all equal.
  Backoff j(milliseconds(1000), milliseconds(1000));
  std::set<long long> seen;
  for (int i = 0; i < 20; ++i) seen.insert(j.next().count());
  CHECK(seen.size() > 5);
}
