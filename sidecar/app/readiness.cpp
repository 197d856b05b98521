#include "sidecar/app/readiness.hpp"

#include <fmt/format.h>

namespace logferry {

std::string ReadinessCheck::problem(const Metrics& m, Clock::time_point now) {
  if (!seen_ || m.buffer_bytes == 0 || m.batches_acked != last_acked_) {
    seen_ = true;
    last_acked_ = m.batches_acked;
    progress_at_ = now;
  }
  if (!m.sources_open) return "sources not opened yet";
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - progress_at_);
  if (waited >= stall_after_) {
    return fmt::format("output stuck: {} bytes buffered, no batch acknowledged for {}s (output {})",
                       m.buffer_bytes, std::chrono::duration_cast<std::chrono::seconds>(waited).count(),
                       m.connected ? "connected" : "disconnected");
  }
  return {};
}

}  // namespace logferry
