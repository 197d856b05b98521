#pragma once
// Bounded waiting for tests: every loop has a deadline.
#include <chrono>
#include <functional>
#include <thread>

namespace logferry::test {

using namespace std::chrono_literals;

// Calls `done` every `step` until it returns true (-> true) or `timeout` passed (-> false).
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds step = 20ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

}  // namespace logferry::test
