#pragma once
// Capped exponential backoff with full jitter: the n-th consecutive failure
// waits a uniformly random time in [0, min(max, initial * 2^n)].
#include <algorithm>
#include <chrono>
#include <random>

namespace logferry {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
      : initial_(initial), max_(max), rng_(std::random_device{}()) {}

  // The delay before the next attempt; each call doubles the ceiling.
  std::chrono::milliseconds next() {
    const auto ceiling = ceiling_now();
    if (failures_ < 62) ++failures_;
    std::uniform_int_distribution<long long> d(0, ceiling.count());
    return std::chrono::milliseconds(d(rng_));
  }
  // The current upper bound of the delay.
  std::chrono::milliseconds ceiling_now() const {
    const long long base = std::max<long long>(initial_.count(), 1);
    const int shift = std::min(failures_, 30);
    return std::chrono::milliseconds(std::min<long long>(max_.count(), base << shift));
  }
  // Called after a success: the next failure starts from `initial` again.
  void reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  int failures_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace logferry
