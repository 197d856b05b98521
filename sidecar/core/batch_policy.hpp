#pragma once
// When a batch is sealed: shared by the sidecar's Batcher and the client
// library's RecordBatcher (LOGFERRY_BATCH_MAX_ENTRIES, _MAX_BYTES, _TIMEOUT).
#include <chrono>
#include <cstdint>

namespace logferry {

struct BatchPolicy {
  uint64_t max_entries = 4096;
  uint64_t max_bytes = 512 * 1024;
  std::chrono::milliseconds timeout{200};  // the first entry waits at most this long

  bool operator==(const BatchPolicy&) const = default;
};

}  // namespace logferry
