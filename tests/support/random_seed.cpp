#include "support/random_seed.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>

namespace logferry::test {
namespace {

std::mutex mutex;
bool chosen = false;
uint64_t run_seed = 0;
uint64_t draws = 0;

// splitmix64: well-spread seeds from consecutive numbers.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t choose_locked() {
  if (chosen) return run_seed;
  const char* env = std::getenv(kRandomSeedVariable);
  const bool given = env != nullptr && *env != '\0';
  const char* end = given ? env + std::strlen(env) : nullptr;
  if (!given || std::from_chars(env, end, run_seed).ptr != end) {
    if (given) std::fprintf(stderr, "ignoring %s=%s: not a whole number\n", kRandomSeedVariable, env);
    std::random_device device;
    run_seed = (uint64_t{device()} << 32) | device();
  }
  chosen = true;
  std::fprintf(stderr, "random seed %llu (replay: %s=%llu)\n", static_cast<unsigned long long>(run_seed),
               kRandomSeedVariable, static_cast<unsigned long long>(run_seed));
  std::fflush(stderr);
  return run_seed;
}

}  // namespace

uint64_t run_random_seed() {
  std::lock_guard lock(mutex);
  return choose_locked();
}

uint64_t random_seed(std::string_view what) {
  std::lock_guard lock(mutex);
  const uint64_t seed = mix(choose_locked() + draws++);
  std::fprintf(stderr, "%.*s: seed %llu (draw %llu of random seed %llu)\n", static_cast<int>(what.size()), what.data(),
               static_cast<unsigned long long>(seed), static_cast<unsigned long long>(draws),
               static_cast<unsigned long long>(run_seed));
  std::fflush(stderr);
  return seed;
}

}  // namespace logferry::test
