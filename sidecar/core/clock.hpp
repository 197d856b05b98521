#pragma once
// Wall-clock time in the units the wire contract uses.
#include <chrono>
#include <cstdint>

namespace logferry {

// Nanoseconds since the Unix epoch, from the system clock.
inline uint64_t now_unix_nano() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace logferry
