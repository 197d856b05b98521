#pragma once
// Caps on one batch's contents (LOGFERRY_AGGREGATOR_MAX_*): a batch over one
// is acknowledged as REJECTED, so that no frame costs more than a bounded
// amount of memory and disk whatever it holds.
#include <cstdint>

namespace logferry::aggregator {

struct BatchLimits {
  uint64_t max_entries = 100000;            // entries per batch (also sources per batch)
  uint64_t max_labels = 64;                 // resource labels of a batch or of one source
  uint64_t max_label_bytes = 4096;          // one label's key and value (encoded)
  uint64_t max_path_bytes = 4096;           // a source's path and id
  uint64_t max_rendered_bytes = 24u << 20;  // the batch's ndjson lines as stored
};

}  // namespace logferry::aggregator
