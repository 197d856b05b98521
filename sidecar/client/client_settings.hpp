#pragma once
// Turns a ClientConfig into the options of the stages a client runs (through
// the parts of the sidecar's environment table they have, and their checks)
// plus the client's few settings of its own.
#include <chrono>
#include <cstddef>
#include <string>

#include "logferry/client.hpp"
#include "sidecar/config/config.hpp"

namespace logferry {

struct ClientSettings {
  OutputOptions output;
  BatchPolicy batch;
  Labels resource;  // LOGFERRY_LABELS and the Downward API names
  LogOptions log;
  size_t queue_max_entries = 0;
  std::chrono::milliseconds drain_timeout{0};
  std::string source_name;
};

// Validates everything at once; throws std::invalid_argument whose text lists
// each problem on its own line (NAME="value": what is allowed).
ClientSettings make_client_settings(const ClientConfig& config);

}  // namespace logferry
