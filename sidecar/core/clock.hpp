#pragma once
// Wall-clock time in the units the wire contract uses.
#include <chrono>
#include <cstdint>
#include <functional>

namespace logferry {

// Nanoseconds since the Unix epoch, from the system clock.
inline uint64_t now_unix_nano() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// The monotonic clock as a dependency: components that decide on elapsed time
// take one (tests inject a clock they move by hand).
using SteadyClock = std::function<std::chrono::steady_clock::time_point()>;

// The real monotonic clock.
inline std::chrono::steady_clock::time_point steady_now() { return std::chrono::steady_clock::now(); }

}  // namespace logferry
