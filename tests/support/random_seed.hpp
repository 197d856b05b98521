#pragma once
// Seeds for tests that draw random numbers (fault schedules, ack drops). One
// run seed per test process, printed once, from which every seed is derived in
// the order asked for: a run replays with LOGFERRY_RANDOM_SEED set to it.
#include <cstdint>
#include <string_view>

namespace logferry::test {

// The environment variable that fixes the run seed.
inline constexpr const char* kRandomSeedVariable = "LOGFERRY_RANDOM_SEED";

// The run seed: LOGFERRY_RANDOM_SEED when it is set to a number, otherwise a
// value from the random device; chosen at the first call and printed to stderr
// ("random seed N (replay: LOGFERRY_RANDOM_SEED=N)").
uint64_t run_random_seed();

// The next seed derived from the run seed (the n-th call gets the n-th value),
// printed to stderr with `what`. Thread-safe.
uint64_t random_seed(std::string_view what);

}  // namespace logferry::test
