// The test program's entry point: Catch's session, plus two things ctest needs.
// - A run in which a case skipped (support/skip.hpp) and none failed exits with
//   kSkippedExitCode, so ctest reports it as skipped, never as passed.
// - With --order rand and no --rng-seed, the seed comes from LOGFERRY_TEST_SEED
//   (tests/run.sh chooses one) or from the random device, and is printed, so a
//   failing order can be replayed with --rng-seed (Catch2 v2 would use seed 0).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "support/skip.hpp"

int main(int argc, char** argv) {
  std::vector<char*> args(argv, argv + argc);
  bool random_order = false;
  bool seeded = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--order" && i + 1 < argc && std::string_view(argv[i + 1]) == "rand") random_order = true;
    if (a == "--rng-seed" || a.starts_with("--rng-seed=")) seeded = true;
  }
  std::string seed;
  if (random_order && !seeded) {
    const char* env = std::getenv("LOGFERRY_TEST_SEED");
    seed = env != nullptr && *env != '\0' ? env : std::to_string(std::random_device{}());
    std::printf("random order, seed %s (replay: --order rand --rng-seed %s)\n", seed.c_str(), seed.c_str());
    std::fflush(stdout);
    args.push_back(const_cast<char*>("--rng-seed"));
    args.push_back(seed.data());
  }
  const int failed = Catch::Session().run(static_cast<int>(args.size()), args.data());
  if (failed == 0 && logferry::test::skipped_count() > 0) return logferry::test::kSkippedExitCode;
  return failed;
}
