#pragma once
// The running sidecar: wires sources -> batcher -> forwarder -> sink on one
// io_context, persists checkpoints, serves the HTTP endpoint, and drains on
// SIGTERM/SIGINT (stop discovering, read every source to its current end,
// flush, wait for acks up to LOGFERRY_SHUTDOWN_TIMEOUT, save checkpoints). A
// second signal, or the timeout, exits at once with checkpoints saved.
#include "sidecar/config/config.hpp"

namespace logferry {

// Runs until drained. Returns 0 after a complete drain, 1 when the shutdown
// timeout (or a second signal) left batches unacknowledged or on a runtime
// failure, 2 when start-up failed on the configuration (e.g. TLS files).
int run_app(const Config& config);

}  // namespace logferry
