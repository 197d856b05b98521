#pragma once
// When the sidecar reports ready on /readyz, as a function of Metrics observed
// over time. Ready means all of:
//   1. the configuration was loaded (the endpoint only starts after it was);
//   2. metrics.sources_open is true (the configured files / pipe / stdin are opened);
//   3. the output is not stuck: it is NOT the case that data is waiting
//      (metrics.buffer_bytes > 0) while metrics.batches_acked has not increased
//      for `stall_after` (default: LOGFERRY_ACK_TIMEOUT + LOGFERRY_BACKOFF_MAX +
//      LOGFERRY_CONNECT_TIMEOUT, i.e. longer than one full retry cycle).
// An idle sidecar (nothing buffered) is ready even when disconnected.
#include <chrono>
#include <cstdint>
#include <string>

#include "sidecar/app/metrics.hpp"

namespace logferry {

class ReadinessCheck {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ReadinessCheck(std::chrono::milliseconds stall_after) : stall_after_(stall_after) {}

  // "" when ready, otherwise the reason (one line of text). Call it on every
  // probe: it remembers when batches_acked last moved (or the buffer was empty).
  std::string problem(const Metrics& metrics, Clock::time_point now);

 private:
  std::chrono::milliseconds stall_after_;
  bool seen_ = false;
  uint64_t last_acked_ = 0;
  Clock::time_point progress_at_{};  // last time the output was idle or acked something
};

}  // namespace logferry
