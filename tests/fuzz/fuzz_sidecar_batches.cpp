// libFuzzer target: arbitrary file names, labels and line contents through the
// sidecar's encoder; every batch it emits must be taken by the aggregator's
// session protocol and batch validation (see sidecar_batch_check.hpp).
#include <cstddef>
#include <cstdint>

#include "sidecar/core/logger.hpp"
#include "unit/forward/sidecar_batch_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    logferry::configure_logging(logferry::LogLevel::error, logferry::LogFormat::json, "fuzz");
    return true;
  }();
  (void)quiet;
  if (!logferry::fuzz::sidecar_batches_accepted(data, size)) __builtin_trap();
  return 0;
}
