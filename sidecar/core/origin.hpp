#pragma once
// Where entries come from: one file (for one identity), the pipe, or stdin.
// Shared by the source that reads it and the batches that carry its entries,
// so an acknowledgement can advance its committed offset after the reader is gone.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace logferry {

struct Origin {
  std::string id;    // wire identity (Source.id); stable across restarts
  std::string path;  // file path, pipe path or "stdin"
  // Resource labels of this origin alone (node mode: pod, namespace, container
  // and container id from the file name); they extend or override the batch's
  // resource. Empty in sidecar mode.
  std::vector<std::pair<std::string, std::string>> resource;
  // Everything before this offset was acknowledged by the output.
  uint64_t acked_offset = 0;
  // Offset after the last byte handed to the pipeline.
  uint64_t read_offset = 0;
};

using OriginPtr = std::shared_ptr<Origin>;

}  // namespace logferry
