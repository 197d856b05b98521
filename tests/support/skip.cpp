#include "support/skip.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>

namespace logferry::test {
namespace {
std::atomic<int> skipped{0};
}  // namespace

void skip(const std::string& why) {
  skipped.fetch_add(1);
  std::fprintf(stderr, "SKIPPED: %s\n", why.c_str());
  WARN("SKIPPED: " << why);
}

int skipped_count() { return skipped.load(); }

}  // namespace logferry::test
